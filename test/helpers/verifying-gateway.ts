import type { Writable } from 'node:stream';
import { buildConfig } from '../../src/config/load-config.js';
import type { GatewayConfig } from '../../src/config/schema.js';
import { Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';

export interface VerifyingGateway {
  readonly gateway: Gateway;
  readonly adminUrl: string;
  readonly url: string;
  readonly extAuthzHttpUrl: string;
  readonly extAuthzGrpcAddress: string;
}

/** A real gateway on loopback in front of `predictorUrl` (both check doors on too), with the start-up model check configured as given. */
export async function startVerifyingGateway(
  predictorUrl: string,
  modelVerification: Partial<GatewayConfig['modelVerification']>,
  logTo?: Writable,
): Promise<VerifyingGateway> {
  const config = buildConfig({
    server: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    upstream: { url: predictorUrl },
    models: { iris: {} },
    auth: { enabled: false },
    extAuthz: {
      http: { enabled: true, host: '127.0.0.1', port: 0 },
      grpc: { enabled: true, host: '127.0.0.1', port: 0 },
    },
    modelVerification: { enabled: true, ...modelVerification },
  });
  const gateway = await Gateway.create(config, {
    log: logTo ? createLogger('info', logTo) : createLogger('silent'),
    defaultMetrics: false,
  });
  const at = await gateway.listen();
  return {
    gateway,
    adminUrl: at.adminUrl,
    url: at.url,
    extAuthzHttpUrl: at.extAuthzHttpUrl!,
    extAuthzGrpcAddress: at.extAuthzGrpcAddress!,
  };
}
