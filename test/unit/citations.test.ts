import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const walk = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [relative(ROOT, join(ROOT, dir, e.name))],
  );
const files = [
  'README.md',
  'ARCHITECTURE.md',
  'CHANGELOG.md',
  ...['src', 'test', 'deploy', 'docs', 'bench', 'proto'].flatMap(walk),
].filter((f) => /\.(ts|md|ya?ml|json|proto|sh)$/.test(f) && !f.startsWith('bench/.tmp/'));
const linesOf = (f: string) => readFileSync(join(ROOT, f), 'utf8').split('\n');

// A repository path in backquotes (`src/decision/pipeline.ts`), a relative Markdown link, or a
// Markdown file named in prose (README.md): each must name something the repository holds.
const QUOTED_PATH = /`((?:src|test|bench|deploy)\/[\w./-]*[\w/])`/g;
const MD_LINK = /\]\((?!https?:|#|mailto:)([^)\s#]+)/g;
const MD_NAME = /(?<![\w/.-])([A-Z][A-Z_-]+\.md)\b/g;

/** What a line cites that does not exist (paths from the root; links and Markdown names also beside the file). */
function missingCitations(f: string, line: string): string[] {
  const exists = (p: string) => existsSync(join(ROOT, p));
  const out: string[] = [];
  for (const m of line.matchAll(QUOTED_PATH)) if (!exists(m[1] as string)) out.push(m[1] as string);
  if (f.endsWith('.md'))
    for (const m of line.matchAll(MD_LINK)) if (!exists(join(dirname(f), m[1] as string))) out.push(m[1] as string);
  for (const m of line.matchAll(MD_NAME))
    if (!exists(m[1] as string) && !exists(join(dirname(f), m[1] as string))) out.push(m[1] as string);
  return out;
}

describe('citations', () => {
  it('every repository file or folder that the code and docs cite exists', () => {
    assert.ok(files.length > 50);
    const missing = files.flatMap((f) =>
      linesOf(f).flatMap((line, i) => missingCitations(f, line).map((p) => `${f}:${i + 1}: ${p}`)),
    );
    assert.deepEqual(missing, []);
  });

  it('src/, test/, README, deploy/ and docs/ cite no issue numbers and no notes kept outside the repository', () => {
    const outside = new RegExp(`\\b[Ii]ssues? #?\\d+\\b|${['shared', 'docs'].join('/')}/`);
    const prose = files.filter((f) => /^(README\.md|ARCHITECTURE\.md|(src|test|deploy|docs)\/)/.test(f));
    const offenders = prose.flatMap((f) =>
      linesOf(f).flatMap((line, i) => (outside.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
    );
    assert.deepEqual(offenders, []);
  });
});
