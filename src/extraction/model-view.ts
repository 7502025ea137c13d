import { LEVELS } from './action-ladder.js';
import type { EffectiveMode, ExtractionMode, ModelGuard } from './model-guard.js';
import { DETECTORS, PRADA, W_STEP, type CalibrationState, type DetectorName } from './population-calibration.js';

/**
 * The per-model view for operators: the calibration in force, the accounts at each level, the
 * breaker. O(1) in the accounts: the levels are counts the guard keeps as levels change. A level
 * is the one the account was last settled at: evidence decays while an account is idle, and the
 * gate reads its level again, decay included, at its next request.
 */
export interface ModelView {
  readonly model: string;
  readonly mode: ExtractionMode;
  readonly effectiveMode: EffectiveMode;
  readonly calibration: {
    readonly state: CalibrationState;
    /** Accounts the calibration rests on (each counted once). */
    readonly accounts: number;
    /** Scored queries of those accounts when they started contributing. */
    readonly queries: number;
    /** Per detector, the median account's statistic: PRADA's W, or the share of a window's queries showing the signal. */
    readonly baseRates: Readonly<Record<DetectorName, number>>;
    /** Per detector, the threshold an account must pass (calibrated and published floor together): δ for PRADA, a window count otherwise. */
    readonly thresholds: Readonly<Record<DetectorName, number>>;
    readonly pinned: boolean;
  };
  readonly levels: Readonly<Record<(typeof LEVELS)[number], number>>;
  readonly breaker: {
    readonly tripped: boolean;
    readonly detector: DetectorName | null;
    readonly reason: string | null;
    readonly since: number | null;
  };
}

export function modelView(guard: ModelGuard): ModelView {
  const cal = guard.calibration;
  const n = cal.accounts;
  const window = cal.o.window;
  const baseRates = {} as Record<DetectorName, number>;
  const thresholds = {} as Record<DetectorName, number>;
  DETECTORS.forEach((name, d) => {
    const h = cal.hist[d]!;
    let c = 0;
    let median = 0;
    for (let b = 0; b < h.length && n > 0; b++) {
      c += h[b]!;
      if (c >= n / 2) {
        median = b;
        break;
      }
    }
    baseRates[name] = Math.round((d === PRADA ? 1 - median * W_STEP : median / window) * 10000) / 10000;
    thresholds[name] = Math.round(cal.effective(d) * 10000) / 10000;
  });
  const counts = guard.guard.levelCounts;
  const levels = Object.fromEntries(LEVELS.map((l, i) => [l, counts[i]!])) as Record<(typeof LEVELS)[number], number>;
  const b = guard.breaker;
  const d = b.tripped;
  return {
    model: guard.model,
    mode: guard.mode,
    effectiveMode: guard.effectiveMode,
    calibration: {
      state: cal.state,
      accounts: n,
      queries: cal.queries,
      baseRates,
      thresholds,
      pinned: cal.state === 'pinned',
    },
    levels,
    breaker: {
      tripped: d >= 0,
      detector: d >= 0 ? DETECTORS[d]! : null,
      reason: d >= 0 ? (b.reasons[d] ?? null) : null,
      since: d >= 0 ? b.since[d]! : null,
    },
  };
}
