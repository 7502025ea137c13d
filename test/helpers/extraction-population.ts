import { buildConfig } from '../../src/config/load-config.js';
import type { AccountState } from '../../src/extraction/account-state.js';
import { ModelGuard } from '../../src/extraction/model-guard.js';

/** Four standardised features, three labelled classes. */
export const D = 4;
export const FEATURES = { centre: new Array<number>(D).fill(0), scale: new Array<number>(D).fill(1) };

/** One scored row: its features, its predicted class and the answer's margin (NaN when unseen). */
export interface Query {
  readonly row: readonly number[];
  readonly cls: number;
  readonly margin: number;
}

/** An enforce-mode guard of a 3-class, 4-feature model, calibrated on 50 accounts of 100 queries unless `extraction` says otherwise. */
export function modelGuard(extraction: Record<string, unknown> = {}): ModelGuard {
  const { calibration, ...rest } = extraction as { calibration?: Record<string, unknown> };
  const config = buildConfig({
    auth: { enabled: false },
    models: {
      m: {
        labels: ['a', 'b', 'c'],
        extraction: {
          mode: 'enforce',
          features: FEATURES,
          calibration: { minAccounts: 50, minQueries: 100, ...calibration },
          ...rest,
        },
      },
    },
  });
  return new ModelGuard('m', 'enforce', config.models['m']!);
}

/** Scores `stream` as `user`, one query a second from `t0`, as the extraction stage does. */
export function feed(g: ModelGuard, user: string, stream: Iterable<Query>, t0 = 0): AccountState {
  const acc = g.account(user, t0);
  let t = t0;
  for (const q of stream) {
    g.guard.observe(acc, q.row, q.cls, q.margin, (t += 1000));
    g.calibration.maybeRefresh(t);
  }
  return acc;
}
