import type { DecisionContext, UpstreamAnswer } from '../decision/decision-context.js';
import { classesOfAnswer } from '../decision/decision-context.js';
import { deny } from '../decision/denial.js';
import type { Stage } from '../decision/stage.js';
import type { StageFactory } from '../decision/stage-deps.js';
import { inferenceRequestOf, inferenceRowsOf, type InferenceRequest } from '../inference/inference-request.js';
import type { PredictedClass } from '../inference/predicted-class.js';
import { LEVEL_BLOCK, LEVEL_DEGRADE, LEVEL_THROTTLE, LEVELS } from './action-ladder.js';
import type { AccountState, LevelChange } from './account-state.js';
import { UNKNOWN_CLASS } from './class-base-rates.js';
import { BREAKER_ALL, BREAKER_CLOSED } from './escalation-breaker.js';
import { extractionAdmin } from './extraction-admin.js';
import { ModelGuard, type ExtractionMode } from './model-guard.js';
import { deferredSlices } from './novelty-detector.js';
import { DETECTORS } from './query-scorer.js';
import { hashRow } from './row-hash.js';
import { SharedCalibration } from './shared-calibration.js';
import { SharedEvidence } from './shared-evidence.js';

// Says nothing about why, on purpose: an attacker must not learn what gave the account away.
const BLOCKED = deny('access_denied', 'access denied');

/** The account a query stream belongs to: the verified subject of its issuer, else the peer address. */
export function accountKey(ctx: DecisionContext): string {
  const id = ctx.identity;
  return id ? `${id.issuer}|${id.subject}` : `peer:${ctx.view.peer}`;
}

function marginOf(p: PredictedClass | undefined): number {
  const r = p?.ranked;
  return r && r.length >= 2 ? r[0]!.score - r[1]!.score : Number.NaN;
}

/** The same numbers, bit for bit (0 and −0 differ, as they do in the row hash; NaN never matches). */
function sameValues(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let j = 0; j < a.length; j++) {
    const x = a[j]!;
    if (x !== b[j]! || (x === 0 && 1 / x !== 1 / b[j]!)) return false;
  }
  return true;
}

const bodyHash = (body: Buffer | undefined): number => (body ? hashRow(body) : 0);

/**
 * The extraction capability: an `extraction-gate` stage in the head phase (acts on the account's
 * level: block, throttle, degrade) and an `extraction` stage in the body phase (scores every row:
 * behind the proxy after the answer has left, with its predicted classes; in the ext-authz doors
 * in-stage, inputs only). Doors learn nothing about it.
 */
export const extractionStages: StageFactory = (deps) => {
  const guards = new Map<string, ModelGuard>();
  for (const [name, m] of Object.entries(deps.config.models)) {
    const mode: ExtractionMode = m.extraction.mode ?? (m.extraction.features ? 'shadow' : 'off');
    if (mode !== 'off') guards.set(name, new ModelGuard(name, mode, m, deps.now, deferredSlices));
  }
  if (guards.size === 0) return [];
  const { metrics, log, now } = deps;
  const calibrationSaid = (g: ModelGuard) => {
    const c = g.calibration;
    metrics.extractionCalibrated.set({ model: g.model }, c.inForce ? 1 : 0);
    metrics.extractionCalibrationAccounts.set({ model: g.model }, c.accounts);
    if (g.effectiveMode === 'shadow-uncalibrated')
      log.warn(
        { model: g.model, mode: g.mode, effectiveMode: g.effectiveMode, accounts: c.accounts, needed: c.o.minAccounts },
        'extraction guard runs in shadow until calibrated',
      );
    else
      log.info(
        {
          model: g.model,
          mode: g.mode,
          effectiveMode: g.effectiveMode,
          calibration: c.state,
          accounts: c.accounts,
          thresholds: c.snapshot().thresholds,
        },
        'extraction calibration in force',
      );
  };
  for (const g of guards.values()) {
    log.info(
      {
        model: g.model,
        mode: g.mode,
        effectiveMode: g.effectiveMode,
        accounts: g.capacity,
        accountBytes: g.accountBytes,
      },
      'extraction guard',
    );
    calibrationSaid(g);
    for (const d of DETECTORS) metrics.extractionBreakerOpen.set({ model: g.model, detector: d }, 0);
    g.onEvict = (kind) => metrics.extractionEvictions.inc({ model: g.model, kind });
    g.guard.onBreaker = (c) => {
      const detector = DETECTORS[c.detector]!;
      metrics.extractionBreakerOpen.set({ model: g.model, detector }, c.tier);
      const tier = c.tier === BREAKER_ALL ? 'all' : 'marginal';
      if (c.tripped) {
        metrics.extractionBreakerTrips.inc({ model: g.model, detector });
        log.error(
          {
            model: g.model,
            detector,
            holds: tier,
            escalated: c.escalated,
            active: c.active,
            reason: g.breaker.reasons[c.detector],
          },
          'extraction breaker open: detector miscalibrated for this model, escalation stopped',
        );
      } else if (c.tier !== BREAKER_CLOSED)
        log.warn(
          { model: g.model, detector, holds: tier, escalated: c.escalated, active: c.active },
          'extraction breaker narrowed',
        );
      else
        log.warn({ model: g.model, detector, escalated: c.escalated, active: c.active }, 'extraction breaker closed');
    };
  }
  const shared = new Map<string, SharedEvidence>();
  const calibrations = new Map<string, SharedCalibration>();
  const redis = deps.stores.redis;
  if (redis) {
    for (const [name, g] of guards) {
      const x = deps.config.models[name]!.extraction;
      const evidence = new SharedEvidence(
        redis,
        deps.config.limits.store.keyPrefix,
        x.actions.halfLifeSeconds * 1000,
        x.idleSeconds * 1000,
        {
          // Every replica's increments, this one's included: the account's evidence is the shared sum.
          shared: (acc, value, at) => {
            const from = acc.level;
            acc.value = value;
            acc.at = at;
            const to = g.guard.levelAt(acc, at);
            if (to !== from)
              report(g, acc, {
                from,
                to,
                detector: acc.lastDetector ?? acc.stream.strongest().detector,
                score: acc.stream.strongest().score,
              });
          },
          failed: (updates) => metrics.extractionStoreFallbacks.inc({ operation: 'update' }, updates),
        },
        { flushMs: x.sharedFlushMs, clock: deps.clock },
      );
      shared.set(name, evidence);
      deps.onClose(evidence);
      if (g.calibration.state !== 'uncalibrated') continue;
      const sc = new SharedCalibration(redis, SharedCalibration.keyFor(deps.config.limits.store.keyPrefix, name));
      calibrations.set(name, sc);
      let running = false;
      const sync = async () => {
        if (running) return;
        running = true;
        const before = g.effectiveMode;
        try {
          if (!(await sc.sync(g.calibration, now())))
            metrics.extractionStoreFallbacks.inc({ operation: 'calibration' });
        } finally {
          running = false;
        }
        if (g.effectiveMode !== before) calibrationSaid(g);
        else metrics.extractionCalibrationAccounts.set({ model: g.model }, g.calibration.accounts);
      };
      // Loaded at start-up (a restart keeps its calibration), then merged every `syncSeconds`.
      void sync();
      const timer = setInterval(() => void sync(), x.calibration.syncSeconds * 1000);
      timer.unref();
      deps.onClose({ close: () => (clearInterval(timer), sync()) });
    }
  }

  // Escalations exported at 0 from start-up: a counter series born at 1 shows no increase() in
  // Prometheus, so an alert on the first escalation of a model would never fire.
  for (const [m, g] of guards)
    for (const level of LEVELS.slice(1))
      metrics.extractionLevelChanges.inc({ model: m, mode: g.mode, level, direction: 'up' }, 0);

  // Metric children resolved once per model: no label hashing per request.
  const scoreHistograms = new Map(
    [...guards.keys()].map((m) => [
      m,
      DETECTORS.map((d) => metrics.extractionScores.labels({ model: m, detector: d })),
    ]),
  );
  const scored = new Map(
    [...guards].map(([m, g]) => [
      m,
      {
        answer: metrics.extractionQueries.labels({ model: m, mode: g.mode, seen: 'answer' }),
        inputs: metrics.extractionQueries.labels({ model: m, mode: g.mode, seen: 'inputs' }),
        opaque: metrics.extractionQueries.labels({ model: m, mode: g.mode, seen: 'opaque' }),
      },
    ]),
  );

  const report = (g: ModelGuard, acc: AccountState, c: LevelChange) => {
    metrics.extractionLevelChanges.inc({
      model: g.model,
      mode: g.mode,
      level: LEVELS[c.to]!,
      direction: c.to > c.from ? 'up' : 'down',
    });
    log.warn(
      {
        user: acc.user,
        model: g.model,
        mode: g.mode,
        from: LEVELS[c.from],
        to: LEVELS[c.to],
        detector: c.detector,
        score: Math.round(c.score * 1000) / 1000,
      },
      'extraction level changed',
    );
  };

  const syncShared = (g: ModelGuard, acc: AccountState, rows: number, alarmed: number, at: number) =>
    shared.get(g.model)?.add(acc, rows, alarmed, at);

  const score = (
    g: ModelGuard,
    ctx: DecisionContext,
    request: InferenceRequest,
    classes: readonly PredictedClass[] | undefined,
  ) => {
    const at = now();
    const acc = g.account(accountKey(ctx), at);
    deps.operator?.seen(g.model, acc.user);
    const alarmedBefore = acc.alarmed;
    const rows = inferenceRowsOf(request);
    let change: LevelChange | undefined;
    let seen: 'answer' | 'inputs' | 'opaque';
    let n: number;
    if (rows) {
      const withClasses = classes !== undefined && classes.length === rows.length;
      seen = withClasses ? 'answer' : 'inputs';
      n = rows.length;
      for (let i = 0; i < n; i++) {
        const row = rows[i]!;
        let c: LevelChange | undefined;
        // A row repeating the one before it (a batch of one row many times) is an exact re-send.
        if (i > 0 && sameValues(row, rows[i - 1]!)) c = g.guard.observeRepeat(acc, at);
        else {
          const p = withClasses ? classes[i] : undefined;
          c = g.guard.observe(acc, row, p ? g.classIdOf(p.label) : UNKNOWN_CLASS, marginOf(p), at);
        }
        if (c) change = change ? { ...c, from: change.from } : c;
      }
    } else {
      seen = 'opaque';
      n = request.batchSize;
      change = g.guard.observeOpaque(acc, bodyHash(ctx.view.body), n, at);
    }
    g.recordTimeline(acc, at, n);
    const before = g.effectiveMode;
    if (g.calibration.maybeRefresh(at) && g.effectiveMode !== before) calibrationSaid(g);
    scored.get(g.model)![seen].inc(n);
    const scores = acc.stream.scores;
    const histograms = scoreHistograms.get(g.model)!;
    for (let d = 0; d < DETECTORS.length; d++) histograms[d]!.observe(scores[d]!);
    if (change && change.to !== change.from) report(g, acc, change);
    syncShared(g, acc, n, acc.alarmed - alarmedBefore, at);
  };

  const gate: Stage = {
    name: 'extraction-gate',
    run(ctx) {
      const g = ctx.route.kind === 'model' ? guards.get(ctx.route.route.model) : undefined;
      if (!g) return undefined;
      // An operator's allow-list entry or manual block wins over the ladder (scoring goes on).
      const manual = deps.operator?.override(g.model, accountKey(ctx))?.kind;
      if (manual === 'block') {
        metrics.extractionActions.inc({ model: g.model, action: 'block' });
        return BLOCKED;
      }
      if (manual === 'allow' || g.effectiveMode !== 'enforce') return undefined;
      const at = now();
      const acc = g.find(accountKey(ctx), at);
      if (!acc) return undefined;
      const from = acc.level;
      const reached = g.guard.levelAt(acc, at);
      if (reached !== from)
        report(g, acc, {
          from,
          to: reached,
          detector: acc.lastDetector ?? acc.stream.strongest().detector,
          score: acc.lastScore,
        });
      const level = g.guard.enforcedLevel(acc);
      if (level >= LEVEL_BLOCK) {
        metrics.extractionActions.inc({ model: g.model, action: 'block' });
        return BLOCKED;
      }
      if (level >= LEVEL_THROTTLE) {
        ctx.limitFactor = g.throttleFactor;
        metrics.extractionActions.inc({ model: g.model, action: 'throttle' });
      }
      // An ext-authz door cannot reduce answers: the degrade rung is skipped there.
      if (level >= LEVEL_DEGRADE && ctx.view.forwardsAnswer) {
        ctx.degraded = true;
        metrics.extractionActions.inc({ model: g.model, action: 'degrade' });
      }
      return undefined;
    },
  };

  // One observer per model, shared by its requests: the account is read from the context.
  const observers = new Map(
    [...guards].map(([name, g]) => [
      name,
      {
        observe(answer: UpstreamAnswer, ctx: DecisionContext) {
          // Only answers that carried predictions taught the caller anything.
          if (answer.status < 200 || answer.status >= 300) return;
          const parse = ctx.inference;
          if (!parse?.ok) return;
          score(g, ctx, parse.request, classesOfAnswer(answer, ctx));
        },
      },
    ]),
  );

  const scoring: Stage = {
    name: 'extraction',
    run(ctx) {
      const g = ctx.route.kind === 'model' ? guards.get(ctx.route.route.model) : undefined;
      if (!g) return undefined;
      const parse = inferenceRequestOf(ctx);
      if (!parse?.ok) return undefined;
      if (ctx.view.forwardsAnswer) ctx.observers.push(observers.get(g.model)!);
      else score(g, ctx, parse.request, undefined);
      return undefined;
    },
  };

  const admin = extractionAdmin(guards, shared, deps);
  deps.admin?.add('/extraction/users', admin.users);
  deps.admin?.add('/extraction/models', admin.models);
  return [gate, scoring];
};
