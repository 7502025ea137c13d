// Keys are kept in blocks of at most BLOCK_MAX, each sorted, the blocks in order (the layout of
// Python's sortedcontainers.SortedList): an insert is two binary searches and a splice within
// one block, so its cost does not grow with the number of keys the way one sorted array's does.
const BLOCK_MAX = 1024;

/** An ordered set of strings (code-unit order), for cursor pagination in a stable order. */
export class SortedKeys {
  private blocks: string[][] = [];
  private readonly members = new Set<string>();

  get size(): number {
    return this.members.size;
  }

  has(key: string): boolean {
    return this.members.has(key);
  }

  add(key: string): boolean {
    if (this.members.has(key)) return false;
    this.members.add(key);
    if (this.blocks.length === 0) {
      this.blocks.push([key]);
      return true;
    }
    let b = this.blockFor(key);
    if (b === this.blocks.length) b--;
    const block = this.blocks[b]!;
    block.splice(lowerBound(block, key), 0, key);
    if (block.length > BLOCK_MAX) this.blocks.splice(b + 1, 0, block.splice(BLOCK_MAX >> 1));
    return true;
  }

  delete(key: string): boolean {
    if (!this.members.delete(key)) return false;
    const b = this.blockFor(key);
    const block = this.blocks[b]!;
    block.splice(lowerBound(block, key), 1);
    if (block.length === 0) this.blocks.splice(b, 1);
    return true;
  }

  /** The keys after `after` (all keys when undefined), in order. Do not add or delete while iterating. */
  *after(after?: string): Generator<string> {
    let b = after === undefined ? 0 : this.blockFor(after);
    let i = after === undefined || b === this.blocks.length ? 0 : upperBound(this.blocks[b]!, after);
    for (; b < this.blocks.length; b++, i = 0) {
      const block = this.blocks[b]!;
      for (; i < block.length; i++) yield block[i]!;
    }
  }

  /** The first block whose last key is ≥ key (blocks.length when key is past every block). */
  private blockFor(key: string): number {
    let lo = 0;
    let hi = this.blocks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const block = this.blocks[mid]!;
      if (block[block.length - 1]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function lowerBound(a: readonly string[], key: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(a: readonly string[], key: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
