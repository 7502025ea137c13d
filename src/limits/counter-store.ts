import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Cluster, Redis } from 'ioredis';
import type { GatewayMetrics } from '../observability/metrics.js';

/** The state of one window after a request's cost was counted. */
export type Consumed =
  | { readonly kind: 'ok'; readonly remaining: number; readonly resetMs: number }
  | { readonly kind: 'limited'; readonly resetMs: number }
  | { readonly kind: 'error'; readonly error: unknown };

/** One budget (`points` per `durationSeconds`), counted per key. */
export interface WindowCounter {
  consume(key: string, cost: number): Promise<Consumed>;
  /** Gives points back: a refused request is refused whole and costs nothing. */
  refund(key: string, cost: number): Promise<void>;
}

/** Where counters live; chosen once in `createCounterStore`, the same contract for every kind. */
export interface CounterStore {
  readonly kind: 'memory' | 'redis';
  counter(id: string, points: number, durationSeconds: number): WindowCounter;
}

class FlexibleCounter implements WindowCounter {
  constructor(private readonly limiter: RateLimiterAbstract) {}

  async consume(key: string, cost: number): Promise<Consumed> {
    try {
      const r = await this.limiter.consume(key, cost);
      return { kind: 'ok', remaining: r.remainingPoints, resetMs: r.msBeforeNext };
    } catch (err) {
      if (err instanceof RateLimiterRes) return { kind: 'limited', resetMs: err.msBeforeNext };
      return { kind: 'error', error: err };
    }
  }

  async refund(key: string, cost: number): Promise<void> {
    try {
      await this.limiter.reward(key, cost);
    } catch {
      // A failed refund only over-counts until the window resets; never fail the request for it.
    }
  }
}

export function memoryCounterStore(): CounterStore {
  return {
    kind: 'memory',
    counter: (id, points, duration) => new FlexibleCounter(new RateLimiterMemory({ keyPrefix: id, points, duration })),
  };
}

export interface RedisStoreOptions {
  readonly client: Redis | Cluster;
  readonly keyPrefix: string;
  readonly onFailure: 'insurance' | 'fail-closed' | 'fail-open';
  readonly replicas: number;
  readonly metrics: GatewayMetrics;
}

/**
 * Counters shared by every replica through Redis. When Redis is not ready or a command fails,
 * the insurance policy counts in memory with each replica's share of the budget; the other
 * policies surface the error so the stage can fail open or closed.
 */
export function redisCounterStore(o: RedisStoreOptions): CounterStore {
  return {
    kind: 'redis',
    counter(id, points, duration) {
      let insuranceLimiter: RateLimiterMemory | undefined;
      if (o.onFailure === 'insurance') {
        const insurance = new RateLimiterMemory({ keyPrefix: `insurance:${id}`, points: Math.max(1, Math.floor(points / o.replicas)), duration });
        const consume = insurance.consume.bind(insurance);
        // Counted here because rate-limiter-flexible switches to the insurance limiter silently.
        insurance.consume = (key, cost, options) => {
          o.metrics.limitsStoreFallbacks.inc({ policy: 'insurance' });
          return consume(key, cost, options);
        };
        insuranceLimiter = insurance;
      }
      return new FlexibleCounter(
        new RateLimiterRedis({
          storeClient: o.client,
          keyPrefix: `${o.keyPrefix}${id}`,
          points,
          duration,
          rejectIfRedisNotReady: true,
          ...(insuranceLimiter ? { insuranceLimiter } : {}),
        }),
      );
    },
  };
}
