import type { JWTPayload } from 'jose';
import { startJwksServer, type SigningKey } from './jwks-server.js';

export interface TokenOptions {
  readonly sub?: string;
  readonly aud?: string | string[];
  readonly scope?: string;
  readonly expiresInSeconds?: number;
  readonly claims?: JWTPayload;
  /** Sign with a key the JWKS does not publish (same kid): a forged token. */
  readonly forged?: boolean;
}

export interface JwksIssuer {
  readonly issuer: string;
  readonly jwksUri: string;
  token(o?: TokenOptions): Promise<string>;
  close(): Promise<void>;
}

/** The ext-authz tests' view of the real JWKS server (test/helpers/jwks-server.ts): tokens by intent. */
export async function startJwksIssuer(defaultAudience = 'inference'): Promise<JwksIssuer> {
  const server = await startJwksServer();
  let impostor: SigningKey | undefined;
  return {
    issuer: server.issuer,
    jwksUri: server.jwksUri,
    async token(o: TokenOptions = {}) {
      const now = Math.floor(Date.now() / 1000);
      const claims: JWTPayload = {
        aud: o.aud ?? defaultAudience,
        sub: o.sub ?? 'alice',
        exp: now + (o.expiresInSeconds ?? 600),
        ...o.claims,
      };
      if (o.scope !== undefined) claims['scope'] = o.scope;
      if (!o.forged) return server.sign(claims, { key: server.ec });
      impostor ??= await server.newKey(server.ec.kid, 'ES256');
      return server.sign(claims, { key: impostor });
    },
    close: () => server.close(),
  };
}
