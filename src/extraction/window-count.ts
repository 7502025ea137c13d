import { OBJECT_OVERHEAD, TYPED_ARRAY_OVERHEAD } from './heap-cost.js';

/**
 * How many of the last `size` events carried a signal: a ring of bits and a running count,
 * O(1) per event and `size` bits of state. Bits rather than bytes: an account holds about ten
 * of these windows, and a row reads and writes each one; a 128-event ring in 16 bytes is small
 * enough for V8 to keep beside its typed-array object (on-heap elements, up to 64 bytes), so a
 * cold account's window costs one cache line fetched instead of two (the object and, apart, its
 * 128-byte backing store).
 */
export class WindowCount {
  private readonly ring: Int32Array;
  private pos = 0;
  count = 0;
  /** The latest event's signal. */
  last = false;

  constructor(readonly size: number) {
    this.ring = new Int32Array(bitWords(size));
  }

  push(hit: boolean): number {
    this.last = hit;
    const p = this.pos;
    this.count += putBit(this.ring, p >>> 5, 1 << (p & 31), hit);
    this.pos = p + 1 === this.size ? 0 : p + 1;
    return this.count;
  }

  get bytes(): number {
    return this.ring.byteLength + TYPED_ARRAY_OVERHEAD + OBJECT_OVERHEAD;
  }
}

/** Words of a ring of `size` bits. */
export function bitWords(size: number): number {
  return (size + 31) >>> 5;
}

/** Sets the ring's bit (`mask` in word `word`) to `hit`; returns the change in the ring's count of set bits (−1, 0 or 1). */
export function putBit(ring: Int32Array, word: number, mask: number, hit: boolean): number {
  const w = ring[word]!;
  if (hit === ((w & mask) !== 0)) return 0;
  ring[word] = w ^ mask;
  return hit ? 1 : -1;
}
