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

  it("fills one session up to the predictor's max concurrent streams before opening the next", async () => {
    const pool = new UpstreamSessions(origin, 4, 30_000);
    try {
      const a = pool.acquire();
      call(a);
      await once(a.session, 'remoteSettings');
      assert.equal(a.session.remoteSettings.maxConcurrentStreams, 2);
      const second = pool.acquire();
      assert.equal(second, a, 'the second call shares the first session');
      call(second);
      const third = pool.acquire();
      assert.notEqual(third.session, a.session, 'the third call opens another session');
      pool.release(second);
      assert.equal(pool.acquire(), a, 'a released place is taken again first');
    } finally {
      pool.destroy();
    }
  });

  it('puts a call on the least busy session when every session is full', async () => {
    const pool = new UpstreamSessions(origin, 1, 30_000);
    try {
      const a = pool.acquire();
      call(a);
      await once(a.session, 'remoteSettings');
      pool.acquire();
      const over = pool.acquire();
      assert.equal(over, a);
      assert.equal(a.active, 3);
    } finally {
      pool.destroy();
    }
  });

  it('opens a new session once the pooled one has closed', async () => {
    const pool = new UpstreamSessions(origin, 4, 30_000);
    try {
      const a = pool.acquire();
      call(a);
      await once(a.session, 'remoteSettings');
      a.session.destroy();
      await once(a.session, 'close');
      const next = pool.acquire();
      assert.notEqual(next.session, a.session);
    } finally {
      pool.destroy();
    }
  });
});
