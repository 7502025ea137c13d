import { claimAt } from '../auth/claims.js';
import type { DecisionContext } from '../decision/decision-context.js';
import { deny, type Denial } from '../decision/denial.js';
import type { StageFactory } from '../decision/stage-deps.js';
import { inferenceRequestOf } from '../inference/inference-request.js';
import { LimitPolicies } from './limit-policies.js';
import { LocalWindows } from './local-windows.js';
import { rateLimit } from './rate-limit-headers.js';
import { createRedisClient } from './redis-client.js';
import { RedisHealth } from './redis-health.js';
import { RedisWindows } from './redis-windows.js';
import type { CounterStore } from './window-group.js';

const UNAVAILABLE = deny('limits_unavailable', 'the shared rate-limit store is unavailable; retry later', { retryAfterSeconds: 1 });
const PROBE_INTERVAL_MS = 1000;

/** Per-user rate limits counted in predictions. */
export const limitStages: StageFactory = (deps) => {
  const { config, metrics } = deps;
  const limits = config.limits;
  if (!LimitPolicies.configured(config)) return [];
  const storeConfig = limits.store;
  let store: CounterStore;
  if (storeConfig.kind === 'redis') {
    const client = createRedisClient(storeConfig);
    // Errors are answered by the failure policy and counted; keep ioredis from logging each retry.
    client.on('error', () => undefined);
    const health = new RedisHealth(client, {
      intervalMs: PROBE_INTERVAL_MS,
      timeoutMs: storeConfig.commandTimeoutMs,
      onChange: (up) => metrics.dependencyUp.set({ dependency: 'redis' }, up ? 1 : 0),
    });
    metrics.dependencyUp.set({ dependency: 'redis' }, 0);
    health.start();
    const policy = storeConfig.onFailure;
    store = new RedisWindows({
      client,
      keyPrefix: storeConfig.keyPrefix,
      timeoutMs: storeConfig.commandTimeoutMs,
      maxInFlight: storeConfig.maxInFlight,
      deadlines: health,
      now: deps.now,
      insurance: policy === 'insurance' ? new LocalWindows({ maxKeys: storeConfig.memoryMaxKeys, now: deps.now, share: storeConfig.replicas }) : undefined,
      metrics,
    });
    deps.onClose({
      close: () => {
        health.close();
        client.disconnect();
      },
    });
    const notReadyAfterMs = storeConfig.notReadyAfterSeconds * 1000;
    deps.readiness.add({
      name: 'redis',
      async check() {
        const s = health.state();
        if (s.up) return { ready: true };
        const detail = `redis has not answered for ${Math.round(s.downForMs / 1000)} s (${s.reason}); onFailure: ${policy}`;
        // Only fail-closed makes this replica unable to serve, and only once the outage is sustained:
        // failing every replica's probe on a blip would take the whole Service out at once.
        const ready = policy !== 'fail-closed' || s.downForMs < notReadyAfterMs;
        return { ready, degraded: true, detail };
      },
    });
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

  return [
    {
      name: 'rate-limit',
      async run(ctx): Promise<Denial | undefined> {
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
        const r = await store.charge(identityKey(ctx), group, cost);

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
          metrics.limitsDecisions.inc({ store: storeKind, outcome: 'rate_limited' });
          return deny('rate_limited', `over the "${w.name}" budget of ${w.predictions} predictions per ${w.perSeconds} s (this request costs ${cost})`, {
            retryAfterSeconds: Math.max(1, Math.ceil(r.resetMs / 1000)),
            headers: { 'ratelimit-policy': group.policyHeader, ratelimit: rateLimit(w.name, 0, r.resetMs) },
            details: { window: w.name, limit: w.predictions, perSeconds: w.perSeconds, cost },
          });
        }
        metrics.limitsDecisions.inc({ store: storeKind, outcome: 'allowed' });
        metrics.limitsPredictions.inc(cost);
        if (limits.headers) {
          ctx.responseHeaders['ratelimit-policy'] = group.policyHeader;
          ctx.responseHeaders['ratelimit'] = rateLimit(w.name, r.remaining, r.resetMs);
        }
        return undefined;
      },
    },
  ];
};
