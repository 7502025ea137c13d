import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { problemsOf, NO_AUTH } from '../helpers/config-problems.js';
import { buildConfig } from '../../src/config/load-config.js';

describe('limits configuration', () => {
  it('defaults to the memory store, the sub claim as key and the insurance failure policy', () => {
    const c = buildConfig(NO_AUTH, 'test');
    assert.equal(c.limits.store.kind, 'memory');
    assert.equal(c.limits.key, 'sub');
    assert.equal(c.limits.store.onFailure, 'insurance');
    assert.equal(c.limits.store.commandTimeoutMs, 1000);
    assert.equal(c.limits.scope, 'user');
    assert.equal(c.limits.store.notReadyAfterSeconds, 10);
    assert.equal(c.limits.store.memoryMaxKeys, 100000);
  });

  it('refuses a Redis key prefix with braces, which would break the per-identity hash tag', () => {
    assert.deepEqual(
      problemsOf({ limits: { store: { kind: 'redis', redisUrl: 'redis://127.0.0.1:6379', keyPrefix: 'a{b}:' } } }),
      ['limits.store.keyPrefix: expected no braces or spaces, got "a{b}:"'],
    );
  });

  it('requires a Redis address when the store is redis', () => {
    assert.deepEqual(problemsOf({ limits: { store: { kind: 'redis' } } }), [
      'limits.store.redisUrl: is required when kind is redis (or set sentinels or cluster)',
    ]);
  });

  it('refuses two Redis addressing modes at once', () => {
    assert.deepEqual(
      problemsOf({
        limits: { store: { kind: 'redis', redisUrl: 'redis://127.0.0.1:6379', sentinels: ['127.0.0.1:26379'] } },
      }),
      ['limits.store: choose one of redisUrl, sentinels, cluster'],
    );
  });

  it('takes the Redis URL from GATEWAY_REDIS_URL', () => {
    const c = buildConfig({ ...NO_AUTH, limits: { store: { kind: 'redis' } } }, 'test', {
      GATEWAY_REDIS_URL: 'redis://10.0.0.7:6379/0',
    });
    assert.equal(c.limits.store.redisUrl, 'redis://10.0.0.7:6379/0');
  });

  it('refuses a window that allows no prediction, naming it', () => {
    assert.deepEqual(problemsOf({ limits: { default: [{ name: 'burst', predictions: 0, perSeconds: 1 }] } }), [
      'limits.default[0].predictions: must be at least 1, got 0',
    ]);
  });

  it('refuses two windows with the same name in one policy', () => {
    const windows = [
      { name: 'burst', predictions: 5, perSeconds: 1 },
      { name: 'burst', predictions: 50, perSeconds: 60 },
    ];
    assert.deepEqual(problemsOf({ limits: { default: windows } }), [
      'limits.default[1].name: duplicates window "burst"',
    ]);
  });

  it('refuses an unknown failure policy, listing the allowed ones', () => {
    const [p] = problemsOf({ limits: { store: { onFailure: 'retry' } } });
    assert.match(p ?? '', /^limits\.store\.onFailure: .*insurance.*fail-closed.*fail-open/);
  });
});
