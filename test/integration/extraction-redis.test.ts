// Extraction state shared through a real redis-server: two gateways see one account, and a Redis
// that dies mid-stream leaves each replica detecting on its own memory.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { AccountState } from '../../src/extraction/account-state.js';
import { DEFAULT_DETECTOR_SETTINGS } from '../../src/extraction/detector-settings.js';
import { QueryScorer } from '../../src/extraction/query-scorer.js';
import { SharedEvidence } from '../../src/extraction/shared-evidence.js';
import { send } from '../helpers/http.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import {
  IRIS_FEATURES,
  irisSweep,
  settle,
  startExtractionGateway,
  type ExtractionGateway,
} from '../helpers/extraction-gateway.js';

const EXTRACTION = {
  mode: 'enforce',
  features: IRIS_FEATURES,
  actions: { degradeAt: 3, throttleAt: 0, blockAt: 12, halfLifeSeconds: 600 },
};

const metric = async (g: ExtractionGateway, name: string) => {
  const text = (await send(`${g.adminUrl}/metrics`)).text;
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);
};

describe('extraction state in Redis', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis.stop());

  it('lets two gateways see one account: each blocks it on the evidence both gathered', async () => {
    const a = await startExtractionGateway(EXTRACTION, {}, { redisUrl: redis.url });
    const b = await startExtractionGateway(EXTRACTION, {}, { redisUrl: redis.url, with: a });
    try {
      const sweep = irisSweep();
      const status = { a: 0, b: 0 };
      for (let i = 0; i < 200 && (status.a !== 403 || status.b !== 403); i++) {
        const [name, g] = i % 2 === 0 ? (['a', a] as const) : (['b', b] as const);
        status[name] = (await g.predictAs('mallory', [sweep.next().value!])).status;
        await settle();
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
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('decays the shared evidence with the half-life, across the buckets of the forward-decay sums', async () => {
    const client = new Redis(redis.url);
    try {
      const h = 1000;
      const shared = new SharedEvidence(client, 'test:', h, 60_000);
      const acc = new AccountState('u', 'm', new QueryScorer(undefined, DEFAULT_DETECTOR_SETTINGS, 1).createState(), 0);
      // Bucket boundaries fall every 32 half-lives: write just before one, read well after it.
      const t0 = 32 * h - 10;
      const first = await shared.add(acc, 1, 8, t0);
      assert.ok(Math.abs(first!.evidence - 8) < 1e-9);
      const later = await shared.add(acc, 1, 1, t0 + 3 * h);
      assert.ok(Math.abs(later!.evidence - (8 / 8 + 1)) < 1e-9, `evidence ${later!.evidence}`);
    } finally {
      client.disconnect();
    }
  });

  it("sums an account's concurrent updates into one round trip at a time, each reading the shared sum with all of them in it", async () => {
    const client = new Redis(redis.url);
    const reader = new Redis(redis.url);
    try {
      const shared = new SharedEvidence(client, `batch${Date.now()}:`, 60_000, 60_000);
      const acc = new AccountState('u', 'm', new QueryScorer(undefined, DEFAULT_DETECTOR_SETTINGS, 1).createState(), 0);
      const calls = async () => Number(/cmdstat_hgetall:calls=(\d+)/.exec(await reader.info('commandstats'))?.[1] ?? 0);
      const before = await calls();
      const answers = await Promise.all(Array.from({ length: 20 }, () => shared.add(acc, 1, 0.5, 1000)));
      assert.ok((await calls()) - before <= 2, `${(await calls()) - before} round trips for 20 concurrent updates`);
      assert.equal(Number(await reader.hget(shared.key('m', 'u'), 'q')), 20, 'every query counted');
      const last = answers.at(-1)!.evidence;
      assert.ok(Math.abs(last - 10) < 1e-9, `the last update reads all twenty: evidence ${last}`);
    } finally {
      client.disconnect();
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
      assert.ok((await metric(g, 'inference_gateway_extraction_store_fallbacks_total')) > 0);
    } finally {
      await g.close();
      await redis.start();
    }
  });
});
