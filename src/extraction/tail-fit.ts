/**
 * Peaks over threshold on a histogram of accounts: the excesses of the accounts beyond a high
 * threshold u follow, asymptotically, a generalised Pareto distribution (Pickands 1975, "Statistical
 * inference using extreme order statistics"; Balkema and de Haan 1974), which for maxima of
 * light-tailed counts (Gumbel's domain) is the exponential: P(X > u + y | X > u) = exp(−y/σ). The
 * scale σ is estimated from every excess, not from the few accounts at the very top, so one
 * account moves it by one excess out of all of them (Davison and Smith 1990, "Models for exceedances
 * over high thresholds").
 *
 * Each excess is winsorised at the distance the fitted tail puts the alarm at (before the caller's
 * allowance for heavier tails), as in Huber's bounded-influence estimators (Huber 1964): an
 * account beyond it, however far, weighs as much as one at it. The winsorising scale comes from
 * the median excess (σ = median / ln 2 for the exponential), which one account moves by one rank
 * among the excesses.
 */
export interface TailFit {
  /** Accounts beyond the threshold. */
  readonly excesses: number;
  /** The exponential scale σ, in bins. */
  readonly scale: number;
}

/**
 * Fits the exponential tail of the accounts in bins above `u`; `reach` is how far, in units of σ,
 * the caller extrapolates (the winsorising point). Undefined when no account is above `u`.
 */
export function fitTail(h: Float64Array, u: number, reach: number): TailFit | undefined {
  let m = 0;
  for (let b = u + 1; b < h.length; b++) m += h[b]!;
  if (m <= 0) return undefined;
  // The median excess: the bin holding rank ⌈m/2⌉ among the accounts above u.
  const half = Math.ceil(m / 2 - 1e-9);
  let c = 0;
  let median = 1;
  for (let b = u + 1; b < h.length; b++) {
    c += h[b]!;
    if (c >= half) {
      median = b - u;
      break;
    }
  }
  const cap = Math.max(1, reach * (median / Math.LN2));
  let sum = 0;
  for (let b = u + 1; b < h.length; b++) if (h[b]! > 0) sum += h[b]! * Math.min(b - u, cap);
  return { excesses: m, scale: sum / m };
}
