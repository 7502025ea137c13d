import { claimAt } from '../decision/identity.js';
import type { DecisionContext } from '../decision/decision-context.js';
import { deny, type Denial } from '../decision/denial.js';
import type { StageFactory } from '../decision/stage-deps.js';
import { isPromise } from '../decision/stage.js';
import { inferenceRequestOf } from '../inference/inference-request.js';
import { DebtLedger } from './debt-ledger.js';
import { Leases } from './leases.js';
import { LimitPolicies } from './limit-policies.js';
import { LocalWindows } from './local-windows.js';
import { rateLimit } from './rate-limit-headers.js';
import { RedisWindows } from './redis-windows.js';
import type { Charge, CounterStore, WindowGroup } from './window-group.js';

const UNAVAILABLE = deny('limits_unavailable', 'the shared rate-limit store is unavailable; retry later', {
  retryAfterSeconds: 1,
});

/** Per-user rate limits counted in predictions. */
export const limitStages: StageFactory = (deps) => {
  const { config, metrics } = deps;
  const limits = config.limits;
  if (!LimitPolicies.configured(config)) return [];
  const storeConfig = limits.store;
  let store: CounterStore;
  const client = deps.stores.redis;
  const health = deps.stores.redisHealth;
  if (storeConfig.kind === 'redis' && client && health) {
    const redisWindows = new RedisWindows({
      client,
      keyPrefix: storeConfig.keyPrefix,
      timeoutMs: storeConfig.commandTimeoutMs,
      maxInFlight: storeConfig.maxInFlight,
      deadlines: health,
      now: deps.now,
      onFailure: storeConfig.onFailure,
      insurance:
        storeConfig.onFailure === 'insurance'
          ? new LocalWindows({ maxKeys: storeConfig.memoryMaxKeys, now: deps.now, share: storeConfig.replicas })
          : undefined,
      ledger: new DebtLedger(storeConfig.memoryMaxKeys),
      leases:
        storeConfig.lease.maxPredictions > 0
          ? new Leases({
              ...storeConfig.lease,
              replicas: storeConfig.replicas,
              maxKeys: storeConfig.memoryMaxKeys,
            })
          : undefined,
      metrics,
    });
    metrics.reportLimitsUnsettled(() => redisWindows.unsettled);
    metrics.reportLimitsLeased(() => redisWindows.leased);
    deps.onClose(redisWindows);
    store = redisWindows;
  } else {
    store = new LocalWindows({ maxKeys: storeConfig.memoryMaxKeys, now: deps.now, share: 1 });
  }
  const policies = new LimitPolicies(config);
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

  // Metric children bound once: the allowed path updates two counters per request.
  const allowedCount = metrics.limitsDecisions.labels({ store: storeKind, outcome: 'allowed' });
  const limitedCount = metrics.limitsDecisions.labels({ store: storeKind, outcome: 'rate_limited' });

  /** The decision from a charge's result (synchronous for the memory store, after Redis answered otherwise). */
  const decide = (ctx: DecisionContext, group: WindowGroup, cost: number, r: Charge): Denial | undefined => {
    if (r.kind === 'unavailable') {
      // Only reached without an insurance limiter: fail as configured, counted either way.
      metrics.limitsDecisions.inc({ store: storeKind, outcome: 'store_error' });
      if (storeConfig.onFailure === 'fail-open') {
        metrics.limitsStoreFallbacks.inc({ policy: 'fail-open' });
        return undefined;
      }
      metrics.limitsStoreFallbacks.inc({ policy: 'fail-closed' });
      return UNAVAILABLE;
    }
    const w = group.windows[r.window]!;
    if (r.kind === 'limited') {
      limitedCount.inc();
      return deny(
        'rate_limited',
        `over the "${w.name}" budget of ${w.predictions} predictions per ${w.perSeconds} s (this request costs ${cost})`,
        {
          retryAfterSeconds: Math.max(1, Math.ceil(r.resetMs / 1000)),
          headers: { 'ratelimit-policy': group.policyHeader, ratelimit: rateLimit(w.name, 0, r.resetMs) },
          details: { window: w.name, limit: w.predictions, perSeconds: w.perSeconds, cost },
        },
      );
    }
    allowedCount.inc();
    metrics.limitsPredictions.inc(cost);
    if (limits.headers) {
      ctx.responseHeaders['ratelimit-policy'] = group.policyHeader;
      ctx.responseHeaders['ratelimit'] = rateLimit(w.name, r.remaining, r.resetMs);
    }
    return undefined;
  };

  return [
    {
      name: 'rate-limit',
      run(ctx): Denial | undefined | Promise<Denial | undefined> {
        if (ctx.route.kind !== 'model') return undefined;
        const { model, verb } = ctx.route.route;
        const group = policies.windowsFor(model, verb, tierOf(ctx));
        if (group.windows.length === 0) return undefined;
        let cost = 1;
        if (verb === 'predict' || verb === 'explain') {
          const parsed = inferenceRequestOf(ctx);
          if (parsed && !parsed.ok) return parsed.denial;
          if (parsed) cost = ctx.cost;
          else metrics.limitsCostUnknown.inc({ door: ctx.view.door });
        }
        // A throttled account (extraction guard) pays more per prediction: its budgets shrink by the factor.
        if (ctx.limitFactor !== 1) cost = Math.ceil(cost * ctx.limitFactor);
        const r = store.charge(identityKey(ctx), group, cost);
        // The memory store answers at once: no promise, no extra turn of the microtask queue.
        return isPromise(r) ? r.then((charged) => decide(ctx, group, cost, charged)) : decide(ctx, group, cost, r);
      },
    },
  ];
};
