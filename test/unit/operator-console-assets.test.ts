import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONSOLE_CSP, loadConsoleAssets } from '../../src/operator/console-assets.js';

const read = (path: string) => readFileSync(fileURLToPath(new URL(`../../../${path}`, import.meta.url)), 'utf8');

describe('the console ships with the gateway', () => {
  it('serves its page, script and style sheet from the package, each under the strict policy', () => {
    const assets = loadConsoleAssets();
    assert.deepEqual([...assets.keys()].sort(), [
      '/console',
      '/console/',
      '/console/console.css',
      '/console/console.js',
    ]);
    for (const [path, a] of assets) {
      assert.equal(a.headers['content-security-policy'], CONSOLE_CSP, path);
      assert.ok(a.body.length > 100, path);
    }
    assert.match(CONSOLE_CSP, /script-src 'self'; style-src 'self'/);
    assert.doesNotMatch(CONSOLE_CSP, /unsafe-|https?:|\*/);
  });

  it('is in the npm package and in the container image', () => {
    assert.ok((JSON.parse(read('package.json')) as { files: string[] }).files.includes('console'));
    assert.match(read('Dockerfile'), /^COPY console \.\/console$/m);
  });

  it('loads nothing from elsewhere and carries no inline script or style', () => {
    const html = read('console/index.html');
    const refs = [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual(refs, ['/console/console.css', '/console/console.js']);
    assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i);
    assert.deepEqual(
      [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]),
      ['<script type="module" src="/console/console.js">'],
    );
    assert.doesNotMatch(
      read('console/console.js'),
      /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function|https?:\/\/(?!www\.w3\.org\/2000\/svg)/,
    );
  });
});
