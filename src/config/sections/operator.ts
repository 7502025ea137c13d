import { matching, settings, z } from '../fields.js';

// A SPIFFE ID (https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE-ID.md): scheme, trust
// domain, path. Istio's workload ids read spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>.
const SPIFFE_ID = /^spiffe:\/\/[a-z0-9._-]+(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$/;

/**
 * Who may use the operator endpoints of the admin listener (extraction accounts, overrides, the
 * audit log, the console's data). Probes and /metrics never need an identity. With neither way
 * configured the operator endpoints are off.
 */
export const operatorSection = settings(
  {
    jwt: z
      .strictObject({
        claim: z.string().min(1).default('roles').meta({
          description:
            'Claim path (dots for nesting, e.g. `realm_access.roles`) that must hold one of `values` (a string, an array, or a space-separated list).',
        }),
        values: z
          .array(z.string().min(1).meta({ description: 'An accepted value.' }))
          .min(1)
          .meta({ description: 'Accepted values of the claim (any of them), e.g. `gateway-operator`.' }),
        audiences: z
          .array(z.string().min(1).meta({ description: 'An accepted audience.' }))
          .default([])
          .meta({
            description:
              'Accepted `aud` values of operator tokens; empty: the issuer’s own audiences (auth.issuers[].audiences).',
          }),
        issuers: z
          .array(z.string().min(1).meta({ description: 'An issuer (`iss`) of auth.issuers.' }))
          .default([])
          .meta({
            description: 'Issuers whose tokens may carry operator rights; empty: every issuer of auth.issuers.',
          }),
      })
      .optional()
      .meta({
        description:
          'A bearer JWT (RFC 6750) from the issuers of `auth.issuers` carrying a role claim. Verified like the serving port verifies tokens.',
      }),
    spiffe: z
      .strictObject({
        allow: z
          .array(
            matching(SPIFFE_ID, 'expected a SPIFFE ID (spiffe://trust-domain/path)').meta({
              description: 'An allowed peer identity.',
            }),
          )
          .min(1)
          .meta({
            description:
              'Peer identities (exact SPIFFE IDs, e.g. `spiffe://cluster.local/ns/ml-ops/sa/operator-console`) allowed to act as operators.',
          }),
        trustedProxies: z
          .array(z.string().min(1).meta({ description: 'A peer address.' }))
          .min(1)
          .default(['127.0.0.6', '::6'])
          .meta({
            description:
              'TCP peer addresses of the sidecar that terminates mTLS and sets `x-forwarded-client-cert` (Istio’s inbound passthrough source 127.0.0.6 / ::6). The header from any other peer is ignored.',
          }),
      })
      .optional()
      .meta({
        description:
          'The Istio peer identity: the URI SAN of the client certificate, as the trusted sidecar reports it in `x-forwarded-client-cert` (Envoy XFCC).',
      }),
    maxConcurrentRequests: z.int().min(1).max(32).default(4).meta({
      description:
        'Operator requests served at once; more get 503 with Retry-After. Keep it well below admin.maxConnections, so probes and scrapes always find room.',
    }),
    pageLimit: z.int().min(1).max(200).default(100).meta({
      description:
        'Largest page of a listing (`?limit=`); the default page is 50 or this, whichever is smaller. A page of 100 costs about 0.7 ms of event loop (bench/RESULTS.md), so the bound keeps a page within a millisecond or two.',
    }),
    maxOverrideSeconds: z
      .int()
      .min(60)
      .default(30 * 86400)
      .meta({ description: 'Longest allow-list or manual block an operator may set.' }),
    overrideSyncSeconds: z.number().min(0.1).max(60).default(2).meta({
      description:
        'With a Redis store: how often each replica reloads the shared overrides (a replica applies its own at once).',
    }),
    auditEntries: z
      .int()
      .min(10)
      .max(100_000)
      .default(1000)
      .meta({ description: 'Audit entries kept in memory for the console (each is also a log line).' }),
  },
  'The operator plane on the admin listener: who may read and act on extraction state.',
);

type Operator = z.output<typeof operatorSection>;
interface OperatorContext {
  readonly operator: {
    readonly [K in keyof Operator]: Operator[K] extends infer T
      ? T extends object
        ? Readonly<{ [P in keyof T]: T[P] extends unknown[] ? readonly T[P][number][] : T[P] }>
        : T
      : never;
  };
  readonly auth: { readonly issuers: ReadonlyArray<{ readonly issuer: string }> };
  readonly admin: { readonly maxConnections: number };
}

/** Checks across sections: operator tokens come from auth's issuers; operator requests leave the probes room. */
export function checkOperator(v: OperatorContext, ctx: z.RefinementCtx): void {
  const jwt = v.operator.jwt;
  const known = new Set(v.auth.issuers.map((i) => i.issuer));
  if (jwt && known.size === 0)
    ctx.addIssue({
      code: 'custom',
      path: ['operator', 'jwt'],
      message: 'needs at least one issuer in auth.issuers to verify operator tokens',
    });
  jwt?.issuers.forEach((iss, n) => {
    if (known.size > 0 && !known.has(iss))
      ctx.addIssue({
        code: 'custom',
        path: ['operator', 'jwt', 'issuers', n],
        message: `${JSON.stringify(iss)} is not an issuer of auth.issuers`,
      });
  });
  if (v.operator.maxConcurrentRequests * 2 > v.admin.maxConnections) {
    ctx.addIssue({
      code: 'custom',
      path: ['operator', 'maxConcurrentRequests'],
      message: `must be at most half of admin.maxConnections (${v.admin.maxConnections}), so probes and scrapes keep room`,
    });
  }
}

/** What `check-config` says about the operator plane of a valid config. */
export function operatorNote(v: Pick<OperatorContext, 'operator'>): string {
  const ways = [
    v.operator.jwt ? `bearer JWT with ${v.operator.jwt.claim} in [${v.operator.jwt.values.join(', ')}]` : '',
    v.operator.spiffe ? `peer identity (${v.operator.spiffe.allow.length} allowed SPIFFE IDs)` : '',
  ].filter(Boolean);
  return ways.length > 0
    ? `operator endpoints: on (${ways.join('; ')})`
    : 'operator endpoints: off (no operator identity configured: set operator.jwt or operator.spiffe)';
}
