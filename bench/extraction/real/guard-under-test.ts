import { buildConfig } from '../../../src/config/load-config.js';
import { ModelGuard } from '../../../src/extraction/model-guard.js';
import { DETECTORS } from '../../../src/extraction/population-calibration.js';
import type { FeatureDescription } from './victims.js';

/**
 * The detector as the bench drives it: one model's guard built from the configuration an operator
 * writes (enforce mode, `features.centre`/`scale` from the training split, every other setting at
 * its default), fed one request at a time the way the extraction stage feeds it (every row
 * observed, the timeline recorded, the population calibration refreshed when due). This is the
 * only file that touches the detector's API.
 */
export interface GuardUnderTest {
  /**
   * Scores one request of `user` (its rows, and per row the answer's class and margin); with
   * `timings`, pushes each row's scoring time in µs.
   */
  request(
    user: string,
    rows: readonly Float64Array[],
    classes: readonly number[],
    margins: readonly number[],
    now: number,
    timings?: number[],
  ): void;
  /** The level the detector has reached for the user (0 none, 1 flag, … 4 block), acted on or not. */
  level(user: string, now: number): number;
  /** The level enforce mode applies now: 0 while the model runs in shadow (uncalibrated), breaker caps applied. */
  enforced(user: string, now: number): number;
  /** The detector that first alarmed on the user's account, if any. */
  firstAlarm(user: string, now: number): string | undefined;
  /** True once the model's calibration is in force (its enforce mode acts). */
  enforcing(): boolean;
  /** Times a circuit breaker opened so far, and for which detectors; undefined when the detector has none. */
  breakerTrips(): { readonly trips: number; readonly detectors: readonly string[] } | undefined;
}

export function guardUnderTest(
  model: string,
  features: FeatureDescription,
  classes: number | undefined,
  clock: { now: number },
): GuardUnderTest {
  const labels = classes === undefined ? undefined : Array.from({ length: classes }, (_, i) => `class-${i}`);
  const config = buildConfig({
    auth: { enabled: false },
    models: {
      [model]: {
        ...(labels ? { labels } : {}),
        extraction: { mode: 'enforce', features: { centre: features.centre, scale: features.scale } },
      },
    },
  });
  const g = new ModelGuard(model, 'enforce', config.models[model]!, () => clock.now);
  let trips = 0;
  const tripped = new Set<string>();
  g.guard.onBreaker = (c) => {
    if (!c.tripped) return;
    trips++;
    tripped.add(DETECTORS[c.detector]!);
  };
  return {
    request(user, rows, classIds, margins, now, timings) {
      clock.now = now;
      const acc = g.account(user, now);
      for (let i = 0; i < rows.length; i++) {
        if (!timings) {
          g.guard.observe(acc, rows[i]!, classIds[i]!, margins[i]!, now);
          continue;
        }
        const t0 = process.hrtime.bigint();
        g.guard.observe(acc, rows[i]!, classIds[i]!, margins[i]!, now);
        timings.push(Number(process.hrtime.bigint() - t0) / 1000);
      }
      // The request's own bookkeeping is charged to its last row, as the row that caused it.
      const t0 = timings ? process.hrtime.bigint() : 0n;
      g.recordTimeline(acc, now, rows.length);
      g.calibration.maybeRefresh(now);
      if (timings && timings.length > 0) timings[timings.length - 1]! += Number(process.hrtime.bigint() - t0) / 1000;
    },
    level(user, now) {
      const acc = g.accounts.get(user);
      return acc ? g.guard.levelAt(acc, now) : 0;
    },
    enforced(user, now) {
      if (g.effectiveMode !== 'enforce') return 0;
      const acc = g.find(user, now);
      if (!acc) return 0;
      g.guard.levelAt(acc, now);
      return g.guard.enforcedLevel(acc);
    },
    firstAlarm(user, now) {
      const acc = g.find(user, now);
      return acc && acc.firstAlarmDetector >= 0 ? DETECTORS[acc.firstAlarmDetector] : undefined;
    },
    enforcing: () => g.effectiveMode === 'enforce',
    breakerTrips: () => ({ trips, detectors: [...tripped] }),
  };
}
