// The calibration lives in Redis with the limits: two gateways learn it together from the
// accounts each sees, and a gateway started later (a restart) finds it in force.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { send } from '../helpers/http.js';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import {
  IRIS_FEATURES,
  settle,
  startExtractionGateway,
  type ExtractionGateway,
} from '../helpers/extraction-gateway.js';

const EXTRACTION = {
  mode: 'enforce',
  features: IRIS_FEATURES,
  calibration: { minAccounts: 6, minQueries: 20, syncSeconds: 0.1 },
};

const calibrated = async (g: ExtractionGateway) => {
  const line = (await send(`${g.adminUrl}/metrics`)).text
    .split('\n')
    .find((l) => l.startsWith('inference_gateway_extraction_calibrated{model="iris"}'));
  return line?.endsWith(' 1') ?? false;
};

async function until(what: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await what()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return what();
}

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
    const a = await startExtractionGateway(EXTRACTION, {}, { redisUrl: redis.url });
    const b = await startExtractionGateway(EXTRACTION, {}, { redisUrl: redis.url, with: a });
    try {
      for (let u = 0; u < 3; u++) await natural(a, `a${u}`, 10 + u, 25);
      assert.equal(await until(() => calibrated(a), 400), false, 'three accounts are not enough');
      for (let u = 0; u < 3; u++) await natural(b, `b${u}`, 20 + u, 25);
      assert.equal(await until(() => calibrated(b), 3000), true, 'the second gateway calibrates on six accounts');
      assert.equal(await until(() => calibrated(a), 3000), true, 'and so does the first');
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('survives a restart: a gateway started on the same Redis is calibrated before its first request', async () => {
    const c = await startExtractionGateway(EXTRACTION, {}, { redisUrl: redis.url });
    try {
      assert.equal(await until(() => calibrated(c), 3000), true);
    } finally {
      await c.close();
    }
  });
});
