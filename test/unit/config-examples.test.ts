import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { buildConfig, parseConfigText } from '../../src/config/load-config.js';
import { quickstartDocument } from '../../src/quickstart/quickstart.js';
import { problemsOf } from '../helpers/config-problems.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const SCHEMA_LINE = '# yaml-language-server: $schema=';

// The published schema, as an editor or another tool reads it: strict mode refuses unknown keywords.
const validateSchema = new Ajv({ strict: true, allErrors: true }).compile(
  JSON.parse(read('gateway.schema.json')) as object,
);

function schemaErrors(doc: unknown): string[] {
  return validateSchema(doc)
    ? []
    : (validateSchema.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? ''}`);
}

function gatewayYamlFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? gatewayYamlFiles(join(dir, e.name))
      : e.name === 'gateway.yaml'
        ? [relative(ROOT, join(ROOT, dir, e.name))]
        : [],
  );
}

const readmeExamples = [...read('README.md').matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
const deployConfigs = gatewayYamlFiles('deploy');

// README blocks show one section at a time; a real file also names an issuer (auth is on by default).
const ISSUER = { issuers: [{ issuer: 'https://id.example', jwksUri: 'https://id.example/jwks', audiences: ['api'] }] };
// What the Deployments take from Secrets rather than from the file (the redis overlay's URL).
const SECRET_ENV = { GATEWAY_REDIS_URL: 'redis://redis.ml-serving.svc.cluster.local:6379/0' };
const completed = (raw: Record<string, unknown>) => ('auth' in raw ? raw : { auth: ISSUER, ...raw });

describe('every gateway config in the repository', () => {
  it('finds the README examples and the deploy/ configs', () => {
    assert.ok(readmeExamples.length >= 4, 'README YAML examples');
    assert.ok(deployConfigs.length >= 1, `deploy/ gateway.yaml files: ${deployConfigs.join(', ')}`);
  });

  it('README examples start with the yaml-language-server $schema line', () => {
    assert.deepEqual(
      readmeExamples.filter((text) => !text.startsWith(`${SCHEMA_LINE}./gateway.schema.json\n`)),
      [],
    );
  });

  it('deploy/ configs start with a yaml-language-server $schema line that resolves to gateway.schema.json', () => {
    for (const file of deployConfigs) {
      const first = read(file).split('\n')[0] ?? '';
      assert.ok(first.startsWith(SCHEMA_LINE), `${file}: ${first}`);
      assert.equal(
        resolve(ROOT, dirname(file), first.slice(SCHEMA_LINE.length)),
        join(ROOT, 'gateway.schema.json'),
        file,
      );
    }
  });

  it('README examples are valid against gateway.schema.json and accepted by the loader', () => {
    for (const text of readmeExamples) {
      const raw = parseConfigText(text, 'README') as Record<string, unknown>;
      assert.deepEqual(schemaErrors(raw), [], text);
      assert.doesNotThrow(() => buildConfig(completed(raw), 'README', {}), text);
    }
  });

  it('deploy/ configs are valid against gateway.schema.json and accepted by the loader', () => {
    for (const file of deployConfigs) {
      const raw = parseConfigText(read(file), file);
      assert.deepEqual(schemaErrors(raw), [], file);
      assert.doesNotThrow(() => buildConfig(raw, file, SECRET_ENV), file);
    }
  });

  it('the quickstart config is valid against gateway.schema.json', () => {
    const doc = quickstartDocument(
      'http://127.0.0.1:8085',
      { issuer: 'http://127.0.0.1:9', jwksUri: 'http://127.0.0.1:9/jwks.json' },
      {},
    );
    assert.deepEqual(schemaErrors(doc), []);
  });
});

describe('gateway.schema.json and the loader', () => {
  const refusedByBoth: Array<[string, Record<string, unknown>]> = [
    ['an unknown top-level key', { sever: { port: 1 } }],
    ['an unknown nested key', { server: { prot: 1 } }],
    ['a port out of range', { server: { port: 70000 } }],
    ['a fractional integer', { upstream: { timeoutMs: 1.5 } }],
    ['a value outside an enum', { log: { level: 'loud' } }],
    ['a string that misses its pattern', { upstream: { url: 'ftp://x' } }],
    ['a model name KServe cannot serve', { models: { 'bad/name': {} } }],
    ['an unknown key inside a model', { models: { iris: { lables: ['a'] } } }],
    ['a window without its budget', { limits: { default: [{ name: 'burst', perSeconds: 1 }] } }],
    [
      'an issuer without audiences',
      { auth: { issuers: [{ issuer: 'https://id.example', jwksUri: 'https://id.example/jwks' }] } },
    ],
  ];
  for (const [what, doc] of refusedByBoth) {
    it(`both refuse ${what}`, () => {
      assert.notDeepEqual(schemaErrors(doc), []);
      assert.notDeepEqual(problemsOf(doc), []);
    });
  }

  it('both accept an empty file apart from the issuer the loader requires while auth is on', () => {
    assert.deepEqual(schemaErrors({}), []);
    assert.deepEqual(problemsOf({}), []);
  });
});
