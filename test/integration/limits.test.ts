import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { send, v1Body, v2Body } from '../helpers/http.js';
import { AUDIENCE, startJwksServer, type JwksServer } from '../helpers/jwks-server.js';

const rows = (n: number) => Array.from({ length: n }, () => [6.8, 2.8, 4.8, 1.4]);

describe('rate limits counted in predictions (memory store)', () => {
  let h: Harness;
  const clock = { ms: Date.now() };
  before(async () => {
    h = await startHarness(
      () => ({
        limits: {
          default: [
            { name: 'burst', predictions: 3, perSeconds: 1 },
            { name: 'hourly', predictions: 5, perSeconds: 3600 },
          ],
          metadata: [{ name: 'metadata', predictions: 2, perSeconds: 3600 }],
        },
        models: {
          iris: {},
          batchy: { limits: { default: [{ name: 'daily', predictions: 60, perSeconds: 86400 }] } },
          roomy: { limits: { default: [{ name: 'minute', predictions: 100, perSeconds: 60 }] } },
        },
      }),
      {},
      { now: () => clock.ms },
    );
  });
  after(() => h.close());

  const predict = (n = 1) => send(`${h.url}/v1/models/iris:predict`, { body: v1Body(rows(n)) });

  it('enforces a burst window and a long window at once', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await predict()).status, 200);
    const burst = await predict();
    assert.equal(burst.status, 429);
    assert.equal(burst.json()['window'], 'burst');
    clock.ms += 1000;
    for (let i = 0; i < 2; i++) assert.equal((await predict()).status, 200);
    const hourly = await predict();
    assert.equal(hourly.status, 429);
    assert.equal(hourly.json()['window'], 'hourly');
  });

  it('answers 429 with Retry-After, RateLimit headers and the window in the body', async () => {
    const r = await predict();
    assert.equal(r.status, 429);
    assert.equal(r.json()['code'], 'rate_limited');
    assert.match(String(r.headers['retry-after']), /^\d+$/);
    assert.ok(Number(r.headers['retry-after']) > 1000, 'the hourly window resets in about an hour');
    assert.equal(r.headers['ratelimit-policy'], '"burst";q=3;w=1, "hourly";q=5;w=3600');
    assert.match(String(r.headers['ratelimit']), /^"hourly";r=0;t=\d+$/);
    assert.deepEqual(
      { window: r.json()['window'], limit: r.json()['limit'], cost: r.json()['cost'] },
      { window: 'hourly', limit: 5, cost: 1 },
    );
  });

  it('counts a batch of 50 as 50 predictions and refuses a batch over the budget whole', async () => {
    const url = `${h.url}/v2/models/batchy/infer`;
    const calls = () => h.predictor.received.filter((r) => r.url.includes('batchy')).length;
    assert.equal(
      (await send(url, { body: v2Body(rows(50)) })).status,
      404,
      'allowed through (the demo predictor does not serve batchy)',
    );
    const before = calls();
    const over = await send(url, { body: v2Body(rows(20)) });
    assert.equal(over.status, 429);
    assert.equal(over.json()['cost'], 20);
    assert.equal(calls(), before, 'a refused batch is not forwarded, not even in part');
    assert.equal((await send(url, { body: v2Body(rows(10)) })).status, 404, 'the refused batch cost nothing');
    assert.equal((await send(url, { body: v2Body(rows(1)) })).status, 429);
  });

  it('puts RateLimit headers on allowed answers', async () => {
    const r = await send(`${h.url}/v1/models/roomy:predict`, { body: v1Body(rows(4)) });
    assert.equal(r.headers['ratelimit-policy'], '"minute";q=100;w=60');
    assert.equal(r.headers['ratelimit'], '"minute";r=96;t=60');
  });

  it('limits metadata requests with their own small policy', async () => {
    assert.equal((await send(`${h.url}/v2/models/iris`)).status, 200);
    const second = await send(`${h.url}/v2/models/iris`);
    assert.equal(second.status, 200);
    assert.equal(second.headers['ratelimit-policy'], '"metadata";q=2;w=3600');
    assert.equal(second.headers['ratelimit'] !== undefined, true);
    const third = await send(`${h.url}/v2/models/iris`);
    assert.equal(third.status, 429);
    assert.equal(third.json()['window'], 'metadata');
  });

  it('never limits probe paths', async () => {
    for (let i = 0; i < 10; i++) assert.equal((await send(`${h.url}/v2/models/iris/ready`)).status, 200);
  });
});

describe('rate limits by verified identity and tier', () => {
  let h: Harness;
  let jwks: JwksServer;
  before(async () => {
    jwks = await startJwksServer();
    h = await startHarness(() => ({
      auth: { enabled: true, issuers: [{ issuer: jwks.issuer, jwksUri: jwks.jwksUri, audiences: [AUDIENCE] }] },
      limits: {
        tierClaim: 'plan',
        default: [{ name: 'hourly', predictions: 2, perSeconds: 3600 }],
        tiers: { gold: [{ name: 'hourly', predictions: 6, perSeconds: 3600 }] },
      },
    }));
  });
  after(async () => {
    await h.close();
    await jwks.close();
  });

  const predictAs = async (claims: Record<string, unknown>, n = 1) =>
    send(`${h.url}/v1/models/iris:predict`, {
      body: v1Body(rows(n)),
      headers: { authorization: `Bearer ${await jwks.sign(claims)}` },
    });

  it('gives each subject its own budget', async () => {
    assert.equal((await predictAs({ sub: 'ann' }, 2)).status, 200);
    assert.equal((await predictAs({ sub: 'ann' })).status, 429);
    assert.equal((await predictAs({ sub: 'ben' }, 2)).status, 200);
  });

  it('chooses the tier by claim: gold gets more', async () => {
    assert.equal((await predictAs({ sub: 'gus', plan: 'gold' }, 6)).status, 200);
    const r = await predictAs({ sub: 'gus', plan: 'gold' });
    assert.equal(r.status, 429);
    assert.equal(r.json()['limit'], 6);
  });

  it('falls back to the default policy for an unknown tier', async () => {
    assert.equal((await predictAs({ sub: 'sam', plan: 'platinum' }, 2)).status, 200);
    assert.equal((await predictAs({ sub: 'sam', plan: 'platinum' })).json()['limit'], 2);
  });
});
