import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const files = (dir: string): string[] => readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [relative(ROOT, join(ROOT, dir, e.name))]));
const sources = files('test').filter((f) => f.endsWith('.ts'));
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

describe('test suite layout', () => {
  it('runs only *.test.js files one folder below dist/test', () => {
    assert.match(scripts['test:compiled'] ?? '', /node --test .* dist\/test\/\*\/\*\.test\.js$/);
  });

  it('keeps every test file where that pattern finds it', () => {
    assert.deepEqual(
      sources.filter((f) => f.endsWith('.test.ts') && !/^test\/[^/]+\/[^/]+\.test\.ts$/.test(f)),
      [],
    );
  });

  it('declares tests only in *.test.ts files (helpers are modules, not tests)', () => {
    const helpersWithTests = sources.filter((f) => !f.endsWith('.test.ts') && /from 'node:test'/.test(readFileSync(join(ROOT, f), 'utf8')));
    assert.deepEqual(helpersWithTests, []);
  });
});
