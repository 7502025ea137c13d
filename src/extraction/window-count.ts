import { OBJECT_OVERHEAD, TYPED_ARRAY_OVERHEAD } from './heap-cost.js';

/** Blocks of `size` events in the long window: it spans the last 3 to 4 windows' worth of events. */
export const LONG_BLOCKS = 4;

/**
 * How many of the last `size` events carried a signal: a ring of bits and a running count,
 * O(1) per event and `size` bytes of state. Beside it, a long count over the current block of
 * `size` events and the LONG_BLOCKS − 1 blocks before it (between 3 and 4 windows of events,
 * LONG_BLOCKS counters more): a persistent excess too thin for one window, as when an attacker
 * interleaves real rows with its probes, stands out over a longer span, where a benign stream's
 * binomial spread is relatively smaller (the windowed test's power grows with √n).
 */
export class WindowCount {
  private readonly ring: Uint8Array;
  private pos = 0;
  count = 0;
  /** Signals in the long window (the current block and the LONG_BLOCKS − 1 before it). */
  long = 0;
  private readonly blocks = new Uint16Array(LONG_BLOCKS);
  private block = 0;

  constructor(readonly size: number) {
    this.ring = new Uint8Array(size);
  }

  push(hit: boolean): number {
    const v = hit ? 1 : 0;
    this.count += v - this.ring[this.pos]!;
    this.ring[this.pos] = v;
    this.blocks[this.block]! += v;
    this.long += v;
    this.pos = this.pos + 1 === this.size ? 0 : this.pos + 1;
    if (this.pos === 0) {
      // A block is complete: the oldest one leaves the long window.
      this.block = this.block + 1 === LONG_BLOCKS ? 0 : this.block + 1;
      this.long -= this.blocks[this.block]!;
      this.blocks[this.block] = 0;
    }
    return this.count;
  }

  get bytes(): number {
    return this.size + this.blocks.byteLength + 2 * TYPED_ARRAY_OVERHEAD + OBJECT_OVERHEAD;
  }
}
