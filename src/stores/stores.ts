import type { Cluster, Redis } from 'ioredis';
import type { GatewayConfig } from '../config/schema.js';
import type { Closeable } from '../decision/stage-deps.js';
import type { Readiness } from '../observability/readiness.js';
import { createRedisClient } from './redis-client.js';

export type RedisConnection = Redis | Cluster;

/**
 * Stores shared by the capabilities that keep per-user state (rate limits, extraction), built
 * once by the composition root: one Redis connection, one failure policy, one readiness check.
 */
export interface Stores {
  /** The shared Redis connection when `limits.store.kind` is `redis`; undefined keeps state in memory. */
  readonly redis: RedisConnection | undefined;
}

export interface StoreDeps {
  readonly readiness: Readiness;
  onClose(c: Closeable): void;
}

export function createStores(config: GatewayConfig, deps: StoreDeps): Stores {
  const store = config.limits.store;
  if (store.kind !== 'redis') return { redis: undefined };
  const client = createRedisClient(store);
  // Errors are answered by each capability's failure policy and counted; keep ioredis from logging each retry.
  client.on('error', () => undefined);
  deps.onClose({ close: () => void client.disconnect() });
  deps.readiness.add({
    name: 'redis',
    async check() {
      try {
        await client.ping();
        return { ready: true };
      } catch (err) {
        return { ready: false, detail: `redis: ${(err as Error).message}` };
      }
    },
  });
  return { redis: client };
}
