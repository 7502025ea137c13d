import { DETECTORS } from './detector-settings.js';
import { OBJECT_OVERHEAD } from './heap-cost.js';
import { WindowCount } from './window-count.js';

/** The windowed detectors whose hits are also counted apart, in the order of the apart windows. */
export const APART_NAMES = ['fingerprint', 'steps', 'novelty', 'lineage'] as const;
export type ApartName = (typeof APART_NAMES)[number];
/** Their indices in DETECTORS (the per-detector arrays), in the same order. */
export const APART_DETECTORS: readonly number[] = APART_NAMES.map((n) => DETECTORS.indexOf(n));
/** Each one's position among the apart windows. */
export const APART_AT = Object.fromEntries(APART_NAMES.map((n, i) => [n, i])) as Readonly<Record<ApartName, number>>;

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

  private readonly sources: readonly (WindowCount | undefined)[];

  /** `sources`: the account's own window of each apart detector (undefined: no such detector). */
  constructor(window: number, sources: Readonly<Record<ApartName, WindowCount | undefined>>) {
    this.sources = APART_NAMES.map((n) => sources[n]);
    this.windows = APART_NAMES.map(() => new WindowCount(window));
  }

  /** Files each source window's latest signal: call after the detectors saw a row that is not real-looking. */
  push(): void {
    for (let i = 0; i < this.sources.length; i++) {
      const s = this.sources[i];
      if (s) this.windows[i]!.push(s.last);
    }
  }

  /** The count over the rows apart for the i-th of APART_NAMES. */
  count(i: number): number {
    return this.windows[i]!.count;
  }

  /** The statistic judged and calibrated for detector `name`: the larger of its window's `count` and its count apart. */
  larger(name: ApartName, count: number): number {
    return Math.max(count, this.windows[APART_AT[name]]!.count);
  }

  get bytes(): number {
    let b = 2 * OBJECT_OVERHEAD + 8 * this.sources.length;
    for (const w of this.windows) b += w.bytes;
    return b;
  }
}
