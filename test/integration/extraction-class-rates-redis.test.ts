// The per-class base rates travel with the model's calibration through Redis: two replicas learn
// them together, and a replica started later (a restart) reads them back.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import {
  ENVELOPE_FAR_SIGNAL,
  ENVELOPE_SIGNAL,
  FAR_RATE_MIN_ROWS,
  MARGIN_SIGNAL,
} from '../../src/extraction/class-base-rates.js';
import { SharedCalibration } from '../../src/extraction/shared-calibration.js';
import { modelGuard } from '../helpers/extraction-population.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

/** Lends `rows` rows of class `cls`, `shown` of them beyond the envelope and with a low margin. */
function lend(cal: ReturnType<typeof modelGuard>['calibration'], cls: number, rows: number, shown: number): void {
  for (let i = 0; i < rows; i++) {
    cal.lend(ENVELOPE_SIGNAL, cls, i < shown);
    cal.lend(MARGIN_SIGNAL, cls, i < shown);
  }
}

describe('class base rates in Redis', () => {
  let redis: RedisServer;
  let client: Redis;
  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  after(async () => {
    client.disconnect();
    await redis.stop();
  });

  it('are learned together by two replicas and read back after a restart', async () => {
    const key = SharedCalibration.keyFor('rates:', 'm');
    const a = modelGuard().calibration;
    const b = modelGuard().calibration;
    lend(a, 2, 400, 200);
    lend(b, 2, 600, 100);
    lend(b, 0, 1000, 10);
    const sa = new SharedCalibration(client, key);
    const sb = new SharedCalibration(client, key);
    assert.equal(await sa.sync(a, 1), true);
    assert.equal(await sb.sync(b, 2), true);
    assert.equal(await sa.sync(a, 3), true);
    // Class 2: 300 of 1,000 rows, shrunk towards the pooled 310 of 2,000 by 64 pseudo-rows.
    const pooled = 310 / 2000;
    const expected = (300 + 64 * pooled) / (1000 + 64);
    for (const cal of [a, b]) {
      assert.ok(Math.abs(cal.classRates.pooled[ENVELOPE_SIGNAL]! - pooled) < 1e-9);
      assert.ok(Math.abs(cal.classRates.rates[MARGIN_SIGNAL]![2]! - expected) < 1e-9);
    }
    const restarted = modelGuard().calibration;
    assert.equal(await new SharedCalibration(client, key).sync(restarted, 4), true);
    assert.deepEqual(restarted.classRates.snapshot(), a.classRates.snapshot());
  });

  it('carry the far-exit rates, in force on every replica once the replicas together lent enough rows', async () => {
    const key = SharedCalibration.keyFor('far:', 'm');
    const a = modelGuard().calibration;
    const b = modelGuard().calibration;
    const half = FAR_RATE_MIN_ROWS / 2;
    for (let i = 0; i < half; i++) a.lend(ENVELOPE_FAR_SIGNAL, 2, i < 20);
    for (let i = 0; i < half; i++) b.lend(ENVELOPE_FAR_SIGNAL, 0, false);
    a.classRates.refresh();
    assert.equal(a.classRates.farReady, false, 'one replica alone has not lent enough');
    const sa = new SharedCalibration(client, key);
    assert.equal(await sa.sync(a, 1), true);
    assert.equal(await new SharedCalibration(client, key).sync(b, 2), true);
    assert.equal(await sa.sync(a, 3), true);
    assert.equal(a.classRates.farReady, true);
    assert.equal(b.classRates.farReady, true);
    const restarted = modelGuard().calibration;
    assert.equal(await new SharedCalibration(client, key).sync(restarted, 4), true);
    assert.equal(restarted.classRates.farReady, true);
    assert.deepEqual(restarted.classRates.snapshot().envelopeFar, a.classRates.snapshot().envelopeFar);
  });
});
