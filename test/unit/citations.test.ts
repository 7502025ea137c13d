import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const walk = (dir: string): string[] => readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [relative(ROOT, join(ROOT, dir, e.name))]));

// Documents a reader of this repository does not have. Built from parts so this file does not cite them itself.
const PRIVATE_NOTES = ['PROTOCOLS', 'JWT', 'LAYERS', 'ARCHITECTURE', 'EXTRACTION'].map((n) => `${n}\\.md`).join('|');
const NOTES_DIR = ['shared', 'docs'].join('/');
const CITATION = new RegExp(`\\b(${PRIVATE_NOTES})\\b|\\b[Ii]ssues? #?\\d+\\b|${NOTES_DIR}/`);

describe('citations', () => {
  it('src/, test/, README, deploy/ and docs/ cite public sources, never notes or issue numbers outside the repository', () => {
    const files = ['README.md', ...['src', 'test', 'deploy', 'docs'].flatMap(walk)].filter((f) => /\.(ts|md|ya?ml|json)$/.test(f));
    assert.ok(files.length > 50);
    const offenders = files.flatMap((f) =>
      readFileSync(join(ROOT, f), 'utf8')
        .split('\n')
        .flatMap((line, i) => (CITATION.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
    );
    assert.deepEqual(offenders, []);
  });
});
