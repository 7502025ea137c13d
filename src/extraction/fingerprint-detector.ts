import { binomialAlarmCount } from './binomial-threshold.js';
import { Xoshiro128 } from './prng.js';
import { fmix, mix } from './row-hash.js';
import { WindowCount } from './window-count.js';
import { OBJECT_OVERHEAD, TYPED_ARRAY_OVERHEAD } from './heap-cost.js';

/**
 * Detector B, after Blacklight (Li et al., "Blacklight: Scalable Defense for Neural Networks
 * against Query-Based Black-Box Attacks", USENIX Security 2022): probing attacks send many
 * queries that are near-duplicates of earlier ones. Each query gets `bands` locality-sensitive
 * signatures: its vector quantised on a grid of step `quantum` (in feature standard deviations)
 * shifted by a seeded random offset per band (randomly shifted grids, as in p-stable LSH:
 * Datar, Immorlica, Indyk, Mirrokni, SoCG 2004). Two queries closer than about a quantum in
 * every dimension share a band with high probability; distant ones almost never.
 *
 * Signatures live in a direct-mapped table of `tableSize` 32-bit slots (a 19-bit tag of the
 * signature, the cell's revisit mark, and the low 12 bits of the query number that last wrote
 * it), so lookups are O(bands) whatever the history; old entries are overwritten, which only
 * forgets. The slot's index takes other bits of the signature than the tag, so a row matches a
 * different one's slot with probability 2⁻¹⁹ per band (8 bands: under 2·10⁻⁵ per row, a few
 * percent of the near-duplicate rate of the most regular benign users seen). A query number is
 * read modulo 2¹², which cannot mistake an expired slot for a recent one unless it survived
 * 4,096 queries of 8 writes each into 1,024 slots (probability e⁻³²).
 * A match within the last `horizon` queries is a near-duplicate; exact duplicates are counted
 * apart by the caller and never reach this detector.
 *
 * Revisits are not probes. Blacklight's attacks (HopSkipJump, boundary walks, line searches,
 * NES-style gradient estimates around one point) take each query from the last few: a probe
 * dwells in a cell for consecutive queries and moves on. A user who keeps coming back to a few
 * points of interest (noisy re-reads of the same rows, an analyst of a rare class with a dozen
 * rows) leaves a cell and returns to it later. Lags are counted in *matched* queries (queries
 * that matched any cell), so unrelated rows mixed between a probe's steps do not make its
 * steps look like returns. A match whose cell was last written more than `REVISIT_LAG` matched
 * queries ago is a return: it marks the cell as a revisited place for as long as the table keeps
 * it. A query whose matched bands are mostly marked cells is a revisit (counted apart, never a
 * hit); it is a hit when more of its bands match unmarked cells than marked ones. A probe that
 * dwells at one point keeps its main cells unmarked (each match is on the previous query), so
 * the odd band whose grid boundary it straddles, alternating between two cells, cannot outvote
 * them. What this gives up: a probe that leaves its cell for other near-duplicates and comes
 * back (several walks interleaved round-robin, T-RND and JbDA rounds that perturb each earlier
 * row again a round later) matches marked cells; those attacks are the business of the step,
 * lineage, seed and PRADA detectors, which see the perturbation itself.
 * The alarm is on the *rate* of hits in the last `window` queries (a single hit proves nothing),
 * at the count a benign stream with per-query hit rate `benignRate` exceeds with probability
 * `alpha`.
 */
export interface FingerprintDetectorOptions {
  readonly dims: number;
  readonly bands: number;
  readonly quantum: number;
  readonly tableSize: number;
  readonly horizon: number;
  readonly window: number;
  readonly benignRate: number;
  readonly alpha: number;
  readonly seed: number;
}

/** The query number kept per slot: 12 bits, read modulo 2¹² (so the horizon must stay below 2¹¹). */
const SEQ_BITS = 12;
const SEQ_MASK = (1 << SEQ_BITS) - 1;
/** The slot's revisit mark sits above the query number; the tag above it. */
const MARK = 1 << SEQ_BITS;
const TAG_SHIFT = SEQ_BITS + 1;

/**
 * A match whose cell was last written more than this many matched queries ago is a return to
 * it. A walk, bisection or sweep matches its previous probe or the one before; a user revisiting
 * k points comes back to one within three matched queries with probability about 3/k, and the
 * first longer return marks the place while the table keeps it.
 */
export const REVISIT_LAG = 3;
/** Matched-query counts of the last queries, to read a lag in matched queries (a power of two). */
const TRAIL = 128;

export class FingerprintState {
  /** Per slot, tag << 13 | revisit mark << 12 | query number mod 2¹² (0: empty): one cache line per probe, 4 bytes per slot. */
  readonly slots: Uint32Array;
  readonly hits: WindowCount;
  seq = 0;
  /** Queries that matched a marked cell (revisits): counted apart, never hits. */
  revisits = 0;
  /** Queries that matched any cell so far (mod 2¹⁶). */
  matched = 0;
  /** Per query number mod TRAIL, `matched` after that query. */
  readonly trail = new Uint16Array(TRAIL);

  constructor(o: FingerprintDetectorOptions) {
    this.slots = new Uint32Array(o.tableSize);
    this.hits = new WindowCount(o.window);
  }

  get bytes(): number {
    return this.slots.byteLength + this.trail.byteLength + 2 * TYPED_ARRAY_OVERHEAD + this.hits.bytes + OBJECT_OVERHEAD;
  }
}

export class FingerprintDetector {
  /** Hits in the window that raise the alarm. */
  readonly alarmCount: number;
  /** Per band and dimension, the grid's shift in grid steps (the shift over the step, computed once). */
  private readonly offsets: Float64Array;
  private readonly inv: number;
  /** Scratch: one query's vector in grid steps. */
  private readonly scaled: Float64Array;
  private readonly mask: number;
  /** Scratch: one query's band signatures (the detector serves one thread). */
  private readonly sigs: Uint32Array;
  /** Scratch: one query's mark per band. */
  private readonly marks: Uint32Array;

  /** The grid step used: the configured quantum, or finer where rows are narrow (see effectiveQuantum). */
  readonly quantum: number;

  constructor(readonly o: FingerprintDetectorOptions) {
    if ((o.tableSize & (o.tableSize - 1)) !== 0) throw new RangeError('tableSize must be a power of two');
    if (o.horizon >= (SEQ_MASK + 1) / 2) throw new RangeError('horizon must be below 2048');
    this.alarmCount = binomialAlarmCount(o.window, o.benignRate, o.alpha);
    this.quantum = effectiveQuantum(o);
    const rng = new Xoshiro128(o.seed ^ 0x5bd1e995);
    this.offsets = new Float64Array(o.bands * o.dims);
    for (let i = 0; i < this.offsets.length; i++) this.offsets[i] = rng.next();
    this.inv = 1 / this.quantum;
    this.scaled = new Float64Array(o.dims);
    this.mask = o.tableSize - 1;
    this.sigs = new Uint32Array(o.bands);
    this.marks = new Uint32Array(o.bands);
  }

  createState(): FingerprintState {
    return new FingerprintState(this.o);
  }

  /** Feeds one (non-duplicate) query; returns the score (≥ 1 is an alarm). */
  observe(st: FingerprintState, z: Float64Array): number {
    const { dims, bands, horizon } = this.o;
    const seq = ++st.seq;
    const slots = st.slots;
    const offsets = this.offsets;
    const q = this.scaled;
    for (let j = 0; j < dims; j++) q[j] = z[j]! * this.inv;
    const sigs = this.sigs;
    // Every band's signature first, then the table in band order: the slots' lines are fetched
    // side by side rather than one miss after another, with the same outcome.
    // Two bands at a time: each signature is one chain of dependent mixes, and two independent
    // chains interleaved keep the multiplier busy (an odd last band runs beside a copy of itself).
    for (let b = 0; b < bands; b += 2) {
      const c = b + 1 < bands ? b + 1 : b;
      const ob = b * dims;
      const oc = c * dims;
      let hb = 0x9747b28c ^ b;
      let hc = 0x9747b28c ^ c;
      for (let j = 0; j < dims; j++) {
        const x = q[j]!;
        hb = mix(hb, Math.floor(x + offsets[ob + j]!));
        hc = mix(hc, Math.floor(x + offsets[oc + j]!));
      }
      sigs[b] = fmix(hb) | 1; // the slot index as before the slots were packed: the same cells collide
      sigs[c] = fmix(hc) | 1;
    }
    let fresh = 0;
    let marked = 0;
    const now = seq & SEQ_MASK;
    const trail = st.trail;
    const marks = this.marks;
    for (let b = 0; b < bands; b++) {
      const sig = sigs[b]!;
      const at = (sig ^ Math.imul(b, 0x9e3779b1)) & this.mask;
      const v = slots[at]!;
      const lag = (now - v) & SEQ_MASK;
      let mark = 0;
      if (v !== 0 && v >>> TAG_SHIFT === sig >>> TAG_SHIFT && lag <= horizon) {
        // Matched queries since the cell was written; a return from further back than the trail is a return.
        const since = lag < TRAIL ? (st.matched - trail[(seq - lag) & (TRAIL - 1)]!) & 0xffff : lag;
        mark = since > REVISIT_LAG ? MARK : v & MARK;
        if (mark !== 0) marked++;
        else fresh++;
      }
      marks[b] = mark;
    }
    // Every band's mark first, then the writes: a band's write cannot hide another band's match.
    for (let b = 0; b < bands; b++) {
      const sig = sigs[b]!;
      const at = (sig ^ Math.imul(b, 0x9e3779b1)) & this.mask;
      slots[at] = (((sig >>> TAG_SHIFT) << TAG_SHIFT) | marks[b]! | now) >>> 0;
    }
    if (fresh + marked > 0) st.matched = (st.matched + 1) & 0xffff;
    trail[seq & (TRAIL - 1)] = st.matched;
    const hit = fresh > marked;
    if (marked > 0 && !hit) st.revisits++;
    return st.hits.push(hit) / this.alarmCount;
  }
}

/**
 * In few dimensions a grid of 0.25 σ is coarse: two independent benign queries share a cell
 * with probability about (q/√π)^d per band (the difference of two unit-spread features has
 * density 1/(2√π) at 0), so with d = 4 a user's natural queries would "match" one of the last
 * few hundred all the time. The step is therefore capped so that the expected benign match rate
 * against the queries the table remembers stays a tenth of the assumed benign rate:
 * bands · remembered · (q/√π)^d ≤ benignRate/10. With 16 features the cap is above 0.25 and
 * changes nothing.
 */
export function effectiveQuantum(
  o: Pick<FingerprintDetectorOptions, 'dims' | 'bands' | 'tableSize' | 'horizon' | 'benignRate' | 'quantum'>,
): number {
  const remembered = Math.min(o.horizon, o.tableSize / o.bands);
  const cap = Math.sqrt(Math.PI) * Math.pow(o.benignRate / (10 * o.bands * remembered), 1 / o.dims);
  return Math.min(o.quantum, cap);
}
