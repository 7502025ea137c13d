import type { RedisConnection } from '../stores/stores.js';

export type OverrideKind = 'allow' | 'block';

/** An operator's decision on one account for one model, until a time. */
export interface AccountOverride {
  readonly kind: OverrideKind;
  readonly until: number;
  readonly by: string;
  readonly at: number;
}

const FIELD_SEP = '\n';

function parseOverride(raw: string): AccountOverride | undefined {
  try {
    const o = JSON.parse(raw) as Partial<AccountOverride>;
    if (
      (o.kind === 'allow' || o.kind === 'block') &&
      typeof o.until === 'number' &&
      typeof o.by === 'string' &&
      typeof o.at === 'number'
    )
      return { kind: o.kind, until: o.until, by: o.by, at: o.at };
  } catch {
    // A field this version cannot read is skipped, never applied half-read.
  }
  return undefined;
}

/**
 * Allow-list entries and manual blocks per model and account. The extraction gate reads them on
 * every request, so reads are one Map lookup (none at all while there are no overrides). With
 * Redis (the limits' store) they live in one hash every replica reloads every few seconds; a write
 * goes to Redis first and is applied locally only once Redis took it, so replicas never disagree
 * for longer than one reload.
 */
export class AccountOverrides {
  private byModel = new Map<string, Map<string, AccountOverride>>();
  private count = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: RedisConnection | undefined,
    private readonly key: string,
    private readonly now: () => number,
  ) {}

  /** Starts the periodic reload (Redis only). */
  start(syncMs: number, onError: () => void): void {
    if (!this.redis) return;
    const reload = () => void this.reload().catch(onError);
    reload();
    this.timer = setInterval(reload, syncMs);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** The override in force for the account now, if any (the extraction gate's hot path). */
  of(model: string, user: string): AccountOverride | undefined {
    if (this.count === 0) return undefined;
    const o = this.byModel.get(model)?.get(user);
    return o && o.until > this.now() ? o : undefined;
  }

  /** Every override in force for a model (the console's list; bounded by what operators set). */
  list(model: string): Array<{ user: string } & AccountOverride> {
    const now = this.now();
    return [...(this.byModel.get(model) ?? [])].filter(([, o]) => o.until > now).map(([user, o]) => ({ user, ...o }));
  }

  async set(model: string, user: string, o: AccountOverride): Promise<void> {
    if (this.redis) {
      await this.redis.hset(this.key, `${model}${FIELD_SEP}${user}`, JSON.stringify(o));
    }
    this.put(this.byModel, model, user, o);
    this.recount();
  }

  /** Removes the account's override on a model; true when there was one. */
  async lift(model: string, user: string): Promise<boolean> {
    if (this.redis) await this.redis.hdel(this.key, `${model}${FIELD_SEP}${user}`);
    const had = this.byModel.get(model)?.delete(user) ?? false;
    this.recount();
    return had;
  }

  /** Replaces the local view with the shared one; expired entries are deleted from Redis. */
  async reload(): Promise<void> {
    if (!this.redis) return;
    const all = await this.redis.hgetall(this.key);
    const next = new Map<string, Map<string, AccountOverride>>();
    const expired: string[] = [];
    const now = this.now();
    for (const [field, raw] of Object.entries(all)) {
      const sep = field.indexOf(FIELD_SEP);
      const o = parseOverride(raw);
      if (sep < 0 || !o) continue;
      if (o.until <= now) expired.push(field);
      else this.put(next, field.slice(0, sep), field.slice(sep + 1), o);
    }
    this.byModel = next;
    this.recount();
    if (expired.length > 0) await this.redis.hdel(this.key, ...expired);
  }

  private put(into: Map<string, Map<string, AccountOverride>>, model: string, user: string, o: AccountOverride): void {
    let m = into.get(model);
    if (!m) into.set(model, (m = new Map<string, AccountOverride>()));
    m.set(user, o);
  }

  private recount(): void {
    let n = 0;
    for (const m of this.byModel.values()) n += m.size;
    this.count = n;
  }
}
