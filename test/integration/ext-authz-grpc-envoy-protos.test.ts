import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startAuthDoors, type AuthDoors } from '../helpers/auth-doors.js';
import { headerMap } from '../helpers/envoy-check-client.js';
import { v1Batch } from '../helpers/http.js';

// The gRPC door decodes and answers with Envoy's own external_auth.proto (vendored under proto/):
// both header encodings Envoy can send, CheckResponse.dynamic_metadata, and an oversize body
// answered as a denial rather than a transport error.

const LIMIT = 64 * 1024;
const body = JSON.stringify(v1Batch(2));

describe("gRPC check door on Envoy's protos", () => {
  let d: AuthDoors;
  before(async () => {
    d = await startAuthDoors({ 'x-gateway-subject': 'sub' }, { server: { bodyLimitBytes: LIMIT } });
  });
  after(() => d?.close());

  it('reads the headers from header_map (encode_raw_headers, raw_value bytes) when the headers map is empty', async () => {
    const token = await d.issuer.token({ sub: 'alice' });
    const a = await d.grpc.check({
      method: 'POST',
      path: '/v1/models/iris:predict',
      body,
      headers: { authorization: `Bearer ${token}` },
      encodeRawHeaders: true,
    });
    assert.equal(a.status?.code ?? 0, 0, JSON.stringify(a));
    assert.equal(headerMap(a.ok_response?.headers)['x-gateway-subject'], 'alice');
  });

  it('refuses two Authorization lines in header_map as two credentials', async () => {
    const token = await d.issuer.token({ sub: 'alice' });
    const a = await d.grpc.check({
      method: 'POST',
      path: '/v1/models/iris:predict',
      body,
      headers: { authorization: `Bearer ${token}` },
      encodeRawHeaders: true,
      rawLines: [['authorization', `Bearer ${token}`]],
    });
    assert.equal(a.denied_response?.status?.code, 400);
    assert.equal(JSON.parse(a.denied_response.body)['code'], 'token_ambiguous');
  });

  it('refuses two Host lines in header_map', async () => {
    const token = await d.issuer.token({ sub: 'alice' });
    const a = await d.grpc.check({
      method: 'POST',
      path: '/v1/models/iris:predict',
      body,
      headers: { authorization: `Bearer ${token}`, host: 'iris.models.example' },
      encodeRawHeaders: true,
      rawLines: [['host', 'other.example']],
    });
    assert.equal(JSON.parse(a.denied_response!.body)['code'], 'host_ambiguous');
  });

  it('reads the same request the same way from the headers map', async () => {
    const token = await d.issuer.token({ sub: 'alice' });
    const a = await d.grpc.check({
      method: 'POST',
      path: '/v1/models/iris:predict',
      body,
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(a.status?.code ?? 0, 0);
    assert.equal(headerMap(a.ok_response?.headers)['x-gateway-subject'], 'alice');
  });

  it('puts the decision, model, verb, cost and subject in dynamic_metadata on allow', async () => {
    const token = await d.issuer.token({ sub: 'alice' });
    const a = await d.grpc.check({
      method: 'POST',
      path: '/v1/models/iris:predict',
      body,
      headers: { authorization: `Bearer ${token}` },
    });
    assert.deepEqual(a.dynamic_metadata?.fields, {
      decision: { string_value: 'allowed' },
      model: { string_value: 'iris' },
      verb: { string_value: 'predict' },
      cost: { number_value: 2 },
      subject: { string_value: 'alice' },
    });
  });

  it('puts the denial code in dynamic_metadata on deny, and never the token', async () => {
    const a = await d.grpc.check({
      method: 'POST',
      path: '/v1/models/iris:predict',
      body,
      headers: { authorization: 'Bearer not.a.token' },
    });
    assert.equal(a.dynamic_metadata?.fields['decision']?.string_value, 'token_invalid');
    assert.doesNotMatch(JSON.stringify(a.dynamic_metadata), /not\.a\.token/);
  });

  it('answers a body well over the limit with a denied_response 413, not a transport error', async () => {
    const token = await d.issuer.token({ sub: 'alice' });
    const big = Buffer.alloc(LIMIT + 512 * 1024, 0x20);
    const a = await d.grpc.check({
      method: 'POST',
      path: '/v1/models/iris:predict',
      body: big,
      packAsBytes: true,
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(a.denied_response?.status?.code, 413);
    assert.equal(JSON.parse(a.denied_response.body)['code'], 'body_too_large');
  });
});
