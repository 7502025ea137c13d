import { matching, settings, z } from '../fields.js';

export const DEFAULT_PUBLIC_ROUTES = ['GET /', 'GET /v1/models/*', 'GET /v2/health/live', 'GET /v2/health/ready', 'GET /v2/models/*/ready', 'GET /v2/models/*/versions/*/ready'] as const;

export const routesSection = settings(
  {
    public: z
      .array(
        matching(/^(GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS|\*) \/\S*$/, 'expected "METHOD /path" where * stands for one path segment, like "GET /v2/models/*/ready"').meta({
          description: 'A public route.',
        }),
      )
      .default([...DEFAULT_PUBLIC_ROUTES])
      .meta({
        description: 'Routes that pass without a token (probes). `*` matches one path segment name (no `/` or `:`); GET also matches HEAD. Anything neither public nor a KServe model route is denied.',
      }),
  },
  'Which paths pass without a token.',
);
