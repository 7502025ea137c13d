import { jwksProblem, readJwksFile } from '../../auth/jwks-document.js';
import { s, type Problem } from '../schema-dsl.js';

export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
// URL schemes and host names are case-insensitive (RFC 3986 §3.1, §3.2.2): `HTTP://` is plain http.
const LOOPBACK = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/i;
const isPlainHttp = (url: string): boolean => url.slice(0, 5).toLowerCase() === 'http:';

const keysSection = s.object(
  {
    refreshSeconds: s.integer({ doc: 'Keys are refetched in the background this often (before they age out).', default: 300, min: 5 }),
    maxStaleSeconds: s.integer({
      doc: 'When the issuer is down, keep verifying with the last keys for at most this long (counted in a metric); then answer 503.',
      default: 86400,
      min: 0,
    }),
    fetchTimeoutMs: s.integer({ doc: 'Timeout of one JWKS or discovery fetch.', default: 5000, min: 100 }),
    maxBytes: s.integer({ doc: 'Largest JWKS or discovery document accepted.', default: 1024 * 1024, min: 1024 }),
    cooldownSeconds: s.integer({
      doc: 'An unknown `kid` triggers at most one refetch per this window (single-flight), so random kids cannot hammer the issuer.',
      default: 30,
      min: 1,
    }),
    allowInsecureHttp: s.boolean({ doc: 'Allow plain-http key URLs that are not loopback. Never in production.', default: false }),
  },
  { doc: 'How signing keys are fetched and kept.' },
);

const issuerSpec = s.object(
  {
    issuer: s.string({ doc: 'Exact `iss` value of the tokens.', minLength: 1 }),
    jwksUri: s.string({ doc: 'JWKS URL (https, or http on loopback).', optional: true, pattern: /^https?:\/\/\S+$/i, patternHint: 'expected an http(s) URL' }),
    discovery: s.boolean({ doc: 'Find the JWKS URL through OIDC discovery (`{issuer}/.well-known/openid-configuration`).', default: false }),
    jwks: s.any({ doc: 'Inline JWKS (`{"keys": [...]}`), for static keys.', optional: true }),
    jwksFile: s.string({ doc: 'Path of a JWKS file read at start-up.', optional: true }),
    hmacSecret: s.string({ doc: 'Shared secret for HS256/384/512 (at least 32 bytes, RFC 7518 §3.2). Only with HS algorithms, and not together with a key source (jwksUri, discovery, jwks, jwksFile).', optional: true, secret: true }),
    audiences: s.array(s.string({ doc: 'An accepted audience.', minLength: 1 }), {
      doc: 'Accepted `aud` values (any of them; `aud` may be a string or an array). A model may override them.',
      minItems: 1,
    }),
    algorithms: s.array(s.string({ doc: 'An algorithm.', enum: [...ASYMMETRIC_ALGORITHMS, ...HMAC_ALGORITHMS] }), {
      doc: 'Allowed `alg` values (never `none`). HS* only together with `hmacSecret`.',
      default: ['RS256', 'ES256'],
      minItems: 1,
    }),
    clockSkewSeconds: s.integer({ doc: 'Tolerance on `exp` and `nbf`.', default: 60, min: 0, max: 3600 }),
    maxLifetimeSeconds: s.integer({ doc: 'Refuse tokens whose `exp` is further than this in the future.', optional: true, min: 1 }),
    requiredClaims: s.array(s.string({ doc: 'A claim name.' }), { doc: 'Claims that must be present besides `exp` (always required).', default: [] }),
    claimHeaders: s.map(s.string({ doc: 'A claim path (dots for nesting, e.g. `realm_access.roles`).', minLength: 1 }), {
      doc: 'Upstream headers set from verified claims (`header: claim.path`). Client-sent copies are always stripped.',
      keyName: 'header',
      keyPattern: /^[a-zA-Z0-9-]+$/,
      default: {},
    }),
    forwardToken: s.boolean({ doc: 'Send the original Authorization header upstream (default: removed).', default: false }),
  },
  {
    doc: 'A trusted token issuer.',
    check(v): Problem[] {
      const out: Problem[] = [];
      const sources = ['jwksUri', 'jwks', 'jwksFile'].filter((k) => v[k] !== undefined).length + (v['discovery'] ? 1 : 0);
      const algs = (v['algorithms'] as string[]) ?? [];
      const hmac = algs.filter((a) => a.startsWith('HS'));
      const secret = v['hmacSecret'] as string | undefined;
      if (hmac.length > 0 && secret === undefined) out.push({ path: 'algorithms', message: `${hmac.join(', ')} need hmacSecret` });
      if (secret !== undefined && Buffer.byteLength(secret) < 32) out.push({ path: 'hmacSecret', message: 'must be at least 32 bytes (RFC 7518 §3.2)' });
      if (secret !== undefined && hmac.length === 0) out.push({ path: 'hmacSecret', message: 'is set but no HS algorithm is allowed' });
      if (hmac.length !== algs.length && sources === 0) out.push({ path: '', message: 'needs a key source: jwksUri, discovery, jwks or jwksFile' });
      if (sources > 1) out.push({ path: '', message: 'has more than one key source: choose one of jwksUri, discovery, jwks, jwksFile' });
      // The HMAC key and a JWKS would share one key set, and a JWKS refresh replaces it: HS tokens
      // would stop verifying after the first fetch. One issuer, one kind of key.
      if (secret !== undefined && sources > 0) out.push({ path: 'hmacSecret', message: 'cannot be combined with jwksUri, discovery, jwks or jwksFile: an issuer signs with a shared secret or with published keys' });
      if (v['jwks'] !== undefined) {
        const problem = jwksProblem(v['jwks']);
        if (problem) out.push({ path: 'jwks', message: problem });
      }
      if (typeof v['jwksFile'] === 'string') {
        const file = readJwksFile(v['jwksFile']);
        if (!file.ok) out.push({ path: 'jwksFile', message: `${v['jwksFile']} ${file.reason}` });
      }
      return out;
    },
  },
);

export const authSection = s.object(
  {
    enabled: s.boolean({
      doc: 'Require a valid bearer token on every non-public route. Disable only for benchmarks or when another layer authenticates.',
      default: true,
    }),
    realm: s.string({ doc: 'realm of the WWW-Authenticate challenge.', default: 'inference-gateway' }),
    maxTokenBytes: s.integer({ doc: 'Longer tokens are refused before any decoding.', default: 8192, min: 256, max: 65536 }),
    issuers: s.array(issuerSpec, { doc: 'Trusted issuers; a token is verified by the one its `iss` names.', default: [] }),
    keys: keysSection,
    cache: s.object(
      {
        maxEntries: s.integer({ doc: 'Verified tokens kept (LRU).', default: 10000, min: 0 }),
        maxBytes: s.integer({ doc: 'Memory bound of the cache (token bytes counted).', default: 32 * 1024 * 1024, min: 0 }),
        maxTokenBytes: s.integer({ doc: 'Longer tokens are verified every time, never cached.', default: 4096, min: 0 }),
        ttlSeconds: s.integer({ doc: 'Longest time an entry lives (never past the token `exp`).', default: 600, min: 1 }),
      },
      { doc: 'Verified-token cache.' },
    ),
  },
  {
    doc: 'Bearer-token authentication.',
    check(v): Problem[] {
      const issuers = v['issuers'] as Array<{ issuer: string; discovery: boolean; jwksUri?: string }>;
      const insecureOk = (v['keys'] as { allowInsecureHttp: boolean }).allowInsecureHttp;
      const out: Problem[] = [];
      issuers.forEach((i, n) => {
        const url = i.discovery ? i.issuer : i.jwksUri;
        if (!insecureOk && url !== undefined && isPlainHttp(url) && !LOOPBACK.test(url)) {
          out.push({ path: `issuers[${n}].${i.discovery ? 'issuer' : 'jwksUri'}`, message: 'must be https (plain http only on loopback, or with auth.keys.allowInsecureHttp)' });
        }
      });
      if (v['enabled'] && issuers.length === 0) out.push({ path: 'issuers', message: 'at least one issuer is required while auth.enabled is true' });
      const seen = new Set<string>();
      issuers.forEach((i, n) => {
        if (seen.has(i.issuer)) out.push({ path: `issuers[${n}].issuer`, message: `duplicates ${JSON.stringify(i.issuer)}` });
        seen.add(i.issuer);
      });
      return out;
    },
  },
);
