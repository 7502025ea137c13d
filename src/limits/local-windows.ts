import { LRUCache } from 'lru-cache';
import { chargeOutcome, type Charge, type CounterStore, type WindowGroup } from './window-group.js';

/**
 * One user's usage of one window group, in one typed array (one allocation, about 300 bytes per
 * user with the LRU's bookkeeping) laid out as [base × n, used × n, resetAt × n]: `base` is what
 * the shared store last said was used (always 0 for the memory store), `used` what this replica
 * admitted on its own since (or, as insurance, what the shared store's answer may lack), and
 * `resetAt` when each window ends (0: not started).
 */
type Usage = Float64Array;
const BASE = 0;
const usage = (n: number): Usage => new Float64Array(3 * n);

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
 * so an outage does not hand every replica a fresh share of an already spent budget; what it
 * admits is handed back to Redis by the store's ledger (debt-ledger.ts).
 */
export class LocalWindows implements CounterStore {
  readonly kind = 'memory' as const;
  private readonly usage: LRUCache<string, Usage>;
  // Scratch for one charge's budgets, times to reset and usage, by the group's number of windows:
  // chargeOutcome reads them before charge returns, so one set serves every charge instead of
  // three typed arrays per request.
  private readonly budgetsByN: Float64Array[] = [];
  private readonly resetsByN: Float64Array[] = [];
  private readonly usedByN: Float64Array[] = [];

  constructor(private readonly o: LocalWindowsOptions) {
    this.usage = new LRUCache<string, Usage>({ max: o.maxKeys });
  }

  get size(): number {
    return this.usage.size;
  }

  charge(user: string, group: WindowGroup, cost: number): Charge {
    const now = this.o.now();
    const key = `${group.id}\u0000${user}`;
    const n = group.limits.length;
    const USED = BASE + n;
    const RESET = USED + n;
    const found = this.usage.get(key);
    const u = found ?? usage(n);
    const budgets = (this.budgetsByN[n] ??= new Float64Array(n));
    const resetMs = (this.resetsByN[n] ??= new Float64Array(n));
    let fits = true;
    for (let i = 0; i < n; i++) {
      if (u[RESET + i]! <= now) {
        u[BASE + i] = 0;
        u[USED + i] = 0;
        u[RESET + i] = 0;
      }
      budgets[i] = Math.floor((group.limits[i]! - u[BASE + i]!) / this.o.share);
      resetMs[i] = u[RESET + i]! > 0 ? u[RESET + i]! - now : group.durationsMs[i]!;
      if (u[USED + i]! + cost > budgets[i]!) fits = false;
    }
    const used = (this.usedByN[n] ??= new Float64Array(n));
    if (!fits) {
      for (let i = 0; i < n; i++) used[i] = u[USED + i]!;
      return chargeOutcome(group, false, cost, used, resetMs, budgets);
    }
    for (let i = 0; i < n; i++) {
      if (u[RESET + i] === 0) u[RESET + i] = now + group.durationsMs[i]!;
      used[i] = u[USED + i] = u[USED + i]! + cost;
    }
    if (!found) this.usage.set(key, u);
    return chargeOutcome(group, true, cost, used, resetMs, budgets);
  }

  /**
   * Records what the shared store answered: its usage per window and the time until each window
   * resets, and `outstanding`, what this replica decided that the answer may not include yet.
   * Every user the shared store answers for is kept (within `maxKeys`), so that insurance, if
   * needed next, starts from the user's real usage.
   */
  observe(
    user: string,
    group: WindowGroup,
    used: ArrayLike<number>,
    resetMs: ArrayLike<number>,
    outstanding: number,
  ): void {
    const key = `${group.id}\u0000${user}`;
    const n = group.limits.length;
    let u = this.usage.get(key);
    if (!u) {
      u = usage(n);
      this.usage.set(key, u);
    }
    const now = this.o.now();
    for (let i = 0; i < n; i++) {
      u[BASE + i] = used[i]!;
      u[BASE + n + i] = outstanding;
      u[BASE + 2 * n + i] = now + resetMs[i]!;
    }
  }
}
