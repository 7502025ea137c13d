import { DETECTORS } from './population-calibration.js';

export interface BreakerOptions {
  /** Share of the model's active accounts at degrade or above, driven by one detector, that trips it. */
  readonly share: number;
  /** Accounts that must be escalated by one detector before the share is considered (a few attackers on a small model are not a miscalibration). */
  readonly minAccounts: number;
}

/** A detector's breaker opened or closed. */
export interface BreakerChange {
  readonly detector: number;
  readonly tripped: boolean;
  readonly escalated: number;
  readonly active: number;
}

/**
 * Never a mass block: when one detector drives more than `share` of a model's active accounts to
 * degrade or above, the detector is wrong for this model, not its users. The breaker then stops
 * that detector from adding evidence and caps what it already caused at `flag` (the gate reads
 * `open`), until the accounts it escalated fall below half the trip point. One breaker per
 * detector, so a miscalibrated margin signal does not silence PRADA.
 */
export class EscalationBreaker {
  /** Per detector: accounts now at degrade or above because of it. */
  readonly escalated = new Int32Array(DETECTORS.length);
  /** Per detector: 1 while its breaker is open (tripped). */
  readonly open = new Uint8Array(DETECTORS.length);
  readonly since = new Float64Array(DETECTORS.length);
  readonly reasons: (string | undefined)[] = new Array<string | undefined>(DETECTORS.length).fill(undefined);

  constructor(readonly o: BreakerOptions) {}

  /** One account entered (+1) or left (−1) degrade-or-above because of detector `d`. */
  count(d: number, delta: number, active: number, now: number): BreakerChange | undefined {
    const n = (this.escalated[d]! += delta);
    const limit = Math.max(this.o.minAccounts, this.o.share * active);
    if (!this.open[d] && n >= limit) {
      this.open[d] = 1;
      this.since[d] = now;
      this.reasons[d] =
        `${n} of ${active} active accounts (${((100 * n) / Math.max(1, active)).toFixed(2)}%) escalated to degrade or above by ${DETECTORS[d]}; the limit is ${(100 * this.o.share).toFixed(2)}% and at least ${this.o.minAccounts} accounts`;
      return { detector: d, tripped: true, escalated: n, active };
    }
    if (this.open[d] && n < limit / 2) {
      this.open[d] = 0;
      this.since[d] = now;
      this.reasons[d] = undefined;
      return { detector: d, tripped: false, escalated: n, active };
    }
    return undefined;
  }

  /** The first open breaker, for the model view. */
  get tripped(): number {
    for (let d = 0; d < this.open.length; d++) if (this.open[d]) return d;
    return -1;
  }
}
