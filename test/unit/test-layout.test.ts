import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const files = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [relative(ROOT, join(ROOT, dir, e.name))],
  );
const sources = files('test').filter((f) => f.endsWith('.ts'));
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
  .scripts;

describe('test suite layout', () => {
  // test/bench needs tools `npm test` does not require (wrk, HAProxy): `npm run test:bench` installs
  // them and runs it. Every other folder of tests runs under `npm test`.
  it('runs every folder of tests: test/bench under test:bench, the others under test:compiled', () => {
    const folders = readdirSync(join(ROOT, 'test'), { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name !== 'helpers')
      .map((e) => e.name);
    const runBy = (script: string) =>
      [...(scripts[script] ?? '').matchAll(/dist\/test\/([^/ ]+)\/\*\.test\.js/g)].map((m) => m[1]);
    assert.deepEqual(runBy('test:bench'), ['bench']);
    assert.deepEqual([...runBy('test:compiled'), ...runBy('test:bench')].sort(), folders.sort());
  });

  it('installs what test:bench needs before running it', () => {
    assert.match(scripts['test:bench'] ?? '', /^npm run bench:setup\b/);
  });

  it('keeps the tools only test:bench installs (wrk, HAProxy) out of the tests npm test runs', () => {
    const usesBenchTools = sources.filter(
      (f) =>
        !f.startsWith('test/bench/') &&
        f !== 'test/unit/test-layout.test.ts' &&
        /\b(wrkInstalled|wrkLoad|WRK_BIN|HAPROXY_BIN|haproxyTarget\w*)\b/.test(readFileSync(join(ROOT, f), 'utf8')),
    );
    assert.deepEqual(usesBenchTools, []);
  });

  it('keeps every test file where that pattern finds it', () => {
    assert.deepEqual(
      sources.filter((f) => f.endsWith('.test.ts') && !/^test\/[^/]+\/[^/]+\.test\.ts$/.test(f)),
      [],
    );
  });

  it('declares tests only in *.test.ts files (helpers are modules, not tests)', () => {
    const helpersWithTests = sources.filter(
      (f) => !f.endsWith('.test.ts') && /from 'node:test'/.test(readFileSync(join(ROOT, f), 'utf8')),
    );
    assert.deepEqual(helpersWithTests, []);
  });
});
