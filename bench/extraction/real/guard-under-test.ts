import { buildConfig } from '../../../src/config/load-config.js';
import { ModelGuard } from '../../../src/extraction/model-guard.js';
import type { FeatureDescription } from './victims.js';

/**
 * The detector as the bench drives it: one model's guard built from the configuration an operator
 * writes (enforce mode, `features.centre`/`scale` from the training split, every other setting at
 * its default), fed one request at a time. This is the only file that touches the detector's API.
 */
export interface GuardUnderTest {
  /**
   * Scores one request of `user` (its rows, and per row the answer's class and margin); with
   * `timings`, pushes each row's scoring time in µs.
   */
  request(user: string, rows: readonly Float64Array[], classes: readonly number[], margins: readonly number[], now: number, timings?: number[]): void;
  /** The user's level now (0 none, 1 flag, 2 degrade, 3 throttle, 4 block), as enforce mode applies it. */
  level(user: string, now: number): number;
  /** Times the model's circuit breaker tripped so far; undefined when the detector has none. */
  breakerTrips(): number | undefined;
}

export function guardUnderTest(model: string, features: FeatureDescription, classes: number | undefined): GuardUnderTest {
  const labels = classes === undefined ? undefined : Array.from({ length: classes }, (_, i) => `class-${i}`);
  const config = buildConfig({
    auth: { enabled: false },
    models: { [model]: { ...(labels ? { labels } : {}), extraction: { mode: 'enforce', features: { centre: features.centre, scale: features.scale } } } },
  });
  const g = new ModelGuard(model, 'enforce', config.models[model]!);
  return {
    request(user, rows, classIds, margins, now, timings) {
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
    },
    level(user, now) {
      const acc = g.accounts.get(user);
      return acc ? g.guard.levelAt(acc, now) : 0;
    },
    breakerTrips: () => undefined,
  };
}
