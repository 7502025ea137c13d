import { jwtVerify, type JWTPayload } from 'jose';
import { LRUCache } from 'lru-cache';
import type { GatewayConfig } from '../config/schema.js';
import type { Clock } from '../decision/clock.js';
import { deny, type Denial } from '../decision/denial.js';
import type { Identity } from '../decision/identity.js';
import type { Logger } from '../observability/logger.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import { KeySet } from './key-set.js';
import { timeProblem, readUnverified } from './unverified-jwt.js';

type AuthConfig = GatewayConfig['auth'];
export type IssuerConfig = AuthConfig['issuers'][number];

/** One configured issuer with everything derived from its config once. */
export interface TrustedIssuer {
  readonly config: IssuerConfig;
  readonly keys: KeySet;
  readonly algorithms: ReadonlySet<string>;
  readonly audiences: ReadonlySet<string>;
  readonly requiredClaims: readonly string[];
}

export interface Verified {
  readonly identity: Identity;
  readonly issuer: TrustedIssuer;
}

export type Verification =
  { readonly ok: true; readonly verified: Verified } | { readonly ok: false; readonly denial: Denial };

interface CacheEntry {
  /** The whole token: a hit is a hit only when it is exactly this one. */
  readonly token: string;
  readonly verified: Verified;
  /** The issuer's key set that verified it: the entry is good while that set is unchanged. */
  readonly generation: number;
  /** What a hit answers, made once with the entry (the hot path allocates nothing). */
  readonly allowed: Verification;
}

// The cache is keyed by the token's last characters, not the whole token: a Map hashes its key on
// every lookup, and the token arrives as a new string with each request, so a whole RS256 token
// (600+ characters) cost about 0.9 µs per request to hash, more than the rest of a cache hit. The
// tail of a signed token is the tail of its signature, which the issuer's key determines; the
// entry holds the whole token and a hit needs an exact match, so two tokens sharing a tail only
// ever cost a miss.
const KEY_CHARS = 48;
const cacheKeyOf = (token: string) => (token.length > KEY_CHARS ? token.slice(-KEY_CHARS) : token);

const invalid = (message: string): Verification => ({ ok: false, denial: deny('token_invalid', message) });
const UNAVAILABLE: Verification = {
  ok: false,
  denial: deny('keys_unavailable', 'the signing keys of the issuer cannot be loaded; retry later', {
    retryAfterSeconds: 5,
  }),
};

const JOSE_MESSAGES: Record<string, string> = {
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'the token signature is not valid',
  ERR_JWT_EXPIRED: 'the token expired',
  ERR_JOSE_ALG_NOT_ALLOWED: 'the token algorithm is not allowed',
  ERR_JWS_INVALID: 'the token is not a valid JWS',
  ERR_JWT_INVALID: 'the token is not a valid JWT',
};

/**
 * Verifies bearer JWTs against the configured issuers. Cheap checks first (size, shape, issuer,
 * algorithm, time) so garbage never reaches crypto or the network; a bounded verified-token cache
 * answers repeat tokens synchronously, re-checking time and key presence on every hit.
 */
export class TokenVerifier {
  readonly issuers: ReadonlyMap<string, TrustedIssuer>;
  private readonly cache: LRUCache<string, CacheEntry> | undefined;
  private readonly hits: { inc(): void };

  constructor(
    private readonly config: AuthConfig,
    private readonly clock: Clock,
    private readonly metrics: GatewayMetrics,
    log: Logger,
  ) {
    this.issuers = new Map(
      config.issuers.map((c) => [
        c.issuer,
        {
          config: c,
          keys: new KeySet(c, config.keys, clock, metrics, log),
          algorithms: new Set(c.algorithms),
          audiences: new Set(c.audiences),
          requiredClaims: ['exp', ...c.requiredClaims.filter((n) => n !== 'exp')],
        },
      ]),
    );
    this.hits = metrics.authVerifications.labels({ outcome: 'allowed', cache: 'hit' });
    const { maxEntries, maxBytes } = config.cache;
    this.cache =
      maxEntries > 0 && maxBytes > 0
        ? new LRUCache<string, CacheEntry>({
            max: maxEntries,
            maxSize: maxBytes,
            sizeCalculation: (v) => v.token.length * 2 + 512,
          })
        : undefined;
  }

  start(): void {
    for (const i of this.issuers.values()) i.keys.start();
  }

  close(): void {
    for (const i of this.issuers.values()) i.keys.close();
  }

  /** Synchronous on a cache hit (the hot path), a promise otherwise. */
  verify(token: string): Verification | Promise<Verification> {
    if (token.length > this.config.maxTokenBytes) return invalid('the token is larger than this gateway accepts');
    const key = cacheKeyOf(token);
    const hit = this.cache?.get(key);
    if (hit && hit.token === token) {
      const problem = timeProblem(
        hit.verified.identity.claims,
        Math.floor(this.clock.now() / 1000),
        hit.verified.issuer.config.clockSkewSeconds,
      );
      if (problem === undefined && hit.verified.issuer.keys.generation === hit.generation) {
        this.hits.inc();
        return hit.allowed;
      }
      // Expired, or the key set changed (its signing key may have left): verify from scratch.
      this.cache!.delete(key);
    }
    return this.verifyUncached(token).then((v) => {
      this.metrics.authVerifications.inc({ outcome: v.ok ? 'allowed' : v.denial.code, cache: 'miss' });
      return v;
    });
  }

  private async verifyUncached(token: string): Promise<Verification> {
    const jwt = readUnverified(token);
    if (typeof jwt === 'string') return invalid(jwt);
    const iss = jwt.payload['iss'];
    const issuer = typeof iss === 'string' ? this.issuers.get(iss) : undefined;
    if (!issuer) return invalid('the token issuer is not trusted here');
    if (!issuer.algorithms.has(jwt.alg))
      return invalid(`the token algorithm ${JSON.stringify(jwt.alg).slice(0, 24)} is not allowed`);
    const nowMs = this.clock.now();
    const nowS = Math.floor(nowMs / 1000);
    const early = timeProblem(jwt.payload, nowS, issuer.config.clockSkewSeconds);
    if (early) return invalid(early);

    const lookup = await issuer.keys.lookup(jwt.kid, jwt.alg);
    if (!lookup.ok)
      return lookup.reason === 'unavailable'
        ? UNAVAILABLE
        : invalid('no signing key of the issuer matches the token kid and alg');

    let payload: JWTPayload | undefined;

    let failure = 'the token signature is not valid';
    for (const candidate of lookup.candidates) {
      try {
        const r = await jwtVerify(token, candidate, {
          algorithms: [jwt.alg],
          issuer: issuer.config.issuer,
          clockTolerance: issuer.config.clockSkewSeconds,
          requiredClaims: issuer.requiredClaims as string[],
          currentDate: new Date(nowMs),
        });
        payload = r.payload;
        break;
      } catch (err) {
        const e = err as { code?: string; claim?: string };
        failure =
          JOSE_MESSAGES[e.code ?? ''] ??
          (e.claim ? `the token ${e.claim} claim is not valid` : 'the token is not valid');
      }
    }
    if (!payload) return invalid(failure);
    const max = issuer.config.maxLifetimeSeconds;
    if (max !== undefined && (payload.exp as number) - nowS > max)
      return invalid('the token lifetime is longer than this gateway accepts');

    const verified: Verified = {
      issuer,
      identity: {
        issuer: issuer.config.issuer,
        subject: typeof payload.sub === 'string' ? payload.sub : '',
        claims: Object.freeze(payload),
      },
    };
    const allowed: Verification = { ok: true, verified };
    if (this.cache && token.length <= this.config.cache.maxTokenBytes) {
      const ttl = Math.min(this.config.cache.ttlSeconds * 1000, (payload.exp as number) * 1000 - nowMs);
      if (ttl > 0)
        this.cache.set(cacheKeyOf(token), { token, verified, generation: lookup.generation, allowed }, { ttl });
    }
    return allowed;
  }
}
