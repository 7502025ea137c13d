import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { GatewayConfig } from '../config/schema.js';

type StoreConfig = GatewayConfig['limits']['store'];

const BACKSTOP_MS = 10_000;

const hostPort = (s: string) => {
  const i = s.lastIndexOf(':');
  return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
};

/**
 * One ioredis client for the limits. No offline queue: a disconnected Redis must cost a request
 * nothing, not a wait; reconnection goes on in the background. The callers time their commands
 * out themselves (reading an answer that arrived while the process was busy first); ioredis'
 * own command timeout is only a backstop, set well after theirs: it fires in the timers phase,
 * before an answer already received is read, so on a starved process a short one would discard
 * answers the limits need (a late script that charged must be refunded).
 */
export function createRedisClient(store: StoreConfig): Redis | Cluster {
  const options: RedisOptions = {
    enableOfflineQueue: false,
    // Concurrent requests' commands leave in one write: fewer syscalls per decision under load.
    enableAutoPipelining: true,
    commandTimeout: Math.max(store.commandTimeoutMs * 4, BACKSTOP_MS),
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(100 * times, 2000),
  };
  if (store.cluster.length > 0) {
    return new Cluster(store.cluster.map(hostPort), {
      enableOfflineQueue: false,
      // Not on a cluster: ioredis' auto-pipelining picks a command's node from its first argument,
      // which for the gateway's scripts (defined without a fixed key count) is the key count, so
      // concurrent scripts of keys on several nodes went into one pipeline that ioredis refuses
      // ("All keys in the pipeline should belong to the same slots allocation group") and every
      // such charge or evidence update fell to the failure policy. Sent one by one, each command
      // is routed by its keys.
      enableAutoPipelining: false,
      redisOptions: options,
      clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
    });
  }
  if (store.sentinels.length > 0)
    return new Redis({ ...options, sentinels: store.sentinels.map(hostPort), name: store.sentinelName });
  return new Redis(store.redisUrl as string, options);
}
