import { s, type Infer } from './schema-dsl.js';
import { adminSection, serverSection } from './sections/server.js';
import { upstreamSection } from './sections/upstream.js';
import { routesSection } from './sections/routes.js';
import { logSection } from './sections/log.js';
import { modelsSection } from './sections/models.js';
import { authSection } from './sections/auth.js';

/** The one configuration document. Each section lives in ./sections; add new ones here. */
export const gatewaySchema = s.object(
  {
    server: serverSection,
    admin: adminSection,
    upstream: upstreamSection,
    routes: routesSection,
    auth: authSection,
    models: modelsSection,
    log: logSection,
  },
  { doc: 'inference-gateway configuration.' },
);

export type GatewayConfig = Infer<typeof gatewaySchema>;
export type ModelConfig = GatewayConfig['models'][string];
