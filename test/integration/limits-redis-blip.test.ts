// What a Redis blip costs, counted in Redis itself: a real redis-server frozen with SIGSTOP before
// the gateway's first clock probe, requests served (or refused) during the freeze, a burst of
// concurrent requests of the same identity after it, on a quiet and on a loaded machine.
// Every wait is on an event (a readiness answer, a metric reaching zero), bounded in time.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { DebtLedger } from '../../src/limits/debt-ledger.js';
import { RedisWindows } from '../../src/limits/redis-windows.js';
import { windowGroup } from '../../src/limits/window-group.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import { RedisHealth } from '../../src/stores/redis-health.js';
import { burnCpu, type CpuBurner } from '../helpers/cpu-burner.js';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { send, v1Batch } from '../helpers/http.js';
import { countedIn, redisAnswering } from '../helpers/limits-redis.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { until } from '../helpers/wait.js';

const SERVED_DURING_FREEZE = 20;
const BURST = 8;

const predict = (h: Harness) => send(`${h.url}/v1/models/iris:predict`, { body: v1Batch(1) });
const unsettled = async (h: Harness) =>
  Number(
    /^inference_gateway_limits_unsettled_predictions (\S+)$/m.exec(
      await h.gateway.metrics.registry.getSingleMetricAsString('inference_gateway_limits_unsettled_predictions'),
    )?.[1],
  );

/** Predictions Redis counts as used that the gateway holds in its lease, not admitted yet. */
const leased = async (h: Harness) =>
  Number(
    /^inference_gateway_limits_leased_predictions (\S+)$/m.exec(
      await h.gateway.metrics.registry.getSingleMetricAsString('inference_gateway_limits_leased_predictions'),
    )?.[1],
  );

/** What Redis counts for every identity under `prefix`: the sum of the windows' usage (handover tokens are not windows). */
describe('what Redis counts after a freeze that began before the first clock probe', () => {
  let redis: RedisServer;
  let reader: Redis;
  let n = 0;
  before(async () => {
    redis = await startRedis();
    reader = new Redis(redis.url);
  });
  after(async () => {
    redis.thaw();
    reader.disconnect();
    await redis.stop();
  });

  for (const load of ['quiet', 'loaded'] as const) {
    for (const onFailure of ['insurance', 'fail-open', 'fail-closed'] as const) {
      const servedDuring = onFailure === 'fail-closed' ? 0 : SERVED_DURING_FREEZE;
      it(`counts exactly what was served (${servedDuring + BURST} when nothing times out after the thaw) and what the gateway holds in its lease under ${onFailure}, on a ${load} machine`, async (t) => {
        const prefix = `blip${n++}-${Date.now()}:`;
        const status = new Map<number, number>();
        const tally = (s: number) => status.set(s, (status.get(s) ?? 0) + 1);
        let burner: CpuBurner | undefined;
        redis.freeze();
        let frozen = true;
        const h = await startHarness(() => ({
          limits: {
            default: [{ name: 'daily', predictions: 1000, perSeconds: 86400 }],
            store: { kind: 'redis', redisUrl: redis.url, keyPrefix: prefix, onFailure, commandTimeoutMs: 50 },
          },
        }));
        try {
          if (load === 'loaded') burner = burnCpu(2, 60_000);
          const during: number[] = [];
          for (let i = 0; i < SERVED_DURING_FREEZE; i++) during.push((await predict(h)).status);
          assert.deepEqual(during, Array<number>(SERVED_DURING_FREEZE).fill(onFailure === 'fail-closed' ? 503 : 200));
          during.forEach(tally);
          redis.thaw();
          frozen = false;
          await until('the gateway sees Redis answer', () => redisAnswering(h));
          (await Promise.all(Array.from({ length: BURST }, () => predict(h)))).forEach((r) => tally(r.status));
          await until('nothing left to settle with Redis', async () => (await unsettled(h)) === 0);
          const served = status.get(200) ?? 0;
          assert.equal(
            served + (status.get(503) ?? 0),
            SERVED_DURING_FREEZE + BURST,
            `statuses ${JSON.stringify([...status])}`,
          );
          const counted = await countedIn(reader, prefix);
          // Quota leasing: Redis also counts the unspent slice the gateway reserved (at most lease.maxPredictions).
          const held = await leased(h);
          t.diagnostic(`served ${served}, counted ${counted}, leased ${held}, statuses ${JSON.stringify([...status])}`);
          assert.ok(held >= 0 && held <= 100, `leased ${held}`);
          assert.equal(counted, served + held, `served ${served}; statuses ${JSON.stringify([...status])}`);
          assert.equal(h.predictor.calls, served);
        } finally {
          if (frozen) redis.thaw();
          await burner?.stop();
          await h.close();
        }
      });
    }
  }
});

describe('the Redis window store around an outage', () => {
  let redis: RedisServer;
  let client: Redis;
  let reader: Redis;
  let n = 0;
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const group = windowGroup('g', [{ name: 'daily', predictions: 100, perSeconds: 86400 }]);
  const counted = (prefix: string) => countedIn(reader, prefix);
  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url, { enableOfflineQueue: false, enableAutoPipelining: true, lazyConnect: true });
    await client.connect();
    reader = new Redis(redis.url);
  });
  after(async () => {
    redis.thaw();
    client.disconnect();
    reader.disconnect();
    await redis.stop();
  });
  const rig = (o: {
    health: RedisHealth;
    timeoutMs?: number;
    deadlines?: RedisHealth | { deadline(b: number): number | undefined; onAnswer(l: () => void): void };
  }) => {
    const prefix = `store${n++}-${Date.now()}:`;
    const ledger = new DebtLedger(100);
    const store = new RedisWindows({
      client,
      keyPrefix: prefix,
      timeoutMs: o.timeoutMs ?? 1000,
      maxInFlight: 100,
      deadlines: o.deadlines ?? o.health,
      now: Date.now,
      onFailure: 'fail-closed',
      insurance: undefined,
      ledger,
      metrics,
    });
    return { prefix, ledger, store };
  };

  it('sends no script before a probe has compared the clocks, so a connected Redis frozen before its first probe charges nothing when it resumes', async () => {
    const health = new RedisHealth(client, { intervalMs: 60_000, timeoutMs: 1000 });
    const { prefix, store } = rig({ health });
    redis.freeze();
    try {
      assert.deepEqual(await store.charge('alice', group, 1), { kind: 'unavailable', reason: 'unprobed' });
    } finally {
      redis.thaw();
    }
    await health.probe();
    assert.deepEqual(await store.charge('alice', group, 1), {
      kind: 'allowed',
      window: 0,
      remaining: 99,
      resetMs: 86_400_000,
    });
    assert.equal(await counted(prefix), 1);
  });

  it('counts a debt once although every concurrent request of the identity carries it', async () => {
    const health = new RedisHealth(client, { intervalMs: 60_000, timeoutMs: 1000 });
    await health.probe();
    const { prefix, ledger, store } = rig({ health });
    ledger.owe('bob', group, 20);
    const answers = await Promise.all(Array.from({ length: 8 }, () => Promise.resolve(store.charge('bob', group, 1))));
    assert.deepEqual(
      answers.map((a) => a.kind),
      Array<string>(8).fill('allowed'),
    );
    assert.equal(await counted(prefix), 28);
    assert.equal(ledger.uncounted, 0);
  });

  it('counts a debt once when the answer that carried it is lost and the next script carries it again', async () => {
    const health = new RedisHealth(client, { intervalMs: 60_000, timeoutMs: 1000 });
    await health.probe();
    // A deadline far beyond the timeout: the script runs after the freeze although the gateway gave up on it, as when its answer is lost on the way back.
    const lenient = {
      deadline: (b: number) => health.deadline(b + 60_000),
      onAnswer: (l: () => void) => health.onAnswer(l),
    };
    const { prefix, ledger, store } = rig({ health, timeoutMs: 50, deadlines: lenient });
    ledger.owe('carol', group, 5);
    const handover = ledger.handoverFor('carol', group);
    redis.freeze();
    try {
      assert.deepEqual(await store.charge('carol', group, 1), { kind: 'unavailable', reason: 'timeout' });
      assert.equal(
        ledger.handoverFor('carol', group),
        handover,
        'unconfirmed: the same handover goes with the next script',
      );
    } finally {
      redis.thaw();
    }
    await until('the late answer arrived', () => store.unsettled === 1);
    assert.equal(
      ledger.outstanding('carol', group),
      -1,
      'the 503 is refunded; the debt of 5 was confirmed by the late answer',
    );
    assert.equal(await counted(prefix), 6);
    assert.equal((await store.charge('carol', group, 1)).kind, 'allowed');
    assert.equal(await counted(prefix), 6, '5 owed + this request; the refused one refunded');
    assert.equal(store.unsettled, 0);
  });

  it('hands what is owed to Redis after its next probe answer, without waiting for the identity to come back', async () => {
    const health = new RedisHealth(client, { intervalMs: 60_000, timeoutMs: 1000 });
    await health.probe();
    const { prefix, ledger, store } = rig({ health });
    ledger.owe('dave', group, 3);
    await health.probe();
    await until('the flush was answered', () => store.unsettled === 0);
    assert.equal(await counted(prefix), 3);
  });
});
