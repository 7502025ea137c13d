import { s, type Infer } from './schema-dsl.js';
import { adminSection, serverSection } from './sections/server.js';
import { upstreamSection } from './sections/upstream.js';
import { routesSection } from './sections/routes.js';
import { logSection } from './sections/log.js';
import { modelsSection } from './sections/models.js';
import { authSection } from './sections/auth.js';
import { limitsSection } from './sections/limits.js';
import { extAuthzSection } from './sections/ext-authz.js';
import { modelVerificationSection } from './sections/model-verification.js';

/** The one configuration document. Each section lives in ./sections; add new ones here. */
export const gatewaySchema = s.object(
  {
    server: serverSection,
    admin: adminSection,
    upstream: upstreamSection,
    routes: routesSection,
    log: logSection,

    // Authentication (issue 3): issuers, keys, token cache.
    auth: authSection,

    // Served models and their contracts (issues 3, 4, 5 add per-model fields in sections/model-*.ts).
    models: modelsSection,

    // Rate limits and their store (issue 5).
    limits: limitsSection,

    // Ext-authz front doors (issue 6).
    extAuthz: extAuthzSection,

    // Layer 4: the model directory checked against its signed manifest before the gateway is ready.
    modelVerification: modelVerificationSection,
  },
  { doc: 'inference-gateway configuration.' },
);

export type GatewayConfig = Infer<typeof gatewaySchema>;
export type ModelConfig = GatewayConfig['models'][string];
