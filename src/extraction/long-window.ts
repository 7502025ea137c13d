import { binomialAlarmCount } from './binomial-threshold.js';
import { DETECTORS, type DetectorSettings } from './detector-settings.js';
import { LONG_BLOCKS, type WindowCount } from './window-count.js';

/**
 * Per detector, what a long-window count is multiplied by to be read on the window's scale, or 0
 * for detectors without a long window. The long window spans up to LONG_BLOCKS windows and is
 * judged, like the window, at the count a benign stream at the detector's assumed rate exceeds
 * with probability `alpha`; the factor window floor ÷ long floor makes "beyond the long floor"
 * the same as "beyond the window floor", so the account's statistic is one number per detector
 * (the larger of the two) and the population calibration moves both thresholds together.
 */
export function longWindowScales(s: DetectorSettings): Float64Array {
  const scales = new Float64Array(DETECTORS.length);
  const rates: Partial<Record<(typeof DETECTORS)[number], number>> = {
    fingerprint: s.nearDuplicateRate,
    steps: s.stepRate,
    novelty: s.noveltyRate,
    lineage: s.lineageRate,
  };
  DETECTORS.forEach((name, d) => {
    const p = rates[name];
    if (p === undefined) return;
    scales[d] = binomialAlarmCount(s.window, p, s.alpha) / binomialAlarmCount(LONG_BLOCKS * s.window, p, s.alpha);
  });
  return scales;
}

/** The window's count, or the long window's on the window's scale when that is larger. */
export function windowStatistic(w: WindowCount, scale: number): number {
  const l = w.long * scale;
  return l > w.count ? l : w.count;
}
