// Percentiles of recorded latencies (nearest-rank), without a histogram's bucket rounding: the
// -c1 and fixed-rate figures are compared at a fraction of a millisecond.

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export class LatencyRecorder {
  private readonly values: Float64Array;
  private n = 0;
  constructor(capacity: number) {
    this.values = new Float64Array(capacity);
  }
  record(ms: number): void {
    if (this.n < this.values.length) this.values[this.n++] = ms;
  }
  get count(): number {
    return this.n;
  }
  sorted(): Float64Array {
    return this.values.subarray(0, this.n).sort();
  }
}
