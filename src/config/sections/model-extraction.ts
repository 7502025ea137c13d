import { DEFAULT_LADDER } from '../../extraction/action-ladder.js';
import {
  DEFAULT_DETECTOR_SETTINGS as D,
  DETECTORS as DETECTOR_NAMES,
  RATE_CLASSES,
} from '../../extraction/detector-settings.js';
import { settings, z, crossField, CROSS_FIELD } from '../fields.js';

const numbers = (description: string) =>
  z
    .array(z.number().meta({ description: 'One value per feature, in row order.' }))
    .min(1)
    .max(1_000_000)
    .optional()
    .meta({ description });

type FeatureArrays = {
  readonly centre?: readonly number[] | undefined;
  readonly scale?: readonly number[] | undefined;
  readonly min?: readonly number[] | undefined;
  readonly max?: readonly number[] | undefined;
};

function checkFeatures(v: FeatureArrays, ctx: z.RefinementCtx): void {
  const problem = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const standard = v.centre !== undefined || v.scale !== undefined;
  const range = v.min !== undefined || v.max !== undefined;
  if (standard && range) problem([], 'give either centre/scale or min/max, not both');
  else if (!standard && !range) problem([], 'needs centre and scale, or min and max');
  const pair = (a: keyof FeatureArrays, b: keyof FeatureArrays, ok: (x: number, y: number) => boolean, why: string) => {
    const x = v[a];
    const y = v[b];
    if (x === undefined && y === undefined) return;
    if (x === undefined || y === undefined)
      return problem([x === undefined ? a : b], `is required with ${x === undefined ? b : a}`);
    if (x.length !== y.length) return problem([b], `has ${y.length} values for ${x.length} in ${a}`);
    const bad = y.findIndex((yy, i) => !ok(x[i]!, yy));
    if (bad >= 0) problem([b, bad], why);
  };
  pair('centre', 'scale', (_c, sc) => sc > 0, 'must be above 0');
  pair('min', 'max', (lo, hi) => hi > lo, 'must be above its min');
}

const features = z
  .strictObject({
    centre: numbers('Per-feature centre of benign inputs (e.g. the training mean); with `scale`.'),
    scale: numbers(
      'Per-feature spread of benign inputs (e.g. the training standard deviation), all > 0; with `centre`.',
    ),
    min: numbers('Per-feature smallest benign value; with `max` (instead of `centre`/`scale`).'),
    max: numbers('Per-feature largest benign value, each above its `min`.'),
    projectAbove: z.int().min(1).default(256).meta({
      description:
        'Rows wider than this are projected (fixed seeded Gaussian random projection) before distances are taken.',
    }),
    projectTo: z.int().min(2).max(1024).default(64).meta({ description: 'Dimensions of the projection.' }),
    seed: z
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(1)
      .meta({ description: 'Seed of the projection and of the fingerprint grids: the same on every replica.' }),
  })
  .superRefine(crossField(checkFeatures), CROSS_FIELD)
  .optional()
  .meta({
    description:
      'The feature description: how one row of numbers is scaled. Without it only exact repeats and volume are counted.',
  });

const detectors = z
  .strictObject({
    delta: z.number().min(0.5).max(0.999).default(D.delta).meta({
      description: 'PRADA: alarm when the Shapiro–Wilk W of the nearest-prototype distances falls below this.',
    }),
    prototypes: z
      .int()
      .min(2)
      .max(1024)
      .default(D.prototypes)
      .meta({ description: 'PRADA: prototypes kept per predicted class.' }),
    maxClasses: z
      .int()
      .min(1)
      .max(1024)
      .default(D.maxClasses)
      .meta({ description: 'PRADA: classes tracked apart (higher class ids share slots modulo this).' }),
    ring: z.int().min(20).max(5000).default(D.ring).meta({ description: 'PRADA: distances kept for the test.' }),
    minSamples: z
      .int()
      .min(20)
      .max(5000)
      .default(D.minSamples)
      .meta({ description: 'PRADA: distances needed before the first test (warm-up).' }),
    testEvery: z.int().min(1).max(1000).default(D.testEvery).meta({ description: 'PRADA: queries between two tests.' }),
    quantum: z.number().min(0.001).max(10).default(D.quantum).meta({
      description:
        'Fingerprints: grid step in benign standard deviations (two queries closer than this in every feature are near-duplicates).',
    }),
    tableSize: z
      .int()
      .min(16)
      .max(1 << 20)
      .refine((v) => (v & (v - 1)) === 0, 'must be a power of two')
      .default(D.tableSize)
      .meta({ description: 'Fingerprints: signature slots per account (4 bytes each; a power of two).' }),
    bands: z
      .int()
      .min(1)
      .max(64)
      .default(D.bands)
      .meta({ description: 'Fingerprints: independently shifted grids per query.' }),
    window: z.int().min(16).max(4096).default(D.window).meta({
      description:
        'Queries over which each windowed signal (near-duplicates, envelope, sweeps, collinear steps, low margins) is counted.',
    }),
    alpha: z
      .number()
      .min(1e-15)
      .max(0.1)
      .default(D.alpha)
      .meta({ description: 'Chance per window that a benign stream at the assumed rates raises a windowed alarm.' }),
    envelope: z
      .number()
      .min(1)
      .max(100)
      .default(D.envelope)
      .meta({ description: 'Envelope: a feature beyond this many benign standard deviations is outside.' }),
    envelopeRate: z.number().min(1e-6).max(0.5).optional().meta({
      description:
        'Envelope: assumed benign share of rows outside. Default: twice the Gaussian share for the row width.',
    }),
    nearDuplicateRate: z
      .number()
      .min(1e-6)
      .max(0.5)
      .default(D.nearDuplicateRate)
      .meta({ description: 'Assumed benign share of near-duplicate queries.' }),
    sweepRate: z
      .number()
      .min(1e-6)
      .max(0.5)
      .default(D.sweepRate)
      .meta({ description: 'Assumed benign share of queries changing exactly one feature.' }),
    collinearRate: z
      .number()
      .min(1e-6)
      .max(0.5)
      .default(D.collinearRate)
      .meta({ description: 'Assumed benign share of steps parallel to the previous step.' }),
    lowMargin: z
      .number()
      .min(0)
      .max(1)
      .default(D.lowMargin)
      .meta({ description: 'An answer whose top-1 minus top-2 probability is below this is a low-margin answer.' }),
    marginRate: z
      .number()
      .min(1e-6)
      .max(0.5)
      .default(D.marginRate)
      .meta({ description: 'Assumed benign share of low-margin answers.' }),
    stepRate: z.number().min(1e-6).max(0.5).default(D.stepRate).meta({
      description:
        'Assumed benign share of rows repeating the shape of an earlier step (the floor of the `steps` detector).',
    }),
    stepRecent: z
      .int()
      .min(1)
      .max(256)
      .default(D.stepRecent)
      .meta({ description: 'Repeated step shapes: earlier rows each new row is compared with.' }),
    stepTable: z
      .int()
      .min(16)
      .max(1 << 20)
      .refine((v) => (v & (v - 1)) === 0, 'must be a power of two')
      .default(D.stepTable)
      .meta({ description: 'Repeated step shapes: shape tags remembered per account (2 bytes each; a power of two).' }),
    repeatHorizon: z.int().min(1).max(65_536).default(D.repeatHorizon).meta({
      description:
        'Exact repeats: a row equal to one of the last this-many distinct rows of the account is a re-send, counted apart and never scored.',
    }),
    noveltyReference: z.int().min(16).max(4096).default(D.noveltyReference).meta({
      description:
        "Novelty: rows of the model's benign population kept as its reference (at most `noveltyRowsPerAccount` per never-flagged account, reservoir-sampled); rows are judged once a quarter of it is filled.",
    }),
    noveltyNeighbours: z.int().min(1).max(16).default(D.noveltyNeighbours).meta({
      description:
        'Novelty: reference rows that must lie within the radius for a row to count as near the population (≥ 2: one poisoned row is not enough).',
    }),
    noveltyQuantile: z.number().min(0.5).max(0.9999).default(D.noveltyQuantile).meta({
      description:
        "Novelty: the radius is this quantile of the reference rows' own distance to their `noveltyNeighbours`-th nearest other row.",
    }),
    noveltyRowsPerAccount: z.int().min(1).max(64).default(D.noveltyRowsPerAccount).meta({
      description:
        'Novelty: rows one never-flagged account may lend to the reference (one per 64 scored rows, from its 16th to 80th).',
    }),
    noveltyRate: z
      .number()
      .gt(0)
      .lt(1)
      .default(D.noveltyRate)
      .meta({ description: 'Novelty: assumed benign share of rows beyond the radius (the floor of the detector).' }),
    lineageRate: z.number().min(1e-6).max(0.5).default(D.lineageRate).meta({
      description:
        "Lineage: assumed benign share of rows descended from one of the account's earlier rows by a sign step it has taken twice (the floor of the `lineage` detector).",
    }),
    lineageHistory: z.int().min(2).max(4096).default(D.lineageHistory).meta({
      description:
        "Lineage: distinct rows per account kept (float32, one per feature) to find a step taken twice and a row's relatives; rows of at most 16 features.",
    }),
    seedRate: z.number().min(1e-6).max(0.5).default(D.seedRate).meta({
      description:
        'Seeds: assumed benign share of rows that are not real-looking and lie within `seedRadius` of a real row the account sent itself (the floor of the `seeds` detector).',
    }),
    seedAnchors: z.int().min(1).max(1024).default(D.seedAnchors).meta({
      description:
        'Seeds: real-looking rows per account kept (float32, one per feature) as possible seeds of perturbed rows; rows of at most 16 features.',
    }),
    seedRadius: z.number().gt(0).max(4).default(D.seedRadius).meta({
      description:
        'Seeds: a row within this root-mean-square distance per feature, in benign standard deviations, of one of the seeds was grown from it.',
    }),
  })
  .superRefine(
    crossField((v, ctx) => {
      if (v.minSamples > v.ring)
        ctx.addIssue({
          code: 'custom',
          path: ['minSamples'],
          message: `is above ring (${v.minSamples} > ${v.ring}): the test would never run`,
        });
    }),
    CROSS_FIELD,
  )
  .prefault({})
  .meta({
    description: 'Detector thresholds (defaults from PRADA, Blacklight and stated benign rates; see the README).',
  });

const RUNGS = ['flagAt', 'degradeAt', 'throttleAt', 'blockAt'] as const;

const actions = z
  .strictObject({
    flagAt: z.number().min(0).default(DEFAULT_LADDER.flagAt).meta({
      description:
        'Evidence (alarmed queries, decayed) at which the account is flagged: metric and log line, nothing changes for the user. 0 disables.',
    }),
    degradeAt: z.number().min(0).default(DEFAULT_LADDER.degradeAt).meta({
      description: 'Evidence at which answers become labels only, even for full-access identities. 0 disables.',
    }),
    throttleAt: z.number().min(0).default(DEFAULT_LADDER.throttleAt).meta({
      description:
        'Evidence at which the account pays `throttleFactor` × each request against its rate limits. 0 disables.',
    }),
    blockAt: z.number().min(0).default(DEFAULT_LADDER.blockAt).meta({
      description:
        'Evidence at which every request of the account is refused (403 `access_denied`, which does not say why). 0 disables.',
    }),
    throttleFactor: z
      .number()
      .min(1)
      .max(1_000_000)
      .default(10)
      .meta({ description: 'How many times each request counts against the limits while throttled.' }),
    hysteresis: z
      .number()
      .min(0)
      .max(1)
      .default(DEFAULT_LADDER.hysteresis)
      .meta({ description: 'A rung is left only when evidence falls below this share of its threshold.' }),
    halfLifeSeconds: z
      .number()
      .min(1)
      .default(DEFAULT_LADDER.halfLifeMs / 1000)
      .meta({
        description: 'Half-life of the evidence: an account that stops looking suspicious walks back down the ladder.',
      }),
  })
  .superRefine(
    crossField((v, ctx) => {
      let last = 0;
      let lastName = '';
      for (const r of RUNGS) {
        const at = v[r];
        if (at === 0) continue;
        if (at < last)
          ctx.addIssue({
            code: 'custom',
            path: [r],
            message: `is below ${lastName} (${at} < ${last}): rungs must not decrease`,
          });
        last = at;
        lastName = r;
      }
    }),
    CROSS_FIELD,
  )
  .prefault({})
  .meta({ description: 'The action ladder, applied to the account (never per query).' });

const classRateList = z.array(z.number().min(0).max(1)).max(RATE_CLASSES + 1);

const pinned = z
  .strictObject({
    accounts: z
      .int()
      .min(0)
      .meta({ description: 'Accounts the pinned calibration was computed from (reported in the model view).' }),
    queries: z.int().min(0).default(0).meta({ description: 'Their scored queries.' }),
    thresholds: z
      .strictObject(
        Object.fromEntries(
          DETECTOR_NAMES.map((d) => {
            const field = z.number().meta({
              description: d === 'prada' ? 'PRADA δ (alarm when W is below).' : `${d}: alarm count in the window.`,
            });
            // Blocks printed before the novelty, lineage and seeds detectors existed stay valid (they keep their floors).
            return [d, d === 'novelty' || d === 'lineage' || d === 'seeds' ? field.optional() : field];
          }),
        ) as Record<Exclude<(typeof DETECTOR_NAMES)[number], 'novelty' | 'lineage' | 'seeds'>, z.ZodNumber> & {
          novelty: z.ZodOptional<z.ZodNumber>;
          lineage: z.ZodOptional<z.ZodNumber>;
          seeds: z.ZodOptional<z.ZodNumber>;
        },
      )
      .meta({ description: 'Per detector, as printed by `inference-gateway calibrate`.' }),
    classRates: z
      .strictObject({
        envelope: classRateList.meta({
          description:
            'Per predicted class (index modulo 16), the share of rows beyond the envelope; the pooled rate last.',
        }),
        margin: classRateList.meta({
          description: 'Per predicted class, the share of answers with a low margin; the pooled rate last.',
        }),
        envelopeFar: classRateList.optional().meta({
          description:
            'Per predicted class, the share of rows beyond the envelope that the novelty reference finds far from the model’s own traffic; the pooled rate last. Without it every exit is judged by the three-sigma rule.',
        }),
        novelty: classRateList.optional().meta({
          description:
            'Per predicted class, the share of rows the novelty reference finds far from the model’s own traffic; the pooled rate last. Without it novelty is judged on its raw count.',
        }),
      })
      .optional()
      .meta({
        description:
          'Per predicted class, the base rates envelope and margin are judged against (their thresholds are then counts adjusted for the classes an account queried). Without them both are judged on raw counts.',
      }),
  })
  .optional()
  .meta({
    description:
      'A calibration fixed by the operator (print one with `inference-gateway calibrate`); replaces learning from live traffic.',
  });

const calibration = z
  .strictObject({
    minAccounts: z.int().min(0).default(200).meta({
      description:
        'Accounts (each with `minQueries` scored queries) needed before the calibration is in force; until then `enforce` runs as shadow. 0: enforce the published thresholds without calibration.',
    }),
    minQueries: z
      .int()
      .min(1)
      .default(128)
      .meta({ description: 'Scored (non-repeat) queries an account needs before it contributes to the calibration.' }),
    falseAlarmRate: z
      .number()
      .min(1e-9)
      .max(0.1)
      .default(0.001)
      .meta({ description: 'Share of benign accounts allowed to cross a calibrated threshold.' }),
    tailAllowance: z
      .number()
      .min(1)
      .max(10)
      .default(1.5)
      .meta({ description: 'Widening of the extrapolated benign tail beyond what a normal tail needs.' }),
    deltaCeiling: z
      .number()
      .min(0.5)
      .max(0.999)
      .default(0.96)
      .meta({ description: 'The highest (most sensitive) PRADA δ the calibration may set (PRADA used 0.9–0.96).' }),
    uncalibratedDetectors: z.array(z.enum(DETECTOR_NAMES)).default(['lineage']).meta({
      description:
        'Detectors whose published thresholds flag accounts before a quarter of `minAccounts` contribute (flag only, never enforced). `lineage` (a learned sign-step lattice) has a base rate near zero on every model measured; `sweep` and `collinear` do not on replays of gridded or ordinal series (a series stepping one feature along a grid). []: no evidence until then.',
    }),
    syncSeconds: z.number().min(0.05).max(3600).default(10).meta({
      description: 'With Redis limits: how often the calibration is merged with the other replicas and saved.',
    }),
    pinned,
  })
  .prefault({})
  .meta({ description: 'Per-model calibration of the detectors from the population of its own accounts.' });

const breaker = z
  .strictObject({
    share: z.number().min(0.0001).max(0.5).default(0.005).meta({
      description:
        'Share of active accounts one detector may take to degrade or above before it stops escalating (miscalibrated for this model).',
    }),
    minAccounts: z
      .int()
      .min(1)
      .default(10)
      .meta({ description: 'Escalated accounts needed before the share is considered.' }),
    farBeyond: z.number().min(1).max(100).default(2).meta({
      description:
        'Score (a multiple of the threshold in force) from which an escalation is far beyond it: such accounts do not count towards `share` and keep escalating while only marginal escalations are held.',
    }),
    farMultiple: z.number().min(1).max(100).default(5).meta({
      description:
        'All escalations of one detector (far beyond or not) reaching this multiple of the trip point hold every account it escalated.',
    }),
  })
  .prefault({})
  .meta({ description: 'The circuit breaker that keeps a detector from mass-blocking a model.' });

/** Fields of `models.<model>` for model-extraction detection. */
export const modelExtractionFields = {
  extraction: settings(
    {
      mode: z.enum(['off', 'shadow', 'enforce']).optional().meta({
        description:
          '`off`; `shadow` scores and reports (metrics, log lines, admin list) and changes nothing a user sees; `enforce` applies the action ladder. Default: `shadow` when `features` are described, else `off`.',
      }),
      features,
      detectors,
      actions,
      calibration,
      breaker,
      timelineBucketSeconds: z
        .int()
        .min(1)
        .max(86_400)
        .default(60)
        .meta({ description: "Width of one bucket of an account's timeline in the admin view (60 buckets are kept)." }),
      maxAccounts: z
        .int()
        .min(1)
        .max(10_000_000)
        .default(10_000)
        .meta({ description: 'Accounts tracked per model in memory (least recently seen forgotten first).' }),
      maxStateBytes: z
        .int()
        .min(1024 * 1024)
        .default(64 * 1024 * 1024)
        .meta({
          description:
            "Memory for this model's account states: fewer than `maxAccounts` are kept when this many bytes cannot hold them at their largest (fixed detector state plus a full prototype set per class: about 20–30 kB for a few features, more with many features or classes). The start-up log line `extraction guard` gives the resulting account count.",
        }),
      idleSeconds: z
        .int()
        .min(60)
        .default(7 * 86_400)
        .meta({ description: 'An account unseen this long is forgotten (memory and Redis TTL).' }),
      sharedFlushMs: z.int().min(1).max(1000).default(20).meta({
        description:
          "With Redis limits: how long a replica gathers its accounts' evidence updates in memory before it sends them to Redis in one round trip (and reads the other replicas' back). Longer costs less Redis work; another replica learns a block up to this much later.",
      }),
    },
    'Model-extraction detection for this model (see the README section on extraction).',
  ),
};
