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
    ...policyFields,
    headers: s.boolean({ doc: 'Send `RateLimit-Policy` and `RateLimit` headers on allowed answers too (always on 429).', default: true }),
    store: s.object(
      {
        kind: s.string({ doc: 'Where counters live: `memory` (one replica) or `redis` (shared by all replicas).', default: 'memory', enum: ['memory', 'redis'], env: 'GATEWAY_LIMITS_STORE_KIND' }),
        redisUrl: s.string({ doc: 'Redis URL (`redis://host:6379/0`, `rediss://` for TLS).', optional: true, env: 'GATEWAY_REDIS_URL', pattern: /^rediss?:\/\/\S+$/, patternHint: 'expected redis://host:port', secret: true }),
        sentinels: s.array(s.string({ doc: 'host:port', pattern: /^\S+:\d+$/, patternHint: 'expected host:port' }), { doc: 'Redis Sentinel addresses (instead of redisUrl).', default: [] }),
        sentinelName: s.string({ doc: 'Sentinel master name.', default: 'mymaster' }),
        cluster: s.array(s.string({ doc: 'host:port', pattern: /^\S+:\d+$/, patternHint: 'expected host:port' }), { doc: 'Redis Cluster seed nodes (instead of redisUrl).', default: [] }),
        keyPrefix: s.string({ doc: 'Prefix of every Redis key.', default: 'igw:rl:' }),
        commandTimeoutMs: s.integer({ doc: 'Longest wait for one Redis command; a dead Redis adds at most this per request.', default: 50, min: 1, max: 10000 }),
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
