import { OBJECT_OVERHEAD, TYPED_ARRAY_OVERHEAD } from './heap-cost.js';

/**
 * How many of the last `size` events carried a signal: a ring of bits and a running count,
 * O(1) per event and `size` bytes of state.
 */
export class WindowCount {
  private readonly ring: Uint8Array;
  private pos = 0;
  count = 0;
  /** The latest event's signal. */
  last = false;

  constructor(readonly size: number) {
    this.ring = new Uint8Array(size);
  }

  push(hit: boolean): number {
    this.last = hit;
    const v = hit ? 1 : 0;
    this.count += v - this.ring[this.pos]!;
    this.ring[this.pos] = v;
    this.pos = this.pos + 1 === this.size ? 0 : this.pos + 1;
    return this.count;
  }

  get bytes(): number {
    return this.size + TYPED_ARRAY_OVERHEAD + OBJECT_OVERHEAD;
  }
}
