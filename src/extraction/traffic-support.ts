import { OBJECT_OVERHEAD, TYPED_ARRAY_OVERHEAD } from './heap-cost.js';

/** Distinct rows one account in good standing lends to the support (its first ones). */
export const SUPPORT_ROWS_PER_ACCOUNT = 16;
/**
 * The support's edge on each side of a feature is the TAIL-th most extreme value lent: one more
 * than an account lends, so no single account can move an edge on its own (a second one must lend
 * values as far out).
 */
export const SUPPORT_TAIL = SUPPORT_ROWS_PER_ACCOUNT + 1;

/**
 * Per feature, the range of values the model's own traffic reaches (benign σ units): from the
 * rows lent by accounts in good standing, the SUPPORT_TAIL-th smallest and largest value, order
 * statistics that stand for the marginal support of the data (a per-feature, trimmed form of the
 * support estimation of Schölkopf et al., Neural Computation 13(7), 2001). A rare stretch of a
 * real series (a crash's daily ranges, a heat wave's hourly changes) is traffic other accounts
 * also send and lies within it; uniform draws over a box around the data's range mostly do not.
 * Until a side holds SUPPORT_TAIL values it contains nothing (fail closed). Learned anew after a
 * restart, like the model's grain.
 */
export class TrafficSupport {
  /** Per feature, the SUPPORT_TAIL largest values lent (descending), then the smallest (ascending). */
  private readonly high: Float64Array;
  private readonly low: Float64Array;
  /** Values lent per feature so far (capped at SUPPORT_TAIL: only whether the tails are full matters). */
  private filled = 0;

  constructor(readonly width: number) {
    this.high = new Float64Array(width * SUPPORT_TAIL).fill(Number.NEGATIVE_INFINITY);
    this.low = new Float64Array(width * SUPPORT_TAIL).fill(Number.POSITIVE_INFINITY);
  }

  get bytes(): number {
    return this.high.byteLength + this.low.byteLength + 2 * TYPED_ARRAY_OVERHEAD + OBJECT_OVERHEAD;
  }

  /** Whether both edges are known (enough rows lent). */
  get ready(): boolean {
    return this.filled >= SUPPORT_TAIL;
  }

  /** One row (benign σ units) of an account in good standing. */
  lend(scaled: ArrayLike<number>): void {
    if (this.filled < SUPPORT_TAIL) this.filled++;
    for (let j = 0; j < this.width; j++) {
      const v = scaled[j]!;
      insert(this.high, j * SUPPORT_TAIL, v, 1);
      insert(this.low, j * SUPPORT_TAIL, v, -1);
    }
  }

  /** Whether the value `v` of feature `j` lies within `slack` of the values the model's traffic reaches. */
  holds(j: number, v: number, slack = 0): boolean {
    if (this.filled < SUPPORT_TAIL) return false;
    const last = j * SUPPORT_TAIL + SUPPORT_TAIL - 1;
    return v <= this.high[last]! + slack && v >= this.low[last]! - slack;
  }
}

/**
 * Inserts `v` into the sorted tail at `at` (descending for `sign` 1, ascending for −1) when it
 * belongs there, dropping the tail's last value.
 */
function insert(tail: Float64Array, at: number, v: number, sign: 1 | -1): void {
  let i = at + SUPPORT_TAIL - 1;
  if (!(sign * v > sign * tail[i]!)) return;
  while (i > at && sign * v > sign * tail[i - 1]!) {
    tail[i] = tail[i - 1]!;
    i--;
  }
  tail[i] = v;
}
