// Quota leasing: gateways reserve slices of a shared budget in one real redis-server and admit from
// them without a round trip. What must hold: together they never admit more than the limit, every
// prediction Redis counts is either admitted or held unspent in a lease (at most
// lease.maxPredictions per gateway), unspent slices go back, and an outage mid-lease spends the
// lease, then follows the failure policy (insurance: a share that does not count the lease twice).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { send, v1Batch } from '../helpers/http.js';
import { countedIn, fireConcurrently, redisAnswers } from '../helpers/limits-redis.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { sleep, until } from '../helpers/wait.js';

const predict = (h: Harness) => send(`${h.url}/v1/models/iris:predict`, { body: v1Batch(1) });

const gauge = async (h: Harness, name: string) =>
  Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(await h.gateway.metrics.registry.getSingleMetricAsString(name))?.[1]);
const leased = (h: Harness) => gauge(h, 'inference_gateway_limits_leased_predictions');
const unsettled = (h: Harness) => gauge(h, 'inference_gateway_limits_unsettled_predictions');

describe('quota leasing through a shared Redis', () => {
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
  const config =
    (prefix: string, predictions: number, store: Record<string, unknown> = {}, perSeconds = 86400) =>
    () => ({
      limits: {
        default: [{ name: 'daily', predictions, perSeconds }],
        store: { kind: 'redis', redisUrl: redis.url, keyPrefix: prefix, ...store },
      },
    });
  const prefixOf = () => `lease${n++}-${Date.now()}:`;

  it('never admits more than the limit through two leasing gateways, and whatever it refused early is held in their leases, at most lease.maxPredictions each', async () => {
    const prefix = prefixOf();
    const cfg = config(prefix, 500, { replicas: 2, lease: { maxPredictions: 40, minPredictions: 2, seconds: 60 } });
    const a = await startHarness(cfg);
    const b = await startHarness(cfg);
    try {
      await Promise.all([a, b].map(redisAnswers));
      const statuses = await fireConcurrently([a.url, b.url], 1200, 1, 64);
      assert.deepEqual(
        [...statuses.keys()].filter((code) => code !== 200 && code !== 429),
        [],
      );
      const admitted = statuses.get(200) ?? 0;
      await until('Redis answered everything', async () => (await unsettled(a)) + (await unsettled(b)) === 0);
      const held = [await leased(a), await leased(b)];
      const counted = await countedIn(reader, prefix);
      assert.ok(admitted <= 500, `admitted ${admitted} of a budget of 500`);
      assert.equal(a.predictor.calls + b.predictor.calls, admitted);
      for (const x of held) assert.ok(x >= 0 && x <= 40, `a gateway holds ${x}, more than lease.maxPredictions`);
      assert.equal(
        counted,
        admitted + held[0]! + held[1]!,
        `Redis counts ${counted}: admitted ${admitted}, held ${held.join(' + ')}`,
      );
      assert.equal(counted, 500, 'the whole budget was handed out: every refusal had at most the leases left');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('gives a lease nobody spends back to Redis once it expires', async () => {
    const prefix = prefixOf();
    const h = await startHarness(config(prefix, 1000, { lease: { maxPredictions: 50, seconds: 1 } }));
    try {
      await redisAnswers(h);
      assert.equal((await predict(h)).status, 200);
      assert.equal(await leased(h), 50, 'the first request reserved a lease of 50');
      assert.equal(await countedIn(reader, prefix), 51);
      await until('the lease is returned', async () => (await countedIn(reader, prefix)) === 1, 5000);
      assert.equal(await leased(h), 0);
    } finally {
      await h.close();
    }
  });

  it('gives unspent leases back at shutdown', async () => {
    const prefix = prefixOf();
    const h = await startHarness(config(prefix, 1000, { lease: { maxPredictions: 50, seconds: 60 } }));
    let closed = false;
    try {
      await redisAnswers(h);
      for (let i = 0; i < 3; i++) assert.equal((await predict(h)).status, 200);
      assert.equal(await countedIn(reader, prefix), 51, 'one cost of 1 and a lease of 50, two of it spent since');
      await h.close();
      closed = true;
      assert.equal(await countedIn(reader, prefix), 3, 'Redis counts what was served, nothing more');
    } finally {
      if (!closed) await h.close();
    }
  });

  it('does not return a lease into a window that has restarted since it was granted', async () => {
    const prefix = prefixOf();
    const h = await startHarness(config(prefix, 1000, { lease: { maxPredictions: 50, seconds: 60 } }, 1));
    try {
      await redisAnswers(h);
      assert.equal((await predict(h)).status, 200);
      assert.equal((await predict(h)).status, 200, 'spent from the lease: 49 of it left');
      // The subject is time: the one-second window ends with the lease in it.
      await sleep(1100);
      assert.equal((await predict(h)).status, 200);
      const [key] = await reader.keys(`${prefix}*`);
      assert.equal(
        Number(await reader.hget(key!, 'u')),
        51,
        'the new window counts its cost and its own lease, and nothing of the old lease (49) is taken from it',
      );
    } finally {
      await h.close();
    }
  });

  // Each policy after a lease of 5 is spent under a frozen Redis. Insurance admits from its share
  // only what Redis had not counted, the lease included: of a budget of 20, 1 admitted and 5
  // leased before the freeze leave 14.
  const midLease = [
    { policy: 'fail-closed', budget: 1000, during: [200, 200, 200, 200, 200, 503, 503], served: 6, next: 200 },
    { policy: 'fail-open', budget: 1000, during: [200, 200, 200, 200, 200, 200, 200], served: 8, next: 200 },
    {
      policy: 'insurance',
      budget: 20,
      during: [...new Array<number>(19).fill(200), 429, 429],
      served: 20,
      next: 429,
    },
  ] as const;
  for (const { policy, budget, during, served, next } of midLease) {
    it(`spends what its lease holds while Redis is frozen, then answers as ${policy} says`, async () => {
      const prefix = prefixOf();
      const h = await startHarness(
        config(prefix, budget, {
          onFailure: policy,
          commandTimeoutMs: 100,
          lease: { maxPredictions: 5, minPredictions: 1, seconds: 60 },
        }),
      );
      let frozen = false;
      try {
        await redisAnswers(h);
        assert.equal((await predict(h)).status, 200);
        assert.equal(await leased(h), 5);
        redis.freeze();
        frozen = true;
        const seen: number[] = [];
        for (let i = 0; i < during.length; i++) seen.push((await predict(h)).status);
        assert.deepEqual(seen, during, 'five from the lease, then the policy');
        assert.equal(h.predictor.calls, served);
        redis.thaw();
        frozen = false;
        await redisAnswers(h);
        await until('what was served without Redis is handed over', async () => (await unsettled(h)) === 0);
        const counted = await countedIn(reader, prefix);
        assert.equal(counted, h.predictor.calls + (await leased(h)), 'Redis counts what was served and what is held');
        assert.equal((await predict(h)).status, next, 'the next request, as Redis counts');
      } finally {
        if (frozen) redis.thaw();
        await h.close();
      }
    });
  }

  it("tops a busy identity's lease up before it runs dry: about one script per half lease, never more than lease.maxPredictions held", async () => {
    const prefix = prefixOf();
    const h = await startHarness(
      config(prefix, 100_000, { lease: { maxPredictions: 40, minPredictions: 4, seconds: 60 } }),
    );
    try {
      await redisAnswers(h);
      const scripts = async () =>
        Number(/cmdstat_evalsha:calls=(\d+)/.exec(await reader.info('commandstats'))?.[1] ?? 0);
      const before = await scripts();
      let most = 0;
      for (let i = 0; i < 200; i++) {
        assert.equal((await predict(h)).status, 200);
        most = Math.max(most, await leased(h));
      }
      await until('Redis answered everything', async () => (await unsettled(h)) === 0);
      const sent = (await scripts()) - before;
      assert.ok(sent <= 200 / 20 + 2, `${sent} scripts for 200 requests with leases of 40 topped up at 20`);
      assert.ok(most <= 40, `held ${most}`);
      assert.equal(await countedIn(reader, prefix), 200 + (await leased(h)));
    } finally {
      await h.close();
    }
  });

  it('charges a budget too small to spare a lease per request, exactly', async () => {
    const prefix = prefixOf();
    const h = await startHarness(config(prefix, 20, { lease: { maxPredictions: 50, minPredictions: 16 } }));
    try {
      await redisAnswers(h);
      assert.equal((await predict(h)).status, 200);
      assert.equal(await leased(h), 0, '(20 - 1) / 2 is below the smallest lease of 16');
      assert.equal(await countedIn(reader, prefix), 1);
    } finally {
      await h.close();
    }
  });
});
