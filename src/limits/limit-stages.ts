import { claimAt } from '../auth/claims.js';
import type { DecisionContext } from '../decision/decision-context.js';
import { deny, type Denial } from '../decision/denial.js';
import type { StageFactory } from '../decision/stage-deps.js';
import { inferenceRequestOf } from '../inference/inference-request.js';
import { memoryCounterStore, redisCounterStore, type Consumed, type CounterStore } from './counter-store.js';
import { LimitPolicies } from './limit-policies.js';
import { rateLimit } from './rate-limit-headers.js';

const UNAVAILABLE = deny('limits_unavailable', 'the shared rate-limit store is unavailable; retry later', { retryAfterSeconds: 1 });

/** Per-user rate limits counted in predictions. */
export const limitStages: StageFactory = (deps) => {
  const { config, metrics } = deps;
  const limits = config.limits;
  if (!LimitPolicies.configured(config)) return [];
  let store: CounterStore;
  const client = deps.stores.redis;
  if (limits.store.kind === 'redis' && client) {
    store = redisCounterStore({ client, keyPrefix: limits.store.keyPrefix, onFailure: limits.store.onFailure, replicas: limits.store.replicas, metrics });
  } else {
    store = memoryCounterStore();
  }
  const policies = new LimitPolicies(config, store);
  const storeKind = store.kind;

  const identityKey = (ctx: DecisionContext): string => {
    const id = ctx.identity;
    if (!id) return `peer:${ctx.view.peer}`;
    const v = claimAt(id.claims, limits.key);
    return typeof v === 'string' || typeof v === 'number' ? `id:${id.issuer}|${v}` : `peer:${ctx.view.peer}`;
  };
  const tierOf = (ctx: DecisionContext): string | undefined => {
    if (!limits.tierClaim || !ctx.identity) return undefined;
    const v = claimAt(ctx.identity.claims, limits.tierClaim);
    return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
  };

  return [
    {
      name: 'rate-limit',
      async run(ctx): Promise<Denial | undefined> {
        if (ctx.route.kind !== 'model') return undefined;
        const { model, verb } = ctx.route.route;
        const set = policies.windowsFor(model, verb, tierOf(ctx));
        if (set.windows.length === 0) return undefined;
        let cost = 1;
        if (verb === 'predict' || verb === 'explain') {
          const parsed = inferenceRequestOf(ctx);
          if (parsed && !parsed.ok) return parsed.denial;
          if (parsed) cost = ctx.cost;
          else metrics.limitsCostUnknown.inc({ door: ctx.view.door });
        }
        // A throttled account (extraction guard) pays more per prediction: its budgets shrink by the factor.
        if (ctx.limitFactor !== 1) cost = Math.ceil(cost * ctx.limitFactor);
        const key = identityKey(ctx);
        const results: Consumed[] = await Promise.all(set.windows.map((w) => w.counter.consume(key, cost)));

        if (results.some((r) => r.kind === 'error')) {
          // Only reached without an insurance limiter: fail as configured, counted either way.
          metrics.limitsDecisions.inc({ store: storeKind, outcome: 'store_error' });
          if (limits.store.onFailure === 'fail-open') {
            metrics.limitsStoreFallbacks.inc({ policy: 'fail-open' });
            return undefined;
          }
          metrics.limitsStoreFallbacks.inc({ policy: 'fail-closed' });
          return UNAVAILABLE;
        }

        let tripped = -1;
        let tightest = 0;
        results.forEach((r, i) => {
          if (r.kind === 'limited' && (tripped < 0 || r.resetMs > (results[tripped] as { resetMs: number }).resetMs)) tripped = i;
          const cur = results[tightest] as Consumed;
          if (r.kind === 'ok' && cur.kind === 'ok' && r.remaining < cur.remaining) tightest = i;
        });
        if (tripped >= 0) {
          // Refused whole: no window keeps this request's cost.
          await Promise.all(set.windows.map((w) => w.counter.refund(key, cost)));
          metrics.limitsDecisions.inc({ store: storeKind, outcome: 'rate_limited' });
          const w = set.windows[tripped]!;
          const resetMs = (results[tripped] as { resetMs: number }).resetMs;
          return deny('rate_limited', `over the "${w.name}" budget of ${w.predictions} predictions per ${w.perSeconds} s (this request costs ${cost})`, {
            retryAfterSeconds: Math.max(1, Math.ceil(resetMs / 1000)),
            headers: { 'ratelimit-policy': set.policyHeader, ratelimit: rateLimit(w.name, 0, resetMs) },
            details: { window: w.name, limit: w.predictions, perSeconds: w.perSeconds, cost },
          });
        }
        metrics.limitsDecisions.inc({ store: storeKind, outcome: 'allowed' });
        metrics.limitsPredictions.inc(cost);
        if (limits.headers) {
          const t = results[tightest] as { remaining: number; resetMs: number };
          ctx.responseHeaders['ratelimit-policy'] = set.policyHeader;
          ctx.responseHeaders['ratelimit'] = rateLimit(set.windows[tightest]!.name, t.remaining, t.resetMs);
        }
        return undefined;
      },
    },
  ];
};
