// ARCHITECTURE.md must name every part of the tree, and the dependency rules must place every
// folder of src in a layer: a new folder is either documented and checked, or this fails.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const doc = readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8');
const rules = readFileSync(join(ROOT, '.dependency-cruiser.js'), 'utf8');
const srcFolders = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name);

describe('ARCHITECTURE.md', () => {
  it('names every folder of src and the composition root', () => {
    const missing = [...srcFolders.map((f) => `src/${f}`), 'src/gateway.ts', 'src/main.ts'].filter(
      (p) => !doc.includes(`\`${p}\``),
    );
    assert.deepEqual(missing, []);
  });

  it('names no folder of src that does not exist', () => {
    const named = [...doc.matchAll(/`src\/([a-z-]+)`/g)].map((m) => m[1] as string);
    assert.deepEqual(
      named.filter((n) => !srcFolders.includes(n) && !['gateway', 'main'].includes(n)),
      [],
    );
  });

  it('places every folder of src in a layer of the dependency rules', () => {
    assert.deepEqual(
      srcFolders.filter((f) => !rules.includes(f)),
      [],
    );
  });
});
