import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, buildConfig } from '../../src/config/load-config.js';

// Authentication is on by default and needs an issuer; these tests are about extAuthz only.
const base = (extAuthz: unknown = undefined) => ({
  auth: { enabled: false },
  ...(extAuthz === undefined ? {} : { extAuthz }),
});

function problemsOf(raw: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    buildConfig({ ...base(), ...raw }, 'test', env);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
}

describe('extAuthz config', () => {
  it('keeps both doors off by default, on Istio sample ports 8000 and 9000, with no path prefix, refusing checks without a whole body', () => {
    const c = buildConfig(base(), 'test');
    assert.deepEqual(c.extAuthz, {
      http: { enabled: false, host: '0.0.0.0', port: 8000, pathPrefix: '' },
      grpc: { enabled: false, host: '0.0.0.0', port: 9000 },
      allowIncompleteBodies: false,
    });
  });

  it('takes the door ports and switches from the environment', () => {
    const c = buildConfig(base(), 'test', {
      GATEWAY_EXTAUTHZ_HTTP_PORT: '18000',
      GATEWAY_EXTAUTHZ_GRPC_PORT: '19000',
      GATEWAY_EXTAUTHZ_HTTP_ENABLED: 'true',
      GATEWAY_EXTAUTHZ_GRPC_ENABLED: 'true',
    });
    assert.equal(c.extAuthz.http.port, 18000);
    assert.equal(c.extAuthz.grpc.port, 19000);
    assert.equal(c.extAuthz.http.enabled, true);
    assert.equal(c.extAuthz.grpc.enabled, true);
  });

  for (const bad of ['authz', '/authz/', '/a?b', '/a b']) {
    it(`refuses the pathPrefix ${JSON.stringify(bad)}`, () => {
      const problems = problemsOf({ extAuthz: { http: { pathPrefix: bad } } });
      assert.equal(problems.length, 1);
      assert.match(problems[0]!, /^extAuthz\.http\.pathPrefix: /);
    });
  }

  it('rejects an unknown key under extAuthz', () => {
    const problems = problemsOf({ extAuthz: { grpc: { failOpen: true } } });
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /extAuthz\.grpc\.failOpen/);
  });
});
