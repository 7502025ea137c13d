// Extraction evidence on a real Redis Cluster (three masters on loopback, started here). A cluster
// refuses a script whose keys lie in several slots, and each account's key is hash-tagged on the
// account: so on a cluster the store sends each pending account as its own script, to the node of
// its slot, where on a single Redis one script carries the whole window.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Cluster } from 'ioredis';
import { buildConfig } from '../../src/config/load-config.js';
import { SharedEvidence } from '../../src/extraction/shared-evidence.js';
import { createRedisClient } from '../../src/stores/redis-client.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster.js';
import { account, recorder, scriptCalls } from '../helpers/shared-evidence.js';
import { until } from '../helpers/wait.js';

const HALF_LIFE_MS = 60_000;

describe('extraction evidence on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  before(async () => {
    cluster = await startRedisCluster();
    // The gateway's own client for `limits.store.cluster`.
    const store = buildConfig(
      { auth: { enabled: false }, limits: { store: { kind: 'redis', cluster: [...cluster.nodes] } } },
      'test',
    ).limits.store;
    client = createRedisClient(store) as Cluster;
    await until('the cluster client is ready', () => client.status === 'ready', 20_000);
  });
  after(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  it('sends each account of a window as its own script to the node of its slot, and answers every account its sum', async () => {
    const clock = new ManualClock(1000);
    const { sink, seen, failed } = recorder();
    const prefix = `one${Date.now()}:`;
    const shared = new SharedEvidence(client, prefix, HALF_LIFE_MS, 60_000, sink, {
      flushMs: 20,
      clock,
    });
    const users = Array.from({ length: 12 }, (_, i) => account(`user-${i}`));
    // A first flush loads the script where each key lives, so what is counted below is calls alone.
    for (const acc of users) shared.add(acc, 0, 0, 1000);
    await shared.flush();
    assert.deepEqual(failed, [], 'the loading flush was answered');
    seen.length = 0;
    await Promise.all(cluster.masters.map((m) => m.config('RESETSTAT')));

    for (let i = 0; i < 3; i++) for (const acc of users) shared.add(acc, 1, 0.5, 1000);
    clock.advance(20);
    await until('every account answered', () => seen.length === users.length);

    assert.deepEqual(failed, [], 'no script refused (a multi-slot script is CROSSSLOT on a cluster)');
    const perNode = await Promise.all(cluster.masters.map(scriptCalls));
    assert.equal(
      perNode.reduce((a, b) => a + b, 0),
      users.length,
      `one script per account (per node: ${perNode.join(', ')})`,
    );
    assert.ok(perNode.filter((n) => n > 0).length >= 2, `the accounts lie on several nodes: ${perNode.join(', ')}`);
    // KEYS answers from the node asked only: each hash must be on exactly one of them.
    const held = (await Promise.all(cluster.masters.map((m) => m.keys(`${prefix}*`)))).flat();
    for (const acc of users) {
      const key = shared.key('m', acc.user);
      assert.equal(held.filter((k) => k === key).length, 1, `${acc.user}'s hash is on one node`);
      assert.equal(Number(await client.hget(key, 'q')), 3, `${acc.user}: every query counted`);
      const s = seen.find((x) => x.acc === acc)!;
      const expected = 1.5 * 2 ** ((1000 - s.at) / HALF_LIFE_MS);
      assert.ok(Math.abs(s.evidence - expected) < 1e-9, `${acc.user}: evidence ${s.evidence}, expected ${expected}`);
    }
  });

  it("lets two replicas read each other's evidence through the cluster", async () => {
    const clock = new ManualClock(1000);
    const prefix = `two${Date.now()}:`;
    const a = recorder();
    const b = recorder();
    const sa = new SharedEvidence(client, prefix, HALF_LIFE_MS, 60_000, a.sink, { flushMs: 20, clock });
    const sb = new SharedEvidence(client, prefix, HALF_LIFE_MS, 60_000, b.sink, { flushMs: 20, clock });
    sa.add(account('u'), 1, 5, 1000);
    sa.add(account('v'), 1, 1, 1000);
    await sa.flush();
    sb.add(account('u'), 1, 2, 1000);
    await sb.flush();
    assert.deepEqual([...a.failed, ...b.failed], []);
    assert.ok(Math.abs(b.seen.at(-1)!.evidence - 7) < 1e-9, `b reads ${b.seen.at(-1)!.evidence}`);
  });
});
