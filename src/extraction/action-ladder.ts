/**
 * The action ladder of one model: what an account gets as evidence of extraction builds up.
 * Evidence is the number of queries scored while a detector was in alarm, decayed
 * exponentially with a half-life, so an account that stops looking suspicious walks back down.
 * Hysteresis: a rung is entered at its threshold and left only below `hysteresis` × threshold,
 * so an account on the edge does not flap between two answers an attacker could learn from.
 * Actions apply to the account, never per query (Feng et al., "Stateful Defenses for ML Models
 * Are Not Yet Secure Against Black-box Attacks", ACM CCS 2023: a per-query rejection signal
 * guides an adaptive attacker).
 */
export const LEVELS = ['none', 'flag', 'degrade', 'throttle', 'block'] as const;
export type Level = (typeof LEVELS)[number];
export const LEVEL_NONE = 0;
export const LEVEL_FLAG = 1;
export const LEVEL_DEGRADE = 2;
export const LEVEL_THROTTLE = 3;
export const LEVEL_BLOCK = 4;

export interface LadderOptions {
  /** Evidence at which each rung starts, indexed by level (flag, degrade, throttle, block); 0 disables a rung. */
  readonly flagAt: number;
  readonly degradeAt: number;
  readonly throttleAt: number;
  readonly blockAt: number;
  readonly hysteresis: number;
  readonly halfLifeMs: number;
}

/** Evidence with its time, decayed on read. */
export interface Evidence {
  value: number;
  at: number;
  level: number;
}

export class ActionLadder {
  private readonly up: Float64Array;
  private readonly lambda: number;

  constructor(readonly o: LadderOptions) {
    this.up = Float64Array.of(0, o.flagAt, o.degradeAt, o.throttleAt, o.blockAt);
    this.lambda = Math.LN2 / o.halfLifeMs;
  }

  /** The evidence `e` would have at `now`. */
  decayed(e: Evidence, now: number): number {
    const dt = now - e.at;
    return dt <= 0 ? e.value : e.value * Math.exp(-this.lambda * dt);
  }

  /** Adds `amount` alarmed queries at `now`; returns the (possibly changed) level. */
  add(e: Evidence, amount: number, now: number): number {
    e.value = this.decayed(e, now) + amount;
    e.at = now;
    e.level = this.levelFor(e.value, e.level);
    return e.level;
  }

  /** Re-reads the level after decay (nothing added). */
  refresh(e: Evidence, now: number): number {
    e.value = this.decayed(e, now);
    e.at = now;
    e.level = this.levelFor(e.value, e.level);
    return e.level;
  }

  /** The level for `value` coming from `current`: up at a threshold, down only below threshold × hysteresis. */
  levelFor(value: number, current: number): number {
    let level = current;
    for (let r = LEVEL_BLOCK; r > level; r--) {
      if (this.up[r]! > 0 && value >= this.up[r]!) {
        level = r;
        break;
      }
    }
    while (level > LEVEL_NONE && !(value >= this.up[level]! * this.o.hysteresis && this.up[level]! > 0)) level--;
    return level;
  }
}

/**
 * Defaults: flag at the first alarmed query (operators see it at once, nothing changes for the
 * user); degrade after 20 and throttle after 100 alarmed queries, well past any single burst of
 * benign noise; block at 400, a fraction of the budgets the published attacks need (Papernot
 * et al.: 6,400 queries; Tramèr et al.: 650–4,013); half-life one hour, hysteresis one half.
 */
export const DEFAULT_LADDER: LadderOptions = {
  flagAt: 1,
  degradeAt: 20,
  throttleAt: 100,
  blockAt: 400,
  hysteresis: 0.5,
  halfLifeMs: 3_600_000,
};
