import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SortedKeys } from '../../src/operator/sorted-keys.js';

const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

describe('SortedKeys', () => {
  it('holds the same keys in the same order as a sorted array, through adds and deletes across block splits', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.string({ maxLength: 6 })), { maxLength: 3000 }), (ops) => {
        const k = new SortedKeys();
        const model = new Set<string>();
        for (const [add, key] of ops) {
          assert.equal(add ? k.add(key) : k.delete(key), add ? !model.has(key) : model.has(key));
          if (add) model.add(key);
          else model.delete(key);
        }
        assert.deepEqual([...k.after()], sorted(model));
        assert.equal(k.size, model.size);
      }),
      { numRuns: 60 },
    );
  });

  it('resumes after any key, present or not, with exactly the keys above it', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ maxLength: 5 }), { maxLength: 2500 }),
        fc.string({ maxLength: 5 }),
        (keys, cursor) => {
          const k = new SortedKeys();
          for (const key of keys) k.add(key);
          assert.deepEqual(
            [...k.after(cursor)],
            sorted(keys).filter((x) => x > cursor),
          );
        },
      ),
      { numRuns: 60 },
    );
  });
});
