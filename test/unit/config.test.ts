import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { problemsOf, NO_AUTH } from '../helpers/config-problems.js';
import { ConfigError, buildConfig, parseConfigText } from '../../src/config/load-config.js';

describe('configuration', () => {
  it('refuses an empty document: a token issuer is required by default', () => {
    assert.throws(
      () => buildConfig({}, 'test'),
      (err: unknown) => err instanceof ConfigError && err.problems[0]?.path === 'auth.issuers',
    );
  });

  it('fills safe defaults around the one required setting', () => {
    const c = buildConfig(
      { auth: { issuers: [{ issuer: 'https://id.example', jwksUri: 'https://id.example/jwks', audiences: ['api'] }] } },
      'test',
    );
    assert.equal(c.server.port, 8080);
    assert.equal(c.admin.port, 8082);
    assert.equal(c.auth.enabled, true);
    assert.deepEqual(c.auth.issuers[0]?.algorithms, ['RS256', 'ES256']);
    assert.equal(c.auth.issuers[0]?.forwardToken, false);
    assert.deepEqual(Object.keys(c.models), []);
  });

  it('returns a frozen config', () => {
    const c = buildConfig(NO_AUTH, 'test');
    assert.ok(Object.isFrozen(c.server));
    assert.throws(() => {
      (c.server as { port: number }).port = 1;
    });
  });

  it('reports a cross-field problem together with a type problem of a field beside it', () => {
    assert.deepEqual(problemsOf({ ...NO_AUTH, models: { iris: { input: { min: 5, max: 1, features: 'four' } } } }), [
      'models.iris.input.features: expected an integer, got a string',
      'models.iris.input.min: is above max (5 > 1)',
    ]);
  });

  it('reports a cross-field problem of an issuer together with a missing field of the same issuer', () => {
    assert.deepEqual(
      problemsOf({ auth: { issuers: [{ issuer: 'https://id.example', jwksUri: 'http://id.example/jwks' }] } }),
      [
        'auth.issuers[0].audiences: is required',
        'auth.issuers[0].jwksUri: must be https (plain http only on loopback, or with auth.keys.allowInsecureHttp)',
      ],
    );
  });

  it('reports a type problem, not a crash, when a cross-field check meets the malformed field', () => {
    assert.deepEqual(
      problemsOf({
        auth: {
          issuers: [
            { issuer: 'https://id.example', jwksUri: 'https://id.example/jwks', audiences: ['a'], algorithms: 'RS256' },
          ],
        },
      }),
      ['auth.issuers[0].algorithms: expected an array of strings, got a string'],
    );
  });

  it('reports every bad field at once, each with its path and reason', () => {
    const problems = problemsOf({
      server: { port: 70000, bodyLimitBytes: 'big' },
      upstream: { url: 'not a url' },
      log: { level: 'loud' },
    });
    assert.deepEqual(problems, [
      'server.port: must be at most 65535, got 70000',
      'server.bodyLimitBytes: expected an integer, got a string',
      'upstream.url: expected an http(s) URL with no path, like http://127.0.0.1:8085, got "not a url"',
      'log.level: expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got "loud"',
    ]);
  });

  it('rejects unknown keys instead of ignoring them', () => {
    const problems = problemsOf({ sever: { port: 1 }, server: { prot: 2 } }).sort();
    assert.equal(problems.length, 2);
    assert.match(problems[0]!, /^server\.prot: unknown key \(known keys: host, port, /);
    assert.match(problems[1]!, /^sever: unknown key/);
  });

  it('names the array item type when an array is expected', () => {
    assert.deepEqual(problemsOf({ routes: { public: 'GET /' } }), [
      'routes.public: expected an array of strings, got a string',
    ]);
  });

  it('rejects a malformed public route pattern', () => {
    assert.match(
      problemsOf({ routes: { public: ['/healthz'] } })[0]!,
      /^routes\.public\[0\]: expected "METHOD \/path"/,
    );
  });

  it('rejects a model name that cannot be a KServe model', () => {
    assert.deepEqual(problemsOf({ models: { 'bad/name': {} } }), ['models.bad/name: is not a valid model name']);
  });

  it('lets the environment override deploy-time values', () => {
    const c = buildConfig({ ...NO_AUTH, upstream: { url: 'http://127.0.0.1:1' } }, 'test', {
      GATEWAY_UPSTREAM_URL: 'http://127.0.0.1:9999',
      GATEWAY_PORT: '9090',
      GATEWAY_LOG_LEVEL: 'warn',
    });
    assert.equal(c.upstream.url, 'http://127.0.0.1:9999');
    assert.equal(c.server.port, 9090);
    assert.equal(c.log.level, 'warn');
  });

  it('names the environment variable when its value is bad', () => {
    assert.deepEqual(problemsOf({}, { GATEWAY_PORT: 'eighty' }), [
      'server.port (from GATEWAY_PORT): expected a number, got "eighty"',
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    assert.throws(
      () => parseConfigText('server:\n  port: 1\n  port: 2\n', 'f.yaml'),
      (err: unknown) => err instanceof ConfigError && /line 3/.test(err.problems[0]!.path),
    );
  });
});

describe('authentication configuration', () => {
  const issuer = { issuer: 'https://id.example', jwksUri: 'https://id.example/jwks', audiences: ['api'] };

  it('requires an issuer while auth is enabled', () => {
    assert.deepEqual(problemsOf({ auth: {} }), [
      'auth.issuers: at least one issuer is required while auth.enabled is true',
    ]);
  });

  it('refuses an HMAC secret shorter than 32 bytes', () => {
    assert.deepEqual(
      problemsOf({
        auth: { issuers: [{ issuer: 'i', audiences: ['a'], algorithms: ['HS256'], hmacSecret: 'short' }] },
      }),
      ['auth.issuers[0].hmacSecret: must be at least 32 bytes (RFC 7518 §3.2)'],
    );
  });

  it('never echoes the HMAC secret in a message', () => {
    const secret = 'not-a-valid-secret-but-long-enough-to-pass';
    const problems = problemsOf({ auth: { issuers: [{ issuer: 'i', audiences: ['a'], hmacSecret: secret }] } });
    assert.ok(problems.length > 0);
    assert.ok(problems.every((p) => !p.includes(secret)));
  });

  it('never echoes a malformed Redis URL, which may carry a password', () => {
    const url = 'http://user:hunter2-password@redis:6379';
    const problems = problemsOf({ limits: { store: { kind: 'redis', redisUrl: url } } });
    assert.deepEqual(problems, ['limits.store.redisUrl: expected redis://host:port']);
  });

  it('never echoes a malformed Redis URL given in GATEWAY_REDIS_URL', () => {
    const problems = problemsOf(
      { limits: { store: { kind: 'redis' } } },
      { GATEWAY_REDIS_URL: 'user:hunter2-password@redis' },
    );
    assert.ok(problems.length > 0);
    assert.ok(problems.every((p) => !p.includes('hunter2')));
  });

  it('refuses HS algorithms without a secret', () => {
    assert.deepEqual(problemsOf({ auth: { issuers: [{ ...issuer, algorithms: ['RS256', 'HS256'] }] } }), [
      'auth.issuers[0].algorithms: HS256 need hmacSecret',
    ]);
  });

  it('refuses alg none', () => {
    assert.match(
      problemsOf({ auth: { issuers: [{ ...issuer, algorithms: ['none'] }] } })[0]!,
      /^auth\.issuers\[0\]\.algorithms\[0\]: expected one of/,
    );
  });

  it('refuses a plain-http JWKS URL that is not loopback', () => {
    assert.deepEqual(problemsOf({ auth: { issuers: [{ ...issuer, jwksUri: 'http://id.example/jwks' }] } }), [
      'auth.issuers[0].jwksUri: must be https (plain http only on loopback, or with auth.keys.allowInsecureHttp)',
    ]);
  });

  it('refuses an issuer with two key sources', () => {
    assert.deepEqual(problemsOf({ auth: { issuers: [{ ...issuer, discovery: true }] } }), [
      'auth.issuers[0]: has more than one key source: choose one of jwksUri, discovery, jwks, jwksFile',
    ]);
  });

  it('refuses an issuer without audiences', () => {
    assert.deepEqual(
      problemsOf({ auth: { issuers: [{ issuer: 'https://id.example', jwksUri: 'https://id.example/jwks' }] } }),
      ['auth.issuers[0].audiences: is required'],
    );
  });
});
