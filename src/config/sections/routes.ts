import { inferenceRouteReach } from '../../decision/public-routes.js';
import { s, type Problem } from '../schema-dsl.js';

export const DEFAULT_PUBLIC_ROUTES = [
  'GET /',
  'GET /v1/models/*',
  'GET /v2/health/live',
  'GET /v2/health/ready',
  'GET /v2/models/*/ready',
  'GET /v2/models/*/versions/*/ready',
] as const;

export const routesSection = s.object(
  {
    public: s.array(
      s.string({
        doc: 'A public route.',
        pattern: /^(GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS|\*) \/\S*$/,
        patternHint: 'expected "METHOD /path" where * stands for one path segment, like "GET /v2/models/*/ready"',
      }),
      {
        doc: 'Routes that pass without a token (probes). `*` matches one path segment name (no `/` or `:`); GET also matches HEAD. Anything neither public nor a KServe model route is denied. A pattern that can match a predict, explain or infer route is a config error.',
        default: DEFAULT_PUBLIC_ROUTES,
      },
    ),
  },
  {
    doc: 'Which paths pass without a token.',
    check(v): Problem[] {
      const out: Problem[] = [];
      (v['public'] as readonly string[]).forEach((p, i) => {
        const reach = typeof p === 'string' ? inferenceRouteReach(p) : undefined;
        if (reach) out.push({ path: `public[${i}]`, message: reach });
      });
      return out;
    },
  },
);
