import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { GatewayConfig } from '../config/schema.js';

type StoreConfig = GatewayConfig['limits']['store'];

const hostPort = (s: string) => {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
};

/**
 * One ioredis client for the limits. No offline queue and a command timeout: a dead Redis must
 * cost a request milliseconds, not an unbounded wait; reconnection goes on in the background.
 */
export function createRedisClient(store: StoreConfig): Redis | Cluster {
  const options: RedisOptions = {
    enableOfflineQueue: false,
    // Concurrent requests' commands leave in one write: fewer syscalls per decision under load.
    enableAutoPipelining: true,
    commandTimeout: store.commandTimeoutMs,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(100 * times, 2000),
  };
  if (store.cluster.length > 0) {
    return new Cluster(store.cluster.map(hostPort), { enableOfflineQueue: false, enableAutoPipelining: true, redisOptions: options, clusterRetryStrategy: (times) => Math.min(100 * times, 2000) });
  }
  if (store.sentinels.length > 0) return new Redis({ ...options, sentinels: store.sentinels.map(hostPort), name: store.sentinelName });
  return new Redis(store.redisUrl as string, options);
}
