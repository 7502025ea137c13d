// The identity every authenticating target checks: one RS256 key pair made at start-up, its
// public half as a JWKS (the gateway, the jose peer) and as a PEM file (HAProxy's jwt_verify
// reads a public key file), and tokens signed with it. RS256 because it is what HAProxy 2.6's
// jwt_verify and most OIDC issuers (RFC 7518 §3.3) have in common.
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type JWK } from 'jose';

export const BENCH_ISSUER = 'https://issuer.bench.invalid';
export const BENCH_AUDIENCE = 'inference-bench';
const KID = 'bench-rs256';

export interface TokenOptions {
  /** `exp` in seconds since the epoch. */
  readonly exp?: number;
  readonly audience?: string;
}

export interface BenchIdentity {
  readonly issuer: string;
  readonly audience: string;
  readonly jwks: { keys: JWK[] };
  /** SPKI PEM of the public key, written for HAProxy. */
  readonly publicKeyPemFile: string;
  /** An RS256 token for `sub`, good for an hour unless `options` say otherwise (tests make bad ones). */
  token(sub: string, options?: TokenOptions): Promise<string>;
}

export async function createBenchIdentity(dir: string): Promise<BenchIdentity> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
  const publicKeyPemFile = join(dir, 'bench-rs256.pub.pem');
  writeFileSync(publicKeyPemFile, await exportSPKI(publicKey));
  return {
    issuer: BENCH_ISSUER,
    audience: BENCH_AUDIENCE,
    jwks: { keys: [jwk] },
    publicKeyPemFile,
    token: (sub, options = {}) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid: KID, typ: 'JWT' })
        .setIssuer(BENCH_ISSUER)
        .setAudience(options.audience ?? BENCH_AUDIENCE)
        .setSubject(sub)
        .setIssuedAt()
        .setExpirationTime(options.exp ?? '1h')
        .sign(privateKey),
  };
}

const b64url = (s: string) => Buffer.from(s).toString('base64url');

/**
 * Many distinct users quickly: HS256 tokens made with one HMAC each (about a microsecond),
 * because signing 100,000 RS256 tokens would take the bench minutes. Only the memory run
 * uses them; its gateway trusts `secret` (RFC 7518 §3.2: at least 32 bytes).
 */
export function hs256TokenFactory(secret: string, issuer: string, audience: string): (sub: string) => string {
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const exp = Math.floor(Date.now() / 1000) + 3600;
  return (sub) => {
    const payload = b64url(JSON.stringify({ iss: issuer, aud: audience, sub, exp }));
    const signed = `${header}.${payload}`;
    return `${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}`;
  };
}
