// The predictor itself: the limit every proxy is measured against. It already runs (every
// proxy forwards to it), so this target only points at it.
import type { Target } from './target.js';

export function directTarget(predictor: { url: string; pid: number }): Target {
  return {
    id: 'direct',
    name: 'predictor directly (V2, the limit)',
    group: 'limit',
    authenticates: false,
    start: async () => ({ url: predictor.url, pid: predictor.pid, stop: async () => {} }),
  };
}
