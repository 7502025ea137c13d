import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startHarness } from '../helpers/gateway-harness.js';
import { send, v1Body } from '../helpers/http.js';
import { rawClient, rawRequest, statusOf } from '../helpers/raw-http.js';
import {
  expectContinueThenOk,
  expectCutWith408,
  expectStalledBodyCutWith408,
  expectStalledUploadsRefused,
  HMAC_ISSUER,
} from '../helpers/slow-clients.js';
import { sleep, until } from '../helpers/wait.js';

describe('proxy: hostile clients', () => {
  it('answers 100 stalled unauthenticated 10 MB uploads from their headers, holding no memory for them', async () => {
    const h = await startHarness(() => ({ auth: { enabled: true, issuers: [HMAC_ISSUER] } }));
    try {
      await expectStalledUploadsRefused(h.url, {
        count: 100,
        head: 'POST /v1/models/iris:predict HTTP/1.1\nHost: x\nAuthorization: Bearer x\nContent-Type: application/json\n',
        status: 401,
        code: 'token_invalid',
        // The gateway alone used to hold ~1 GB here.
        maxGrowthMb: 300,
      });
    } finally {
      await h.close();
    }
  });

  it('answers Expect: 100-continue with the refusal, not 100 Continue, when the token is bad', async () => {
    const h = await startHarness(() => ({ auth: { enabled: true, issuers: [HMAC_ISSUER] } }));
    try {
      const c = await rawClient(
        h.url,
        'POST /v1/models/iris:predict HTTP/1.1\nHost: x\nAuthorization: Bearer x\nContent-Type: application/json\nContent-Length: 1000000\nExpect: 100-continue\n',
      );
      await until('an answer', () => c.received().includes('\r\n\r\n'), 2000);
      assert.equal(statusOf(c.received()), 401, c.received().slice(0, 100));
      assert.ok(!c.received().includes('100 Continue'));
      c.socket.destroy();
    } finally {
      await h.close();
    }
  });

  it('answers Expect: 100-continue with 100 Continue once the head phase allowed the request, then forwards the body', async () => {
    const h = await startHarness();
    try {
      await expectContinueThenOk(
        h.url,
        'POST /v1/models/iris:predict HTTP/1.1\nHost: x\nContent-Type: application/json\n',
        JSON.stringify(v1Body()),
      );
    } finally {
      await h.close();
    }
  });

  it('times out a slow upload with 408 request_timeout after server.requestTimeoutMs and closes the connection', async () => {
    const h = await startHarness(() => ({ server: { requestTimeoutMs: 600 } }));
    try {
      await expectStalledBodyCutWith408(
        h.url,
        'POST /v1/models/iris:predict HTTP/1.1\nHost: x\nContent-Type: application/json\n',
      );
    } finally {
      await h.close();
    }
  });

  it('closes a slowloris connection that trickles its headers after server.headersTimeoutMs with 408', async () => {
    const h = await startHarness(() => ({ server: { headersTimeoutMs: 500 } }));
    try {
      const started = performance.now();
      const c = await rawClient(h.url, 'GET /v2/health/live HTTP/1.1');
      const trickle = setInterval(() => c.socket.writable && c.socket.write('X-Slow: 1\r\n'), 100);
      try {
        await expectCutWith408(c, started);
      } finally {
        clearInterval(trickle);
      }
    } finally {
      await h.close();
    }
  });

  it('refuses connections past server.maxConnections while the admin port still answers its probes', async () => {
    const h = await startHarness(() => ({ server: { maxConnections: 20 } }));
    const idle: Socket[] = [];
    try {
      const { hostname, port } = new URL(h.url);
      for (let i = 0; i < 20; i++) {
        const s = connect(Number(port), hostname);
        s.on('error', () => undefined);
        await new Promise((r) => s.once('connect', r));
        idle.push(s);
      }
      await sleep(50);
      const extra = await rawClient(h.url, 'GET /v2/health/live HTTP/1.1\nHost: x\n');
      await Promise.race([extra.closed, sleep(2000)]);
      assert.equal(extra.socket.destroyed, true, 'the 21st connection is closed at once');
      assert.equal(extra.received(), '');
      assert.equal((await send(`${h.adminUrl}/healthz`)).status, 200);
      for (const s of idle) s.destroy();
      await sleep(50);
      assert.equal((await send(`${h.url}/v2/health/live`)).status, 200, 'served again once connections are free');
    } finally {
      for (const s of idle) s.destroy();
      await h.close();
    }
  });

  it('answers 431 headers_too_large in the JSON error shape', async () => {
    const h = await startHarness();
    try {
      const r = await rawRequest(h.url, `GET /v2/health/live HTTP/1.1\nHost: x\nX-Big: ${'a'.repeat(20000)}\n`);
      assert.equal(r.status, 431);
      assert.deepEqual(JSON.parse(r.body), {
        error: 'the request line or headers are too large',
        code: 'headers_too_large',
      });
      assert.match(r.headers['content-type'] ?? '', /^application\/json/);
      const counted = await h.gateway.metrics.registry.getSingleMetricAsString('inference_gateway_requests_total');
      assert.match(
        counted,
        /inference_gateway_requests_total\{door="proxy",route_class="unknown",outcome="headers_too_large"\} 1/,
      );
    } finally {
      await h.close();
    }
  });

  it('refuses a request framed by both Content-Length and Transfer-Encoding with 400 bad_request, never forwarding it', async () => {
    const h = await startHarness();
    try {
      const before = h.predictor.calls;
      const body = JSON.stringify(v1Body());
      const r = await rawRequest(
        h.url,
        `POST /v1/models/iris:predict HTTP/1.1\nHost: x\nContent-Length: ${body.length}\nTransfer-Encoding: chunked\n`,
        `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
      );
      assert.equal(r.status, 400);
      assert.equal(JSON.parse(r.body).code, 'bad_request');
      assert.equal(h.predictor.calls, before);
    } finally {
      await h.close();
    }
  });

  it('answers 503 server_overloaded to a body that would pass server.maxBodyBytesInFlight', async () => {
    const h = await startHarness(() => ({ server: { maxBodyBytesInFlight: 2048 } }));
    try {
      // 1400 bytes held by a stalled upload (of 1500 declared) leave no room for another 1500.
      const stalled = await rawClient(
        h.url,
        'POST /v1/models/iris:predict HTTP/1.1\nHost: x\nContent-Type: application/json\nContent-Length: 1500\n',
        Buffer.from(`{"instances": ${' '.repeat(1386)}`),
      );
      await sleep(100);
      const body = JSON.stringify({ instances: [[6.8, 2.8, 4.8, 1.4]], pad: 'x'.repeat(1450) });
      const r = await send(`${h.url}/v1/models/iris:predict`, {
        body,
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(r.status, 503);
      assert.equal(r.json()['code'], 'server_overloaded');
      stalled.socket.destroy();
      await sleep(100);
      const again = await send(`${h.url}/v1/models/iris:predict`, {
        body,
        headers: { 'content-type': 'application/json' },
      });
      assert.notEqual(again.json()['code'], 'server_overloaded', 'the bytes are released with the stalled upload');
    } finally {
      await h.close();
    }
  });
});
