import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const ISSUER =
  'auth:\n  issuers:\n    - issuer: https://id.example\n      jwksUri: https://id.example/jwks.json\n      audiences: [inference-api]\n';

function checkConfig(text: string): { status: number | null; out: string } {
  const file = join(mkdtempSync(join(tmpdir(), 'igw-operator-')), 'gateway.yaml');
  writeFileSync(file, `upstream:\n  url: http://127.0.0.1:8085\nmodels:\n  iris: {}\n${text}`);
  const r = spawnSync(process.execPath, [MAIN, 'check-config', '--config', file], { encoding: 'utf8', timeout: 10000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('check-config and the operator plane', () => {
  it('says the operator endpoints are off when no operator identity is configured', () => {
    const r = checkConfig(ISSUER);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /operator endpoints: off \(no operator identity configured/);
  });

  it('names the ways operators are recognised when they are', () => {
    const r = checkConfig(
      `${ISSUER}operator:\n  jwt: { claim: realm_access.roles, values: [ops] }\n  spiffe: { allow: ['spiffe://cluster.local/ns/ml-ops/sa/op'] }\n`,
    );
    assert.equal(r.status, 0, r.out);
    assert.match(
      r.out,
      /operator endpoints: on \(bearer JWT with realm_access\.roles in \[ops\]; peer identity \(1 allowed SPIFFE IDs\)\)/,
    );
  });

  it('refuses operator tokens without an issuer to verify them, naming the field', () => {
    const r = checkConfig('auth:\n  enabled: false\noperator:\n  jwt: { values: [ops] }\n');
    assert.equal(r.status, 1);
    assert.match(r.out, /operator\.jwt: needs at least one issuer in auth\.issuers/);
  });

  it('refuses an operator issuer that auth does not trust, a malformed SPIFFE ID and a request cap that leaves probes no room', () => {
    const r = checkConfig(
      `${ISSUER}admin:\n  maxConnections: 6\noperator:\n  maxConcurrentRequests: 4\n  jwt: { values: [ops], issuers: [https://other.example] }\n  spiffe: { allow: ['https://not-spiffe'] }\n`,
    );
    assert.equal(r.status, 1);
    assert.match(r.out, /operator\.jwt\.issuers\[0\]: "https:\/\/other\.example" is not an issuer of auth\.issuers/);
    assert.match(r.out, /operator\.spiffe\.allow\[0\]: expected a SPIFFE ID/);
    assert.match(r.out, /operator\.maxConcurrentRequests: must be at most half of admin\.maxConnections \(6\)/);
  });
});
