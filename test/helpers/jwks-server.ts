import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';

export type Mode = 'ok' | 'status500' | 'badJson' | 'hang';

export interface SigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKeyLike;
  readonly publicJwk: JWK;
}
type CryptoKeyLike = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

export interface SignOptions {
  readonly key?: SigningKey;
  readonly header?: Record<string, unknown>;
  readonly omit?: ReadonlyArray<'exp' | 'iss' | 'aud' | 'sub'>;
}

/**
 * A real JWKS issuer on 127.0.0.1: serves `/.well-known/jwks.json` and the OIDC discovery
 * document, counts requests per path, and can rotate keys, slow down, fail or close.
 */
export interface JwksServer {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly requests: Map<string, number>;
  readonly rsa: SigningKey;
  readonly ec: SigningKey;
  mode: Mode;
  total(): number;
  newKey(kid: string, alg?: 'RS256' | 'ES256'): Promise<SigningKey>;
  /** Publish exactly these keys from now on. */
  publish(keys: readonly SigningKey[]): void;
  sign(claims: JWTPayload, o?: SignOptions): Promise<string>;
  close(): Promise<void>;
}

export const AUDIENCE = 'inference-api';

async function makeKey(kid: string, alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'RS256' ? { modulusLength: 2048 } : {}),
  });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export async function startJwksServer(): Promise<JwksServer> {
  const rsa = await makeKey('k1', 'RS256');
  const ec = await makeKey('k2', 'ES256');
  let published: readonly SigningKey[] = [rsa, ec];
  const requests = new Map<string, number>();
  let issuer = '';
  const state = { mode: 'ok' as Mode };

  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.set(path, (requests.get(path) ?? 0) + 1);
    if (state.mode === 'hang') return; // never answers: the fetch must time out
    if (state.mode === 'status500') return void res.writeHead(500).end('oops');
    if (state.mode === 'badJson')
      return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [');
    if (path === '/.well-known/jwks.json') {
      res
        .writeHead(200, { 'content-type': 'application/jwk-set+json' })
        .end(JSON.stringify({ keys: published.map((k) => k.publicJwk) }));
    } else if (path === '/.well-known/openid-configuration') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ issuer, jwks_uri: `${issuer}/.well-known/jwks.json` }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    requests,
    rsa,
    ec,
    get mode() {
      return state.mode;
    },
    set mode(m: Mode) {
      state.mode = m;
    },
    total: () => [...requests.values()].reduce((a, b) => a + b, 0),
    newKey: (kid, alg = 'RS256') => makeKey(kid, alg),
    publish(keys) {
      published = keys;
    },
    async sign(claims, o = {}) {
      const key = o.key ?? rsa;
      const now = Math.floor(Date.now() / 1000);
      const payload: JWTPayload = { iss: issuer, aud: AUDIENCE, sub: 'alice', iat: now, exp: now + 600, ...claims };
      for (const k of o.omit ?? []) delete payload[k];
      return new SignJWT(payload)
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...o.header })
        .sign(key.privateKey);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Unsigned token pieces, for crafting attacks by hand. */
export const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
