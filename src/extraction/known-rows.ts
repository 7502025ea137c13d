import { OBJECT_OVERHEAD, TYPED_ARRAY_OVERHEAD } from './heap-cost.js';

/** Rows kept per model (128 KiB): every row of a data set of ten thousand rows, with room for noisy ones. */
export const KNOWN_ROWS = 16384;
/** Slots probed per row (a small bucket: a full table replaces within it). */
const PROBES = 4;
/** Lender tag of a row lent by two or more accounts: known to every account. */
const SHARED = 0xffffffff;

/**
 * Rows of the model's own traffic, by exact hash, and which account lent each: rows that accounts
 * in good standing sent (browsing, replays, dashboards) are the data's real rows, and a row another
 * account sent before is a real-looking row for this one. An account's own rows are never known
 * to it (its lender tag is kept), so an attacker cannot make its probes real-looking by sending
 * them; a row lent by two accounts is known to all. Direct-mapped buckets of PROBES slots, a
 * fixed `capacity` (a power of two). A full bucket replaces a row one account lent before one two
 * accounts lent: benign noisy rows are each sent once and outnumber a data set's real rows many
 * times over, so a blind replacement let them evict the real rows (a model of 5,479 real rows
 * kept 64% of them in 16,384 slots); a row two accounts sent is the data's own, and is replaced
 * only when its whole bucket holds such rows (a model whose real rows outgrow the table, or
 * drift, still turns over). The set thus holds the model's repeated rows and a sample of the
 * rest, as 2Q keeps the pages referenced twice apart from a probation queue of those referenced
 * once (Johnson and Shasha, VLDB 1994). Keys are the scorer's per-process keyed row
 * hash, so a client cannot aim at another row's slot. Not covered: an attacker with a second
 * account that sends its probes first (while in good standing) makes them real-looking for the
 * first; the second account's own windows then carry the evidence undiluted.
 */
export class KnownRows {
  private readonly keys: Uint32Array;
  private readonly lenders: Uint32Array;
  private readonly mask: number;

  constructor(readonly capacity: number) {
    if (capacity < PROBES || (capacity & (capacity - 1)) !== 0)
      throw new RangeError('known rows: capacity must be a power of two ≥ 4');
    this.keys = new Uint32Array(capacity);
    this.lenders = new Uint32Array(capacity);
    this.mask = capacity - 1;
  }

  get bytes(): number {
    return this.keys.byteLength + this.lenders.byteLength + 2 * TYPED_ARRAY_OVERHEAD + OBJECT_OVERHEAD;
  }

  /** Whether another account than `lender` sent the row of hash `hash`. */
  knownTo(hash: number, lender: number): boolean {
    const k = (hash | 1) >>> 0;
    const base = hash & this.mask & ~(PROBES - 1);
    for (let i = 0; i < PROBES; i++)
      if (this.keys[base + i] === k) {
        const l = this.lenders[base + i]!;
        return l === SHARED || l !== lender >>> 0;
      }
    return false;
  }

  /** Files a row sent by an account in good standing (`lender`: its tag, never SHARED). */
  lend(hash: number, lender: number): void {
    const k = (hash | 1) >>> 0;
    const base = hash & this.mask & ~(PROBES - 1);
    let empty = -1;
    for (let i = 0; i < PROBES; i++) {
      const at = base + i;
      if (this.keys[at] === k) {
        if (this.lenders[at] !== lender >>> 0) this.lenders[at] = SHARED;
        return;
      }
      if (empty < 0 && this.keys[at] === 0) empty = at;
    }
    const at = empty >= 0 ? empty : this.victim(base, hash);
    this.keys[at] = k;
    this.lenders[at] = lender >>> 0;
  }

  /** The slot of a full bucket a new row takes: a row of one lender, from a position the hash picks; a shared row only when all are. */
  private victim(base: number, hash: number): number {
    const start = (hash >>> 16) & (PROBES - 1);
    for (let i = 0; i < PROBES; i++) {
      const at = base + ((start + i) & (PROBES - 1));
      if (this.lenders[at] !== SHARED) return at;
    }
    return base + start;
  }
}
