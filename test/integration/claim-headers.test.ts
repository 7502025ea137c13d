import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startAuthDoors, type AuthDoors } from '../helpers/auth-doors.js';
import { headerMap } from '../helpers/envoy-check-client.js';
import { send, v1Body } from '../helpers/http.js';

// A claim mapped to a header whose value is not a valid header value: one behaviour in all three
// doors (an RFC 8187 ext-value), never a 5xx, never a raw CR/LF.

const body = JSON.stringify(v1Body());

describe('claim values that are not valid header values, through the three doors', () => {
  let d: AuthDoors;
  before(async () => {
    d = await startAuthDoors({ 'x-user-name': 'name' });
  });
  after(() => d?.close());

  const cases = [
    { name: '李雷', sent: "UTF-8''%E6%9D%8E%E9%9B%B7" },
    { name: 'bob\r\nx-admin: true', sent: "UTF-8''bob%0D%0Ax-admin%3A%20true" },
  ];

  for (const c of cases) {
    it(`proxy: forwards ${JSON.stringify(c.name)} to the predictor encoded`, async () => {
      const token = await d.issuer.token({ claims: { name: c.name } });
      const r = await send(`${d.h.url}/v1/models/iris:predict`, {
        body: v1Body(),
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(r.status, 200, r.text);
      const seen = d.h.predictor.received.at(-1)!.headers;
      assert.equal(seen['x-user-name'], c.sent);
      assert.equal(seen['x-admin'], undefined);
    });

    it(`HTTP check: allows ${JSON.stringify(c.name)} with the encoded header`, async () => {
      const token = await d.issuer.token({ claims: { name: c.name } });
      const r = await send(`${d.h.extAuthzHttpUrl}/v1/models/iris:predict`, {
        method: 'POST',
        body,
        headers: { authorization: `Bearer ${token}`, 'x-envoy-auth-partial-body': 'false' },
      });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers['x-user-name'], c.sent);
    });

    it(`gRPC check: ok_response carries ${JSON.stringify(c.name)} encoded, with no raw CR or LF`, async () => {
      const token = await d.issuer.token({ claims: { name: c.name } });
      const a = await d.grpc.check({
        method: 'POST',
        path: '/v1/models/iris:predict',
        body,
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(a.status?.code ?? 0, 0);
      assert.equal(headerMap(a.ok_response?.headers)['x-user-name'], c.sent);
      for (const o of a.ok_response?.headers ?? []) assert.doesNotMatch(o.header.value, /[\r\n]/);
    });
  }
});
