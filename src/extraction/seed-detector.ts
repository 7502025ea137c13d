import { binomialAlarmCount } from './binomial-threshold.js';
import { OBJECT_OVERHEAD, TYPED_ARRAY_OVERHEAD } from './heap-cost.js';
import { WindowCount } from './window-count.js';

/** The seed detector's index in DETECTORS. */
export const SEEDS = 9;

/** Rows wider than this get no seed detector (the distance scan is O(anchors · width) per row). */
export const SEEDS_MAX_WIDTH = 16;

/** An anchor's use count saturates here (a byte). */
const MAX_USES = 255;

/** What a row is to the detector: a possible seed, a possible perturbation of one, or neither. */
export const NEITHER = 0;
export const ANCHOR = 1;
export const PERTURBED = 2;
export type SeedRowKind = typeof NEITHER | typeof ANCHOR | typeof PERTURBED;

/**
 * Sorts a row by what the data's resolution and the other accounts say of it. `grained`: features
 * with a grain in use; `onGrain`: how many of them the row lies on; `known`: another account sent
 * the row. Where some feature has a grain, a row on every grain is real-looking and a row off
 * every grain is perturbed (continuous noise leaves each; a real row that an incomplete grain
 * misjudges is off one or two), whatever the known rows say: a hash collision among them, or a
 * second account lending an attacker's probes, cannot make a perturbed row a seed. Data with no
 * grain at all (continuous features) has the known rows only: a row nobody else sent is judged.
 */
export function seedRowKind(grained: number, onGrain: number, known: boolean): SeedRowKind {
  if (grained === 0) return known ? ANCHOR : PERTURBED;
  if (onGrain === grained) return ANCHOR;
  if (onGrain === 0) return PERTURBED;
  return known ? ANCHOR : NEITHER;
}

export interface SeedOptions {
  /** Features per row (at most SEEDS_MAX_WIDTH). */
  readonly width: number;
  /** Real-looking rows of the account kept as possible seeds. */
  readonly anchors: number;
  /** A row within this root-mean-square distance per feature (benign σ) of an anchor was grown from it. */
  readonly radius: number;
  readonly window: number;
  /** Assumed benign share of rows grown around the account's own real rows (the floor's rate). */
  readonly benignRate: number;
  readonly alpha: number;
}

/** One account's seeds: its latest real-looking rows (with second chances for those that explained rows) and its hits. */
export class SeedState {
  /** Anchors (float32, benign σ units), `anchors` × width. */
  readonly rows: Float32Array;
  /** Per anchor: rows it explained since the clock hand last passed it (halved at each pass). */
  readonly uses: Uint8Array;
  /** Anchors filled so far, and the clock hand (the next slot considered for replacement). */
  filled = 0;
  hand = 0;
  readonly hits: WindowCount;

  constructor(o: SeedOptions) {
    this.rows = new Float32Array(o.anchors * o.width);
    this.uses = new Uint8Array(o.anchors);
    this.hits = new WindowCount(o.window);
  }

  get bytes(): number {
    return (
      this.rows.byteLength + this.uses.byteLength + 2 * TYPED_ARRAY_OVERHEAD + this.hits.bytes + OBJECT_OVERHEAD + 16
    );
  }
}

/**
 * Detector "seeds": rows grown by perturbation around real rows the account itself sent.
 * Augmentation attacks start from a few real seed rows, query them, and then query rows made
 * from them by small perturbations: PRADA's T-RND (random perturbations of the seeds; Juuti et
 * al., EuroS&P 2019), Jacobian-based augmentation (x + λ·sign(∇), Papernot et al., AsiaCCS 2017),
 * and their Gaussian reading (every feature moved by N(0, ε²)). Whatever the perturbation's law,
 * the account's later rows lie within a few ε of the real rows it sent first, and are not real
 * rows themselves (they leave the data's recorded resolution and no other account sends them).
 *
 * Benign traffic sends either real rows (browsing, replays, dashboards: those are anchors, never
 * judged) or noisy copies of real rows it never sends exactly (measurement noise, a what-if
 * jitter): the two rarely meet within one account. Geometry alone could not tell an attack's
 * perturbations from such noise (both are isotropic in σ units: the minimum distances PRADA tests
 * are chi-distributed either way), which is why the exact seeds are what this detector keys on.
 * Not covered: an attacker who never sends its seeds exactly (it then learns their labels only
 * through their perturbations); the other detectors remain. A benign account that both sends real
 * rows and perturbs them raises the model's base rate, which the population calibration learns.
 *
 * State: the last `anchors` real-looking rows, replaced by the clock algorithm (a second chance
 * for anchors that explained rows since the hand last passed; Corbató, "A Paging Experiment with
 * the Multics System", 1968), so seeds that keep explaining rows survive interleaved real rows.
 * Cost: O(width) per real-looking row; per other row a scan of the anchors that stops at the
 * first within reach and leaves each anchor once its partial distance exceeds the radius.
 */
export class SeedDetector {
  readonly alarmCount: number;
  /** The squared radius summed over the row's features. */
  private readonly reach: number;

  constructor(readonly o: SeedOptions) {
    if (o.width > SEEDS_MAX_WIDTH) throw new RangeError(`seeds: at most ${SEEDS_MAX_WIDTH} features`);
    if (o.anchors < 1 || o.anchors > 1024) throw new RangeError('seeds: anchors must be 1..1024');
    this.alarmCount = binomialAlarmCount(o.window, o.benignRate, o.alpha);
    this.reach = o.radius * o.radius * o.width;
  }

  createState(): SeedState {
    return new SeedState(this.o);
  }

  /**
   * Feeds one distinct row on the benign scale (z-scores). `kind` (seedRowKind): an anchor is
   * filed and never judged, a perturbed row is judged, any other row only moves the window.
   * `judged` false (the data's grain not yet known): nothing counts. Returns the score (≥ 1 is an
   * alarm).
   */
  observe(st: SeedState, scaled: Float64Array, kind: SeedRowKind, judged = true): number {
    if (kind === ANCHOR) this.anchor(st, scaled);
    const hit = kind === PERTURBED && judged && this.grown(st, scaled);
    return st.hits.push(hit) / this.alarmCount;
  }

  /** Whether an anchor lies within reach of the row (its use counted). */
  private grown(st: SeedState, scaled: Float64Array): boolean {
    const width = this.o.width;
    const rows = st.rows;
    const reach = this.reach;
    for (let a = 0; a < st.filled; a++) {
      const at = a * width;
      let s = 0;
      for (let j = 0; j < width && s <= reach; j++) {
        const t = scaled[j]! - rows[at + j]!;
        s += t * t;
      }
      if (s <= reach) {
        if (st.uses[a]! < MAX_USES) st.uses[a]!++;
        return true;
      }
    }
    return false;
  }

  /** Files a real-looking row, replacing the first anchor the clock hand finds unused since its last pass. */
  private anchor(st: SeedState, scaled: Float64Array): void {
    const { width, anchors } = this.o;
    let slot: number;
    if (st.filled < anchors) slot = st.filled++;
    else {
      // Each pass halves the uses, so within 8 turns of the hand some slot is free.
      while (st.uses[st.hand]! > 0) {
        st.uses[st.hand] = st.uses[st.hand]! >> 1;
        st.hand = st.hand + 1 === anchors ? 0 : st.hand + 1;
      }
      slot = st.hand;
      st.hand = st.hand + 1 === anchors ? 0 : st.hand + 1;
    }
    st.uses[slot] = 0;
    const at = slot * width;
    for (let j = 0; j < width; j++) st.rows[at + j] = scaled[j]!;
  }
}
