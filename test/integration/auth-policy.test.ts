import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { send, v1Body } from '../helpers/http.js';
import { AUDIENCE, startJwksServer, type JwksServer } from '../helpers/jwks-server.js';

describe('per-model token requirements and upstream identity', () => {
  let h: Harness;
  let jwks: JwksServer;
  before(async () => {
    jwks = await startJwksServer();
    h = await startHarness(() => ({
      auth: {
        enabled: true,
        issuers: [
          {
            issuer: jwks.issuer,
            jwksUri: jwks.jwksUri,
            audiences: [AUDIENCE],
            claimHeaders: { 'x-user-id': 'sub', 'x-tenant': 'org.tenant' },
          },
        ],
      },
      models: {
        iris: {
          auth: {
            predict: { scopes: ['predict:iris'] },
            explain: { scopes: ['explain:iris'] },
            metadata: { claims: { 'realm_access.roles': ['model-owner'] } },
          },
        },
        fraud: { auth: { all: { audiences: ['fraud-api'] } } },
      },
    }));
  });
  after(async () => {
    await h.close();
    await jwks.close();
  });

  const call = async (path: string, claims: Record<string, unknown>, method = 'POST') =>
    send(`${h.url}${path}`, {
      method,
      ...(method === 'POST' ? { body: v1Body() } : {}),
      headers: { authorization: `Bearer ${await jwks.sign(claims)}` },
    });

  it('allows a predict whose token holds the required scope', async () => {
    assert.equal((await call('/v1/models/iris:predict', { scope: 'openid predict:iris' })).status, 200);
  });

  it('accepts the scope from an scp array', async () => {
    assert.equal((await call('/v1/models/iris:predict', { scp: ['predict:iris'] })).status, 200);
  });

  it('refuses a predict without the scope with 403 insufficient_scope naming it', async () => {
    const calls = h.predictor.calls;
    const r = await call('/v1/models/iris:predict', { scope: 'openid' });
    assert.equal(r.status, 403);
    assert.equal(
      r.headers['www-authenticate'],
      'Bearer realm="inference-gateway", error="insufficient_scope", error_description="the token lacks the scope predict:iris", scope="predict:iris"',
    );
    assert.equal(r.json()['code'], 'insufficient_scope');
    assert.equal(h.predictor.calls, calls);
  });

  it('applies per-verb requirements: a predict scope does not open explain', async () => {
    const r = await call('/v1/models/iris:explain', { scope: 'predict:iris' });
    assert.equal(r.status, 403);
    assert.match(String(r.headers['www-authenticate']), /scope="explain:iris"/);
  });

  it('checks nested claims by path for metadata', async () => {
    assert.equal((await call('/v2/models/iris', { realm_access: { roles: ['model-owner'] } }, 'GET')).status, 200);
    const r = await call('/v2/models/iris', { realm_access: { roles: ['viewer'] } }, 'GET');
    assert.equal(r.status, 403);
    assert.equal(r.json()['code'], 'insufficient_scope');
  });

  it('lets a token be valid for one model and not another (audience override)', async () => {
    const r = await call('/v1/models/fraud:predict', { scope: 'predict:iris' });
    assert.equal(r.status, 401);
    assert.equal(r.json()['error'], 'the token audience is not accepted for this model');
    const fraudToken = await jwks.sign({ aud: 'fraud-api' });
    const r2 = await send(`${h.url}/v1/models/fraud:predict`, {
      body: v1Body(),
      headers: { authorization: `Bearer ${fraudToken}` },
    });
    assert.equal(r2.status, 404, 'fraud is accepted by the gateway; the demo predictor does not serve it');
  });

  it('sends configured claims upstream as headers and removes the token', async () => {
    await send(`${h.url}/v1/models/iris:predict`, {
      body: v1Body(),
      headers: {
        authorization: `Bearer ${await jwks.sign({ sub: 'alice', scope: 'predict:iris', org: { tenant: 'acme' } })}`,
        'x-user-id': 'mallory',
        'x-tenant': 'evil',
      },
    });
    const headers = h.predictor.received.at(-1)!.headers;
    assert.equal(headers['x-user-id'], 'alice');
    assert.equal(headers['x-tenant'], 'acme');
    assert.equal(headers['authorization'], undefined);
  });

  it('strips client copies of identity headers on public routes too', async () => {
    await send(`${h.url}/v2/health/ready`, { headers: { 'x-user-id': 'mallory' } });
    assert.equal(h.predictor.received.at(-1)!.headers['x-user-id'], undefined);
  });

  it('lets probe paths through without a token', async () => {
    for (const path of ['/', '/v1/models/iris', '/v2/health/live', '/v2/health/ready', '/v2/models/iris/ready']) {
      assert.equal((await send(`${h.url}${path}`)).status, 200, path);
    }
  });

  it("refuses a token whose claims were changed under a cached token's signature, even right after that token was served", async () => {
    const token = await jwks.sign({ scope: 'predict:iris', sub: 'alice' });
    const ok = await send(`${h.url}/v1/models/iris:predict`, {
      body: v1Body(),
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(ok.status, 200, ok.text);
    // Same header and signature (the token's whole tail), payload rewritten to another subject.
    const [head, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = `${head}.${Buffer.from(JSON.stringify({ ...claims, sub: 'mallory' })).toString('base64url')}.${signature}`;
    const r = await send(`${h.url}/v1/models/iris:predict`, {
      body: v1Body(),
      headers: { authorization: `Bearer ${forged}` },
    });
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json()['code'], 'token_invalid');
    // The genuine token is still answered from the cache.
    assert.equal(
      (await send(`${h.url}/v1/models/iris:predict`, { body: v1Body(), headers: { authorization: `Bearer ${token}` } }))
        .status,
      200,
    );
  });

  it('never crashes and never allows for arbitrary Authorization values', async () => {
    const good = await jwks.sign({ scope: 'predict:iris' });
    const printable = fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      maxLength: 300,
    });
    const tokenish = fc.oneof(
      printable,
      printable.map((s) => `Bearer ${s}`),
      fc
        .tuple(fc.nat({ max: good.lastIndexOf('.') - 1 }), fc.constantFrom(...'ABCxyz019-_.'))
        .map(([i, c]) => `Bearer ${good.slice(0, i)}${good[i] === c ? 'Q' : c}${good.slice(i + 1)}`),
      fc
        .array(fc.base64String({ maxLength: 80 }), { minLength: 1, maxLength: 4 })
        .map((parts) => `Bearer ${parts.join('.').replace(/\+/g, '-').replace(/\//g, '_').replace(/=/g, '')}`),
    );
    const calls = h.predictor.calls;
    await fc.assert(
      fc.asyncProperty(tokenish, async (authorization) => {
        const r = await send(`${h.url}/v1/models/iris:predict`, { body: v1Body(), headers: { authorization } });
        assert.ok(
          r.status === 400 || r.status === 401,
          `status ${r.status} for ${JSON.stringify(authorization.slice(0, 80))}`,
        );
        assert.equal(typeof r.json()['code'], 'string');
      }),
      { numRuns: 300 },
    );
    assert.equal(h.predictor.calls, calls);
  });
});
