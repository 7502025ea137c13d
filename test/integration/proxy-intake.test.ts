import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { send, v1Body } from '../helpers/http.js';
import { jsonOf, rawClient, rawRequest, statusOf, statusesOf, type Raw } from '../helpers/raw-http.js';
import { until } from '../helpers/wait.js';

// The intake of the serving port, attacked as a client would: bodies on routes that take none,
// declared lengths that never arrive, pipelined garbage, oversized header blocks, underscored
// headers, and refusals that should not cost a client its connection.

const PREDICT = '/v1/models/iris:predict';
const BODY = JSON.stringify(v1Body());
const predictRequest = (extra = '') =>
  `POST ${PREDICT} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\n${extra}\r\n${BODY}`;

describe('proxy intake: bodies only where a route reads them', () => {
  let h: Harness;
  const open: Raw[] = [];
  before(async () => {
    // Two half-megabyte declarations would fill this budget if declared lengths were reserved.
    h = await startHarness(() => ({
      server: { bodyLimitBytes: 512 * 1024, maxBodyBytesInFlight: 1024 * 1024 },
      routes: { public: ['GET /v2/health/ready', 'POST /v2/health/live'] },
    }));
  });
  after(async () => {
    for (const c of open) c.socket.destroy();
    await h.close();
  });

  it('refuses a body on the public probe GET /v2/health/ready with 400 body_not_allowed, at once and never forwarded', async () => {
    const received = h.predictor.received.length;
    const c = await rawClient(
      h.url,
      `GET /v2/health/ready HTTP/1.1\nHost: x\nContent-Length: ${512 * 1024}\n`,
      Buffer.from('x'),
    );
    open.push(c);
    await until('an answer before the declared body arrived', () => c.received().includes('\r\n\r\n'), 2000);
    assert.equal(statusOf(c.received()), 400);
    assert.equal(jsonOf(c.received())['code'], 'body_not_allowed');
    await until(
      'the connection closed (the upload is never read)',
      () => c.socket.readableEnded || c.socket.destroyed,
      2000,
    );
    assert.equal(h.predictor.received.length, received);
  });

  it('never forwards a GET whose body is a whole predict request (a smuggled, unauthenticated prediction)', async () => {
    const received = h.predictor.received.length;
    const calls = h.predictor.calls;
    const smuggled = predictRequest();
    const r = await rawRequest(
      h.url,
      `GET /v2/health/ready HTTP/1.1\nHost: x\nContent-Length: ${smuggled.length}\nConnection: close\n`,
      smuggled,
    );
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.body).code, 'body_not_allowed');
    assert.equal(h.predictor.received.length, received, 'the predictor saw nothing');
    assert.equal(h.predictor.calls, calls);
  });

  it('refuses a HEAD with a body', async () => {
    const r = await rawRequest(
      h.url,
      'HEAD /v2/health/live HTTP/1.1\nHost: x\nContent-Length: 5\nConnection: close\n',
      'hello',
    );
    assert.equal(r.status, 400);
  });

  it('refuses a body on a public route whatever its method', async () => {
    const r = await rawRequest(
      h.url,
      'POST /v2/health/live HTTP/1.1\nHost: x\nContent-Length: 2\nConnection: close\n',
      '{}',
    );
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.body).code, 'body_not_allowed');
  });

  it('reserves body bytes as they arrive: stalled uploads that declared the budget hold only what they sent', async () => {
    for (let i = 0; i < 3; i++) {
      const c = await rawClient(
        h.url,
        `POST ${PREDICT} HTTP/1.1\nHost: x\nContent-Type: application/json\nContent-Length: ${512 * 1024}\n`,
        Buffer.from('{'),
      );
      open.push(c);
    }
    await new Promise((r) => setTimeout(r, 100));
    const r = await send(`${h.url}${PREDICT}`, { body: v1Body() });
    assert.equal(r.status, 200, r.text);
  });
});

describe('proxy intake: pipelining', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  const conversation = async (bytes: string) => {
    const c = await rawClient(h.url, '');
    c.socket.write(bytes);
    await until('the gateway closed the connection', () => c.socket.readableEnded || c.socket.destroyed, 5000);
    return c.received();
  };

  it('answers a valid request before the 400 of a malformed one pipelined behind it', async () => {
    const calls = h.predictor.calls;
    const text = await conversation(
      `${predictRequest()}GARBAGE / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n`,
    );
    assert.deepEqual(statusesOf(text), [200, 400]);
    assert.match(text, /"predictions"/);
    assert.equal(h.predictor.calls, calls + 1);
  });

  it('answers an HTTP/1.0 request and ignores the bytes after it', async () => {
    const body = BODY;
    const text = await conversation(
      `POST ${PREDICT} HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}\u0001\u0002 not http\r\n\r\n`,
    );
    assert.deepEqual(statusesOf(text), [200]);
  });

  it('answers a Connection: close request and ignores the bytes after it', async () => {
    const text = await conversation(`${predictRequest('Connection: close\r\n')}NOT HTTP AT ALL\r\n\r\n`);
    assert.deepEqual(statusesOf(text), [200]);
  });
});

describe('proxy intake: headers', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('refuses a header block over 16 KiB once its framing is counted, though its names and values alone are under', async () => {
    // 120 lines of 134 name and value bytes: 16,080 bytes as Node's parser counts them, 16,560 with ": " and CRLF.
    const lines = Array.from({ length: 120 }, (_, i) => `h${String(i).padStart(3, '0')}: ${'v'.repeat(130)}`).join(
      '\n',
    );
    const r = await rawRequest(h.url, `GET /v2/health/live HTTP/1.1\nHost: x\n${lines}\nConnection: close\n`);
    assert.equal(r.status, 431);
    assert.equal(JSON.parse(r.body).code, 'headers_too_large');
  });

  it('refuses more than 128 header lines with 431', async () => {
    const lines = Array.from({ length: 130 }, (_, i) => `x-h${i}: 1`).join('\n');
    const r = await rawRequest(h.url, `GET /v2/health/live HTTP/1.1\nHost: x\n${lines}\nConnection: close\n`);
    assert.equal(r.status, 431);
  });

  it('does not forward headers with an underscore (a CGI-style predictor reads x_user as x-user)', async () => {
    const r = await send(`${h.url}${PREDICT}`, {
      body: v1Body(),
      headers: { x_user: 'mallory', transfer_encoding: 'chunked', 'x-kept': 'yes' },
    });
    assert.equal(r.status, 200, r.text);
    const seen = h.predictor.received.at(-1)!.headers;
    assert.equal(seen['x_user'], undefined);
    assert.equal(seen['transfer_encoding'], undefined);
    assert.equal(seen['x-kept'], 'yes');
  });
});

describe('proxy intake: refused requests keep their connection when their small body already arrived', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('drains a small refused body and answers the next request on the same connection', async () => {
    const small = JSON.stringify(v1Body());
    const c = await rawClient(h.url, '');
    c.socket.write(
      `POST /v1/models/unknown:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${small.length}\r\n\r\n${small}`,
    );
    await until('the refusal', () => statusesOf(c.received()).length === 1, 2000);
    assert.equal(statusesOf(c.received())[0], 404);
    assert.doesNotMatch(c.received(), /connection: close/i);
    c.socket.write(predictRequest());
    await until('the second answer on the same connection', () => statusesOf(c.received()).length === 2, 2000);
    assert.deepEqual(statusesOf(c.received()), [404, 200]);
    c.socket.destroy();
  });

  it('closes the connection of a refused request whose body is large', async () => {
    const large = JSON.stringify({ instances: [[1, 2, 3, 4]], pad: 'x'.repeat(100 * 1024) });
    const c = await rawClient(h.url, '');
    c.socket.write(
      `POST /v1/models/unknown:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${large.length}\r\n\r\n${large}`,
    );
    await until('the gateway closed the connection', () => c.socket.readableEnded || c.socket.destroyed, 2000);
    assert.equal(statusOf(c.received()), 404);
    assert.match(c.received(), /connection: close/i);
  });
});
