import type { ModelRoute } from '../protocol/kserve-route.js';

/** Where a request is going: a public probe, a model route, or nowhere we serve. */
export type RouteMatch =
  { readonly kind: 'public' } | { readonly kind: 'model'; readonly route: ModelRoute } | { readonly kind: 'unknown' };

/** Bounded label values for metrics. */
export type RouteClass = 'public' | 'predict' | 'explain' | 'metadata' | 'ready' | 'unknown';

export function routeClass(match: RouteMatch | undefined): RouteClass {
  if (!match) return 'unknown';
  return match.kind === 'model' ? match.route.verb : match.kind;
}
