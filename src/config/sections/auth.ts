import { jwksProblem, readJwksFile } from '../jwks-document.js';
import { mapOf, matching, settings, z, crossField, CROSS_FIELD } from '../fields.js';

export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
// URL schemes and host names are case-insensitive (RFC 3986 §3.1, §3.2.2): `HTTP://` is plain http.
const LOOPBACK = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/i;
const isPlainHttp = (url: string): boolean => url.slice(0, 5).toLowerCase() === 'http:';

const keysSection = settings(
  {
    refreshSeconds: z
      .int()
      .min(5)
      .default(300)
      .meta({ description: 'Keys are refetched in the background this often (before they age out).' }),
    maxStaleSeconds: z.int().min(0).default(86400).meta({
      description:
        'When the issuer is down, keep verifying with the last keys for at most this long (counted in a metric); then answer 503.',
    }),
    fetchTimeoutMs: z.int().min(100).default(5000).meta({ description: 'Timeout of one JWKS or discovery fetch.' }),
    maxBytes: z
      .int()
      .min(1024)
      .default(1024 * 1024)
      .meta({ description: 'Largest JWKS or discovery document accepted.' }),
    cooldownSeconds: z.int().min(1).default(30).meta({
      description:
        'An unknown `kid` triggers at most one refetch per this window (single-flight), so random kids cannot hammer the issuer.',
    }),
    allowInsecureHttp: z
      .boolean()
      .default(false)
      .meta({ description: 'Allow plain-http key URLs that are not loopback. Never in production.' }),
  },
  'How signing keys are fetched and kept.',
);

const issuerSpec = z
  .strictObject({
    issuer: z.string().min(1).meta({ description: 'Exact `iss` value of the tokens.' }),
    jwksUri: matching(/^https?:\/\/\S+$/i, 'expected an http(s) URL')
      .optional()
      .meta({ description: 'JWKS URL (https, or http on loopback).' }),
    discovery: z
      .boolean()
      .default(false)
      .meta({ description: 'Find the JWKS URL through OIDC discovery (`{issuer}/.well-known/openid-configuration`).' }),
    jwks: z.unknown().optional().meta({ description: 'Inline JWKS (`{"keys": [...]}`), for static keys.' }),
    jwksFile: z.string().optional().meta({ description: 'Path of a JWKS file read at start-up.' }),
    hmacSecret: z.string().optional().meta({
      description:
        'Shared secret for HS256/384/512 (at least 32 bytes, RFC 7518 §3.2). Only with HS algorithms, and not together with a key source (jwksUri, discovery, jwks, jwksFile).',
      secret: true,
    }),
    audiences: z
      .array(z.string().min(1).meta({ description: 'An accepted audience.' }))
      .min(1)
      .meta({
        description:
          'Accepted `aud` values (any of them; `aud` may be a string or an array). A model may override them.',
      }),
    algorithms: z
      .array(z.enum([...ASYMMETRIC_ALGORITHMS, ...HMAC_ALGORITHMS]).meta({ description: 'An algorithm.' }))
      .min(1)
      .default(['RS256', 'ES256'])
      .meta({ description: 'Allowed `alg` values (never `none`). HS* only together with `hmacSecret`.' }),
    clockSkewSeconds: z.int().min(0).max(3600).default(60).meta({ description: 'Tolerance on `exp` and `nbf`.' }),
    maxLifetimeSeconds: z
      .int()
      .min(1)
      .optional()
      .meta({ description: 'Refuse tokens whose `exp` is further than this in the future.' }),
    requiredClaims: z
      .array(z.string().meta({ description: 'A claim name.' }))
      .default([])
      .meta({ description: 'Claims that must be present besides `exp` (always required).' }),
    claimHeaders: mapOf(
      'header',
      z.string().min(1).meta({ description: 'A claim path (dots for nesting, e.g. `realm_access.roles`).' }),
      /^[a-zA-Z0-9-]+$/,
    )
      .default({})
      .meta({
        description:
          'Upstream headers set from verified claims (`header: claim.path`). Client-sent copies are always stripped.',
        keyName: 'header',
      }),
    forwardToken: z
      .boolean()
      .default(false)
      .meta({ description: 'Send the original Authorization header upstream (default: removed).' }),
  })
  .superRefine(
    crossField((v, ctx) => {
      const sources = [v.jwksUri, v.jwks, v.jwksFile].filter((k) => k !== undefined).length + (v.discovery ? 1 : 0);
      const hmac = v.algorithms.filter((a) => a.startsWith('HS'));
      const secret = v.hmacSecret;
      if (hmac.length > 0 && secret === undefined)
        ctx.addIssue({ code: 'custom', path: ['algorithms'], message: `${hmac.join(', ')} need hmacSecret` });
      if (secret !== undefined && Buffer.byteLength(secret) < 32)
        ctx.addIssue({ code: 'custom', path: ['hmacSecret'], message: 'must be at least 32 bytes (RFC 7518 §3.2)' });
      if (secret !== undefined && hmac.length === 0)
        ctx.addIssue({ code: 'custom', path: ['hmacSecret'], message: 'is set but no HS algorithm is allowed' });
      if (hmac.length !== v.algorithms.length && sources === 0)
        ctx.addIssue({ code: 'custom', path: [], message: 'needs a key source: jwksUri, discovery, jwks or jwksFile' });
      if (sources > 1)
        ctx.addIssue({
          code: 'custom',
          path: [],
          message: 'has more than one key source: choose one of jwksUri, discovery, jwks, jwksFile',
        });
      // The HMAC key and a JWKS would share one key set, and a JWKS refresh replaces it: HS tokens
      // would stop verifying after the first fetch. One issuer, one kind of key.
      if (secret !== undefined && sources > 0)
        ctx.addIssue({
          code: 'custom',
          path: ['hmacSecret'],
          message:
            'cannot be combined with jwksUri, discovery, jwks or jwksFile: an issuer signs with a shared secret or with published keys',
        });
      if (v.jwks !== undefined) {
        const problem = jwksProblem(v.jwks);
        if (problem) ctx.addIssue({ code: 'custom', path: ['jwks'], message: problem });
      }
      if (v.jwksFile !== undefined) {
        const file = readJwksFile(v.jwksFile);
        if (!file.ok) ctx.addIssue({ code: 'custom', path: ['jwksFile'], message: `${v.jwksFile} ${file.reason}` });
      }
    }),
    CROSS_FIELD,
  )
  .meta({ description: 'A trusted token issuer.' });

export const authSection = z
  .strictObject({
    enabled: z.boolean().default(true).meta({
      description:
        'Require a valid bearer token on every non-public route. Disable only for benchmarks or when another layer authenticates.',
    }),
    realm: z.string().default('inference-gateway').meta({ description: 'realm of the WWW-Authenticate challenge.' }),
    maxTokenBytes: z
      .int()
      .min(256)
      .max(65536)
      .default(8192)
      .meta({ description: 'Longer tokens are refused before any decoding.' }),
    issuers: z
      .array(issuerSpec)
      .default([])
      .meta({ description: 'Trusted issuers; a token is verified by the one its `iss` names.' }),
    keys: keysSection,
    cache: settings(
      {
        maxEntries: z.int().min(0).default(10000).meta({ description: 'Verified tokens kept (LRU).' }),
        maxBytes: z
          .int()
          .min(0)
          .default(32 * 1024 * 1024)
          .meta({ description: 'Memory bound of the cache (token bytes counted).' }),
        maxTokenBytes: z
          .int()
          .min(0)
          .default(4096)
          .meta({ description: 'Longer tokens are verified every time, never cached.' }),
        ttlSeconds: z
          .int()
          .min(1)
          .default(600)
          .meta({ description: 'Longest time an entry lives (never past the token `exp`).' }),
      },
      'Verified-token cache.',
    ),
  })
  .superRefine(
    crossField((v, ctx) => {
      v.issuers.forEach((i, n) => {
        const url = i.discovery ? i.issuer : i.jwksUri;
        if (!v.keys.allowInsecureHttp && url !== undefined && isPlainHttp(url) && !LOOPBACK.test(url)) {
          ctx.addIssue({
            code: 'custom',
            path: ['issuers', n, i.discovery ? 'issuer' : 'jwksUri'],
            message: 'must be https (plain http only on loopback, or with auth.keys.allowInsecureHttp)',
          });
        }
      });
      if (v.enabled && v.issuers.length === 0)
        ctx.addIssue({
          code: 'custom',
          path: ['issuers'],
          message: 'at least one issuer is required while auth.enabled is true',
        });
      const seen = new Set<string>();
      v.issuers.forEach((i, n) => {
        if (seen.has(i.issuer))
          ctx.addIssue({
            code: 'custom',
            path: ['issuers', n, 'issuer'],
            message: `duplicates ${JSON.stringify(i.issuer)}`,
          });
        seen.add(i.issuer);
      });
    }),
    CROSS_FIELD,
  )
  .prefault({})
  .meta({ description: 'Bearer-token authentication.' });
