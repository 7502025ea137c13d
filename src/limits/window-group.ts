import { rateLimitPolicy, type WindowDescription } from './rate-limit-headers.js';

/**
 * The windows one request is charged against, built once at start-up. Windows are fixed: a window
 * starts with the first prediction charged to it and resets `perSeconds` later (the semantics of
 * rate-limiter-flexible's fixed windows, which the gateway used before).
 */
export interface WindowGroup {
  /** Names the counters of this group: its scope (a model, or every model) and its policy. */
  readonly id: string;
  readonly windows: readonly WindowDescription[];
  readonly limits: readonly number[];
  readonly durationsMs: readonly number[];
  /** `RateLimit-Policy`, computed once. */
  readonly policyHeader: string;
}

export function windowGroup(id: string, windows: readonly WindowDescription[]): WindowGroup {
  return {
    id,
    windows,
    limits: windows.map((w) => w.predictions),
    durationsMs: windows.map((w) => w.perSeconds * 1000),
    policyHeader: rateLimitPolicy(windows),
  };
}

/**
 * The outcome of charging one request to every window of its group, all or none.
 * `window` is the tightest window when allowed (for the RateLimit header) and the one that
 * refused when limited (the one that resets last, when several would).
 */
export type Charge =
  | { readonly kind: 'allowed'; readonly window: number; readonly remaining: number; readonly resetMs: number }
  | { readonly kind: 'limited'; readonly window: number; readonly resetMs: number }
  | { readonly kind: 'unavailable'; readonly reason: StoreFailure };

/**
 * Why the shared store did not decide: `timeout` (no answer within the command timeout; the
 * script is stale by then and will not charge, or its late answer refunds what it charged),
 * `stale` (Redis ran the script after its deadline and charged nothing), `overloaded` (too many
 * commands waiting on a silent Redis), `unprobed` (no probe has compared the clocks yet, so no
 * deadline can be set and nothing is sent), `error` (not connected, or any other failure).
 */
export type StoreFailure = 'timeout' | 'stale' | 'overloaded' | 'unprobed' | 'error';

/** Where counters live; chosen once at start-up, checked by one contract for every kind. */
export interface CounterStore {
  readonly kind: 'memory' | 'redis';
  charge(user: string, group: WindowGroup, cost: number): Charge | Promise<Charge>;
}

/**
 * The result of a charge from each window's usage, the same for every store: limited by the
 * window that refuses `cost` and resets last (retrying earlier would be refused again), or
 * allowed and described by the window with the least left (the `RateLimit` header).
 * `used` is after the charge when allowed, before it when limited; `budgets` default to the limits.
 */
export function chargeOutcome(
  group: WindowGroup,
  allowed: boolean,
  cost: number,
  used: ArrayLike<number>,
  resetMs: ArrayLike<number>,
  budgets: ArrayLike<number> = group.limits,
): Charge {
  let pick = 0;
  if (!allowed) {
    let latest = -1;
    for (let i = 0; i < budgets.length; i++) {
      if (used[i]! + cost > budgets[i]! && resetMs[i]! > latest) {
        latest = resetMs[i]!;
        pick = i;
      }
    }
    return { kind: 'limited', window: pick, resetMs: Math.max(0, latest) };
  }
  let least = Infinity;
  for (let i = 0; i < budgets.length; i++) {
    const left = budgets[i]! - used[i]!;
    if (left < least) {
      least = left;
      pick = i;
    }
  }
  return { kind: 'allowed', window: pick, remaining: Math.max(0, least), resetMs: Math.max(0, resetMs[pick]!) };
}
