// Hostile clients shared by the doors that read HTTP/1.1 themselves (the proxy and the HTTP check
// door have one intake): stalled uploads, uploads cut by the request timeout, Expect: 100-continue.
import assert from 'node:assert/strict';
import { jsonOf, rawClient, statusOf, type Raw } from './raw-http.js';
import { until } from './wait.js';

/** An issuer whose tokens the clients here never have: every bearer token they send is invalid. */
export const HMAC_ISSUER = {
  issuer: 'https://issuer.test',
  hmacSecret: 'a-test-secret-of-at-least-32-bytes!!',
  audiences: ['inference'],
  algorithms: ['HS256'],
};

const UPLOAD_BYTES = 10 * 1024 * 1024;

/**
 * `count` clients each declare a 10 MiB upload with `head` (request line and headers, without
 * Content-Length), write it while the server lets them, and stall one byte before the end. Every
 * one must be refused from its headers with `status` and `code` and have its connection closed;
 * the test process's resident memory (server and clients) must grow by less than `maxGrowthMb`.
 */
export async function expectStalledUploadsRefused(
  url: string,
  o: { count: number; head: string; status: number; code: string; maxGrowthMb: number },
): Promise<void> {
  const clients: Raw[] = [];
  try {
    const before = process.memoryUsage().rss;
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    for (let i = 0; i < o.count; i++) {
      const c = await rawClient(url, `${o.head}Content-Length: ${UPLOAD_BYTES}\n`);
      for (let mb = 0; mb < 9 && !c.socket.destroyed; mb++) c.socket.write(chunk);
      if (!c.socket.destroyed) c.socket.write(chunk.subarray(1));
      clients.push(c);
    }
    await until('every upload answered', () => clients.every((c) => c.received().includes('\r\n\r\n')), 5000);
    for (const c of clients) {
      const text = c.received();
      assert.equal(statusOf(text), o.status, text.slice(0, 200));
      assert.equal(jsonOf(text)['code'], o.code);
    }
    await until(
      'every connection closed by the server',
      () => clients.every((c) => c.socket.destroyed || c.socket.readableEnded),
      5000,
    );
    const grown = (process.memoryUsage().rss - before) / 1024 / 1024;
    // The clients' write buffers are in this process too; the bound is what holding the bodies would exceed.
    assert.ok(grown < o.maxGrowthMb, `resident memory grew ${grown.toFixed(0)} MB`);
    process.stderr.write(
      `# ${o.count} stalled 10 MiB uploads refused with ${o.code}: RSS of the test process (server and clients) grew ${grown.toFixed(1)} MB\n`,
    );
  } finally {
    for (const c of clients) c.socket.destroy();
  }
}

/** Sends `head` and the start of a 1000-byte JSON body, then nothing: the server must answer 408 request_timeout and close within 2.5 s. */
export async function expectStalledBodyCutWith408(url: string, head: string): Promise<void> {
  const started = performance.now();
  const c = await rawClient(url, `${head}Content-Length: 1000\n`, Buffer.from('{"instances": '));
  await expectCutWith408(c, started);
}

/** Waits for the server to close the connection; asserts it did so with a JSON 408 within 2.5 s of `started`. */
export async function expectCutWith408(c: Raw, started: number): Promise<void> {
  await c.closed;
  const took = performance.now() - started;
  assert.equal(statusOf(c.received()), 408);
  assert.equal(jsonOf(c.received())['code'], 'request_timeout');
  assert.ok(took < 2500, `closed after ${took.toFixed(0)} ms`);
}

/** Sends `head` with `Expect: 100-continue`; once 100 Continue arrives, the body; the final answer must be 200. */
export async function expectContinueThenOk(url: string, head: string, body: string): Promise<void> {
  const c = await rawClient(
    url,
    `${head}Content-Length: ${Buffer.byteLength(body)}\nExpect: 100-continue\nConnection: close\n`,
  );
  await until('100 Continue', () => c.received().startsWith('HTTP/1.1 100 Continue'), 2000);
  c.socket.write(body);
  await c.closed;
  assert.match(c.received(), /\r\n\r\nHTTP\/1\.1 200 OK/);
}
