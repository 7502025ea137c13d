import type { Logger } from '../observability/logger.js';
import type { OperatorIdentity } from './operator-identity.js';

export type AuditAction = 'clear' | 'allow' | 'block' | 'lift';

// One stable message per action, so alerts and searches can key on it.
const MESSAGES: Record<AuditAction, string> = {
  clear: 'extraction state cleared by an operator',
  allow: 'account allow-listed by an operator',
  block: 'account blocked by an operator',
  lift: 'account override lifted by an operator',
};

export interface AuditEntry {
  /** Increasing per replica: the cursor of the listing. */
  readonly seq: number;
  readonly at: string;
  readonly operator: OperatorIdentity;
  readonly action: AuditAction;
  readonly user: string;
  /** The models acted on. */
  readonly models: readonly string[];
  /** Until when an allow-list entry or a manual block holds. */
  readonly until?: string;
  readonly reason?: string;
}

/**
 * Every operator mutation, with who did it: one structured log line each (the durable record,
 * shipped with the rest of the logs) and a bounded in-memory ring the console shows.
 */
export class AuditLog {
  private readonly ring: AuditEntry[] = [];
  private seq = 0;

  constructor(
    private readonly capacity: number,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  record(entry: Omit<AuditEntry, 'seq' | 'at'>): AuditEntry {
    const e: AuditEntry = { seq: ++this.seq, at: new Date(this.now()).toISOString(), ...entry };
    this.ring.push(e);
    if (this.ring.length > this.capacity) this.ring.shift();
    this.log.warn({ audit: e }, MESSAGES[e.action]);
    return e;
  }

  /** Newest first; `before` is the `seq` of the last entry of the previous page. */
  page(limit: number, before: number | undefined): { entries: AuditEntry[]; next: string | null } {
    const entries: AuditEntry[] = [];
    for (let i = this.ring.length - 1; i >= 0 && entries.length < limit; i--) {
      const e = this.ring[i]!;
      if (before === undefined || e.seq < before) entries.push(e);
    }
    const last = entries[entries.length - 1];
    const more = last !== undefined && this.ring[0]!.seq < last.seq;
    return { entries, next: more ? String(last.seq) : null };
  }
}
