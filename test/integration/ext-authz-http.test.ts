import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deny } from '../../src/decision/denial.js';
import { headerValue } from '../../src/decision/request-view.js';
import { counterValue, startDoors, type DoorFixture } from '../helpers/door-fixture.js';
import { framedMessage, irisInfer } from '../helpers/grpc-inference-client.js';
import { send } from '../helpers/http.js';
import { rawRequest } from '../helpers/raw-http.js';

// A stage standing in for authentication and limits: it injects an identity header, returns a
// RateLimit header, and refuses with rate_limited when asked to.
const identityStage = () => (seen: import('../../src/decision/request-view.js').RequestView[]) => ({
  name: 'authenticate' as const,
  injectedHeaders: ['x-gateway-subject', 'x-gateway-tier'],
  run(ctx: import('../../src/decision/decision-context.js').DecisionContext) {
    seen.push(ctx.view);
    if (headerValue(ctx.view, 'x-test-deny') === 'limit') {
      return deny('rate_limited', 'over 10 predictions per minute', {
        retryAfterSeconds: 7,
        headers: { ratelimit: '"m";r=0;t=7' },
      });
    }
    if (headerValue(ctx.view, 'x-test-deny') === 'rewrite')
      ctx.rewrite = { rewrite: (answer) => ({ ok: true, body: answer.body }) };
    ctx.upstreamHeaders['x-gateway-subject'] = 'alice';
    ctx.removeUpstreamHeaders.push('authorization');
    ctx.responseHeaders['ratelimit'] = '"m";r=9;t=60';
    return undefined;
  },
});

describe('HTTP ext-authz door', () => {
  let d: DoorFixture;
  before(async () => {
    d = await startDoors(identityStage());
  });
  after(() => d.close());

  it('allows with exactly 200, an empty body, the identity and RateLimit headers', async () => {
    const r = await send(`${d.httpUrl}/authz/v1/models/iris:predict`, {
      method: 'POST',
      headers: { 'content-length': '0' },
    });
    assert.equal(r.status, 200);
    assert.equal(r.text, '');
    assert.equal(r.headers['x-gateway-subject'], 'alice');
    assert.equal(r.headers['ratelimit'], '"m";r=9;t=60');
  });

  it('lists injected names it did not set, and the token, in x-envoy-auth-headers-to-remove', async () => {
    const r = await send(`${d.httpUrl}/authz/v1/models/iris:predict`, {
      method: 'POST',
      headers: { authorization: 'Bearer abc', 'content-length': '0' },
    });
    assert.equal(r.status, 200);
    assert.deepEqual(String(r.headers['x-envoy-auth-headers-to-remove']).split(', ').sort(), [
      'authorization',
      'x-gateway-tier',
    ]);
  });

  it('removes the pathPrefix and keeps the query string', async () => {
    await send(`${d.httpUrl}/authz/v2/models/iris/infer?trace=1&x=%2F`, {
      method: 'POST',
      headers: { 'content-length': '0' },
    });
    const v = d.seen.at(-1)!;
    assert.equal(v.door, 'ext-authz-http');
    assert.equal(v.method, 'POST');
    assert.equal(v.path, '/v2/models/iris/infer');
    assert.equal(v.query, 'trace=1&x=%2F');
  });

  it('denies 403 route_not_allowed a check whose path lacks the pathPrefix', async () => {
    const r = await send(`${d.httpUrl}/authzed/v1/models/iris:predict`, {
      method: 'POST',
      headers: { 'content-length': '0' },
    });
    assert.equal(r.status, 403);
    assert.equal(r.json()['code'], 'route_not_allowed');
  });

  it('answers a denial with its status, Retry-After, RateLimit and the JSON body', async () => {
    const r = await send(`${d.httpUrl}/authz/v1/models/iris:predict`, {
      method: 'POST',
      headers: { 'x-test-deny': 'limit', 'content-length': '0' },
    });
    assert.equal(r.status, 429);
    assert.equal(r.headers['retry-after'], '7');
    assert.equal(r.headers['ratelimit'], '"m";r=0;t=7');
    assert.match(String(r.headers['content-type']), /^application\/json/);
    assert.deepEqual(r.json(), { error: 'over 10 predictions per minute', code: 'rate_limited' });
  });

  // Envoy answers a gRPC client's denial itself and keeps the check's grpc-status; without one it
  // maps 429 to UNAVAILABLE (gRPC's HTTP-to-gRPC table), which clients treat as retryable.
  it('sets grpc-status from the code table when it denies a gRPC call (rate_limited: RESOURCE_EXHAUSTED, 8)', async () => {
    const r = await send(`${d.httpUrl}/authz/inference.GRPCInferenceService/ModelInfer`, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc', 'x-test-deny': 'limit' },
      body: framedMessage('ModelInferRequest', irisInfer([[6.8, 2.8, 4.8, 1.4]])),
    });
    assert.equal(r.status, 429);
    assert.equal(r.json()['code'], 'rate_limited');
    assert.equal(r.headers['grpc-status'], '8');
  });

  it('sets grpc-status on a gRPC call refused before it is read (no pathPrefix: PERMISSION_DENIED, 7)', async () => {
    const r = await send(`${d.httpUrl}/authzed/inference.GRPCInferenceService/ModelInfer`, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc', 'content-length': '0' },
    });
    assert.equal(r.status, 403);
    assert.equal(r.headers['grpc-status'], '7');
  });

  it('sets no grpc-status when it denies a REST request', async () => {
    const r = await send(`${d.httpUrl}/authz/v1/models/iris:predict`, {
      method: 'POST',
      headers: { 'x-test-deny': 'limit', 'content-length': '0' },
    });
    assert.equal(r.status, 429);
    assert.equal(r.headers['grpc-status'], undefined);
  });

  it('refuses with 403 scores_not_allowed an allowed request whose answer would need rewriting', async () => {
    const r = await send(`${d.httpUrl}/authz/v1/models/iris:predict`, {
      method: 'POST',
      headers: { 'x-test-deny': 'rewrite', 'content-length': '0' },
    });
    assert.equal(r.status, 403);
    assert.equal(r.json()['code'], 'scores_not_allowed');
  });

  it('sees no body when Envoy sends content-length 0', async () => {
    await send(`${d.httpUrl}/authz/v1/models/iris:predict`, { method: 'POST', headers: { 'content-length': '0' } });
    assert.equal(d.seen.at(-1)!.body, undefined);
  });

  it('reads the body as raw bytes when no content-type is sent', async () => {
    // The body is read once the head phase allowed the check: a body stage sees it.
    const bodies = await startDoors((seen) => ({ name: 'contract', run: (ctx) => void seen.push(ctx.view) }));
    try {
      const body = JSON.stringify({ instances: [[1, 2, 3, 4]] });
      await send(`${bodies.httpUrl}/authz/v1/models/iris:predict`, {
        method: 'POST',
        body,
        headers: { 'x-envoy-auth-partial-body': 'false' },
      });
      const v = bodies.seen.at(-1)!;
      assert.equal(v.headers['content-type'], undefined);
      assert.equal(v.body?.toString('utf8'), body);
      assert.equal(v.bodyPartial, false);
    } finally {
      await bodies.close();
    }
  });

  it('marks a truncated body as partial and counts it', async () => {
    const before = await counterValue(d.metrics, 'inference_gateway_ext_authz_partial_bodies_total', {
      door: 'ext-authz-http',
    });
    await send(`${d.httpUrl}/authz/v1/models/iris:predict`, {
      method: 'POST',
      body: '{"instances": [[1, 2',
      headers: { 'x-envoy-auth-partial-body': 'true' },
    });
    assert.equal(d.seen.at(-1)!.bodyPartial, true);
    assert.equal(
      await counterValue(d.metrics, 'inference_gateway_ext_authz_partial_bodies_total', { door: 'ext-authz-http' }),
      before + 1,
    );
  });

  it('keeps every raw Authorization value so two credentials can be refused', async () => {
    await rawRequest(
      d.httpUrl,
      'POST /authz/v1/models/iris:predict HTTP/1.1\nHost: x\nAuthorization: Bearer a\nAuthorization: Bearer b\nContent-Length: 0\nConnection: close\n',
    );
    assert.deepEqual(d.seen.at(-1)!.authorization, ['Bearer a', 'Bearer b']);
  });

  it('counts checks under the requests metric with the ext-authz-http door', async () => {
    const labels = { door: 'ext-authz-http', route_class: 'predict', outcome: 'allowed' };
    const before = await counterValue(d.metrics, 'inference_gateway_requests_total', labels);
    await send(`${d.httpUrl}/authz/v1/models/iris:predict`, { method: 'POST', headers: { 'content-length': '0' } });
    assert.equal(await counterValue(d.metrics, 'inference_gateway_requests_total', labels), before + 1);
  });

  it('answers Content-Length with Transfer-Encoding with 400 bad_request, as the proxy does, and counts it', async () => {
    const labels = { door: 'ext-authz-http', outcome: 'bad_request' };
    const before = await counterValue(d.metrics, 'inference_gateway_requests_total', labels);
    const r = await rawRequest(
      d.httpUrl,
      'POST /authz/v1/models/iris:predict HTTP/1.1\nHost: x\nContent-Length: 5\nTransfer-Encoding: chunked\n',
    );
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.body).code, 'bad_request');
    assert.equal(await counterValue(d.metrics, 'inference_gateway_requests_total', labels), before + 1);
  });

  it('answers 413 body_too_large for a body over the limit', async () => {
    const limit = d.config.server.bodyLimitBytes;
    const r = await send(`${d.httpUrl}/authz/v1/models/iris:predict`, {
      method: 'POST',
      body: Buffer.alloc(limit + 1, 0x20),
      headers: { 'x-envoy-auth-partial-body': 'false' },
    });
    assert.equal(r.status, 413);
    assert.equal(r.json()['code'], 'body_too_large');
  });
});
