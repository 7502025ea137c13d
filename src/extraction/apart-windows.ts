import { OBJECT_OVERHEAD } from './heap-cost.js';
import { WindowCount } from './window-count.js';

/** Detectors (DETECTORS indices) whose hits are also counted apart: fingerprint, steps, novelty, lineage. */
export const APART_DETECTORS = [1, 6, 7, 8] as const;

/**
 * The windowed detectors' hits counted a second time over the account's rows that are not
 * real-looking (not sent before by another account, see KnownRows). An attacker who interleaves
 * real rows with its probes thins each window's evidence (by half at a 50% mix) and the real rows
 * show nothing; judging the probes apart from them, as the components of a mixture are judged
 * apart, gives back the undiluted rate at the cost of more queries. Benign accounts whose rows
 * are real (browsing, replays, dashboards) put almost nothing here; those whose rows are all noisy
 * copies put every row, so their count is the plain window's. The account is judged, and
 * contributes to the calibration, by the larger of the two counts against the same threshold.
 */
export class ApartWindows {
  private readonly windows: WindowCount[];

  /** `sources`: the account's own windows, in APART_DETECTORS order (undefined: no such detector). */
  constructor(
    window: number,
    private readonly sources: readonly (WindowCount | undefined)[],
  ) {
    this.windows = sources.map(() => new WindowCount(window));
  }

  /** Files each source window's latest signal: call after the detectors saw a row that is not real-looking. */
  push(): void {
    for (let i = 0; i < this.sources.length; i++) {
      const s = this.sources[i];
      if (s) this.windows[i]!.push(s.last);
    }
  }

  /** The count over the rows apart for the i-th of APART_DETECTORS. */
  count(i: number): number {
    return this.windows[i]!.count;
  }

  get bytes(): number {
    let b = 2 * OBJECT_OVERHEAD + 8 * this.sources.length;
    for (const w of this.windows) b += w.bytes;
    return b;
  }
}
