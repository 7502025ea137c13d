import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWTPayload } from 'jose';

export interface TokenOptions {
  readonly sub?: string;
  readonly aud?: string | string[];
  readonly scope?: string;
  readonly expiresInSeconds?: number;
  readonly claims?: JWTPayload;
  /** Sign with a key the JWKS does not hold (same kid): a forged token. */
  readonly forged?: boolean;
}

export interface JwksIssuer {
  readonly issuer: string;
  readonly jwksUri: string;
  token(o?: TokenOptions): Promise<string>;
  close(): Promise<void>;
}

/** A real JWKS issuer on loopback: ES256 key, JWKS over HTTP, tokens minted on demand. */
export async function startJwksIssuer(defaultAudience = 'inference'): Promise<JwksIssuer> {
  const kid = 'test-key-1';
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const other: CryptoKey = (await generateKeyPair('ES256')).privateKey;
  const body = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] });
  const server: Server = createServer((req, res) => {
    if (req.url === '/jwks.json') res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    jwksUri: `${issuer}/jwks.json`,
    async token(o: TokenOptions = {}) {
      const now = Math.floor(Date.now() / 1000);
      const payload: JWTPayload = { ...o.claims };
      if (o.scope !== undefined) payload['scope'] = o.scope;
      return new SignJWT(payload)
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
        .setIssuer(issuer)
        .setAudience(o.aud ?? defaultAudience)
        .setSubject(o.sub ?? 'alice')
        .setIssuedAt(now)
        .setExpirationTime(now + (o.expiresInSeconds ?? 600))
        .sign(o.forged ? other : privateKey);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
