import type { RedisConnection } from '../stores/stores.js';
import { DETECTORS, type PopulationCalibration } from './population-calibration.js';

/**
 * A model's calibration shared by the replicas and kept across restarts through Redis: one hash
 * per model (hash-tagged on the model) whose fields are the histogram bins (`<detector>:<bin>`),
 * the class base rates' counts (`r<signal>:<index>`) and the query count. Replicas send their moves with HINCRBY (commutative, so no coordination)
 * and read back the merged histogram in the same round trip. No TTL: the calibration is the
 * model's, not an account's; its size is fixed by the bins.
 */
export class SharedCalibration {
  constructor(
    private readonly redis: RedisConnection,
    private readonly key: string,
  ) {}

  static keyFor(prefix: string, model: string): string {
    return `${prefix}extraction-calibration:{${encodeURIComponent(model)}}`;
  }

  /** Sends the pending moves and merges what every replica has sent; false when Redis failed (the moves are kept). */
  async sync(cal: PopulationCalibration, now: number): Promise<boolean> {
    const { moves, queries } = cal.drain();
    const lent = cal.classRates.drain();
    const p = this.redis.pipeline();
    for (let d = 0; d < DETECTORS.length; d++) {
      const m = moves[d]!;
      for (let b = 0; b < m.length; b++) if (m[b] !== 0) p.hincrby(this.key, `${d}:${b}`, m[b]!);
    }
    for (let sig = 0; sig < lent.length; sig++) {
      const c = lent[sig]!;
      for (let i = 0; i < c.length; i++) if (c[i] !== 0) p.hincrby(this.key, `r${sig}:${i}`, c[i]!);
    }
    if (queries) p.hincrby(this.key, 'q', queries);
    p.hgetall(this.key);
    let results: [Error | null, unknown][] | null;
    try {
      results = await p.exec();
    } catch {
      results = null;
    }
    if (!results || results.some(([err]) => err)) {
      cal.restore(moves, queries);
      cal.classRates.restore(lent);
      return false;
    }
    const fields = results[results.length - 1]![1] as Record<string, string>;
    const shared = cal.hist.map((h) => new Float64Array(h.length));
    const rates = cal.classRates.counts.map((c) => new Float64Array(c.length));
    let q = 0;
    for (const [name, raw] of Object.entries(fields)) {
      if (name === 'q') {
        q = Number(raw);
        continue;
      }
      const sep = name.indexOf(':');
      if (name.startsWith('r')) {
        const c = rates[Number(name.slice(1, sep))];
        const i = Number(name.slice(sep + 1));
        if (c && i >= 0 && i < c.length) c[i] = Number(raw);
        continue;
      }
      const d = Number(name.slice(0, sep));
      const b = Number(name.slice(sep + 1));
      const h = shared[d];
      if (h && b >= 0 && b < h.length) h[b] = Number(raw);
    }
    cal.merge(shared, q);
    cal.classRates.merge(rates);
    cal.refresh(now);
    return true;
  }

  async remove(): Promise<void> {
    await this.redis.del(this.key);
  }
}
