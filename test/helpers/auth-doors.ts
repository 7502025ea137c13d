import { startHarness, type Harness } from './gateway-harness.js';
import { EnvoyCheckClient } from './envoy-check-client.js';
import { startJwksIssuer, type JwksIssuer } from './jwks-issuer.js';

export interface AuthDoors {
  readonly issuer: JwksIssuer;
  readonly h: Harness;
  readonly grpc: EnvoyCheckClient;
  close(): Promise<void>;
}

/**
 * A real JWKS issuer and a gateway that trusts it (audience `inference`, `claimHeaders` as given),
 * with the proxy and both ext-authz doors on port 0, and a gRPC check client speaking Envoy's layout.
 */
export async function startAuthDoors(
  claimHeaders: Record<string, string>,
  raw: Record<string, unknown> = {},
): Promise<AuthDoors> {
  const issuer = await startJwksIssuer('inference');
  const h = await startHarness(() => ({
    auth: {
      enabled: true,
      issuers: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audiences: ['inference'], claimHeaders }],
    },
    extAuthz: {
      http: { enabled: true, host: '127.0.0.1', port: 0 },
      grpc: { enabled: true, host: '127.0.0.1', port: 0 },
    },
    ...raw,
  }));
  const grpc = new EnvoyCheckClient(h.extAuthzGrpcAddress!);
  return {
    issuer,
    h,
    grpc,
    close: async () => {
      grpc.close();
      await h.close();
      await issuer.close();
    },
  };
}
