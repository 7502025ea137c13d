import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DecisionContext } from '../../src/decision/decision-context.js';
import { deny } from '../../src/decision/denial.js';
import { headerValue, type RequestView } from '../../src/decision/request-view.js';
import { counterValue, startDoors, type DoorFixture } from '../helpers/door-fixture.js';
import { EnvoyCheckClient, envoyCheckRequest, headerMap } from '../helpers/envoy-check-client.js';

const GRPC_OK = 0;
const GRPC_INTERNAL = 13;
const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_UNAUTHENTICATED = 16;
const OVERWRITE_IF_EXISTS_OR_ADD = 2;

const stage = (seen: RequestView[]) => ({
  name: 'authenticate' as const,
  injectedHeaders: ['x-gateway-subject', 'x-gateway-tier'],
  run(ctx: DecisionContext) {
    seen.push(ctx.view);
    const mode = headerValue(ctx.view, 'x-test');
    if (mode === 'limit')
      return deny('rate_limited', 'over 10 predictions per minute', {
        retryAfterSeconds: 7,
        headers: { ratelimit: '"m";r=0;t=7' },
      });
    if (mode === 'no-token') return deny('token_missing', 'a bearer token is required');
    if (mode === 'crash') throw new Error('boom');
    if (mode === 'rewrite') ctx.rewrite = { rewrite: (answer) => ({ ok: true, body: answer.body }) };
    ctx.upstreamHeaders['x-gateway-subject'] = 'alice';
    ctx.removeUpstreamHeaders.push('authorization');
    ctx.responseHeaders['ratelimit'] = '"m";r=9;t=60';
    return undefined;
  },
});

describe('gRPC ext-authz door (envoy.service.auth.v3.Authorization/Check)', () => {
  let d: DoorFixture;
  let client: EnvoyCheckClient;
  before(async () => {
    d = await startDoors(stage);
    client = new EnvoyCheckClient(d.grpcAddress);
  });
  after(async () => {
    client.close();
    await d.close();
  });

  it('allows with status OK and ok_response headers, headers_to_remove and response_headers_to_add', async () => {
    const a = await client.check({
      method: 'POST',
      path: '/v1/models/iris:predict',
      headers: { authorization: 'Bearer abc' },
    });
    assert.deepEqual(a.status, { code: GRPC_OK });
    assert.equal(a.denied_response, undefined);
    const ok = a.ok_response!;
    assert.deepEqual(ok.headers, [{ header: { key: 'x-gateway-subject', value: 'alice' }, append: { value: false } }]);
    assert.deepEqual([...ok.headers_to_remove].sort(), ['authorization', 'x-gateway-tier']);
    assert.deepEqual(ok.response_headers_to_add, [
      { header: { key: 'ratelimit', value: '"m";r=9;t=60' }, append_action: OVERWRITE_IF_EXISTS_OR_ADD },
    ]);
  });

  it('denies with RESOURCE_EXHAUSTED and a denied_response carrying 429, Retry-After, RateLimit and the JSON body', async () => {
    const a = await client.check({ method: 'POST', path: '/v1/models/iris:predict', headers: { 'x-test': 'limit' } });
    assert.equal(a.status?.code, GRPC_RESOURCE_EXHAUSTED);
    assert.equal(a.status?.message, 'over 10 predictions per minute');
    assert.equal(a.ok_response, undefined);
    const denied = a.denied_response!;
    assert.equal(denied.status?.code, 429);
    const h = headerMap(denied.headers);
    assert.equal(h['retry-after'], '7');
    assert.equal(h['ratelimit'], '"m";r=0;t=7');
    assert.match(h['content-type'] ?? '', /^application\/json/);
    assert.deepEqual(JSON.parse(denied.body), { error: 'over 10 predictions per minute', code: 'rate_limited' });
  });

  it('denies a missing token with UNAUTHENTICATED, 401 and a WWW-Authenticate challenge', async () => {
    const a = await client.check({
      method: 'POST',
      path: '/v1/models/iris:predict',
      headers: { 'x-test': 'no-token' },
    });
    assert.equal(a.status?.code, GRPC_UNAUTHENTICATED);
    assert.equal(a.denied_response?.status?.code, 401);
    assert.equal(headerMap(a.denied_response?.headers)['www-authenticate'], 'Bearer realm="inference-gateway"');
  });

  it('takes method and path from the request, the query from inside path, and drops pseudo-headers', async () => {
    await client.check({
      method: 'POST',
      path: '/v2/models/iris/infer?trace=1',
      headers: { 'x-request-id': 'req-42' },
    });
    const v = d.seen.at(-1)!;
    assert.equal(v.door, 'ext-authz-grpc');
    assert.equal(v.method, 'POST');
    assert.equal(v.path, '/v2/models/iris/infer');
    assert.equal(v.query, 'trace=1');
    assert.equal(v.requestId, 'req-42');
    assert.equal(v.peer, '10.1.2.3');
    assert.equal(v.headers['host'], 'iris.models.example');
    assert.equal(
      Object.keys(v.headers).some((k) => k.startsWith(':')),
      false,
    );
  });

  it('falls back to the pseudo-headers when method and path fields are empty', async () => {
    const msg = envoyCheckRequest({ method: 'POST', path: '/v1/models/iris:explain?from=pseudo' });
    const http = (msg['attributes'] as { request: { http: Record<string, unknown> } }).request.http;
    delete http['method'];
    delete http['path'];
    await client.checkMessage(msg);
    const v = d.seen.at(-1)!;
    assert.equal(v.method, 'POST');
    assert.equal(v.path, '/v1/models/iris:explain');
    assert.equal(v.query, 'from=pseudo');
  });

  it('reads the body from body (UTF-8)', async () => {
    const body = JSON.stringify({ instances: [[1, 2, 3, 4]] });
    await client.check({ method: 'POST', path: '/v1/models/iris:predict', body });
    assert.equal(d.seen.at(-1)!.body?.toString('utf8'), body);
    assert.equal(d.seen.at(-1)!.bodyPartial, false);
  });

  it('reads the body from raw_body (packAsBytes)', async () => {
    const body = Buffer.from([0x7b, 0x7d, 0x00, 0xff]);
    await client.check({ method: 'POST', path: '/v2/models/iris/infer', body, packAsBytes: true });
    assert.deepEqual(d.seen.at(-1)!.body, body);
  });

  it('sees no body when Envoy attached none', async () => {
    await client.check({ method: 'POST', path: '/v1/models/iris:predict' });
    assert.equal(d.seen.at(-1)!.body, undefined);
  });

  it('marks a truncated body as partial and counts it', async () => {
    const before = await counterValue(d.metrics, 'inference_gateway_ext_authz_partial_bodies_total', {
      door: 'ext-authz-grpc',
    });
    await client.check({ method: 'POST', path: '/v1/models/iris:predict', body: '{"instances": [[1', partial: true });
    assert.equal(d.seen.at(-1)!.bodyPartial, true);
    assert.equal(
      await counterValue(d.metrics, 'inference_gateway_ext_authz_partial_bodies_total', { door: 'ext-authz-grpc' }),
      before + 1,
    );
  });

  it('denies a body over the limit with body_too_large and 413', async () => {
    const limit = d.config.server.bodyLimitBytes;
    const a = await client.check({
      method: 'POST',
      path: '/v1/models/iris:predict',
      body: Buffer.alloc(limit + 1, 0x20),
      packAsBytes: true,
    });
    assert.equal(a.denied_response?.status?.code, 413);
    assert.equal(JSON.parse(a.denied_response.body).code, 'body_too_large');
  });

  it('refuses with scores_not_allowed an allowed request whose answer would need rewriting', async () => {
    const a = await client.check({ method: 'POST', path: '/v1/models/iris:predict', headers: { 'x-test': 'rewrite' } });
    assert.equal(a.status?.code, 7); // PERMISSION_DENIED
    assert.equal(a.denied_response?.status?.code, 403);
    assert.equal(JSON.parse(a.denied_response.body).code, 'scores_not_allowed');
  });

  it('answers a gRPC INTERNAL error, not a denial, when deciding fails', async () => {
    await assert.rejects(
      client.check({ method: 'POST', path: '/v1/models/iris:predict', headers: { 'x-test': 'crash' } }),
      (e: { code?: number }) => e.code === GRPC_INTERNAL,
    );
  });

  it('counts checks under the requests metric with the ext-authz-grpc door', async () => {
    const labels = { door: 'ext-authz-grpc', route_class: 'predict', outcome: 'allowed' };
    const before = await counterValue(d.metrics, 'inference_gateway_requests_total', labels);
    await client.check({ method: 'POST', path: '/v1/models/iris:predict' });
    assert.equal(await counterValue(d.metrics, 'inference_gateway_requests_total', labels), before + 1);
  });
});
