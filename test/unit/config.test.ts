import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, buildConfig, parseConfigText } from '../../src/config/load-config.js';

function problemsOf(raw: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    buildConfig(raw, 'test', env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

describe('configuration', () => {
  it('accepts an empty document and fills safe defaults', () => {
    const c = buildConfig({}, 'test');
    assert.equal(c.server.port, 8080);
    assert.equal(c.admin.port, 8082);
    assert.equal(c.auth.enabled, true);
    assert.deepEqual(Object.keys(c.models), []);
  });

  it('returns a frozen config', () => {
    const c = buildConfig({}, 'test');
    assert.ok(Object.isFrozen(c.server));
    assert.throws(() => {
      (c.server as { port: number }).port = 1;
    });
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
    const problems = problemsOf({ sever: { port: 1 }, server: { prot: 2 } });
    assert.equal(problems.length, 2);
    assert.match(problems[0]!, /^sever: unknown key/);
    assert.match(problems[1]!, /^server\.prot: unknown key \(known keys: host, port, /);
  });

  it('names the array item type when an array is expected', () => {
    assert.deepEqual(problemsOf({ routes: { public: 'GET /' } }), ['routes.public: expected an array of strings, got a string']);
  });

  it('rejects a malformed public route pattern', () => {
    assert.match(problemsOf({ routes: { public: ['/healthz'] } })[0]!, /^routes\.public\[0\]: expected "METHOD \/path"/);
  });

  it('rejects a model name that cannot be a KServe model', () => {
    assert.deepEqual(problemsOf({ models: { 'bad/name': {} } }), ['models.bad/name: is not a valid model name']);
  });

  it('lets the environment override deploy-time values', () => {
    const c = buildConfig({ upstream: { url: 'http://127.0.0.1:1' } }, 'test', {
      GATEWAY_UPSTREAM_URL: 'http://127.0.0.1:9999',
      GATEWAY_PORT: '9090',
      GATEWAY_LOG_LEVEL: 'warn',
    });
    assert.equal(c.upstream.url, 'http://127.0.0.1:9999');
    assert.equal(c.server.port, 9090);
    assert.equal(c.log.level, 'warn');
  });

  it('names the environment variable when its value is bad', () => {
    assert.deepEqual(problemsOf({}, { GATEWAY_PORT: 'eighty' }), ['server.port (from GATEWAY_PORT): expected a number, got "eighty"']);
  });

  it('reports YAML syntax errors with their line', () => {
    assert.throws(
      () => parseConfigText('server:\n  port: 1\n  port: 2\n', 'f.yaml'),
      (err: unknown) => err instanceof ConfigError && /line 3/.test(err.problems[0]!.path),
    );
  });
});
