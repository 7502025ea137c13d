/**
 * A 32-bit hash of a row's exact values (the IEEE-754 bits of each number, so 0.1 and
 * 0.1000000001 differ): exact duplicates (retries, cached clients) are counted apart from
 * near-duplicates. Murmur3's finaliser mixes each word; no allocation.
 */
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

export function hashRow(row: ArrayLike<number>, key = 0): number {
  let h = (0x811c9dc5 ^ key ^ row.length) | 0;
  for (let i = 0; i < row.length; i++) {
    f64[0] = row[i]!;
    h = mix(h, u32[0]!);
    h = mix(h, u32[1]!);
  }
  return fmix(h) >>> 0;
}

export function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

export function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
