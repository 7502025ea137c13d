import { parseModelRoute } from '../protocol/kserve-route.js';

// Segment values a `*` would have to take for a pattern to reach an inference route: any model
// name (one stands for all: names are matched by structure only), and every word the KServe
// route grammar gives meaning to.
const STAR_VALUES = ['m', 'predict', 'explain', 'infer', 'versions', 'models', 'v1', 'v2', 'ready'];
// Patterns are short; past this many wildcards the pattern is refused rather than enumerated.
const MAX_STARS = 4;

/**
 * Why a public pattern could let a prediction through without a token, contract or limit (it
 * matches some KServe predict, explain or infer route), or undefined when it cannot.
 * A `*` matches one segment name without `/` or `:`, so trying each word of the route grammar
 * in each wildcard covers every model route the pattern can reach.
 */
export function inferenceRouteReach(pattern: string): string | undefined {
  const path = pattern.slice(pattern.indexOf(' ') + 1);
  const parts = path.split('*');
  if (parts.length - 1 > MAX_STARS) return `has more than ${MAX_STARS} wildcards; a public route must be narrow`;
  let candidates = [parts[0]!];
  for (let i = 1; i < parts.length; i++) {
    const next: string[] = [];
    for (const c of candidates) for (const v of STAR_VALUES) next.push(c + v + parts[i]!);
    candidates = next;
  }
  for (const c of candidates) {
    const route = parseModelRoute(c);
    if (route && (route.verb === 'predict' || route.verb === 'explain')) {
      return `can match the inference route ${c}: predictions would pass with no token, contract or limit`;
    }
  }
  return undefined;
}
