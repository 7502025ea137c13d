import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { referenceRows, withReference } from '../../src/config/reference.js';
import { configSchemaText } from '../../src/config/json-schema.js';

const read = (path: string) => readFileSync(fileURLToPath(new URL(`../../../${path}`, import.meta.url)), 'utf8');
const README = read('README.md');
const REFERENCE = read('docs/configuration.md');

describe('configuration reference', () => {
  it('docs/configuration.md is the reference generated from the schema (run `npm run docs:config` to regenerate)', () => {
    assert.equal(REFERENCE, withReference(REFERENCE));
  });

  it('documents every field of the schema, each once', () => {
    const paths = referenceRows().map((r) => r.path);
    assert.ok(paths.length > 100);
    const missing = paths.filter((path) => REFERENCE.split(`| \`${path}\` |`).length !== 2);
    assert.deepEqual(missing, []);
  });

  it('is linked from the README instead of copied into it', () => {
    assert.match(README, /\]\(docs\/configuration\.md\)/);
    assert.ok(!README.includes('| `server.port` |'));
  });

  it('gateway.schema.json is the JSON Schema that `config-schema` prints (run `npm run docs:config` to regenerate)', () => {
    assert.equal(read('gateway.schema.json'), configSchemaText());
  });
});

describe('README', () => {
  it('starts with the quickstart command and the test command', () => {
    const firstBlock = /```(?:sh|bash)?\n([\s\S]*?)```/.exec(README)?.[1] ?? '';
    assert.match(firstBlock, /npm ci && npm start/);
    assert.match(firstBlock, /npm ci && npm test/);
  });
});
