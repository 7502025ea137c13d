import { mapOf, matching, z, crossField, CROSS_FIELD } from '../fields.js';

export const windowSpec = z
  .strictObject({
    name: matching(/^[a-z0-9_-]{1,32}$/, 'expected a short lower-case name like "burst"').meta({
      description: 'Window name, shown in RateLimit headers and 429 bodies.',
    }),
    predictions: z.int().min(1).meta({ description: 'Predictions allowed per window (a batch of N costs N).' }),
    perSeconds: z
      .int()
      .min(1)
      .max(31 * 86400)
      .meta({ description: 'Window length in seconds.' }),
  })
  .meta({ description: 'One budget: `predictions` per `perSeconds`.' });

export type WindowConfig = z.output<typeof windowSpec>;

const windowList = () => z.array(windowSpec).max(8);

export const windowsSpec = (description: string) => windowList().default([]).meta({ description });

/** A policy: the windows that apply by default, per tier, and to non-prediction routes. */
export const policyFields = {
  default: windowsSpec('Windows for identities whose tier claim matches no tier. Empty: predictions are not limited.'),
  tiers: mapOf('tier', windowsSpec('Windows of this tier.')).default({}).meta({
    description: 'Windows by tier name, chosen by the `limits.tierClaim` claim (e.g. `plan: gold`).',
    keyName: 'tier',
  }),
  metadata: windowsSpec('Windows for model metadata requests (not predictions; cost 1 each).'),
};

function uniqueWindowNames(
  windows: readonly WindowConfig[] | undefined,
  path: PropertyKey[],
  ctx: z.RefinementCtx,
): void {
  const seen = new Set<string>();
  windows?.forEach((w, i) => {
    if (seen.has(w.name))
      ctx.addIssue({
        code: 'custom',
        path: [...path, i, 'name'],
        message: `duplicates window ${JSON.stringify(w.name)}`,
      });
    seen.add(w.name);
  });
}

/** Window names are unique within each list: they name the RateLimit header entries and the counters. */
export function checkPolicy(
  v: {
    readonly default?: readonly WindowConfig[] | undefined;
    readonly tiers?: Readonly<Record<string, readonly WindowConfig[]>> | undefined;
    readonly metadata?: readonly WindowConfig[] | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  uniqueWindowNames(v.default, ['default'], ctx);
  uniqueWindowNames(v.metadata, ['metadata'], ctx);
  for (const [tier, w] of Object.entries(v.tiers ?? {})) uniqueWindowNames(w, ['tiers', tier], ctx);
}

const hostPort = () => matching(/^\S+:\d+$/, 'expected host:port').meta({ description: 'host:port' });

const leaseSection = z
  .strictObject({
    maxPredictions: z.int().min(0).max(1_000_000).default(1000).meta({
      description:
        "Quota leasing: most predictions of an identity's budget one replica reserves in Redis at once and admits without a round trip. A first lease, and that of an identity spending fewer than 100 per second, is 100 (at most this); a busier identity's lease holds about one second of its own traffic, up to this, so a Redis that answers late does not make its requests wait. Redis counts a lease as used when granted, so replicas together never admit more than a limit; a replica may refuse while others still hold unspent leases (at most this many each, returned within `seconds`). 0: every request is charged in Redis, exact on both sides.",
      env: 'GATEWAY_LIMITS_LEASE_MAX_PREDICTIONS',
    }),
    minPredictions: z.int().min(1).default(16).meta({
      description:
        'Smallest lease granted: a budget with less than 2 × replicas × this left is charged per request, exactly (small budgets stay exact; only large ones carry traffic worth leasing).',
    }),
    seconds: z.int().min(1).max(60).default(2).meta({
      description:
        'Longest time a lease is spent; then (or when its first window ends, or at shutdown) what is left goes back to Redis.',
    }),
  })
  .superRefine(
    crossField((v, ctx) => {
      if (v.maxPredictions > 0 && v.minPredictions > v.maxPredictions)
        ctx.addIssue({
          code: 'custom',
          path: ['minPredictions'],
          message:
            'must not exceed maxPredictions (no lease could ever be granted); set maxPredictions: 0 to turn leasing off',
        });
    }),
    CROSS_FIELD,
  )
  .prefault({})
  .meta({ description: 'Quota leasing for the Redis store.' });

const storeSection = z
  .strictObject({
    kind: z.enum(['memory', 'redis']).default('memory').meta({
      description: 'Where counters live: `memory` (one replica) or `redis` (shared by all replicas).',
      env: 'GATEWAY_LIMITS_STORE_KIND',
    }),
    redisUrl: matching(/^rediss?:\/\/\S+$/, 'expected redis://host:port', { secret: true })
      .optional()
      .meta({
        description: 'Redis URL (`redis://host:6379/0`, `rediss://` for TLS).',
        env: 'GATEWAY_REDIS_URL',
        secret: true,
      }),
    sentinels: z.array(hostPort()).default([]).meta({ description: 'Redis Sentinel addresses (instead of redisUrl).' }),
    sentinelName: z.string().default('mymaster').meta({ description: 'Sentinel master name.' }),
    cluster: z.array(hostPort()).default([]).meta({ description: 'Redis Cluster seed nodes (instead of redisUrl).' }),
    keyPrefix: matching(/^[^{}\s]*$/, 'expected no braces or spaces')
      .default('igw:rl:')
      .meta({
        description: 'Prefix of every Redis key (no braces: the keys carry a Redis Cluster hash tag per identity).',
      }),
    commandTimeoutMs: z.int().min(10).max(10000).default(1000).meta({
      description:
        'Longest wait for the rate-limit answer from Redis; a dead or frozen Redis adds at most this per request. A script Redis starts later charges nothing, and one whose answer comes later is refunded. 250 ms outlasts a CPU-throttled pod (the CFS quota period is 100 ms) while bounding the added latency.',
    }),
    maxInFlight: z.int().min(1).default(1000).meta({
      description:
        'Rate-limit commands waiting for Redis at once; beyond this the failure policy answers without sending, so a frozen Redis cannot pile up memory.',
    }),
    notReadyAfterSeconds: z.int().min(1).default(10).meta({
      description:
        'Under `fail-closed`, readiness fails once Redis has not answered its health probe for this long (a blip never takes every replica out of the Service). Under `insurance` and `fail-open` a down Redis never fails readiness: it is reported in `/readyz` and `inference_gateway_dependency_up`.',
    }),
    memoryMaxKeys: z.int().min(1).default(100000).meta({
      description:
        'Most (identity, window group) counters kept in memory by the `memory` store and by the insurance limiter (LRU). A forgotten identity starts its windows from zero: keep it above the identities active within the longest window. About 300 bytes each.',
    }),
    onFailure: z.enum(['insurance', 'fail-closed', 'fail-open']).default('insurance').meta({
      description:
        'When Redis fails: `insurance` (each replica limits to its share in memory), `fail-closed` (503), or `fail-open` (allow). Every fallback is counted.',
    }),
    replicas: z.int().min(1).default(1).meta({
      description:
        'Replicas sharing the limit: the insurance limiter allows each 1/replicas of every budget, and a lease is at most 1/(2 × replicas) of what is left.',
    }),
    lease: leaseSection,
  })
  .superRefine(
    crossField((v, ctx) => {
      if (v.kind !== 'redis') return;
      const sources = [v.redisUrl !== undefined, v.sentinels.length > 0, v.cluster.length > 0].filter(Boolean).length;
      if (sources === 0)
        ctx.addIssue({
          code: 'custom',
          path: ['redisUrl'],
          message: 'is required when kind is redis (or set sentinels or cluster)',
        });
      if (sources > 1)
        ctx.addIssue({ code: 'custom', path: [], message: 'choose one of redisUrl, sentinels, cluster' });
    }),
    CROSS_FIELD,
  )
  .prefault({})
  .meta({ description: 'Counter store.' });

export const limitsSection = z
  .strictObject({
    key: z.string().min(1).default('sub').meta({
      description:
        'Claim path that identifies who is limited (e.g. `sub`, `tenant`). Without a verified identity the peer address is used.',
    }),
    tierClaim: z.string().optional().meta({ description: 'Claim path whose value picks a tier (e.g. `plan`).' }),
    scope: z.enum(['user', 'model']).default('user').meta({
      description:
        'What the windows of this section (`default`, `tiers`, `metadata`) count: `user` (one budget per identity across every model, so a daily budget is a daily budget) or `model` (a separate budget per identity and model). Windows a model sets in `models.<model>.limits` always count that model alone.',
    }),
    ...policyFields,
    headers: z
      .boolean()
      .default(true)
      .meta({ description: 'Send `RateLimit-Policy` and `RateLimit` headers on allowed answers too (always on 429).' }),
    store: storeSection,
  })
  .superRefine(crossField(checkPolicy), CROSS_FIELD)
  .prefault({})
  .meta({ description: 'Per-identity rate limits counted in predictions.' });

/** Used by per-model limits: a list that replaces the global one when set. */
export const optionalWindows = (description: string) => windowList().optional().meta({ description });
