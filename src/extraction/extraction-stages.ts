import type { DecisionContext, UpstreamAnswer } from '../decision/decision-context.js';
import { classesOfAnswer } from '../decision/decision-context.js';
import { deny } from '../decision/denial.js';
import type { Stage } from '../decision/stage.js';
import type { StageFactory } from '../decision/stage-deps.js';
import { inferenceRequestOf, inferenceRowsOf, type InferenceRequest } from '../inference/inference-request.js';
import type { PredictedClass } from '../inference/predicted-class.js';
import { LEVEL_BLOCK, LEVEL_DEGRADE, LEVEL_THROTTLE, LEVELS } from './action-ladder.js';
import type { AccountState, LevelChange } from './account-state.js';
import { extractionAdmin } from './extraction-admin.js';
import { ModelGuard, type ExtractionMode } from './model-guard.js';
import { DETECTORS } from './query-scorer.js';
import { hashRow } from './row-hash.js';
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
    if (mode !== 'off') guards.set(name, new ModelGuard(name, mode, m));
  }
  if (guards.size === 0) return [];
  const { metrics, log, now } = deps;
  for (const g of guards.values()) log.info({ model: g.model, mode: g.mode, accounts: g.capacity }, 'extraction guard');
  const shared = new Map<string, SharedEvidence>();
  const redis = deps.stores.redis;
  if (redis) {
    for (const name of guards.keys()) {
      const x = deps.config.models[name]!.extraction;
      shared.set(name, new SharedEvidence(redis, deps.config.limits.store.keyPrefix, x.actions.halfLifeSeconds * 1000, x.idleSeconds * 1000));
    }
  }

  // Escalations exported at 0 from start-up: a counter series born at 1 shows no increase() in
  // Prometheus, so an alert on the first escalation of a model would never fire.
  for (const [m, g] of guards) for (const level of LEVELS.slice(1)) metrics.extractionLevelChanges.inc({ model: m, mode: g.mode, level, direction: 'up' }, 0);

  // Metric children resolved once per model: no label hashing per request.
  const scoreHistograms = new Map([...guards.keys()].map((m) => [m, DETECTORS.map((d) => metrics.extractionScores.labels({ model: m, detector: d }))]));
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
    metrics.extractionLevelChanges.inc({ model: g.model, mode: g.mode, level: LEVELS[c.to]!, direction: c.to > c.from ? 'up' : 'down' });
    log.warn({ user: acc.user, model: g.model, mode: g.mode, from: LEVELS[c.from], to: LEVELS[c.to], detector: c.detector, score: Math.round(c.score * 1000) / 1000 }, 'extraction level changed');
  };

  const syncShared = (g: ModelGuard, acc: AccountState, rows: number, alarmed: number, at: number) => {
    const s = shared.get(g.model);
    if (!s) return;
    s.add(acc, rows, alarmed, at).then(
      (r) => {
        if (!r) return;
        // Every replica's increments, this one's included: the account's evidence is the shared sum.
        const from = acc.level;
        acc.value = r.evidence;
        acc.at = at;
        const to = g.guard.levelAt(acc, at);
        if (to !== from) report(g, acc, { from, to, detector: acc.lastDetector ?? acc.stream.strongest().detector, score: acc.stream.strongest().score });
      },
      () => metrics.extractionStoreFallbacks.inc({ operation: 'update' }),
    );
  };

  const score = (g: ModelGuard, ctx: DecisionContext, request: InferenceRequest, classes: readonly PredictedClass[] | undefined) => {
    const at = now();
    const acc = g.account(accountKey(ctx), at);
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
        const p = withClasses ? classes[i] : undefined;
        const c = g.guard.observe(acc, rows[i]!, p ? g.classIdOf(p.label) : 0, marginOf(p), at);
        if (c) change = change ? { ...c, from: change.from } : c;
      }
    } else {
      seen = 'opaque';
      n = request.batchSize;
      change = g.guard.observeOpaque(acc, bodyHash(ctx.view.body), n, at);
    }
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
      if (!g || g.mode !== 'enforce') return undefined;
      const acc = g.accounts.get(accountKey(ctx));
      if (!acc) return undefined;
      const from = acc.level;
      const level = g.guard.levelAt(acc, now());
      if (level !== from) report(g, acc, { from, to: level, detector: acc.lastDetector ?? acc.stream.strongest().detector, score: acc.lastScore });
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

  deps.admin?.add('/extraction/users', extractionAdmin(guards, shared, deps));
  return [gate, scoring];
};
