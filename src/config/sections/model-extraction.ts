import { DEFAULT_LADDER } from '../../extraction/action-ladder.js';
import { DEFAULT_DETECTOR_SETTINGS as D } from '../../extraction/detector-settings.js';
import { s, type Problem, type Spec } from '../schema-dsl.js';

const numbers = (doc: string) => s.array(s.number({ doc: 'One value per feature, in row order.' }), { doc, optional: true, minItems: 1, maxItems: 1_000_000 });

const features = s.object(
  {
    centre: numbers('Per-feature centre of benign inputs (e.g. the training mean); with `scale`.'),
    scale: numbers('Per-feature spread of benign inputs (e.g. the training standard deviation), all > 0; with `centre`.'),
    min: numbers('Per-feature smallest benign value; with `max` (instead of `centre`/`scale`).'),
    max: numbers('Per-feature largest benign value, each above its `min`.'),
    projectAbove: s.integer({ doc: 'Rows wider than this are projected (fixed seeded Gaussian random projection) before distances are taken.', default: 256, min: 1 }),
    projectTo: s.integer({ doc: 'Dimensions of the projection.', default: 64, min: 2, max: 1024 }),
    seed: s.integer({ doc: 'Seed of the projection and of the fingerprint grids: the same on every replica.', default: 1, min: 0, max: 2 ** 31 - 1 }),
  },
  { doc: 'The feature description: how one row of numbers is scaled. Without it only exact repeats and volume are counted.', optional: true, check: checkFeatures },
);

const detectors = s.object(
  {
    delta: s.number({ doc: 'PRADA: alarm when the Shapiro–Wilk W of the nearest-prototype distances falls below this.', default: D.delta, min: 0.5, max: 0.999 }),
    prototypes: s.integer({ doc: 'PRADA: prototypes kept per predicted class.', default: D.prototypes, min: 2, max: 1024 }),
    maxClasses: s.integer({ doc: 'PRADA: classes tracked apart (higher class ids share slots modulo this).', default: D.maxClasses, min: 1, max: 1024 }),
    ring: s.integer({ doc: 'PRADA: distances kept for the test.', default: D.ring, min: 20, max: 5000 }),
    minSamples: s.integer({ doc: 'PRADA: distances needed before the first test (warm-up).', default: D.minSamples, min: 20, max: 5000 }),
    testEvery: s.integer({ doc: 'PRADA: queries between two tests.', default: D.testEvery, min: 1, max: 1000 }),
    quantum: s.number({ doc: 'Fingerprints: grid step in benign standard deviations (two queries closer than this in every feature are near-duplicates).', default: D.quantum, min: 0.001, max: 10 }),
    bands: s.integer({ doc: 'Fingerprints: independently shifted grids per query.', default: D.bands, min: 1, max: 64 }),
    window: s.integer({ doc: 'Queries over which each windowed signal (near-duplicates, envelope, sweeps, collinear steps, low margins) is counted.', default: D.window, min: 16, max: 4096 }),
    alpha: s.number({ doc: 'Chance per window that a benign stream at the assumed rates raises a windowed alarm.', default: D.alpha, min: 1e-15, max: 0.1 }),
    envelope: s.number({ doc: 'Envelope: a feature beyond this many benign standard deviations is outside.', default: D.envelope, min: 1, max: 100 }),
    envelopeRate: s.number({ doc: 'Envelope: assumed benign share of rows outside. Default: twice the Gaussian share for the row width.', optional: true, min: 1e-6, max: 0.5 }),
    nearDuplicateRate: s.number({ doc: 'Assumed benign share of near-duplicate queries.', default: D.nearDuplicateRate, min: 1e-6, max: 0.5 }),
    sweepRate: s.number({ doc: 'Assumed benign share of queries changing exactly one feature.', default: D.sweepRate, min: 1e-6, max: 0.5 }),
    collinearRate: s.number({ doc: 'Assumed benign share of steps parallel to the previous step.', default: D.collinearRate, min: 1e-6, max: 0.5 }),
    lowMargin: s.number({ doc: 'An answer whose top-1 minus top-2 probability is below this is a low-margin answer.', default: D.lowMargin, min: 0, max: 1 }),
    marginRate: s.number({ doc: 'Assumed benign share of low-margin answers.', default: D.marginRate, min: 1e-6, max: 0.5 }),
  },
  { doc: 'Detector thresholds (defaults from PRADA, Blacklight and stated benign rates; see the README).', check: (v) => ((v['minSamples'] as number) > (v['ring'] as number) ? [{ path: 'minSamples', message: `is above ring (${String(v['minSamples'])} > ${String(v['ring'])}): the test would never run` }] : []) },
);

const actions = s.object(
  {
    flagAt: s.number({ doc: 'Evidence (alarmed queries, decayed) at which the account is flagged: metric and log line, nothing changes for the user. 0 disables.', default: DEFAULT_LADDER.flagAt, min: 0 }),
    degradeAt: s.number({ doc: 'Evidence at which answers become labels only, even for full-access identities. 0 disables.', default: DEFAULT_LADDER.degradeAt, min: 0 }),
    throttleAt: s.number({ doc: 'Evidence at which the account pays `throttleFactor` × each request against its rate limits. 0 disables.', default: DEFAULT_LADDER.throttleAt, min: 0 }),
    blockAt: s.number({ doc: 'Evidence at which every request of the account is refused (403 `access_denied`, which does not say why). 0 disables.', default: DEFAULT_LADDER.blockAt, min: 0 }),
    throttleFactor: s.number({ doc: 'How many times each request counts against the limits while throttled.', default: 10, min: 1, max: 1_000_000 }),
    hysteresis: s.number({ doc: 'A rung is left only when evidence falls below this share of its threshold.', default: DEFAULT_LADDER.hysteresis, min: 0, max: 1 }),
    halfLifeSeconds: s.number({ doc: 'Half-life of the evidence: an account that stops looking suspicious walks back down the ladder.', default: DEFAULT_LADDER.halfLifeMs / 1000, min: 1 }),
  },
  { doc: 'The action ladder, applied to the account (never per query).', check: checkLadder },
);

/** Fields of `models.<model>` owned by issue 13: model-extraction detection. */
export const modelExtractionFields = {
  extraction: s.object(
    {
      mode: s.string({
        doc: '`off`; `shadow` scores and reports (metrics, log lines, admin list) and changes nothing a user sees; `enforce` applies the action ladder. Default: `shadow` when `features` are described, else `off`.',
        optional: true,
        enum: ['off', 'shadow', 'enforce'],
      }),
      features,
      detectors,
      actions,
      maxAccounts: s.integer({ doc: 'Accounts tracked per model in memory (least recently seen forgotten first).', default: 10_000, min: 1, max: 10_000_000 }),
      idleSeconds: s.integer({ doc: 'An account unseen this long is forgotten (memory and Redis TTL).', default: 7 * 86_400, min: 60 }),
    },
    { doc: 'Model-extraction detection for this model (see the README section on extraction).' },
  ),
} satisfies Record<string, Spec>;

function checkFeatures(v: Record<string, unknown>): Problem[] {
  const p: Problem[] = [];
  const arr = (k: string) => v[k] as readonly number[] | undefined;
  const [centre, scale, min, max] = [arr('centre'), arr('scale'), arr('min'), arr('max')];
  const standard = centre !== undefined || scale !== undefined;
  const range = min !== undefined || max !== undefined;
  if (standard && range) p.push({ path: '', message: 'give either centre/scale or min/max, not both' });
  else if (!standard && !range) p.push({ path: '', message: 'needs centre and scale, or min and max' });
  const pair = (a: string, b: string, ok: (x: number, y: number) => boolean, why: string) => {
    const x = arr(a);
    const y = arr(b);
    if (x === undefined && y === undefined) return;
    if (x === undefined || y === undefined) return void p.push({ path: x === undefined ? a : b, message: `is required with ${x === undefined ? b : a}` });
    if (x.length !== y.length) return void p.push({ path: b, message: `has ${y.length} values for ${x.length} in ${a}` });
    const bad = y.findIndex((yy, i) => !ok(x[i]!, yy));
    if (bad >= 0) p.push({ path: `${b}[${bad}]`, message: why });
  };
  pair('centre', 'scale', (_c, sc) => sc > 0, 'must be above 0');
  pair('min', 'max', (lo, hi) => hi > lo, 'must be above its min');
  return p;
}

function checkLadder(v: Record<string, unknown>): Problem[] {
  const rungs = ['flagAt', 'degradeAt', 'throttleAt', 'blockAt'] as const;
  const p: Problem[] = [];
  let last = 0;
  let lastName = '';
  for (const r of rungs) {
    const at = v[r] as number;
    if (at === 0) continue;
    if (at < last) p.push({ path: r, message: `is below ${lastName} (${at} < ${last}): rungs must not decrease` });
    last = at;
    lastName = r;
  }
  return p;
}

