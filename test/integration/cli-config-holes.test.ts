import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKeyPairSync } from 'node:crypto';

// Configs that would open a hole, run through the real command line: `check-config` and `serve`
// must refuse each of them the same way, naming the field.

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'igw-holes-'));
let n = 0;
function file(name: string, text: string): string {
  const f = join(dir, `${n++}-${name}`);
  writeFileSync(f, text);
  return f;
}

const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1' };
const privateJwk = { ...privateKey.export({ format: 'jwk' }), kid: 'k1' };

const issuer = (keySource: string) =>
  `server:\n  host: 127.0.0.1\n  port: 0\nadmin:\n  host: 127.0.0.1\n  port: 0\nupstream:\n  url: http://127.0.0.1:9\nmodels:\n  iris: {}\nauth:\n  issuers:\n    - issuer: https://id.example\n      audiences: [inference]\n${keySource}`;

const CASES: ReadonlyArray<{ name: string; config: () => string; field: RegExp }> = [
  {
    name: 'a public route that matches V1 predict for every model',
    config: () => `auth:\n  enabled: false\nroutes:\n  public: ['GET /', 'POST /v1/models/*:predict']\n`,
    field: /routes\.public\[1\]: can match the inference route/,
  },
  {
    name: 'a public route that matches V2 infer with any method',
    config: () => `auth:\n  enabled: false\nroutes:\n  public: ['* /v2/models/*/infer']\n`,
    field: /routes\.public\[0\]: can match the inference route/,
  },
  {
    name: "a public route that names one model's explain route",
    config: () => `auth:\n  enabled: false\nroutes:\n  public: ['POST /v1/models/iris:explain']\n`,
    field: /routes\.public\[0\]: can match the inference route \/v1\/models\/iris:explain/,
  },
  {
    name: 'a public route whose wildcard stands for the verb',
    config: () => `auth:\n  enabled: false\nroutes:\n  public: ['POST /v2/models/iris/*']\n`,
    field: /routes\.public\[0\]: can match the inference route \/v2\/models\/iris\/infer/,
  },
  {
    name: 'an inline JWKS carrying a private key',
    config: () => issuer(`      jwks: ${JSON.stringify({ keys: [privateJwk] })}\n      algorithms: [ES256]\n`),
    field: /auth\.issuers\[0\]\.jwks: keys\[0\] contains private key material \("d"\)/,
  },
  {
    name: 'an inline jwks that is not a JWKS',
    config: () => issuer(`      jwks: {keys: "nope"}\n      algorithms: [ES256]\n`),
    field: /auth\.issuers\[0\]\.jwks: is not a JWKS/,
  },
  {
    name: 'a jwksFile that does not exist',
    config: () => issuer(`      jwksFile: ${join(dir, 'missing.json')}\n      algorithms: [ES256]\n`),
    field: /auth\.issuers\[0\]\.jwksFile: .*missing\.json cannot be read \(ENOENT\)/,
  },
  {
    name: 'a jwksFile holding a private key',
    config: () =>
      issuer(
        `      jwksFile: ${file('private.json', JSON.stringify({ keys: [privateJwk] }))}\n      algorithms: [ES256]\n`,
      ),
    field: /auth\.issuers\[0\]\.jwksFile: .* contains private key material/,
  },
  {
    name: 'a discovery issuer on plain http written HTTP://',
    config: () =>
      `upstream:\n  url: http://127.0.0.1:9\nmodels:\n  iris: {}\nauth:\n  issuers:\n    - issuer: HTTP://id.example\n      discovery: true\n      audiences: [inference]\n`,
    field: /auth\.issuers\[0\]\.issuer: must be https/,
  },
  {
    name: 'an issuer with both an hmacSecret and a jwksUri',
    config: () =>
      issuer(
        `      jwksUri: https://id.example/jwks.json\n      hmacSecret: ${'s'.repeat(40)}\n      algorithms: [ES256, HS256]\n`,
      ),
    field: /auth\.issuers\[0\]\.hmacSecret: cannot be combined with jwksUri/,
  },
  // Footguns: fields valid one by one that weaken the gateway together (src/config/footguns.ts).
  ...['content-length', 'transfer-encoding', 'host', 'connection', 'content-type'].map((header) => ({
    name: `a claim header written into ${header}`,
    config: () => issuer(`      jwksUri: https://id.example/jwks.json\n      claimHeaders:\n        ${header}: sub\n`),
    field: new RegExp(
      `auth\\.issuers\\[0\\]\\.claimHeaders\\.${header}: names a header that frames the request or that the gateway or Envoy sets`,
    ),
  })),
  {
    name: 'auth disabled beside a configured issuer',
    config: () =>
      issuer('      jwksUri: https://id.example/jwks.json\n').replace('auth:\n', 'auth:\n  enabled: false\n'),
    field: /auth\.enabled: is false while 1 issuer is configured: no token would be checked/,
  },
  {
    name: 'extraction enforced without features',
    config: () => `auth:\n  enabled: false\nmodels:\n  iris:\n    extraction:\n      mode: enforce\n`,
    field: /models\.iris\.extraction\.mode: is enforce without features/,
  },
  {
    name: 'a public route over the generate endpoint of every model',
    config: () => `auth:\n  enabled: false\nroutes:\n  public: ['GET /', 'POST /v2/models/*/generate']\n`,
    field: /routes\.public\[1\]: can match the inference route \/v2\/models\/m\/generate/,
  },
  {
    name: "a public route over one model's streaming generate",
    config: () => `auth:\n  enabled: false\nroutes:\n  public: ['POST /v2/models/llama/versions/*/generate_stream']\n`,
    field: /routes\.public\[0\]: can match the inference route \/v2\/models\/llama\/versions\/m\/generate_stream/,
  },
  {
    name: 'a public route over the OpenAI-compatible endpoints',
    config: () => `auth:\n  enabled: false\nroutes:\n  public: ['* /openai/v1/*/completions']\n`,
    field: /routes\.public\[0\]: can match the inference route \/openai\/v1\/chat\/completions/,
  },
];

describe('configs that would open a hole are refused by check-config and by serve alike', () => {
  for (const c of CASES) {
    it(`${c.name}: check-config exits 1 naming the field`, () => {
      const r = spawnSync(process.execPath, [MAIN, 'check-config', '--config', file('gateway.yaml', c.config())], {
        encoding: 'utf8',
        timeout: 10000,
      });
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stderr, c.field);
    });

    it(`${c.name}: serve refuses to start naming the field`, () => {
      const r = spawnSync(process.execPath, [MAIN, 'serve', '--config', file('gateway.yaml', c.config())], {
        encoding: 'utf8',
        timeout: 10000,
      });
      assert.equal(r.status, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /refusing to start/);
      assert.match(r.stderr, c.field);
    });
  }

  it('accepts a jwksFile of public keys', () => {
    const f = file(
      'gateway.yaml',
      issuer(
        `      jwksFile: ${file('public.json', JSON.stringify({ keys: [publicJwk] }))}\n      algorithms: [ES256]\n`,
      ),
    );
    const r = spawnSync(process.execPath, [MAIN, 'check-config', '--config', f], { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 0, r.stderr);
  });

  it('prints a warning, and exits 0, for a legal but unusual combination', () => {
    const f = file(
      'gateway.yaml',
      `auth:\n  enabled: false\nroutes:\n  public: ['GET /v2/health/ready', 'POST /v2/health/live']\nserver:\n  trustForwardedFor: true\n`,
    );
    const r = spawnSync(process.execPath, [MAIN, 'check-config', '--config', f], { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /warning: auth\.enabled: is false: every model route is served without a token/);
    assert.match(r.stdout, /warning: routes\.public\[1\]: allows POST: public routes take no body/);
    assert.match(r.stdout, /warning: server\.trustForwardedFor: is true/);
    assert.match(r.stdout, /: ok \(3 warnings\)$/m);
  });

  it('accepts the default public probe routes', () => {
    const r = spawnSync(
      process.execPath,
      [MAIN, 'check-config', '--config', file('gateway.yaml', 'auth:\n  enabled: false\n')],
      { encoding: 'utf8', timeout: 10000 },
    );
    assert.equal(r.status, 0, r.stderr);
  });
});
