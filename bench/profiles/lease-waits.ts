// How often a busy identity's rate-limit charges wait for Redis under quota leasing, and how many
// scripts they cost, while Redis stalls now and then: the Redis store in this process (no HTTP,
// no load generator), one identity charged at a fixed rate, and a second connection pausing
// Redis (`CLIENT PAUSE <ms> ALL`: https://redis.io/docs/latest/commands/client-pause/) at a
// fixed interval, as a CFS-throttled or descheduled Redis stalls. A charge that waited is one
// whose request waited for Redis; on a shared machine the counts are steadier than latencies.
//
//   node dist/bench/profiles/lease-waits.js --rate 4000 --seconds 4 --pause-ms 15 --lease 1000
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { buildConfig } from '../../src/config/load-config.js';
import { DebtLedger } from '../../src/limits/debt-ledger.js';
import { Leases } from '../../src/limits/leases.js';
import { LocalWindows } from '../../src/limits/local-windows.js';
import { RedisWindows } from '../../src/limits/redis-windows.js';
import { windowGroup, type Charge } from '../../src/limits/window-group.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import { createRedisClient } from '../../src/stores/redis-client.js';
import { RedisHealth } from '../../src/stores/redis-health.js';
import { startRedis } from '../../test/helpers/redis-server.js';
import { boundedArg } from '../cli-bounds.js';
import { percentile } from '../load/latency-stats.js';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '4000' },
    seconds: { type: 'string', default: '4' },
    'pause-ms': { type: 'string', default: '15' },
    // Not a divisor of the one-second window: pauses drift across window ends instead of always hitting them.
    'pause-every-ms': { type: 'string', default: '170' },
    lease: { type: 'string', default: '1000' },
  },
});
const RATE = boundedArg('rate', args.rate, 100, 50_000);
const SECONDS = boundedArg('seconds', args.seconds, 1, 30);
const PAUSE_MS = boundedArg('pause-ms', args['pause-ms'], 0, 1000);
const EVERY_MS = boundedArg('pause-every-ms', args['pause-every-ms'], 10, 10_000);
const LEASE = boundedArg('lease', args.lease, 0, 1_000_000);

// The bench's everything-on budgets: far above what the run spends, a one-second window among them.
const group = windowGroup('bench', [
  { name: 'burst', predictions: 1_000_000_000, perSeconds: 1 },
  { name: 'daily', predictions: 1_000_000_000, perSeconds: 86_400 },
]);

async function main(): Promise<void> {
  const redis = await startRedis();
  // The production client options (auto-pipelining, no offline queue) from a config as the gateway reads it.
  const config = buildConfig(
    { auth: { enabled: false }, limits: { store: { kind: 'redis', redisUrl: redis.url } } },
    'bench',
  );
  const client = createRedisClient(config.limits.store);
  const health = new RedisHealth(client, { intervalMs: 1000, timeoutMs: 1000 });
  const pauser = new Redis(redis.url);
  health.start();
  while (health.deadline(1) === undefined) await new Promise((r) => setTimeout(r, 10));
  const windows = new RedisWindows({
    client,
    keyPrefix: 'lease-waits:',
    timeoutMs: 1000,
    maxInFlight: 1000,
    deadlines: health,
    now: Date.now,
    onFailure: 'insurance',
    insurance: new LocalWindows({ maxKeys: 1000, now: Date.now, share: 1 }),
    ledger: new DebtLedger(1000),
    leases:
      LEASE > 0
        ? new Leases({ maxPredictions: LEASE, minPredictions: 16, seconds: 2, replicas: 1, maxKeys: 1000 })
        : undefined,
    metrics: new GatewayMetrics({ defaultMetrics: false }),
  });
  const scripts = async () => Number(/cmdstat_evalsha:calls=(\d+)/.exec(await pauser.info('commandstats'))?.[1] ?? 0);
  const pauses =
    PAUSE_MS > 0
      ? setInterval(() => void pauser.call('CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL'), EVERY_MS)
      : undefined;
  const total = RATE * SECONDS;
  const waits: number[] = [];
  const pending: Array<Promise<Charge>> = [];
  let refused = 0;
  let sent = 0;
  const before = await scripts();
  const t0 = performance.now();
  try {
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * RATE));
        for (; sent < due; sent++) {
          const at = performance.now();
          const r = windows.charge('bench-user', group, 1);
          if (r instanceof Promise)
            pending.push(
              r.then((c) => {
                waits.push(performance.now() - at);
                return c;
              }),
            );
          else if (r.kind !== 'allowed') refused++;
        }
        if (sent >= total) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    for (const c of await Promise.all(pending)) if (c.kind !== 'allowed') refused++;
  } finally {
    clearInterval(pauses);
  }
  const sorted = Float64Array.from(waits).sort();
  const ms = (p: number) => (sorted.length ? percentile(sorted, p).toFixed(2) : '–');
  console.log(
    `${RATE}/s for ${SECONDS} s, Redis paused ${PAUSE_MS} ms every ${EVERY_MS} ms, lease.maxPredictions ${LEASE}: ` +
      `${waits.length} of ${total} charges waited for Redis (${((100 * waits.length) / total).toFixed(2)}%), ` +
      `wait p50 ${ms(50)} p99 ${ms(99)} max ${ms(100)} ms; ${((await scripts()) - before) / total} scripts per charge; ${refused} refused`,
  );
  await windows.close();
  health.close();
  client.disconnect();
  pauser.disconnect();
  await redis.stop();
}

await main();
