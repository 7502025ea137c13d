import { DETECTORS } from './population-calibration.js';

export interface BreakerOptions {
  /** Share of the model's active accounts at degrade or above, marginally driven by one detector, that trips it. */
  readonly share: number;
  /** Accounts that must be escalated by one detector before the share is considered (a few attackers on a small model are not a miscalibration). */
  readonly minAccounts: number;
  /** Score (a multiple of the threshold in force) from which an escalation is far beyond it, not marginal. */
  readonly farBeyond: number;
  /** The far-beyond escalations also stop once all of a detector's escalations reach this multiple of the trip point. */
  readonly farMultiple: number;
}

/** Breaker tiers per detector: closed, holding marginal escalations, holding all. */
export const BREAKER_CLOSED = 0;
export const BREAKER_MARGINAL = 1;
export const BREAKER_ALL = 2;

/** A detector's breaker opened, widened or closed. */
export interface BreakerChange {
  readonly detector: number;
  readonly tripped: boolean;
  /** The tier now: BREAKER_MARGINAL, BREAKER_ALL, or BREAKER_CLOSED. */
  readonly tier: number;
  readonly escalated: number;
  readonly active: number;
}

/**
 * Never a mass block, and no switch for a handful of attackers. A detector that is miscalibrated
 * for a model moves the tail of the model's benign population across its threshold: many
 * accounts escalate, nearly all of them just beyond it (the density of a tail falls fast). An
 * extraction attack, or ten Sybil accounts that want to silence the detector, escalate a few
 * accounts, typically far beyond it (the published attacks score several times the benign tail,
 * Juuti et al., EuroS&P 2019). So the breaker counts, per detector, the accounts that detector took
 * to degrade or above, apart by how far their score went: below `farBeyond` times the threshold
 * (marginal) or beyond (far).
 *
 * - When the marginal ones exceed `share` of the active accounts (and at least `minAccounts`),
 *   the detector is taken as miscalibrated near its threshold: its marginal alarms add no
 *   evidence and the marginal accounts it escalated are held at `flag`; accounts far beyond keep
 *   escalating. Sybils that are clearly anomalous do not count towards this tier.
 * - When all its escalations together exceed `farMultiple` times that trip point, the detector is
 *   wrong for everyone (a model whose traffic changed scale, a pinned calibration from other
 *   traffic): it adds no evidence at all and every account it escalated is held at `flag`.
 *
 * Each tier closes once its count falls below half its trip point. One breaker per detector, so a
 * miscalibrated margin signal does not silence PRADA. Residual risk, stated: Sybils that keep
 * their own scores just beyond the threshold count as marginal and can open the first tier, which
 * then no longer escalates marginal attackers (those far beyond still are).
 */
export class EscalationBreaker {
  /** Per detector: accounts now at degrade or above because of it, marginally. */
  readonly escalated = new Int32Array(DETECTORS.length);
  /** Per detector: accounts now at degrade or above because of it, far beyond its threshold. */
  readonly far = new Int32Array(DETECTORS.length);
  /** Per detector: its tier (BREAKER_CLOSED, BREAKER_MARGINAL, BREAKER_ALL). */
  readonly open = new Uint8Array(DETECTORS.length);
  readonly since = new Float64Array(DETECTORS.length);
  readonly reasons: (string | undefined)[] = new Array<string | undefined>(DETECTORS.length).fill(undefined);

  constructor(readonly o: BreakerOptions) {}

  /** One account entered (+1) or left (−1) degrade-or-above because of detector `d`, marginally or `far` beyond. */
  count(d: number, delta: number, far: boolean, active: number, now: number): BreakerChange | undefined {
    if (far) this.far[d]! += delta;
    else this.escalated[d]! += delta;
    return this.settle(d, active, now);
  }

  /** An escalated account's score went far beyond the threshold: it leaves the marginal count. */
  promote(d: number, active: number, now: number): BreakerChange | undefined {
    this.escalated[d]!--;
    this.far[d]!++;
    return this.settle(d, active, now);
  }

  /** Whether an alarm of detector `d` at `score` adds evidence. */
  live(d: number, score: number): boolean {
    const t = this.open[d]!;
    return t === BREAKER_CLOSED || (t === BREAKER_MARGINAL && score >= this.o.farBeyond);
  }

  /** Whether an account escalated by `d` (far beyond or not) is held at flag. */
  holds(d: number, far: boolean): boolean {
    const t = this.open[d]!;
    return t === BREAKER_ALL || (t === BREAKER_MARGINAL && !far);
  }

  /** The first open breaker, for the model view. */
  get tripped(): number {
    for (let d = 0; d < this.open.length; d++) if (this.open[d]) return d;
    return -1;
  }

  private settle(d: number, active: number, now: number): BreakerChange | undefined {
    const marginal = this.escalated[d]!;
    const all = marginal + this.far[d]!;
    const limit = Math.max(this.o.minAccounts, this.o.share * active);
    const wide = this.o.farMultiple * limit;
    const was = this.open[d]!;
    let tier = was;
    if (all >= wide) tier = BREAKER_ALL;
    else if (marginal >= limit && tier === BREAKER_CLOSED) tier = BREAKER_MARGINAL;
    if (tier === BREAKER_ALL && all < wide / 2) tier = marginal >= limit / 2 ? BREAKER_MARGINAL : BREAKER_CLOSED;
    if (tier === BREAKER_MARGINAL && marginal < limit / 2) tier = BREAKER_CLOSED;
    if (tier === was) return undefined;
    this.open[d] = tier;
    this.since[d] = now;
    const pct = (n: number) => ((100 * n) / Math.max(1, active)).toFixed(2);
    this.reasons[d] =
      tier === BREAKER_ALL
        ? `${all} of ${active} active accounts (${pct(all)}%) escalated to degrade or above by ${DETECTORS[d]}, ${this.far[d]} of them far beyond its threshold; the limit for all is ${this.o.farMultiple} × max(${(100 * this.o.share).toFixed(2)}%, ${this.o.minAccounts} accounts)`
        : tier === BREAKER_MARGINAL
          ? `${marginal} of ${active} active accounts (${pct(marginal)}%) escalated to degrade or above by ${DETECTORS[d]} within ${this.o.farBeyond} × its threshold; the limit is ${(100 * this.o.share).toFixed(2)}% and at least ${this.o.minAccounts} accounts (accounts far beyond it still escalate)`
          : undefined;
    return { detector: d, tripped: tier > was, tier, escalated: tier === BREAKER_ALL ? all : marginal, active };
  }
}
