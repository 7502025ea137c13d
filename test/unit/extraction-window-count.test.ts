import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import { APART_NAMES, ApartWindows } from '../../src/extraction/apart-windows.js';
import { WindowCount } from '../../src/extraction/window-count.js';

// The window keeps its events as bits; each count is checked here against the direct count of the
// last `size` events of a seeded random stream.

describe('WindowCount', () => {
  for (const size of [1, 7, 31, 32, 33, 128, 200])
    it(`counts the signals among the last ${size} events as a direct count over them does`, () => {
      const rng = new Xoshiro128(size);
      const w = new WindowCount(size);
      const events: boolean[] = [];
      for (let i = 0; i < 20 * size + 50; i++) {
        // Runs of hits and of misses as well as isolated ones: the rate changes every 37 events.
        const hit = rng.next() < (Math.floor(i / 37) % 3) / 2;
        events.push(hit);
        const direct = events.slice(-size).filter((e) => e).length;
        assert.equal(w.push(hit), direct, `event ${i}`);
        assert.equal(w.count, direct);
        assert.equal(w.last, hit);
      }
    });

  it('holds a 128-event window in 16 bytes of ring', () => {
    assert.ok(new WindowCount(128).bytes < new WindowCount(1024).bytes);
    assert.equal(new WindowCount(1024).bytes - new WindowCount(128).bytes, (1024 - 128) / 8);
  });
});

describe('ApartWindows', () => {
  for (const size of [5, 32, 128])
    it(`counts each source's signals over the last ${size} rows pushed apart, as a direct count over them does`, () => {
      const rng = new Xoshiro128(100 + size);
      const sources = {
        fingerprint: new WindowCount(size),
        steps: new WindowCount(size),
        novelty: undefined,
        lineage: new WindowCount(size),
      };
      const apart = new ApartWindows(size, sources);
      const filed: boolean[][] = APART_NAMES.map(() => []);
      for (let i = 0; i < 12 * size + 30; i++) {
        APART_NAMES.forEach((n, k) => {
          const hit = rng.next() < 0.2 + 0.15 * k;
          sources[n]?.push(hit);
        });
        // About half the rows are real-looking and stay out of the windows apart.
        if (rng.next() < 0.5) {
          apart.push();
          APART_NAMES.forEach((n, k) => filed[k]!.push(sources[n]?.last ?? false));
        }
        APART_NAMES.forEach((n, k) => {
          const direct = filed[k]!.slice(-size).filter((e) => e).length;
          assert.equal(apart.count(k), direct, `row ${i}, ${n}`);
          assert.equal(apart.larger(n, -1), direct);
        });
      }
    });
});
