import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { WindowGroup } from './window-group.js';

/**
 * One handover of a debt to Redis. Every script that carries it also carries its token, and Redis
 * counts the amount only for the first script with that token (SET NX), so concurrent requests of
 * one identity, a resend after a lost answer and the flush after an outage may all carry the same
 * handover: it is counted once.
 */
export interface Handover {
  readonly token: string;
  readonly amount: number;
}

interface Entry {
  readonly user: string;
  readonly group: WindowGroup;
  /** Owed and not yet in a handover (negative: a refund, for a request Redis charged but the gateway refused). */
  owed: number;
  handover: Handover | undefined;
}

/**
 * What this replica decided while Redis did not, and Redis has not counted yet, per (identity,
 * window group): predictions served under `insurance` or `fail-open`, and refunds for requests a
 * late script charged although the gateway answered from its failure policy. Redis is told with
 * the identity's next script, or by the flush that follows Redis' next answer to the health probe.
 *
 * Bounded like the insurance limiter (LRU over identities): an identity pushed out is forgotten and
 * what it owed is lost (under-counted), which `memoryMaxKeys` above the identities active during an
 * outage avoids.
 */
export class DebtLedger {
  private readonly entries: LRUCache<string, Entry>;
  /** Distinguishes this replica's tokens from every other replica's. */
  private readonly replica = randomBytes(9).toString('base64url');
  private serial = 0;
  /** Sum of |owed| + |handover| over every entry: what Redis does not count yet, in predictions. */
  private unsettled = 0;

  constructor(maxKeys: number) {
    this.entries = new LRUCache<string, Entry>({
      max: maxKeys,
      dispose: (e) => {
        this.unsettled -= Math.abs(e.owed) + Math.abs(e.handover?.amount ?? 0);
      },
    });
  }

  /** Predictions Redis must still count (or, negative, uncount), in absolute value. */
  get uncounted(): number {
    return this.unsettled;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Records predictions served without Redis' count (positive) or a refund of a charge Redis made for a refused request (negative). */
  owe(user: string, group: WindowGroup, amount: number): void {
    if (amount === 0) return;
    const key = keyOf(user, group);
    let e = this.entries.get(key);
    if (!e) {
      e = { user, group, owed: 0, handover: undefined };
      this.entries.set(key, e);
    }
    this.unsettled += Math.abs(e.owed + amount) - Math.abs(e.owed);
    e.owed += amount;
    this.dropIfSettled(key, e);
  }

  /**
   * The handover the next script of this identity carries: the one still awaiting Redis'
   * confirmation, or else a new one of everything owed. Undefined when nothing is owed: the hot
   * path pays one lookup in an empty map.
   */
  handoverFor(user: string, group: WindowGroup): Handover | undefined {
    if (this.entries.size === 0) return undefined;
    const e = this.entries.get(keyOf(user, group));
    if (!e) return undefined;
    if (!e.handover && e.owed !== 0) {
      e.handover = { token: `${this.replica}.${(this.serial++).toString(36)}`, amount: e.owed };
      e.owed = 0;
    }
    return e.handover;
  }

  /** Redis ran a script that carried `h`: the amount is counted there (by this script or an earlier copy). */
  confirm(user: string, group: WindowGroup, h: Handover): void {
    const key = keyOf(user, group);
    const e = this.entries.get(key, { updateAgeOnGet: false });
    if (!e || e.handover !== h) return;
    this.unsettled -= Math.abs(h.amount);
    e.handover = undefined;
    this.dropIfSettled(key, e);
  }

  /** What Redis' last answer for this identity may lack: the insurance limiter counts it as its own usage. */
  outstanding(user: string, group: WindowGroup): number {
    if (this.entries.size === 0) return 0;
    const e = this.entries.get(keyOf(user, group), { updateAgeOnGet: false });
    return e ? e.owed + (e.handover?.amount ?? 0) : 0;
  }

  /** The identities with something to hand over, for the flush after an outage. */
  pending(): Array<{ user: string; group: WindowGroup }> {
    return [...this.entries.values()].map((e) => ({ user: e.user, group: e.group }));
  }

  private dropIfSettled(key: string, e: Entry): void {
    if (e.owed === 0 && !e.handover) this.entries.delete(key);
  }
}

const keyOf = (user: string, group: WindowGroup) => `${group.id}\u0000${user}`;
