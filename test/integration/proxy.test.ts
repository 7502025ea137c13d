import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { send, v1Body, v2Body } from '../helpers/http.js';
import { rawRequest } from '../helpers/raw-http.js';
import { predictProba } from '../../src/quickstart/demo-model.js';

describe('reverse proxy in front of a KServe predictor', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('forwards a V1 predict and answers the predicted classes (labels-only by default)', async () => {
    const rows = [
      [6.8, 2.8, 4.8, 1.4],
      [5.1, 3.5, 1.4, 0.2],
    ];
    const r = await send(`${h.url}/v1/models/iris:predict`, { body: v1Body(rows) });
    assert.equal(r.status, 200);
    const argmax = (p: number[]) => p.indexOf(Math.max(...p));
    assert.deepEqual(r.json(), { predictions: rows.map((row) => argmax(predictProba(row))) });
    assert.equal(h.predictor.calls > 0, true);
  });

  it('forwards a V2 infer with the body bytes unchanged', async () => {
    const body = JSON.stringify({ id: 'req-7', ...v2Body() });
    const r = await send(`${h.url}/v2/models/iris/infer`, { body, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 200);
    assert.equal(r.json()['id'], 'req-7');
    assert.equal(h.predictor.received.at(-1)?.body, body);
  });

  it('forwards a body that arrives in pieces after its head, unchanged', async () => {
    const body = JSON.stringify({ id: 'slow-1', ...v2Body([[5.1, 3.5, 1.4, 0.2]]) });
    const { hostname, port } = new URL(h.url);
    const socket = connect(Number(port), hostname);
    const answer: Buffer[] = [];
    socket.on('data', (c: Buffer) => answer.push(c));
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(
      `POST /v2/models/iris/infer HTTP/1.1\r\nHost: ${h.url.slice(7)}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`,
    );
    const half = Math.floor(body.length / 2);
    for (const piece of [body.slice(0, half), body.slice(half)]) {
      await new Promise((r) => setTimeout(r, 30));
      socket.write(piece);
    }
    await new Promise<void>((r) => socket.once('close', () => r()));
    assert.match(Buffer.concat(answer).toString('utf8'), /^HTTP\/1\.1 200 /);
    assert.equal(h.predictor.received.at(-1)?.body, body);
  });

  it('forwards a body sent without a content-type', async () => {
    const body = JSON.stringify(v1Body());
    const r = await send(`${h.url}/v1/models/iris:predict`, { body });
    assert.equal(r.status, 200);
    assert.equal(h.predictor.received.at(-1)?.body, body);
  });

  it('keeps the query string when forwarding', async () => {
    await send(`${h.url}/v1/models/iris:predict?trace=1`, { body: v1Body() });
    assert.equal(h.predictor.received.at(-1)?.url, '/v1/models/iris:predict?trace=1');
  });

  for (const path of ['/', '/v1/models/iris', '/v2/health/live', '/v2/health/ready', '/v2/models/iris/ready']) {
    it(`lets the probe path GET ${path} through`, async () => {
      const r = await send(`${h.url}${path}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(h.predictor.received.at(-1)?.url, path);
    });
  }

  it('denies a path that is neither public nor a model route, without calling the predictor', async () => {
    const before = h.predictor.received.length;
    const r = await send(`${h.url}/admin/secrets`);
    assert.equal(r.status, 403);
    assert.deepEqual(r.json(), {
      error: 'this path is neither a public route nor a KServe model route',
      code: 'route_not_allowed',
    });
    assert.equal(h.predictor.received.length, before);
  });

  it('denies the V2 server metadata route by default', async () => {
    const r = await send(`${h.url}/v2`);
    assert.equal(r.status, 403);
    assert.equal(r.json()['code'], 'route_not_allowed');
  });

  it('answers 404 model_not_found for a model that is not configured', async () => {
    const r = await send(`${h.url}/v1/models/secret-model:predict`, { body: v1Body() });
    assert.equal(r.status, 404);
    assert.equal(r.json()['code'], 'model_not_found');
  });

  it('refuses a predict sent with GET', async () => {
    const r = await send(`${h.url}/v2/models/iris/infer`);
    assert.equal(r.status, 405);
    assert.equal(r.json()['code'], 'method_not_allowed');
  });

  for (const path of [
    '/v2/health/live/../../models/iris/infer',
    '/v2/models/iris%2finfer',
    '/v2//models/iris/infer',
    '/v2/models/./iris/infer',
  ]) {
    it(`refuses the ambiguous path ${path} with 400 invalid_path`, async () => {
      const r = await rawRequest(h.url, `GET ${path} HTTP/1.1\nHost: x\nConnection: close\n`);
      assert.equal(r.status, 400);
      assert.equal(JSON.parse(r.body).code, 'invalid_path');
    });
  }

  it('generates an x-request-id when absent and sends it upstream and back', async () => {
    const r = await send(`${h.url}/v1/models/iris:predict`, { body: v1Body() });
    const id = r.headers['x-request-id'];
    assert.match(String(id), /^[0-9a-f-]{36}$/);
    assert.equal(h.predictor.received.at(-1)?.headers['x-request-id'], id);
  });

  it('keeps a well-formed client x-request-id', async () => {
    const r = await send(`${h.url}/v1/models/iris:predict`, { body: v1Body(), headers: { 'x-request-id': 'abc-123' } });
    assert.equal(r.headers['x-request-id'], 'abc-123');
    assert.equal(h.predictor.received.at(-1)?.headers['x-request-id'], 'abc-123');
  });

  it('replaces a client X-Forwarded-For with the peer address and sets X-Forwarded-Proto', async () => {
    await send(`${h.url}/v1/models/iris:predict`, { body: v1Body(), headers: { 'x-forwarded-for': '6.6.6.6' } });
    const headers = h.predictor.received.at(-1)!.headers;
    assert.equal(headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(headers['x-forwarded-proto'], 'http');
  });

  it('does not forward hop-by-hop headers to the predictor or back to the client', async () => {
    const body = JSON.stringify(v1Body());
    const r = await rawRequest(
      h.url,
      `POST /v1/models/iris:predict HTTP/1.1\nHost: x\nContent-Length: ${body.length}\nConnection: close, x-drop-me\nX-Drop-Me: 1\nTE: trailers\nProxy-Authorization: Basic eDp5\n`,
      body,
    );
    assert.equal(r.status, 200);
    const headers = h.predictor.received.at(-1)!.headers;
    assert.equal(headers['x-drop-me'], undefined);
    assert.equal(headers['te'], undefined);
    assert.equal(headers['proxy-authorization'], undefined);
    // The demo predictor answers with `Keep-Alive: timeout=5`; that belongs to its hop, not ours.
    assert.equal(r.headers['keep-alive'], undefined);
  });

  it('answers 413 body_too_large in KServe error shape for a body over the limit', async () => {
    const limit = h.config.server.bodyLimitBytes;
    const r = await send(`${h.url}/v1/models/iris:predict`, {
      body: Buffer.alloc(limit + 1, 0x20),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(r.status, 413);
    assert.equal(r.json()['code'], 'body_too_large');
    assert.equal(typeof r.json()['error'], 'string');
  });

  it('keeps the status of a predictor error on a reduced route and answers its own body', async () => {
    const r = await send(`${h.url}/v1/models/iris:predict`, { body: { instances: [[1, 2]] } });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json()['code'], 'upstream_error');
  });
});

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('predictor failures', () => {
  it('answers 502 upstream_unreachable when the predictor refuses connections', async () => {
    const port = await closedPort();
    const h = await startHarness(() => ({ upstream: { url: `http://127.0.0.1:${port}` } }));
    try {
      const r = await send(`${h.url}/v1/models/iris:predict`, { body: v1Body() });
      assert.equal(r.status, 502);
      assert.equal(r.json()['code'], 'upstream_unreachable');
    } finally {
      await h.close();
    }
  });

  it('answers 504 upstream_timeout when the predictor is slower than upstream.timeoutMs', async () => {
    const h = await startHarness(() => ({ upstream: { timeoutMs: 150 } }), { delayMs: 1000 });
    try {
      const r = await send(`${h.url}/v2/models/iris/infer`, { body: v2Body() });
      assert.equal(r.status, 504);
      assert.equal(r.json()['code'], 'upstream_timeout');
    } finally {
      await h.close();
    }
  });
});
