import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startAuthDoors, type AuthDoors } from '../helpers/auth-doors.js';
import { headerMap } from '../helpers/envoy-check-client.js';
import { send, v1Body } from '../helpers/http.js';

const body = JSON.stringify(v1Body());

// With real authentication: what each door hands Envoy to apply on allow.
describe('identity headers through the ext-authz doors', () => {
  let d: AuthDoors;
  before(async () => {
    d = await startAuthDoors({ 'x-gateway-subject': 'sub' });
  });
  after(() => d?.close());

  it('HTTP check: 200 with the subject header and the token listed for removal', async () => {
    const token = await d.issuer.token({ sub: 'alice' });
    const r = await send(`${d.h.extAuthzHttpUrl}/v1/models/iris:predict`, {
      method: 'POST',
      body,
      headers: { authorization: `Bearer ${token}`, 'x-envoy-auth-partial-body': 'false' },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['x-gateway-subject'], 'alice');
    assert.deepEqual(String(r.headers['x-envoy-auth-headers-to-remove']).split(', '), ['authorization']);
  });

  it('gRPC check: OK with the subject in ok_response.headers and the token in headers_to_remove', async () => {
    const token = await d.issuer.token({ sub: 'alice' });
    const a = await d.grpc.check({
      method: 'POST',
      path: '/v1/models/iris:predict',
      body,
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(a.status?.code ?? 0, 0);
    assert.deepEqual(headerMap(a.ok_response?.headers), { 'x-gateway-subject': 'alice' });
    assert.deepEqual(a.ok_response?.headers_to_remove, ['authorization']);
  });

  it('a client-sent copy of the subject header is replaced, never trusted', async () => {
    const token = await d.issuer.token({ sub: 'alice' });
    const r = await send(`${d.h.extAuthzHttpUrl}/v1/models/iris:predict`, {
      method: 'POST',
      body,
      headers: {
        authorization: `Bearer ${token}`,
        'x-gateway-subject': 'mallory',
        'x-envoy-auth-partial-body': 'false',
      },
    });
    assert.equal(r.headers['x-gateway-subject'], 'alice');
  });

  it('the proxy applies the same: subject set, token removed, upstream', async () => {
    const token = await d.issuer.token({ sub: 'alice' });
    const r = await send(`${d.h.url}/v1/models/iris:predict`, {
      body: v1Body(),
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(r.status, 200, r.text);
    const seen = d.h.predictor.received.at(-1)!.headers;
    assert.equal(seen['x-gateway-subject'], 'alice');
    assert.equal(seen['authorization'], undefined);
  });
});
