/**
 * The smallest count k with P(X ≥ k) ≤ alpha for X ~ Binomial(n, p): an alarm threshold on
 * "k of the last n queries showed the signal" that a benign stream whose per-query rate is at
 * most p crosses with probability at most alpha per window. Computed once at start-up.
 */
export function binomialAlarmCount(n: number, p: number, alpha: number): number {
  if (p <= 0) return 1;
  if (p >= 1) return n + 1;
  // Walk the pmf upwards in log space, then sum the upper tail from the top down.
  const logPmf = new Float64Array(n + 1);
  const lq = Math.log1p(-p);
  const lp = Math.log(p);
  logPmf[0] = n * lq;
  for (let k = 1; k <= n; k++) logPmf[k] = logPmf[k - 1]! + Math.log((n - k + 1) / k) + lp - lq;
  let tail = 0;
  for (let k = n; k >= 0; k--) {
    const next = tail + Math.exp(logPmf[k]!);
    if (next > alpha) return k + 1;
    tail = next;
  }
  return 0;
}
