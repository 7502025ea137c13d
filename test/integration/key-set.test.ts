// Key rotation, outages and floods against a real JWKS server, with an injected clock (its
// timers too) so the refetch cooldown and the retry backoff are moved, not slept through.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { buildConfig } from '../../src/config/load-config.js';
import { Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { startDemoPredictor, type DemoPredictor } from '../../src/quickstart/demo-predictor.js';
import { send, v1Body } from '../helpers/http.js';
import { AUDIENCE, startJwksServer, type JwksServer } from '../helpers/jwks-server.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { sleep, until } from '../helpers/wait.js';

interface Rig {
  gateway: Gateway;
  url: string;
  adminUrl: string;
  predictor: DemoPredictor;
  clock: ManualClock;
  close(): Promise<void>;
}

// Fetches of a live issuer get a generous timeout, so busy cores never turn them into failures;
// only tests of a hung issuer (which always times out) use a short one.
async function rig(jwks: JwksServer, issuer: Record<string, unknown> = {}, fetchTimeoutMs = 5000): Promise<Rig> {
  const predictor = await startDemoPredictor();
  const clock = new ManualClock();
  const config = buildConfig({
    server: { host: '127.0.0.1', port: 0, drainDelaySeconds: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    upstream: { url: predictor.url },
    log: { level: 'silent' },
    models: { iris: {} },
    auth: {
      issuers: [{ issuer: jwks.issuer, jwksUri: jwks.jwksUri, audiences: [AUDIENCE], ...issuer }],
      keys: { cooldownSeconds: 30, fetchTimeoutMs },
    },
  });
  const gateway = await Gateway.create(config, { log: createLogger('silent'), defaultMetrics: false, clock });
  const at = await gateway.listen();
  return {
    gateway,
    url: at.url,
    adminUrl: at.adminUrl,
    predictor,
    clock,
    close: async () => {
      await gateway.close();
      await predictor.close();
    },
  };
}

const predict = (r: Rig, token: string) =>
  send(`${r.url}/v1/models/iris:predict`, { body: v1Body(), headers: { authorization: `Bearer ${token}` } });
const jwksFetches = (j: JwksServer) => j.requests.get('/.well-known/jwks.json') ?? 0;
const ready = (r: Rig) =>
  until('the gateway is ready', async () => (await send(`${r.adminUrl}/readyz`)).status === 200);

describe('signing keys', () => {
  it('are fetched at start-up, and readiness waits for them', async () => {
    const jwks = await startJwksServer();
    const r = await rig(jwks);
    try {
      await ready(r);
      assert.equal(jwksFetches(jwks), 1);
      assert.equal((await predict(r, await jwks.sign({}))).status, 200);
      assert.equal(jwksFetches(jwks), 1, 'a known kid needs no fetch');
    } finally {
      await r.close();
      await jwks.close();
    }
  });

  it('accept a token signed with a newly rotated key within one refetch', async () => {
    const jwks = await startJwksServer();
    const r = await rig(jwks);
    try {
      await ready(r);
      const k3 = await jwks.newKey('k3');
      jwks.publish([k3, jwks.ec]);
      const res = await predict(r, await jwks.sign({}, { key: k3 }));
      assert.equal(res.status, 200);
      assert.equal(jwksFetches(jwks), 2);
    } finally {
      await r.close();
      await jwks.close();
    }
  });

  it('stop a cached token from being accepted once its key leaves the key set', async () => {
    const jwks = await startJwksServer();
    const r = await rig(jwks);
    try {
      await ready(r);
      const old = await jwks.sign({});
      assert.equal((await predict(r, old)).status, 200); // now cached
      const k3 = await jwks.newKey('k3');
      jwks.publish([k3]);
      assert.equal((await predict(r, await jwks.sign({}, { key: k3 }))).status, 200); // refetch drops k1
      r.clock.advance(31_000); // past the cooldown, so the refusal is not just "cooling down"
      const res = await predict(r, old);
      assert.equal(res.status, 401);
      assert.equal(res.json()['code'], 'token_invalid');
    } finally {
      await r.close();
      await jwks.close();
    }
  });

  it('are refetched at most once per cooldown under a flood of random kids, without starving a real rotation', async () => {
    const jwks = await startJwksServer();
    const r = await rig(jwks);
    try {
      await ready(r);
      const { privateKey } = await generateKeyPair('RS256');
      const flood = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const t = await new SignJWT({ iss: jwks.issuer, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600 })
            .setProtectedHeader({ alg: 'RS256', kid: `random-${Math.random()}` })
            .sign(privateKey);
          assert.equal((await predict(r, t)).status, 401);
        }
      };
      await flood(30);
      assert.equal(jwksFetches(jwks), 2, 'start-up fetch + one miss fetch');
      // A real rotation during the cooldown: refused for now, accepted once the window passes.
      const k3 = await jwks.newKey('k3');
      jwks.publish([k3, jwks.rsa]);
      const rotated = await jwks.sign({}, { key: k3 });
      assert.equal((await predict(r, rotated)).status, 401);
      r.clock.advance(30_000);
      assert.equal((await predict(r, rotated)).status, 200);
      await flood(30);
      assert.equal(jwksFetches(jwks), 3 + 0, 'the second flood falls inside the new cooldown');
    } finally {
      await r.close();
      await jwks.close();
    }
  });

  it("refuse a token whose kid names a key of another curve than its alg's, as no matching key", async () => {
    const jwks = await startJwksServer();
    const r = await rig(jwks);
    try {
      // A P-384 key published without an alg member: only its curve says it cannot verify ES256.
      const { publicKey } = await generateKeyPair('ES384', { extractable: true });
      const p384 = {
        kid: 'p384',
        alg: 'ES384',
        privateKey: publicKey,
        publicJwk: { ...(await exportJWK(publicKey)), kid: 'p384', use: 'sig' },
      };
      jwks.publish([jwks.rsa, jwks.ec, p384]);
      await ready(r);
      const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      const token = `${part({ alg: 'ES256', kid: 'p384', typ: 'JWT' })}.${part({ iss: jwks.issuer, aud: AUDIENCE, sub: 'x', exp: now + 600 })}.${Buffer.alloc(64, 1).toString('base64url')}`;
      const res = await predict(r, token);
      assert.equal(res.status, 401);
      assert.equal(res.json()['error'], 'no signing key of the issuer matches the token kid and alg');
    } finally {
      await r.close();
      await jwks.close();
    }
  });

  it('keep verifying with cached keys while the issuer is down', async () => {
    const jwks = await startJwksServer();
    const r = await rig(jwks);
    try {
      await ready(r);
      const token = await jwks.sign({ sub: 'bob' });
      jwks.mode = 'status500';
      const k9 = await jwks.sign({ sub: 'carol' }, { key: jwks.ec });
      assert.equal((await predict(r, token)).status, 200);
      assert.equal((await predict(r, k9)).status, 200);
      await jwks.close();
      assert.equal((await predict(r, await jwks.sign({ sub: 'dave' }))).status, 200);
    } finally {
      await r.close();
    }
  });

  it('answer 503 with Retry-After and stay not ready when a fresh start finds the issuer down', async () => {
    const jwks = await startJwksServer();
    const token = await jwks.sign({});
    await jwks.close();
    const r = await rig(jwks);
    try {
      const res = await predict(r, token);
      assert.equal(res.status, 503);
      assert.equal(res.json()['code'], 'keys_unavailable');
      assert.match(String(res.headers['retry-after']), /^\d+$/);
      assert.equal(res.headers['www-authenticate'], undefined);
      assert.equal(r.predictor.calls, 0);
      const rz = await send(`${r.adminUrl}/readyz`);
      assert.equal(rz.status, 503);
      assert.equal(rz.json<{ checks: Record<string, { ready: boolean }> }>().checks['signing-keys']?.ready, false);
    } finally {
      await r.close();
    }
  });

  for (const mode of ['status500', 'badJson'] as const) {
    it(`answer 503 when the issuer's first answer is ${mode === 'status500' ? 'a 500' : 'bad JSON'}, and count the failed fetch`, async () => {
      const jwks = await startJwksServer();
      jwks.mode = mode;
      const r = await rig(jwks);
      try {
        const res = await predict(r, await jwks.sign({}));
        assert.equal(res.status, 503);
        const metrics = await r.gateway.metrics.registry.getSingleMetricAsString(
          'inference_gateway_auth_key_fetches_total',
        );
        assert.match(metrics, new RegExp(`outcome="${mode === 'status500' ? 'http_status' : 'bad_json'}"`));
      } finally {
        await r.close();
        await jwks.close();
      }
    });
  }

  it('give up on an issuer that never answers after the fetch timeout', async () => {
    const jwks = await startJwksServer();
    jwks.mode = 'hang';
    const r = await rig(jwks, {}, 300);
    try {
      const started = Date.now();
      const res = await predict(r, await jwks.sign({}));
      assert.equal(res.status, 503);
      assert.ok(Date.now() - started < 3000);
    } finally {
      await r.close();
      await jwks.close();
    }
  });

  it('cost one fetch per backoff, not one per request, while the issuer is down at start-up, and are fetched again as soon as it answers', async () => {
    const jwks = await startJwksServer();
    jwks.mode = 'status500';
    const r = await rig(jwks);
    try {
      const token = await jwks.sign({});
      await until('the start-up fetch failed', async () =>
        /outcome="http_status"/.test(
          await r.gateway.metrics.registry.getSingleMetricAsString('inference_gateway_auth_key_fetches_total'),
        ),
      );
      for (let i = 0; i < 249; i++) assert.equal((await predict(r, token)).status, 503);
      // The clock did not move: the backoff has not passed, however long the 249 requests took.
      assert.equal(jwksFetches(jwks), 1, `${jwksFetches(jwks)} fetches for 249 requests`);
      jwks.mode = 'ok';
      r.clock.advance(4000); // past the longest backoff
      assert.equal((await predict(r, token)).status, 200);
    } finally {
      await r.close();
      await jwks.close();
    }
  });

  it('retry a failed fetch when the backoff has passed on the gateway clock, not on the wall clock', async () => {
    const jwks = await startJwksServer();
    jwks.mode = 'status500';
    const r = await rig(jwks);
    try {
      await until('the start-up fetch failed', () => jwksFetches(jwks) === 1);
      await sleep(1500); // longer than the first backoff (1 s) in real time: a real timer would refetch here
      assert.equal(jwksFetches(jwks), 1);
      r.clock.advance(1000);
      await until('the retry fetch', () => jwksFetches(jwks) === 2);
    } finally {
      await r.close();
      await jwks.close();
    }
  });

  it('label a hung fetch a timeout', async () => {
    const jwks = await startJwksServer();
    jwks.mode = 'hang';
    const r = await rig(jwks, {}, 300);
    try {
      await until('a timed-out fetch is counted', async () =>
        /outcome="timeout"/.test(
          await r.gateway.metrics.registry.getSingleMetricAsString('inference_gateway_auth_key_fetches_total'),
        ),
      );
    } finally {
      await r.close();
      await jwks.close();
    }
  });

  it('can be found through OIDC discovery', async () => {
    const jwks = await startJwksServer();
    const r = await rig(jwks, { jwksUri: undefined, discovery: true });
    try {
      assert.equal((await predict(r, await jwks.sign({}))).status, 200);
      assert.equal(jwks.requests.get('/.well-known/openid-configuration'), 1);
    } finally {
      await r.close();
      await jwks.close();
    }
  });
});
