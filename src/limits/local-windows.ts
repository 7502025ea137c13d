import { LRUCache } from 'lru-cache';
import { chargeOutcome, type Charge, type CounterStore, type WindowGroup } from './window-group.js';

/**
 * One user's usage of one window group. `base` is what the shared store last said was used
 * (always 0 for the memory store), `used` what this replica admitted on its own since, and
 * `debt` the part of `used` that the shared store has not been told yet.
 */
interface Usage {
  readonly base: Float64Array;
  readonly used: Float64Array;
  readonly resetAt: Float64Array;
  debt: number;
}

export interface LocalWindowsOptions {
  /** Most (user, window group) pairs kept; the least recently charged is forgotten first. */
  readonly maxKeys: number;
  /** Milliseconds since the epoch (injected: tests move time instead of sleeping). */
  readonly now: () => number;
  /** Each budget is divided by this (the insurance share of one replica; 1 for the memory store). */
  readonly share: number;
}

/**
 * Fixed windows counted in this process, bounded by an LRU over users: the memory store, and the
 * insurance that answers while Redis does not. Eviction gives something away, documented: a
 * forgotten user's windows start again from zero, so `maxKeys` must exceed the users active
 * within the longest window for limits to stay exact.
 *
 * As insurance it starts from what Redis last reported for the user (`observe`), not from zero,
 * and counts what it admitted as a debt that is written back to Redis with the user's next
 * request, so an outage does not hand every replica a fresh share of an already spent budget.
 */
export class LocalWindows implements CounterStore {
  readonly kind = 'memory' as const;
  private readonly usage: LRUCache<string, Usage>;

  constructor(private readonly o: LocalWindowsOptions) {
    this.usage = new LRUCache<string, Usage>({ max: o.maxKeys });
  }

  get size(): number {
    return this.usage.size;
  }

  charge(user: string, group: WindowGroup, cost: number): Charge {
    const now = this.o.now();
    const key = `${group.id}\u0000${user}`;
    let u = this.usage.get(key);
    const n = group.limits.length;
    const budgets = new Float64Array(n);
    const resetMs = new Float64Array(n);
    let fits = true;
    for (let i = 0; i < n; i++) {
      if (u && u.resetAt[i]! <= now) {
        u.base[i] = 0;
        u.used[i] = 0;
        u.resetAt[i] = 0;
      }
      budgets[i] = Math.floor((group.limits[i]! - (u?.base[i] ?? 0)) / this.o.share);
      resetMs[i] = u && u.resetAt[i]! > 0 ? u.resetAt[i]! - now : group.durationsMs[i]!;
      if ((u?.used[i] ?? 0) + cost > budgets[i]!) fits = false;
    }
    if (!fits) return chargeOutcome(group, false, cost, u?.used ?? new Float64Array(n), resetMs, budgets);
    if (!u) {
      u = { base: new Float64Array(n), used: new Float64Array(n), resetAt: new Float64Array(n), debt: 0 };
      this.usage.set(key, u);
    }
    for (let i = 0; i < n; i++) {
      if (u.resetAt[i] === 0) u.resetAt[i] = now + group.durationsMs[i]!;
      u.used[i] = u.used[i]! + cost;
    }
    u.debt += cost;
    return chargeOutcome(group, true, cost, u.used, resetMs, budgets);
  }

  /** Predictions admitted here that the shared store has not counted yet. */
  debt(user: string, group: WindowGroup): number {
    return this.usage.get(`${group.id}\u0000${user}`, { updateAgeOnGet: false })?.debt ?? 0;
  }

  /**
   * Records what the shared store answered: its usage per window (with `settled` of the debt
   * included) and the time until each window resets. Every user the shared store answers for is
   * kept (within `maxKeys`), so that insurance, if needed next, starts from the user's real usage.
   */
  observe(user: string, group: WindowGroup, used: ArrayLike<number>, resetMs: ArrayLike<number>, settled: number): void {
    const key = `${group.id}\u0000${user}`;
    let u = this.usage.get(key);
    const n = group.limits.length;
    if (!u) {
      u = { base: new Float64Array(n), used: new Float64Array(n), resetAt: new Float64Array(n), debt: 0 };
      this.usage.set(key, u);
    }
    const now = this.o.now();
    u.debt = Math.max(0, u.debt - settled);
    for (let i = 0; i < group.limits.length; i++) {
      u.base[i] = used[i]!;
      u.used[i] = u.debt;
      u.resetAt[i] = now + resetMs[i]!;
    }
  }
}
