import { s, type Problem } from '../schema-dsl.js';

export const windowSpec = s.object(
  {
    name: s.string({ doc: 'Window name, shown in RateLimit headers and 429 bodies.', pattern: /^[a-z0-9_-]{1,32}$/, patternHint: 'expected a short lower-case name like "burst"' }),
    predictions: s.integer({ doc: 'Predictions allowed per window (a batch of N costs N).', min: 1 }),
    perSeconds: s.integer({ doc: 'Window length in seconds.', min: 1, max: 31 * 86400 }),
  },
  { doc: 'One budget: `predictions` per `perSeconds`.' },
);

export const windowsSpec = (doc: string) =>
  s.array(windowSpec, {
    doc,
    default: [],
    maxItems: 8,
  });

/** A policy: the windows that apply by default, per tier, and to non-prediction routes. */
export const policyFields = {
  default: windowsSpec('Windows for identities whose tier claim matches no tier. Empty: predictions are not limited.'),
  tiers: s.map(windowsSpec('Windows of this tier.'), {
    doc: 'Windows by tier name, chosen by the `limits.tierClaim` claim (e.g. `plan: gold`).',
    keyName: 'tier',
    default: {},
  }),
  metadata: windowsSpec('Windows for model metadata requests (not predictions; cost 1 each).'),
};

function uniqueWindowNames(windows: ReadonlyArray<{ name: string }>, path: string): Problem[] {
  const seen = new Set<string>();
  const out: Problem[] = [];
  windows.forEach((w, i) => {
    if (seen.has(w.name)) out.push({ path: `${path}[${i}].name`, message: `duplicates window ${JSON.stringify(w.name)}` });
    seen.add(w.name);
  });
  return out;
}

export function checkPolicy(v: Record<string, unknown>): Problem[] {
  const out = [...uniqueWindowNames((v['default'] as Array<{ name: string }>) ?? [], 'default'), ...uniqueWindowNames((v['metadata'] as Array<{ name: string }>) ?? [], 'metadata')];
  for (const [tier, w] of Object.entries((v['tiers'] as Record<string, Array<{ name: string }>>) ?? {})) out.push(...uniqueWindowNames(w, `tiers.${tier}`));
  return out;
}

export const limitsSection = s.object(
  {
    key: s.string({ doc: 'Claim path that identifies who is limited (e.g. `sub`, `tenant`). Without a verified identity the peer address is used.', default: 'sub', minLength: 1 }),
    tierClaim: s.string({ doc: 'Claim path whose value picks a tier (e.g. `plan`).', optional: true }),
    scope: s.string({
      doc: 'What the windows of this section (`default`, `tiers`, `metadata`) count: `user` (one budget per identity across every model, so a daily budget is a daily budget) or `model` (a separate budget per identity and model). Windows a model sets in `models.<model>.limits` always count that model alone.',
      default: 'user',
      enum: ['user', 'model'],
    }),
    ...policyFields,
    headers: s.boolean({ doc: 'Send `RateLimit-Policy` and `RateLimit` headers on allowed answers too (always on 429).', default: true }),
    store: s.object(
      {
        kind: s.string({ doc: 'Where counters live: `memory` (one replica) or `redis` (shared by all replicas).', default: 'memory', enum: ['memory', 'redis'], env: 'GATEWAY_LIMITS_STORE_KIND' }),
        redisUrl: s.string({ doc: 'Redis URL (`redis://host:6379/0`, `rediss://` for TLS).', optional: true, env: 'GATEWAY_REDIS_URL', pattern: /^rediss?:\/\/\S+$/, patternHint: 'expected redis://host:port', secret: true }),
        sentinels: s.array(s.string({ doc: 'host:port', pattern: /^\S+:\d+$/, patternHint: 'expected host:port' }), { doc: 'Redis Sentinel addresses (instead of redisUrl).', default: [] }),
        sentinelName: s.string({ doc: 'Sentinel master name.', default: 'mymaster' }),
        cluster: s.array(s.string({ doc: 'host:port', pattern: /^\S+:\d+$/, patternHint: 'expected host:port' }), { doc: 'Redis Cluster seed nodes (instead of redisUrl).', default: [] }),
        keyPrefix: s.string({ doc: 'Prefix of every Redis key (no braces: the keys carry a Redis Cluster hash tag per identity).', default: 'igw:rl:', pattern: /^[^{}\s]*$/, patternHint: 'expected no braces or spaces' }),
        commandTimeoutMs: s.integer({
          doc: 'Longest wait for the rate-limit answer from Redis; a dead or frozen Redis adds at most this per request. Redis must start the script within half of it or the script charges nothing. 250 ms outlasts a CPU-throttled pod (the CFS quota period is 100 ms) while bounding the added latency.',
          default: 1000,
          min: 10,
          max: 10000,
        }),
        maxInFlight: s.integer({ doc: 'Rate-limit commands waiting for Redis at once; beyond this the failure policy answers without sending, so a frozen Redis cannot pile up memory.', default: 1000, min: 1 }),
        notReadyAfterSeconds: s.integer({
          doc: 'Under `fail-closed`, readiness fails once Redis has not answered its health probe for this long (a blip never takes every replica out of the Service). Under `insurance` and `fail-open` a down Redis never fails readiness: it is reported in `/readyz` and `inference_gateway_dependency_up`.',
          default: 10,
          min: 1,
        }),
        memoryMaxKeys: s.integer({
          doc: 'Most (identity, window group) counters kept in memory by the `memory` store and by the insurance limiter (LRU). A forgotten identity starts its windows from zero: keep it above the identities active within the longest window. About 300 bytes each.',
          default: 100000,
          min: 1,
        }),
        onFailure: s.string({
          doc: 'When Redis fails: `insurance` (each replica limits to its share in memory), `fail-closed` (503), or `fail-open` (allow). Every fallback is counted.',
          default: 'insurance',
          enum: ['insurance', 'fail-closed', 'fail-open'],
        }),
        replicas: s.integer({ doc: 'Replicas sharing the limit: the insurance limiter allows each 1/replicas of every budget.', default: 1, min: 1 }),
      },
      {
        doc: 'Counter store.',
        check(v): Problem[] {
          if (v['kind'] !== 'redis') return [];
          const sources = [v['redisUrl'] !== undefined, (v['sentinels'] as string[]).length > 0, (v['cluster'] as string[]).length > 0].filter(Boolean).length;
          if (sources === 0) return [{ path: 'redisUrl', message: 'is required when kind is redis (or set sentinels or cluster)' }];
          if (sources > 1) return [{ path: '', message: 'choose one of redisUrl, sentinels, cluster' }];
          return [];
        },
      },
    ),
  },
  { doc: 'Per-identity rate limits counted in predictions.', check: checkPolicy },
);
