// Extraction state shared through a real redis-server: two gateways see one account, and a Redis
// that dies mid-stream leaves each replica detecting on its own memory.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { SharedEvidence } from '../../src/extraction/shared-evidence.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { account, recorder, scriptCalls } from '../helpers/shared-evidence.js';
import { sleep, until } from '../helpers/wait.js';
import {
  IRIS_FEATURES,
  irisSweep,
  metricTotal,
  settle,
  startExtractionGateway,
  withReplicas,
} from '../helpers/extraction-gateway.js';

const EXTRACTION = {
  mode: 'enforce',
  features: IRIS_FEATURES,
  actions: { degradeAt: 3, throttleAt: 0, blockAt: 12, halfLifeSeconds: 600 },
  sharedFlushMs: 2,
};

/** Long enough for the evidence window (`sharedFlushMs`) to end and its round trip to come back. */
const flushed = () => new Promise((resolve) => setTimeout(resolve, 15));

/** The name the shared-evidence store defines its script under on the ioredis client. */
const EVIDENCE_COMMAND = 'igwAddEvidenceBatch';

const nextTurns = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('extraction state in Redis', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis.stop());

  it('lets two gateways see one account: each blocks it on the evidence both gathered', async () => {
    await withReplicas(EXTRACTION, redis.url, async (a, b) => {
      const sweep = irisSweep();
      const status = { a: 0, b: 0 };
      for (let i = 0; i < 200 && (status.a !== 403 || status.b !== 403); i++) {
        const [name, g] = i % 2 === 0 ? (['a', a] as const) : (['b', b] as const);
        status[name] = (await g.predictAs('mallory', [sweep.next().value!])).status;
        await settle();
        await flushed();
      }
      assert.deepEqual(status, { a: 403, b: 403 });
      // Neither replica scored enough alarmed queries alone to block: the shared sum did it.
      const views = await Promise.all(
        [a, b].map(
          async (g) =>
            (await g.admin(`/extraction/users?level=block`)).json<{
              users: Array<{ evidence: number; queries: number; alarmedQueries: number }>;
            }>().users[0]!,
        ),
      );
      for (const v of views) {
        assert.ok(v.evidence >= 12, `evidence ${v.evidence}`);
        assert.ok(v.alarmedQueries < 12, `this replica alone added ${v.alarmedQueries}`);
      }
      const local = views.map((v) => v.queries);
      assert.ok(Math.abs(local[0]! - local[1]!) <= 2, `each replica scored about half: ${local.join(', ')}`);
    });
  });

  it('decays the shared evidence with the half-life, across the buckets of the forward-decay sums', async () => {
    const client = new Redis(redis.url);
    try {
      const h = 1000;
      const clock = new ManualClock(0);
      const { sink, seen } = recorder();
      const shared = new SharedEvidence(client, `decay${Date.now()}:`, h, 60_000, sink, { flushMs: 20, clock });
      const acc = account('u');
      // Bucket boundaries fall every 32 half-lives: write just before one, read well after it.
      const t0 = 32 * h - 10;
      clock.advance(t0);
      shared.add(acc, 1, 8, t0);
      await shared.flush();
      assert.ok(Math.abs(seen.at(-1)!.evidence - 8) < 1e-9, `evidence ${seen.at(-1)!.evidence}`);
      clock.advance(3 * h);
      shared.add(acc, 1, 1, t0 + 3 * h);
      await shared.flush();
      const later = seen.at(-1)!;
      assert.equal(later.at, t0 + 3 * h);
      assert.ok(Math.abs(later.evidence - (8 / 8 + 1)) < 1e-9, `evidence ${later.evidence}`);
    } finally {
      client.disconnect();
    }
  });

  it('sends every update of every account within one flush window as one script, when the window ends', async () => {
    const client = new Redis(redis.url);
    const reader = new Redis(redis.url);
    try {
      const clock = new ManualClock(1000);
      const { sink, seen } = recorder();
      const prefix = `batch${Date.now()}:`;
      const shared = new SharedEvidence(client, prefix, 60_000, 60_000, sink, { flushMs: 20, clock });
      const users = ['u1', 'u2', 'u3'].map(account);
      // The script is loaded by a first flush, so the count below is of calls alone.
      shared.add(users[0]!, 0, 0, 1000);
      await shared.flush();
      seen.length = 0;
      await reader.config('RESETSTAT');
      for (let i = 0; i < 20; i++) for (const acc of users) shared.add(acc, 1, 0.5, 1000);
      await nextTurns();
      assert.equal(await scriptCalls(reader), 0, 'nothing is sent before the window ends');
      clock.advance(20);
      await until('every account’s update answered', () => seen.length === users.length);
      assert.equal(await scriptCalls(reader), 1, 'sixty updates of three accounts, one script');
      for (const acc of users) {
        assert.equal(Number(await reader.hget(shared.key('m', acc.user), 'q')), 20, 'every query counted');
        const s = seen.find((x) => x.acc === acc)!;
        // Twenty halves added at 1000, decayed to the time the answer came.
        const expected = 10 * 2 ** ((1000 - s.at) / 60_000);
        assert.ok(Math.abs(s.evidence - expected) < 1e-9, `the answer reads all twenty: evidence ${s.evidence}`);
      }
    } finally {
      client.disconnect();
      reader.disconnect();
    }
  });

  it('sends a batch at once when it reaches the cap on pending accounts', async () => {
    const client = new Redis(redis.url);
    try {
      const clock = new ManualClock(1000);
      const { sink, seen } = recorder();
      const shared = new SharedEvidence(client, `cap${Date.now()}:`, 60_000, 60_000, sink, {
        flushMs: 20,
        maxPending: 2,
        clock,
      });
      shared.add(account('u1'), 1, 1, 1000);
      shared.add(account('u2'), 1, 1, 1000);
      // The clock does not move: only the cap can have sent them.
      await until('both updates answered', () => seen.length === 2);
      assert.deepEqual(seen.map((s) => s.acc.user).sort(), ['u1', 'u2']);
    } finally {
      client.disconnect();
    }
  });

  it('keeps one flush in flight: windows that end while it waits on Redis go together once it settles', async () => {
    const client = new Redis(redis.url);
    let frozen = false;
    try {
      const clock = new ManualClock(1000);
      const { sink, seen, failed } = recorder();
      const prefix = `inflight${Date.now()}:`;
      // The first store defines the script command on the client; the store under test binds the
      // counting wrapper put in its place, which passes every call on to the real command.
      new SharedEvidence(client, prefix, 60_000, 60_000, sink, { flushMs: 20, clock });
      const commands = client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
      const script = commands[EVIDENCE_COMMAND]!;
      let calls = 0;
      let inFlight = 0;
      let most = 0;
      commands[EVIDENCE_COMMAND] = function (this: unknown, ...args: unknown[]) {
        calls++;
        most = Math.max(most, ++inFlight);
        return script.apply(this, args).finally(() => inFlight--);
      };
      const shared = new SharedEvidence(client, prefix, 60_000, 60_000, sink, { flushMs: 20, clock });
      redis.freeze();
      frozen = true;
      shared.add(account('u1'), 1, 1, clock.now());
      clock.advance(20);
      assert.equal(calls, 1, 'the first window is sent when it ends');
      for (const user of ['u2', 'u3', 'u4']) {
        shared.add(account(user), 1, 1, clock.now());
        clock.advance(20);
      }
      await sleep(100);
      assert.equal(calls, 1, 'three more windows ended while the first flush waited: nothing more is sent');
      redis.thaw();
      frozen = false;
      await until('every account answered', () => seen.length === 4);
      assert.equal(most, 1, 'never two flushes in flight');
      assert.equal(calls, 2, 'the windows that ended meanwhile went as one script');
      assert.deepEqual(failed, []);
      assert.deepEqual(
        seen.map((x) => x.acc.user),
        ['u1', 'u2', 'u3', 'u4'],
      );
    } finally {
      if (frozen) redis.thaw();
      client.disconnect();
    }
  });

  it("lets two replicas read each other's evidence after a flush", async () => {
    const [ca, cb] = [new Redis(redis.url), new Redis(redis.url)];
    try {
      const clock = new ManualClock(1000);
      const prefix = `two${Date.now()}:`;
      const a = recorder();
      const b = recorder();
      const sa = new SharedEvidence(ca, prefix, 60_000, 60_000, a.sink, { flushMs: 20, clock });
      const sb = new SharedEvidence(cb, prefix, 60_000, 60_000, b.sink, { flushMs: 20, clock });
      sa.add(account('u'), 1, 5, 1000);
      await sa.flush();
      sb.add(account('u'), 1, 2, 1000);
      await sb.flush();
      assert.ok(Math.abs(b.seen.at(-1)!.evidence - 7) < 1e-9, `b reads ${b.seen.at(-1)!.evidence}`);
    } finally {
      ca.disconnect();
      cb.disconnect();
    }
  });

  it('flushes the pending evidence when the gateway shuts down', async () => {
    const g = await startExtractionGateway(EXTRACTION, {}, { redisUrl: redis.url });
    const reader = new Redis(redis.url);
    let closed = false;
    try {
      await reader.flushall();
      assert.equal((await g.predictAs('trudy', [irisSweep().next().value!])).status, 200);
      await settle();
      await g.close();
      closed = true;
      const keys = await reader.keys('*extraction:*trudy*');
      assert.equal(keys.length, 1, `keys ${keys.join(', ')}`);
      assert.equal(Number(await reader.hget(keys[0]!, 'q')), 1);
    } finally {
      if (!closed) await g.close();
      reader.disconnect();
    }
  });

  it('goes on detecting in memory when Redis dies mid-stream, and counts the fallbacks', async () => {
    const g = await startExtractionGateway(EXTRACTION, {}, { redisUrl: redis.url });
    try {
      const sweep = irisSweep();
      for (let i = 0; i < 5; i++) {
        assert.equal((await g.predictAs('eve', [sweep.next().value!])).status, 200);
        await settle();
      }
      await redis.stop();
      let last = 0;
      for (let i = 0; i < 200 && last !== 403; i++) {
        last = (await g.predictAs('eve', [sweep.next().value!])).status;
        await settle();
      }
      assert.equal(last, 403);
      assert.ok((await metricTotal(g, 'inference_gateway_extraction_store_fallbacks_total')) > 0);
    } finally {
      await g.close();
      await redis.start();
    }
  });
});
