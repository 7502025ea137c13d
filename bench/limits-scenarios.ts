import { startRedis, type RedisServer } from '../test/helpers/redis-server.js';
import { passThroughGateway, v1Predict, type Scenario, type SetupContext } from './scenarios-common.js';

// Budgets far above what a run can spend: the bench measures the cost of counting, not refusals.
const roomy = [
  { name: 'burst', predictions: 1_000_000_000, perSeconds: 1 },
  { name: 'daily', predictions: 1_000_000_000, perSeconds: 86400 },
];
// Without a token every request is counted under one key (the peer address): the worst case for a hot key.
export function limitsMemoryScenario(): Scenario {
  return {
    name: 'gateway limits memory',
    baseline: 'gateway pass-through',
    gateway: (ctx: SetupContext) => ({ ...passThroughGateway(ctx), limits: { default: roomy } }),
    requests: () => [v1Predict()],
  };
}

/** The same two windows counted in a real redis-server started for the scenario. */
export function limitsRedisScenario(): Scenario {
  let redis: RedisServer | undefined;
  return {
    name: 'gateway limits redis',
    baseline: 'gateway pass-through',
    async gateway(ctx: SetupContext) {
      redis = await startRedis();
      return { ...passThroughGateway(ctx), limits: { default: roomy, store: { kind: 'redis', redisUrl: redis.url } } };
    },
    requests: () => [v1Predict()],
    async teardown() {
      await redis?.stop();
    },
  };
}
