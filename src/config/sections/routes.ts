import { inferenceRouteReach } from '../public-route-reach.js';
import { matching, z, crossField, CROSS_FIELD } from '../fields.js';

export const DEFAULT_PUBLIC_ROUTES = [
  'GET /',
  'GET /v1/models/*',
  'GET /v2/health/live',
  'GET /v2/health/ready',
  'GET /v2/models/*/ready',
  'GET /v2/models/*/versions/*/ready',
] as const;

export const routesSection = z
  .strictObject({
    public: z
      .array(
        matching(
          /^(GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS|\*) \/\S*$/,
          'expected "METHOD /path" where * stands for one path segment, like "GET /v2/models/*/ready"',
        ).meta({
          description: 'A public route.',
        }),
      )
      .default([...DEFAULT_PUBLIC_ROUTES])
      .meta({
        description:
          'Routes that pass without a token (probes). `*` matches one path segment name (no `/` or `:`); GET also matches HEAD. Anything neither public nor a KServe model route is denied. A pattern that can match a predict, explain or infer route is a config error.',
      }),
  })
  .superRefine(
    crossField((v, ctx) => {
      v.public.forEach((p, i) => {
        const reach = inferenceRouteReach(p);
        if (reach) ctx.addIssue({ code: 'custom', path: ['public', i], message: reach });
      });
    }),
    CROSS_FIELD,
  )
  .prefault({})
  .meta({ description: 'Which paths pass without a token.' });
