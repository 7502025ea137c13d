/**
 * The distinct rows an account sent last, for telling exact re-sends (dashboards polling fixed
 * rows, retries, re-sent data sets) apart from new queries. Exact within its horizon: a row is a
 * repeat when its hash equals that of one of the last `horizon` *distinct* rows of the account,
 * however long ago and however many re-sends came between (re-sends do not push rows out). Rows
 * are compared by a keyed 32-bit hash of their IEEE-754 bits, so a new row is mistaken for a
 * repeat with probability at most horizon / 2³² (1.2·10⁻⁷ for 512 rows), and the key, drawn per
 * process, keeps a client from crafting such collisions offline.
 *
 * Storage: a FIFO ring of the distinct hashes (insertion order, for exact expiry) and an
 * open-addressing set of twice its size with linear probing and backward-shift deletion (Knuth,
 * TAOCP vol. 3, 6.4, Algorithm R), both views on the caller's buffer: no allocation per row.
 */
export class RepeatSet {
  private readonly ring: Uint32Array;
  private readonly table: Uint32Array;
  private readonly mask: number;
  private head = 0;
  private size = 0;

  /** Bytes the two arrays of a set of `horizon` rows take. */
  static bytesFor(horizon: number): number {
    return 4 * horizon + 4 * tableSize(horizon);
  }

  constructor(
    readonly horizon: number,
    buffer: ArrayBuffer,
    offset: number,
  ) {
    this.ring = new Uint32Array(buffer, offset, horizon);
    const t = tableSize(horizon);
    this.table = new Uint32Array(buffer, offset + 4 * horizon, t);
    this.mask = t - 1;
  }

  /** True when `h` (a non-zero row hash) is one of the remembered rows; otherwise remembers it. */
  seen(h: number): boolean {
    h = h >>> 0 || 1; // 0 marks an empty slot
    const t = this.table;
    let i = spread(h) & this.mask;
    for (let v = t[i]!; v !== 0; v = t[i]!) {
      if (v === h) return true;
      i = (i + 1) & this.mask;
    }
    if (this.size === this.horizon) this.remove(this.ring[this.head]!);
    else this.size++;
    this.insert(h);
    this.ring[this.head] = h;
    this.head = this.head + 1 === this.horizon ? 0 : this.head + 1;
    return false;
  }

  /**
   * Reads what `seen` will read whatever the row: the ring's head and, once full, the table line
   * its eviction probes first (see state-warmup.ts).
   */
  touch(): number {
    const old = this.ring[this.head]!;
    return old + this.table[spread(old) & this.mask]!;
  }

  private insert(h: number): void {
    const t = this.table;
    let i = spread(h) & this.mask;
    while (t[i] !== 0 && t[i] !== h) i = (i + 1) & this.mask;
    t[i] = h;
  }

  private remove(h: number): void {
    const t = this.table;
    const m = this.mask;
    let i = spread(h) & m;
    while (t[i] !== h) {
      if (t[i] === 0) return;
      i = (i + 1) & m;
    }
    // Backward-shift: move later members of the probe run into the hole when their home allows.
    let hole = i;
    let j = (i + 1) & m;
    while (t[j] !== 0) {
      const home = spread(t[j]!) & m;
      if (((j - home) & m) >= ((j - hole) & m)) {
        t[hole] = t[j]!;
        hole = j;
      }
      j = (j + 1) & m;
    }
    t[hole] = 0;
  }
}

function tableSize(horizon: number): number {
  let t = 1;
  while (t < 2 * horizon) t <<= 1;
  return t;
}

function spread(h: number): number {
  return Math.imul(h, 0x9e3779b1) >>> 7;
}
