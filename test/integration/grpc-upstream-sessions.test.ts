import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { UpstreamSessions, type UpstreamSlot } from '../../src/adapters/grpc-proxy/upstream-sessions.js';

describe("the gRPC door's predictor sessions", () => {
  let server: Http2Server;
  let origin: string;
  const held: ServerHttp2Stream[] = [];

  before(async () => {
    // A predictor that takes two calls at a time per connection and answers none while the test runs.
    server = createServer({ settings: { maxConcurrentStreams: 2 } });
    server.on('stream', (s) => held.push(s));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    for (const s of held) s.close();
    server.close();
  });

  const call = (slot: UpstreamSlot) => slot.session.request({ ':method': 'POST', ':path': '/x' }, { endStream: true });

  /** A pool of `size` sessions whose first call is in flight and whose predictor settings have arrived. */
  async function withPool(size: number, test: (pool: UpstreamSessions, first: UpstreamSlot) => void | Promise<void>) {
    const pool = new UpstreamSessions(origin, size, 30_000);
    try {
      const first = pool.acquire();
      call(first);
      await once(first.session, 'remoteSettings');
      await test(pool, first);
    } finally {
      pool.destroy();
    }
  }

  it("fills one session up to the predictor's max concurrent streams before opening the next", () =>
    withPool(4, (pool, a) => {
      assert.equal(a.session.remoteSettings.maxConcurrentStreams, 2);
      const second = pool.acquire();
      assert.equal(second, a, 'the second call shares the first session');
      call(second);
      const third = pool.acquire();
      assert.notEqual(third.session, a.session, 'the third call opens another session');
      pool.release(second);
      assert.equal(pool.acquire(), a, 'a released place is taken again first');
    }));

  it('puts a call on the least busy session when every session is full', () =>
    withPool(1, (pool, a) => {
      pool.acquire();
      assert.equal(pool.acquire(), a);
      assert.equal(a.active, 3);
    }));

  it('opens a new session once the pooled one has closed', () =>
    withPool(4, async (pool, a) => {
      a.session.destroy();
      await once(a.session, 'close');
      assert.notEqual(pool.acquire().session, a.session);
    }));
});
