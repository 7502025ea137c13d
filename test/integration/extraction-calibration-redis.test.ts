// The calibration lives in Redis with the limits: two gateways learn it together from the
// accounts each sees, and a gateway started later (a restart) finds it in force.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { sleep, until } from '../helpers/wait.js';
import {
  IRIS_FEATURES,
  metricTotal,
  settle,
  startExtractionGateway,
  withReplicas,
  type ExtractionGateway,
} from '../helpers/extraction-gateway.js';

const EXTRACTION = {
  mode: 'enforce',
  features: IRIS_FEATURES,
  calibration: { minAccounts: 6, minQueries: 20, syncSeconds: 0.1 },
};

const calibrated = async (g: ExtractionGateway) =>
  (await metricTotal(g, 'inference_gateway_extraction_calibrated', 'model="iris"')) === 1;

/** An account sending `n` natural iris rows. */
async function natural(g: ExtractionGateway, sub: string, seed: number, n: number): Promise<void> {
  const rng = new Xoshiro128(seed);
  for (let i = 0; i < n; i++) {
    const row = IRIS_FEATURES.centre.map(
      (c, j) => Math.round((c + IRIS_FEATURES.scale[j]! * rng.normal()) * 100) / 100,
    );
    assert.equal((await g.predictAs(sub, [row])).status, 200);
  }
  await settle();
}

describe('extraction calibration in Redis', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis.stop());

  it('is shared by two gateways: neither has enough accounts alone, together they calibrate', async () => {
    await withReplicas(EXTRACTION, redis.url, async (a, b) => {
      for (let u = 0; u < 3; u++) await natural(a, `a${u}`, 10 + u, 25);
      // Four sync periods (syncSeconds 0.1): time enough to calibrate, were three accounts enough.
      await sleep(400);
      assert.equal(await calibrated(a), false, 'three accounts are not enough');
      for (let u = 0; u < 3; u++) await natural(b, `b${u}`, 20 + u, 25);
      await until('the second gateway calibrates on six accounts', () => calibrated(b), 3000);
      await until('and so does the first', () => calibrated(a), 3000);
    });
  });

  it('survives a restart: a gateway started on the same Redis is calibrated before its first request', async () => {
    const c = await startExtractionGateway(EXTRACTION, {}, { redisUrl: redis.url });
    try {
      await until('calibrated from Redis', () => calibrated(c), 3000);
    } finally {
      await c.close();
    }
  });
});
