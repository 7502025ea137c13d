import type { Cluster, Redis } from 'ioredis';
import type { GatewayConfig } from '../config/schema.js';
import type { Closeable } from '../decision/closeable.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { Readiness } from '../observability/readiness.js';
import { createRedisClient } from './redis-client.js';
import { RedisHealth } from './redis-health.js';

export type RedisConnection = Redis | Cluster;

/**
 * Stores shared by the capabilities that keep per-user state (rate limits, extraction), built
 * once by the composition root: one Redis connection, one failure policy, one readiness check.
 */
export interface Stores {
  /** The shared Redis connection when `limits.store.kind` is `redis`; undefined keeps state in memory. */
  readonly redis: RedisConnection | undefined;
  /** Its health, probed in the background; also converts deadlines to Redis' clock. */
  readonly redisHealth?: RedisHealth;
}

export interface StoreDeps {
  readonly readiness: Readiness;
  readonly metrics: GatewayMetrics;
  onClose(c: Closeable): void;
}

const PROBE_INTERVAL_MS = 1000;

export function createStores(config: GatewayConfig, deps: StoreDeps): Stores {
  const store = config.limits.store;
  if (store.kind !== 'redis') return { redis: undefined };
  const client = createRedisClient(store);
  // Errors are answered by each capability's failure policy and counted; keep ioredis from logging each retry.
  client.on('error', () => undefined);
  const up = deps.metrics.dependencyUp.labels({ dependency: 'redis' });
  up.set(0);
  const health = new RedisHealth(client, {
    intervalMs: PROBE_INTERVAL_MS,
    timeoutMs: store.commandTimeoutMs,
    onChange: (ok) => up.set(ok ? 1 : 0),
  });
  health.start();
  deps.onClose({
    close: () => {
      health.close();
      client.disconnect();
    },
  });
  const policy = store.onFailure;
  const notReadyAfterMs = store.notReadyAfterSeconds * 1000;
  deps.readiness.add({
    name: 'redis',
    async check() {
      const s = health.state();
      if (s.up) return { ready: true };
      const detail = `redis has not answered for ${Math.round(s.downForMs / 1000)} s (${s.reason}); onFailure: ${policy}`;
      // Readiness says whether this replica can serve under its policy. With insurance or fail-open it
      // can; failing every replica's probe at once would turn a Redis blip into a full outage. Under
      // fail-closed it cannot, but only a sustained outage says so (no flapping under a slow Redis).
      return { ready: policy !== 'fail-closed' || s.downForMs < notReadyAfterMs, degraded: true, detail };
    },
  });
  return { redis: client, redisHealth: health };
}
