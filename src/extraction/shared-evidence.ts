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
 * One pipelined round trip per scored request, after the answer has left (the observer), that
 * both writes this replica's increments and reads back the sum of every replica's.
 */
export class SharedEvidence {
  private readonly bucketMs: number;

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
    const p = this.redis.pipeline();
    p.hincrby(key, 'q', queries);
    if (evidence > 0) {
      const b = Math.floor(now / this.bucketMs);
      p.hincrbyfloat(key, `e:${b}`, evidence * Math.pow(2, (now - b * this.bucketMs) / this.halfLifeMs));
    }
    p.hsetnx(key, 'since', String(acc.since));
    p.pexpire(key, this.idleMs);
    p.hgetall(key);
    const results = await p.exec();
    if (!results) return undefined;
    for (const [err] of results) if (err) throw err;
    const fields = results[results.length - 1]![1] as Record<string, string>;
    return { evidence: this.valueOf(fields, now) };
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
