import type { RedisConnection } from '../stores/stores.js';
import type { AccountState } from './account-state.js';

/**
 * Evidence shared by the replicas through Redis, with commutative updates only, so replicas need
 * no coordination: per account one hash (key hash-tagged on model and user, so a cluster keeps
 * it on one slot) holding the query count (HINCRBY), the first-seen time (HSETNX) and the
 * evidence as forward-decayed sums (HINCRBYFLOAT; Cormode, Shkapenyuk, Srivastava, Xu,
 * "Forward Decay: A Practical Time Decay Model for Streaming Systems", ICDE 2009): an increment
 * a at time t adds a·2^((t − b·B)/h) to the field of its bucket b = ⌊t/B⌋ (B = 32 half-lives h,
 * so the factors stay below 2³²); the value at time T is Σ_b S_b·2^((b·B − T)/h). Every key
 * has a TTL (the idle time), refreshed on write.
 *
 * One pipelined round trip, after the answer has left (the observer), that both writes this
 * replica's increments and reads back the sum of every replica's; at most one in flight per
 * account: what the account's requests add while it is in flight is summed (the updates commute)
 * and sent in the next one, and each of them reads that one's answer. A busy account then costs
 * one round trip per Redis round-trip time, not one per request.
 */
export class SharedEvidence {
  private readonly bucketMs: number;
  private readonly inFlight = new Map<string, Batch>();
  /** The next round trip of an account whose previous one is in flight: increments accumulate here. */
  private readonly next = new Map<string, Batch>();

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly halfLifeMs: number,
    private readonly idleMs: number,
  ) {
    this.bucketMs = 32 * halfLifeMs;
  }

  key(model: string, user: string): string {
    // Braces are the cluster hash tag; user ids may contain braces, so they are escaped.
    return `${this.prefix}extraction:{${encodeURIComponent(model)}|${encodeURIComponent(user)}}`;
  }

  /**
   * Adds `queries` and `evidence` for the account and returns the evidence every replica has
   * added, decayed to `now` (undefined when Redis answered nothing: the caller keeps its own view).
   */
  async add(
    acc: AccountState,
    queries: number,
    evidence: number,
    now: number,
  ): Promise<{ evidence: number } | undefined> {
    const key = this.key(acc.model, acc.user);
    let batch = this.next.get(key);
    if (!batch) {
      const b: Batch = { queries: 0, increments: new Map(), since: acc.since, fields: undefined! };
      this.next.set(key, b);
      const running = this.inFlight.get(key);
      // Sent at once, or when the running one settles, whatever its outcome.
      b.fields = running
        ? running.fields.then(
            () => this.send(key, b),
            () => this.send(key, b),
          )
        : this.send(key, b);
      batch = b;
    }
    batch.queries += queries;
    if (evidence > 0) {
      const b = Math.floor(now / this.bucketMs);
      const field = `e:${b}`;
      const inc = evidence * Math.pow(2, (now - b * this.bucketMs) / this.halfLifeMs);
      batch.increments.set(field, (batch.increments.get(field) ?? 0) + inc);
    }
    const fields = await batch.fields;
    return fields ? { evidence: this.valueOf(fields, now) } : undefined;
  }

  /** Sends a batch after what the current turn of the event loop adds to it (the pipeline is built in a microtask). */
  private send(key: string, batch: Batch): Promise<Record<string, string> | undefined> {
    this.inFlight.set(key, batch);
    return Promise.resolve()
      .then(async () => {
        // Closed: adds from now on go to the next batch.
        if (this.next.get(key) === batch) this.next.delete(key);
        const p = this.redis.pipeline();
        p.hincrby(key, 'q', batch.queries);
        for (const [field, inc] of batch.increments) p.hincrbyfloat(key, field, inc);
        p.hsetnx(key, 'since', String(batch.since));
        p.pexpire(key, this.idleMs);
        p.hgetall(key);
        const results = await p.exec();
        if (!results) return undefined;
        for (const [err] of results) if (err) throw err;
        return results[results.length - 1]![1] as Record<string, string>;
      })
      .finally(() => {
        if (this.inFlight.get(key) === batch) this.inFlight.delete(key);
      });
  }

  async remove(model: string, user: string): Promise<void> {
    await this.redis.del(this.key(model, user));
  }

  private valueOf(fields: Record<string, string>, now: number): number {
    let v = 0;
    for (const [name, raw] of Object.entries(fields)) {
      if (!name.startsWith('e:')) continue;
      const b = Number(name.slice(2));
      v += Number(raw) * Math.pow(2, (b * this.bucketMs - now) / this.halfLifeMs);
    }
    return v;
  }
}

interface Batch {
  queries: number;
  /** Forward-decayed evidence by bucket field. */
  readonly increments: Map<string, number>;
  readonly since: number;
  fields: Promise<Record<string, string> | undefined>;
}
