import { DETECTORS } from './detector-settings.js';
import { OBJECT_OVERHEAD, TYPED_ARRAY_OVERHEAD } from './heap-cost.js';
import { bitWords, putBit, type WindowCount } from './window-count.js';

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
  /**
   * The windows' bits, one ring of `words` words per apart detector: they advance together (one
   * position), so the four share one array, small enough to sit beside its object on V8's heap;
   * a cold account's windows cost one or two cache lines instead of a chain of objects each.
   */
  private readonly rings: Int32Array;
  private readonly counts: Int32Array;
  private readonly words: number;
  private pos = 0;
  private readonly sources: readonly (WindowCount | undefined)[];

  /** `sources`: the account's own window of each apart detector (undefined: no such detector). */
  constructor(
    readonly size: number,
    sources: Readonly<Record<ApartName, WindowCount | undefined>>,
  ) {
    this.sources = APART_NAMES.map((n) => sources[n]);
    this.words = bitWords(size);
    this.rings = new Int32Array(APART_NAMES.length * this.words);
    this.counts = new Int32Array(APART_NAMES.length);
  }

  /** Files each source window's latest signal: call after the detectors saw a row that is not real-looking. */
  push(): void {
    const p = this.pos;
    const word = p >>> 5;
    const mask = 1 << (p & 31);
    for (let i = 0; i < this.sources.length; i++) {
      const s = this.sources[i];
      if (s) this.counts[i]! += putBit(this.rings, i * this.words + word, mask, s.last);
    }
    this.pos = p + 1 === this.size ? 0 : p + 1;
  }

  /** The count over the rows apart for the i-th of APART_NAMES. */
  count(i: number): number {
    return this.counts[i]!;
  }

  /** The statistic judged and calibrated for detector `name`: the larger of its window's `count` and its count apart. */
  larger(name: ApartName, count: number): number {
    return Math.max(count, this.counts[APART_AT[name]]!);
  }

  get bytes(): number {
    return (
      2 * OBJECT_OVERHEAD +
      8 * this.sources.length +
      this.rings.byteLength +
      this.counts.byteLength +
      2 * TYPED_ARRAY_OVERHEAD
    );
  }
}
