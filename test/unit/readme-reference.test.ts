import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { referenceRows } from '../../src/config/reference.js';
import { buildConfig, parseConfigText } from '../../src/config/load-config.js';

const README = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');

describe('README configuration reference', () => {
  it('documents every field of the config schema (run `npm run docs:config` to regenerate)', () => {
    const missing = referenceRows()
      .map((r) => r.path)
      .filter((path) => !README.includes(`| \`${path}\` |`));
    assert.deepEqual(missing, []);
  });

  it('starts with the quickstart command and the test command', () => {
    const firstBlock = /```(?:sh|bash)?\n([\s\S]*?)```/.exec(README)?.[1] ?? '';
    assert.match(firstBlock, /npm ci && npm start/);
    assert.match(firstBlock, /npm ci && npm test/);
  });

  it('shows YAML examples that the schema accepts', () => {
    const examples = [...README.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    assert.ok(examples.length >= 3);
    for (const text of examples) {
      const raw = parseConfigText(text, 'README') as Record<string, unknown>;
      // Fragments (one section) are completed with an issuer, as a real file would be.
      const doc = 'auth' in raw ? raw : { auth: { issuers: [{ issuer: 'https://id.example', jwksUri: 'https://id.example/jwks', audiences: ['api'] }] }, ...raw };
      assert.doesNotThrow(() => buildConfig(doc, 'README', {}), text);
    }
  });
});
