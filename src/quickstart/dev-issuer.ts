import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';

// The quickstart's token issuer: a development aid on loopback, never a production issuer.

export const DEV_AUDIENCE = 'inference-gateway';
const ALG = 'ES256';

export interface DevIssuerState {
  readonly issuer: string;
  readonly audience: string;
  readonly privateJwk: JWK;
}

export interface MintOptions {
  readonly sub: string;
  readonly ttlSeconds?: number;
  readonly scope?: string;
  readonly claims?: Record<string, unknown>;
}

export interface DevIssuer {
  readonly issuer: string;
  readonly jwksUri: string;
  mint(options: MintOptions): Promise<string>;
  close(): Promise<void>;
}

export function defaultStateDir(): string {
  return process.env['INFERENCE_GATEWAY_STATE_DIR'] ?? join(tmpdir(), 'inference-gateway-quickstart');
}

export async function mintToken(state: DevIssuerState, o: MintOptions): Promise<string> {
  const key = await importJWK(state.privateJwk, ALG);
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = { ...o.claims };
  if (o.scope) payload['scope'] = o.scope;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: ALG, kid: state.privateJwk.kid!, typ: 'JWT' })
    .setIssuer(state.issuer)
    .setAudience(state.audience)
    .setSubject(o.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + (o.ttlSeconds ?? 3600))
    .sign(key);
}

/** Starts the dev issuer on loopback: JWKS and OIDC discovery over HTTP, key kept in the state dir for `token`. */
export async function startDevIssuer(options: { stateDir?: string; port?: number } = {}): Promise<DevIssuer> {
  const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
  const kid = `dev-${Date.now().toString(36)}`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: ALG };
  const jwksBody = JSON.stringify({ keys: [publicJwk] });

  let issuer = '';
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(jwksBody);
    } else if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          issuer,
          jwks_uri: `${issuer}/.well-known/jwks.json`,
          id_token_signing_alg_values_supported: [ALG],
        }),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const state: DevIssuerState = { issuer, audience: DEV_AUDIENCE, privateJwk };
  const dir = options.stateDir ?? defaultStateDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'dev-issuer.json'), JSON.stringify(state), { mode: 0o600 });
  return {
    issuer,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    mint: (o) => mintToken(state, o),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function readDevIssuerState(stateDir = defaultStateDir()): DevIssuerState {
  const file = join(stateDir, 'dev-issuer.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DevIssuerState;
  } catch {
    throw new Error(
      `no quickstart issuer found in ${file}: start one with \`npm start\` (inference-gateway quickstart) first`,
    );
  }
}
