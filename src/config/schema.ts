import { z } from './fields.js';
import { adminSection, serverSection } from './sections/server.js';
import { upstreamSection } from './sections/upstream.js';
import { routesSection } from './sections/routes.js';
import { logSection } from './sections/log.js';
import { modelsSection } from './sections/models.js';
import { authSection } from './sections/auth.js';
import { limitsSection } from './sections/limits.js';
import { extAuthzSection } from './sections/ext-authz.js';
import { tracingSection } from './sections/tracing.js';
import { modelVerificationSection } from './sections/model-verification.js';
import { checkOperator, operatorSection } from './sections/operator.js';

/** The one configuration document. Each section lives in ./sections; add new ones here. */
export const gatewaySchema = z
  .strictObject({
    server: serverSection,
    admin: adminSection,
    upstream: upstreamSection,
    routes: routesSection,
    log: logSection,

    // Authentication: issuers, keys, token cache.
    auth: authSection,

    // Served models and their contracts (per-model fields live in sections/model-*.ts).
    models: modelsSection,

    // Rate limits and their store.
    limits: limitsSection,

    // Ext-authz front doors.
    extAuthz: extAuthzSection,

    // Distributed tracing.
    tracing: tracingSection,

    // The model directory checked against its signed manifest before the gateway is ready.
    modelVerification: modelVerificationSection,

    // Who may use the operator endpoints of the admin listener.
    operator: operatorSection,
  })
  .superRefine(checkOperator)
  .meta({ title: 'inference-gateway configuration', description: 'inference-gateway configuration.' });

/** Every level is read-only: the config is frozen once built and shared by all requests. */
export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends ReadonlyArray<infer E>
    ? ReadonlyArray<DeepReadonly<E>>
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

export type GatewayConfig = DeepReadonly<z.output<typeof gatewaySchema>>;
export type ModelConfig = GatewayConfig['models'][string];
/** What a config file may say: defaults make most fields optional (for code that builds configs, like the quickstart). */
export type GatewayConfigInput = z.input<typeof gatewaySchema>;
