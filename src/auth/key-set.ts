import { createLocalJWKSet, errors, importJWK, type JWK } from 'jose';
import type { GatewayConfig } from '../config/schema.js';
import type { Clock, Timer } from '../decision/clock.js';
import type { Logger } from '../observability/logger.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import { FetchError, fetchJson } from './fetch-json.js';
import { jwksProblem, readJwksFile } from '../config/jwks-document.js';

type IssuerConfig = GatewayConfig['auth']['issuers'][number];
type KeysConfig = GatewayConfig['auth']['keys'];
export type VerifyKey = Awaited<ReturnType<typeof importJWK>>;

export type KeyLookup =
  | {
      readonly ok: true;
      /** The keys that may have signed the token (several only when it names no kid). */
      readonly candidates: readonly VerifyKey[];
      readonly stale: boolean;
      /** Which key set answered: a verified-token cache entry is good while this stays the same. */
      readonly generation: number;
    }
  | { readonly ok: false; readonly reason: 'unknown_key' | 'unavailable' };

const MAX_BACKOFF_MS = 4000;

function parseJwks(doc: unknown): JWK[] {
  const problem = jwksProblem(doc);
  if (problem) throw new FetchError(`the JWKS ${problem}`, 'bad_json');
  return (doc as { keys: JWK[] }).keys;
}

/**
 * The signing keys of one issuer, created once at start-up: fetched before traffic, refreshed in
 * the background, kept when the issuer is down (up to maxStaleSeconds), refetched on an unknown
 * `kid` at most once per cooldown and single-flight, so random `kid`s cannot make the gateway hammer the issuer.
 */
export class KeySet {
  /** jose's selection over the issuer's public keys (kid, alg, kty, crv, use, key_ops), imports cached per key and alg. */
  private select: ReturnType<typeof createLocalJWKSet> | undefined;
  private hmac: Promise<VerifyKey> | undefined;
  private published = '';
  private keyCount = 0;
  /** Bumped when a fetch brings a different key set: cached verifications of the old one are redone. */
  generation = 0;
  private fetchedAt: number | undefined;
  private inflight: Promise<void> | undefined;
  private lastMissFetch = -Infinity;
  private timer: Timer | undefined;
  private failures = 0;
  /** No request-driven fetch before this (injected clock): failures back off for requests too. */
  private nextAttemptAt = -Infinity;
  private closed = false;
  private readonly remote: boolean;

  constructor(
    private readonly issuer: IssuerConfig,
    private readonly keys: KeysConfig,
    private readonly clock: Clock,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
  ) {
    this.remote = issuer.jwksUri !== undefined || issuer.discovery;
    if (issuer.hmacSecret !== undefined) {
      this.hmac = importJWK({ kty: 'oct', k: Buffer.from(issuer.hmacSecret).toString('base64url') }, 'HS256');
      this.fetchedAt = this.clock.now();
    }
    if (issuer.jwks !== undefined) this.install(parseJwks(issuer.jwks));
    if (issuer.jwksFile !== undefined) {
      const file = readJwksFile(issuer.jwksFile);
      if (!file.ok) throw new FetchError(`jwksFile ${file.reason}`, 'bad_json');
      this.install(file.keys);
    }
  }

  /** Starts the first fetch and the refresh loop (remote sources only). */
  start(): void {
    if (this.remote) void this.refresh().catch(() => undefined);
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
  }

  /** Usable keys exist: loaded, and not older than the allowed staleness. */
  usable(): boolean {
    if (this.fetchedAt === undefined) return false;
    return !this.remote || this.clock.now() - this.fetchedAt <= this.keys.maxStaleSeconds * 1000;
  }

  /** Fetch now (single-flight): used by start-up, the refresh loop and unknown-kid misses. */
  refresh(): Promise<void> {
    this.inflight ??= this.load().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** The keys that may have signed a token with this kid and alg; one refetch on a miss, if allowed. */
  async lookup(kid: string | undefined, alg: string): Promise<KeyLookup> {
    // No usable keys (issuer down at start-up, or keys past maxStaleSeconds): a request may fetch,
    // but through the same single flight and backoff as the refresh loop, so 249 requests against a
    // dead issuer cost one fetch, and a revived issuer is noticed by the first request after the backoff.
    if (!this.usable() && this.remote && (this.inflight !== undefined || this.clock.now() >= this.nextAttemptAt))
      await this.refresh().catch(() => undefined);
    if (!this.usable()) return { ok: false, reason: 'unavailable' };
    let found = await this.find(kid, alg);
    if (
      found.length === 0 &&
      this.remote &&
      this.clock.now() - this.lastMissFetch >= this.keys.cooldownSeconds * 1000
    ) {
      this.lastMissFetch = this.clock.now();
      await this.refresh().catch(() => undefined);
      found = await this.find(kid, alg);
    }
    if (found.length === 0) return { ok: false, reason: 'unknown_key' };
    const stale =
      this.remote &&
      this.clock.now() - (this.fetchedAt ?? 0) > this.keys.refreshSeconds * 1000 + this.keys.fetchTimeoutMs;
    if (stale) this.metrics.authStaleKeyUses.inc({ issuer: this.issuer.issuer });
    return { ok: true, stale, candidates: found, generation: this.generation };
  }

  /** The keys jose selects for this kid and alg (RFC 7515 §4.1.4, RFC 7517 §4), none when none fits. */
  private async find(kid: string | undefined, alg: string): Promise<VerifyKey[]> {
    // A shared secret is not a JWK Set member (jose refuses symmetric keys there): it is the one HMAC key.
    if (alg.startsWith('HS')) return this.hmac ? [await this.hmac] : [];
    if (!this.select) return [];
    try {
      return [await this.select({ alg, ...(kid !== undefined ? { kid } : {}) })];
    } catch (err) {
      // No kid and several keys fit: each is tried in turn (jose's documented way).
      if (err instanceof errors.JWKSMultipleMatchingKeys) {
        const keys: VerifyKey[] = [];
        for await (const key of err) keys.push(key);
        return keys;
      }
      // No key fits, or the alg has no JWK form (ERR_JOSE_NOT_SUPPORTED), or the only fit does not import.
      if (err instanceof errors.JOSEError) return [];
      throw err;
    }
  }

  private install(jwks: JWK[]): void {
    const published = JSON.stringify(jwks);
    if (published !== this.published) {
      // The same set again keeps jose's selection and its imported keys, and cached verifications.
      this.select = createLocalJWKSet({ keys: jwks });
      this.published = published;
      this.keyCount = jwks.length;
      this.generation++;
    }
    this.fetchedAt = this.clock.now();
  }

  private async jwksUrl(): Promise<string> {
    if (this.issuer.jwksUri !== undefined) return this.issuer.jwksUri;
    const base = this.issuer.issuer.replace(/\/$/, '');
    const doc = (await fetchJson(
      `${base}/.well-known/openid-configuration`,
      this.keys.fetchTimeoutMs,
      this.keys.maxBytes,
    )) as { jwks_uri?: unknown };
    if (typeof doc?.jwks_uri !== 'string' || !/^https?:\/\//.test(doc.jwks_uri))
      throw new FetchError('the discovery document has no jwks_uri', 'bad_json');
    const insecure =
      doc.jwks_uri.startsWith('http:') &&
      !/^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\//.test(doc.jwks_uri);
    if (insecure && !this.keys.allowInsecureHttp)
      throw new FetchError('the discovery document names a plain-http jwks_uri', 'bad_json');
    return doc.jwks_uri;
  }

  private async load(): Promise<void> {
    try {
      const url = await this.jwksUrl();
      this.install(parseJwks(await fetchJson(url, this.keys.fetchTimeoutMs, this.keys.maxBytes)));
      this.failures = 0;
      this.nextAttemptAt = -Infinity;
      this.metrics.authKeyFetches.inc({ issuer: this.issuer.issuer, outcome: 'ok' });
      this.schedule(this.keys.refreshSeconds * 1000);
    } catch (err) {
      this.failures++;
      const outcome = err instanceof FetchError ? err.outcome : 'unreachable';
      this.metrics.authKeyFetches.inc({ issuer: this.issuer.issuer, outcome });
      this.log.warn(
        { issuer: this.issuer.issuer, outcome, reason: (err as Error).message, keptKeys: this.keyCount },
        'signing key fetch failed',
      );
      // Retry soon (1 s, doubling to 4 s): an issuer that answers again is noticed within seconds,
      // while the old keys, if any, keep serving. Requests obey the same backoff.
      const backoffMs = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(this.failures - 1, 5));
      this.nextAttemptAt = this.clock.now() + backoffMs;
      this.schedule(backoffMs);
      throw err;
    }
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.timer?.cancel();
    // On the injected clock, like every reading above: the retry falls due in the same time as nextAttemptAt.
    this.timer = this.clock.setTimer(ms, () => void this.refresh().catch(() => undefined));
  }
}
