import type { Writable } from 'node:stream';
import { buildConfig } from '../../src/config/load-config.js';
import type { GatewayConfig } from '../../src/config/schema.js';
import { Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';

/** A real gateway on loopback in front of `predictorUrl`, with the start-up model check configured as given. */
export async function startVerifyingGateway(predictorUrl: string, modelVerification: Partial<GatewayConfig['modelVerification']>, logTo?: Writable): Promise<{ gateway: Gateway; adminUrl: string }> {
  const config = buildConfig({
    server: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    upstream: { url: predictorUrl },
    models: { iris: {} },
    auth: { enabled: false },
    modelVerification: { enabled: true, ...modelVerification },
  });
  const gateway = await Gateway.create(config, { log: logTo ? createLogger('info', logTo) : createLogger('silent'), defaultMetrics: false });
  const { adminUrl } = await gateway.listen();
  return { gateway, adminUrl };
}
