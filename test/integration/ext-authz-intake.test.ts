import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { EnvoyCheckClient, headerMap } from '../helpers/envoy-check-client.js';
import { send, v1Body } from '../helpers/http.js';
import { rawClient, rawRequest } from '../helpers/raw-http.js';
import {
  expectContinueThenOk,
  expectStalledBodyCutWith408,
  expectStalledUploadsRefused,
  HMAC_ISSUER,
} from '../helpers/slow-clients.js';
import { until } from '../helpers/wait.js';

// The HTTP check door has the proxy's intake: timeouts, a connection cap, the shared body budget,
// bodies read only after the head phase allowed the check, the same malformed-HTTP answer, and the
// same refusal of bodies on routes that take none (the gRPC check refuses those too).

const CHECK_DOORS = {
  http: { enabled: true, host: '127.0.0.1', port: 0 },
  grpc: { enabled: true, host: '127.0.0.1', port: 0 },
};

describe('HTTP check door: intake shared with the proxy', () => {
  it('answers 60 stalled unauthenticated 10 MB uploads from their headers and holds no memory for them', async () => {
    const h = await startHarness(() => ({ auth: { enabled: true, issuers: [HMAC_ISSUER] }, extAuthz: CHECK_DOORS }));
    try {
      await expectStalledUploadsRefused(h.extAuthzHttpUrl!, {
        count: 60,
        head: 'POST /v1/models/iris:predict HTTP/1.1\nHost: x\nAuthorization: Bearer x\n',
        status: 401,
        code: 'token_invalid',
        // The door alone used to grow by ~600 MB here.
        maxGrowthMb: 200,
      });
    } finally {
      await h.close();
    }
  });

  it('times out a stalled check upload with 408 request_timeout after server.requestTimeoutMs', async () => {
    const h = await startHarness(() => ({ server: { requestTimeoutMs: 600 }, extAuthz: CHECK_DOORS }));
    try {
      await expectStalledBodyCutWith408(h.extAuthzHttpUrl!, 'POST /v1/models/iris:predict HTTP/1.1\nHost: x\n');
    } finally {
      await h.close();
    }
  });

  it('closes connections past server.maxConnections', async () => {
    const h = await startHarness(() => ({ server: { maxConnections: 2 }, extAuthz: CHECK_DOORS }));
    const { port } = new URL(h.extAuthzHttpUrl!);
    const sockets = [0, 1, 2].map(() => connect(Number(port), '127.0.0.1').on('error', () => undefined));
    try {
      await until(
        'the third connection closed by the door',
        () => sockets[2]!.destroyed || sockets[2]!.readableEnded,
        2000,
      );
      assert.equal(sockets[0]!.destroyed, false);
    } finally {
      for (const s of sockets) s.destroy();
      await h.close();
    }
  });

  it('answers Expect: 100-continue once the head phase allowed the check, then reads the body', async () => {
    const h = await startHarness(() => ({ extAuthz: CHECK_DOORS }));
    try {
      await expectContinueThenOk(
        h.extAuthzHttpUrl!,
        'POST /v1/models/iris:predict HTTP/1.1\nHost: x\n',
        JSON.stringify(v1Body()),
      );
    } finally {
      await h.close();
    }
  });

  it('holds check bodies in the budget it shares with the proxy', async () => {
    const h = await startHarness(() => ({
      server: { bodyLimitBytes: 512 * 1024, maxBodyBytesInFlight: 600 * 1024 },
      extAuthz: CHECK_DOORS,
    }));
    const stalled = await rawClient(
      h.extAuthzHttpUrl!,
      `POST /v1/models/iris:predict HTTP/1.1\nHost: x\nContent-Length: ${512 * 1024}\n`,
      Buffer.alloc(500 * 1024, 0x20),
    );
    try {
      await new Promise((r) => setTimeout(r, 100));
      const body = JSON.stringify({ instances: [[6.8, 2.8, 4.8, 1.4]], pad: 'x'.repeat(200 * 1024) });
      const r = await send(`${h.url}/v1/models/iris:predict`, {
        body,
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(r.status, 503);
      assert.equal(r.json()['code'], 'server_overloaded');
    } finally {
      stalled.socket.destroy();
      await h.close();
    }
  });
});

describe('check doors: bodies only where a route reads them, underscored headers removed', () => {
  let h: Harness;
  let grpc: EnvoyCheckClient;
  before(async () => {
    h = await startHarness(() => ({ extAuthz: CHECK_DOORS }));
    grpc = new EnvoyCheckClient(h.extAuthzGrpcAddress!);
  });
  after(async () => {
    grpc.close();
    await h.close();
  });

  it('refuses a GET check that carries a body with 400 body_not_allowed', async () => {
    const r = await rawRequest(
      h.extAuthzHttpUrl!,
      'GET /v2/health/ready HTTP/1.1\nHost: x\nContent-Length: 4\nConnection: close\n',
      'abcd',
    );
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.body).code, 'body_not_allowed');
  });

  it('refuses a gRPC check of a GET that carries a body with 400 body_not_allowed', async () => {
    const a = await grpc.check({
      method: 'GET',
      path: '/v2/health/ready',
      headers: { 'content-length': '4' },
      body: 'abcd',
    });
    assert.equal(a.denied_response?.status?.code, 400);
    assert.equal(JSON.parse(a.denied_response?.body ?? '').code, 'body_not_allowed');
  });

  it('refuses a gRPC check of a public probe sent with a body as POST', async () => {
    const a = await grpc.check({
      method: 'POST',
      path: '/v2/health/ready',
      headers: { 'content-length': '4' },
      body: 'abcd',
    });
    assert.notEqual(a.status?.code ?? 0, 0, 'not allowed');
  });

  it('asks Envoy to remove underscored headers from the allowed request (HTTP check)', async () => {
    const r = await send(`${h.extAuthzHttpUrl}/v1/models/iris:predict`, {
      body: v1Body(),
      headers: { x_user: 'mallory' },
    });
    assert.equal(r.status, 200, r.text);
    assert.match(String(r.headers['x-envoy-auth-headers-to-remove']), /(^|, )x_user(,|$)/);
  });

  it('asks Envoy to remove underscored headers from the allowed request (gRPC check)', async () => {
    const a = await grpc.check({
      method: 'POST',
      path: '/v1/models/iris:predict',
      headers: { 'content-type': 'application/json', x_user: 'mallory' },
      body: JSON.stringify(v1Body()),
    });
    assert.equal(a.status?.code ?? 0, 0, JSON.stringify(a.denied_response));
    assert.ok(a.ok_response?.headers_to_remove.includes('x_user'), JSON.stringify(a.ok_response));
    assert.equal(headerMap(a.ok_response?.headers)['x_user'], undefined);
  });
});
