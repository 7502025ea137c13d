import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import {
  startExtractionGateway,
  IRIS_FEATURES,
  OPERATOR_ROLE,
  type ExtractionGateway,
} from '../helpers/extraction-gateway.js';
import { send } from '../helpers/http.js';
import { startHarness } from '../helpers/gateway-harness.js';
import { startJwksIssuer } from '../helpers/jwks-issuer.js';

const SPIFFE_OPERATOR = 'spiffe://cluster.local/ns/ml-ops/sa/operator-console';
const xfcc = (uri: string) =>
  `By=spiffe://cluster.local/ns/ml-serving/sa/inference-gateway;Hash=4f1e;Subject="CN=a,O=b";URI=${uri}`;

/** Every operator endpoint, with every method it answers, under each registered prefix. */
function operatorRequests(
  prefixes: readonly string[],
  user: string,
): Array<{ method: string; path: string; body?: object }> {
  const out: Array<{ method: string; path: string; body?: object }> = [];
  for (const p of prefixes)
    for (const method of ['GET', 'HEAD', 'DELETE', 'POST', 'PUT'])
      out.push({ method, path: p, ...(method === 'POST' ? { body: {} } : {}) });
  const u = `/extraction/users/${encodeURIComponent(user)}`;
  out.push(
    { method: 'GET', path: `${u}?model=iris` },
    { method: 'DELETE', path: `${u}?model=iris` },
    { method: 'POST', path: `${u}/allow`, body: { model: 'iris', seconds: 3600 } },
    { method: 'POST', path: `${u}/block`, body: { model: 'iris', seconds: 3600 } },
    { method: 'DELETE', path: `${u}/override?model=iris` },
    { method: 'GET', path: '/extraction/users?minLevel=flag&limit=5' },
    { method: 'GET', path: '/operator/audit?limit=5' },
  );
  return out;
}

describe('operator endpoints: a separate audience on the admin listener', () => {
  let g: ExtractionGateway;
  let user: string;
  before(async () => {
    g = await startExtractionGateway({ mode: 'enforce', features: IRIS_FEATURES });
    user = `${g.issuer.issuer}|mallory`;
    await g.predictAs('mallory', [[5.8, 3.0, 4.3, 1.3]]);
  });
  after(() => g.close());

  it('refuses an anonymous request on every operator endpoint with an RFC 6750 challenge, and changes nothing', async () => {
    const prefixes = g.gateway.adminRoutes.prefixes();
    assert.deepEqual([...prefixes].sort(), [
      '/extraction/models',
      '/extraction/users',
      '/operator/audit',
      '/operator/whoami',
    ]);
    for (const r of operatorRequests(prefixes, user)) {
      const a = await send(`${g.adminUrl}${r.path}`, { method: r.method, ...(r.body ? { body: r.body } : {}) });
      assert.equal(a.status, 401, `${r.method} ${r.path}`);
      assert.equal(a.headers['www-authenticate'], 'Bearer realm="inference-gateway"', `${r.method} ${r.path}`);
      if (r.method !== 'HEAD') assert.equal(a.json()['code'], 'token_missing');
      assert.ok(!a.text.includes('mallory'), `${r.method} ${r.path} leaks no account`);
    }
    // Still tracked and not overridden: the refused mutations did nothing.
    const still = await g.admin(`/extraction/users/${encodeURIComponent(user)}`);
    assert.equal(still.status, 200);
    assert.equal(still.json<{ models: Array<{ override?: unknown }> }>().models[0]!.override, undefined);
  });

  it('keeps /healthz, /readyz, /metrics and the console page credential-free', async () => {
    for (const p of ['/healthz', '/readyz', '/metrics', '/console'])
      assert.equal((await send(`${g.adminUrl}${p}`)).status, 200, p);
  });

  it('serves the operator endpoints to a token of a configured issuer carrying the operator role', async () => {
    const a = await g.admin('/operator/whoami');
    assert.equal(a.status, 200);
    assert.deepEqual(a.json()['operator'], { kind: 'jwt', id: `${g.issuer.issuer}|oscar` });
  });

  it('answers a valid token without the operator role with 403 insufficient_scope', async () => {
    const token = await g.issuer.token({ sub: 'alice', claims: { roles: ['model-owner'] } });
    const a = await send(`${g.adminUrl}/extraction/users`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(a.status, 403);
    assert.match(
      String(a.headers['www-authenticate']),
      /^Bearer realm="inference-gateway", error="insufficient_scope"/,
    );
  });

  it('answers a forged operator token with 401 invalid_token', async () => {
    const token = await g.issuer.token({ sub: 'oscar', claims: { roles: [OPERATOR_ROLE] }, forged: true });
    const a = await send(`${g.adminUrl}/extraction/users`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(a.status, 401);
    assert.match(String(a.headers['www-authenticate']), /error="invalid_token"/);
  });

  it('refuses two credentials with 400 invalid_request (RFC 6750 §2)', async () => {
    const token = await g.operatorToken();
    const a = await send(`${g.adminUrl}/extraction/users`, {
      headers: { authorization: [`Bearer ${token}`, `Bearer ${token}`] },
    });
    assert.equal(a.status, 400);
    assert.match(String(a.headers['www-authenticate']), /error="invalid_request"/);
  });

  it('ignores a client-sent x-forwarded-client-cert when no peer identity is configured', async () => {
    const a = await send(`${g.adminUrl}/operator/whoami`, {
      headers: { 'x-forwarded-client-cert': xfcc(SPIFFE_OPERATOR) },
    });
    assert.equal(a.status, 401);
  });

  it('logs every mutation with the operator who made it, and lists it in the audit log', async () => {
    const allow = await g.admin(`/extraction/users/${encodeURIComponent(user)}/allow`, {
      body: { model: 'iris', seconds: 600, reason: 'load test' },
    });
    assert.equal(allow.status, 200);
    const audit = (await g.admin('/operator/audit?limit=1')).json<{ entries: Array<Record<string, unknown>> }>()
      .entries;
    assert.equal(audit.length, 1);
    assert.deepEqual(
      { ...audit[0], seq: 0, at: '', until: '' },
      {
        seq: 0,
        at: '',
        until: '',
        operator: { kind: 'jwt', id: `${g.issuer.issuer}|oscar` },
        action: 'allow',
        user,
        models: ['iris'],
        reason: 'load test',
      },
    );
    await g.admin(`/extraction/users/${encodeURIComponent(user)}/override?model=iris`, { method: 'DELETE' });
  });
});

describe('the Istio peer identity', () => {
  const start = (trustedProxies: string[]) =>
    startHarness(() => ({
      operator: { spiffe: { allow: [SPIFFE_OPERATOR], trustedProxies } },
      models: { iris: { extraction: { mode: 'shadow', features: IRIS_FEATURES } } },
    }));

  it('accepts an allowed SPIFFE id in the last XFCC element from the trusted sidecar', async () => {
    const h = await start(['127.0.0.1']);
    try {
      const a = await send(`${h.adminUrl}/operator/whoami`, {
        headers: { 'x-forwarded-client-cert': xfcc(SPIFFE_OPERATOR) },
      });
      assert.equal(a.status, 200);
      assert.deepEqual(a.json()['operator'], { kind: 'spiffe', id: SPIFFE_OPERATOR });
    } finally {
      await h.close();
    }
  });

  it('refuses a SPIFFE id outside the allowlist, and an allowed one that is not the last element', async () => {
    const h = await start(['127.0.0.1']);
    try {
      const other = 'spiffe://cluster.local/ns/monitoring/sa/prometheus';
      for (const header of [
        xfcc(other),
        `${xfcc(SPIFFE_OPERATOR)},${xfcc(other)}`,
        `By=x;URI=${SPIFFE_OPERATOR};URI=${other}`,
      ]) {
        const a = await send(`${h.adminUrl}/operator/whoami`, { headers: { 'x-forwarded-client-cert': header } });
        assert.equal(a.status, 403, header);
        assert.equal(a.json()['code'], 'operator_required');
        assert.equal(
          a.headers['www-authenticate'],
          undefined,
          'no bearer challenge where tokens are not an operator identity',
        );
      }
    } finally {
      await h.close();
    }
  });

  it('ignores the header from a peer that is not the trusted sidecar', async () => {
    const h = await start(['127.0.0.6']);
    try {
      const a = await send(`${h.adminUrl}/operator/whoami`, {
        headers: { 'x-forwarded-client-cert': xfcc(SPIFFE_OPERATOR) },
      });
      assert.equal(a.status, 403);
    } finally {
      await h.close();
    }
  });
});

describe('without an operator identity configured', () => {
  it('turns the operator endpoints off and keeps the probes', async () => {
    const h = await startHarness(() => ({
      models: { iris: { extraction: { mode: 'shadow', features: IRIS_FEATURES } } },
    }));
    try {
      const a = await send(`${h.adminUrl}/extraction/users`);
      assert.equal(a.status, 404);
      assert.equal(a.json()['code'], 'operator_off');
      assert.equal((await send(`${h.adminUrl}/healthz`)).status, 200);
    } finally {
      await h.close();
    }
  });
});

describe('the operator request cap', () => {
  it('answers operator requests past operator.maxConcurrentRequests with 503 while probes still answer', async () => {
    const issuer = await startJwksIssuer('inference');
    const h = await startHarness(() => ({
      auth: { enabled: true, issuers: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audiences: ['inference'] }] },
      operator: { jwt: { claim: 'roles', values: [OPERATOR_ROLE] }, maxConcurrentRequests: 1 },
      models: { iris: { extraction: { mode: 'shadow', features: IRIS_FEATURES } } },
    }));
    const token = await issuer.token({ sub: 'oscar', claims: { roles: [OPERATOR_ROLE] } });
    try {
      // One operator request held open: its JSON body never ends.
      const url = new URL(`${h.adminUrl}/extraction/users/x/allow`);
      const held = request({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': '100' },
      });
      held.on('error', () => undefined);
      held.write('{');
      await new Promise((r) => setTimeout(r, 100));
      const busy = await send(`${h.adminUrl}/operator/whoami`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(busy.status, 503);
      assert.equal(busy.headers['retry-after'], '1');
      assert.equal((await send(`${h.adminUrl}/healthz`)).status, 200);
      held.destroy();
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(
        (await send(`${h.adminUrl}/operator/whoami`, { headers: { authorization: `Bearer ${token}` } })).status,
        200,
      );
    } finally {
      await h.close();
      await issuer.close();
    }
  });
});

describe('the audit trail in the log', () => {
  it('writes one line per operator mutation naming the operator, and never the token', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n'))
          if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const g = await startExtractionGateway({ mode: 'enforce', features: IRIS_FEATURES }, {}, { logTo: sink });
    try {
      const user = `${g.issuer.issuer}|bob`;
      await g.predictAs('bob', [[5.8, 3.0, 4.3, 1.3]]);
      const path = `/extraction/users/${encodeURIComponent(user)}`;
      assert.equal((await g.admin(`${path}/block`, { body: { model: 'iris', seconds: 600 } })).status, 200);
      assert.equal((await g.admin(`${path}/override?model=iris`, { method: 'DELETE' })).status, 200);
      assert.equal((await g.admin(path, { method: 'DELETE' })).status, 200);
      const audit = lines.filter((l) => l['audit'] !== undefined);
      assert.deepEqual(
        audit.map((l) => [
          l['msg'],
          (l['audit'] as { action: string }).action,
          (l['audit'] as { operator: { id: string } }).operator.id,
          (l['audit'] as { user: string }).user,
        ]),
        [
          ['account blocked by an operator', 'block', `${g.issuer.issuer}|oscar`, user],
          ['account override lifted by an operator', 'lift', `${g.issuer.issuer}|oscar`, user],
          ['extraction state cleared by an operator', 'clear', `${g.issuer.issuer}|oscar`, user],
        ],
      );
      assert.ok(!lines.some((l) => JSON.stringify(l).includes('eyJ')), 'no token in any line');
    } finally {
      await g.close();
    }
  });
});
