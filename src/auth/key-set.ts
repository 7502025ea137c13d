import { importJWK, type JWK } from 'jose';
import type { GatewayConfig } from '../config/schema.js';
import type { Clock, Timer } from '../decision/clock.js';
import type { Logger } from '../observability/logger.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import { FetchError, fetchJson } from './fetch-json.js';
import { jwksProblem, readJwksFile } from './jwks-document.js';

type IssuerConfig = GatewayConfig['auth']['issuers'][number];
type KeysConfig = GatewayConfig['auth']['keys'];
export type VerifyKey = Awaited<ReturnType<typeof importJWK>>;

/** A JWK with its imports cached per algorithm: keys are imported once, not per request. */
interface KeyEntry {
  readonly id: string;
  readonly jwk: JWK;
  readonly imported: Map<string, Promise<VerifyKey>>;
}

export type KeyLookup =
  | { readonly ok: true; readonly candidates: ReadonlyArray<{ readonly id: string; readonly key: Promise<VerifyKey> }>; readonly stale: boolean }
  | { readonly ok: false; readonly reason: 'unknown_key' | 'unavailable' };

const MAX_BACKOFF_MS = 4000;
const CURVES: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

function fits(jwk: JWK, alg: string): boolean {
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  if (jwk.key_ops !== undefined && !jwk.key_ops.includes('verify')) return false;
  if (alg.startsWith('RS') || alg.startsWith('PS')) return jwk.kty === 'RSA';
  if (alg.startsWith('ES')) return jwk.kty === 'EC' && jwk.crv === CURVES[alg];
  if (alg === 'EdDSA') return jwk.kty === 'OKP';
  return false;
}

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
  private entries = new Map<string, KeyEntry>();
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
      this.install([{ kty: 'oct', k: Buffer.from(issuer.hmacSecret).toString('base64url') }]);
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

  has(id: string): boolean {
    return this.entries.has(id);
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
    if (!this.usable() && this.remote && (this.inflight !== undefined || this.clock.now() >= this.nextAttemptAt)) await this.refresh().catch(() => undefined);
    if (!this.usable()) return { ok: false, reason: 'unavailable' };
    let found = this.find(kid, alg);
    if (found.length === 0 && this.remote && this.clock.now() - this.lastMissFetch >= this.keys.cooldownSeconds * 1000) {
      this.lastMissFetch = this.clock.now();
      await this.refresh().catch(() => undefined);
      found = this.find(kid, alg);
    }
    if (found.length === 0) return { ok: false, reason: 'unknown_key' };
    const stale = this.remote && this.clock.now() - (this.fetchedAt ?? 0) > this.keys.refreshSeconds * 1000 + this.keys.fetchTimeoutMs;
    if (stale) this.metrics.authStaleKeyUses.inc({ issuer: this.issuer.issuer });
    return { ok: true, stale, candidates: found.map((e) => ({ id: e.id, key: this.imported(e, alg) })) };
  }

  private find(kid: string | undefined, alg: string): KeyEntry[] {
    if (alg.startsWith('HS')) {
      const e = this.entries.get('#hmac');
      return e ? [e] : [];
    }
    if (kid !== undefined) {
      const e = this.entries.get(kid);
      return e && fits(e.jwk, alg) ? [e] : [];
    }
    return [...this.entries.values()].filter((e) => fits(e.jwk, alg));
  }

  private imported(e: KeyEntry, alg: string): Promise<VerifyKey> {
    let p = e.imported.get(alg);
    if (!p) {
      p = importJWK(e.jwk, alg);
      e.imported.set(alg, p);
    }
    return p;
  }

  private install(jwks: JWK[]): void {
    const next = new Map<string, KeyEntry>();
    jwks.forEach((jwk, i) => {
      const id = jwk.kty === 'oct' ? '#hmac' : (jwk.kid ?? `#${i}:${jwk.kty}:${jwk.n ?? jwk.x ?? ''}`);
      // Keep already-imported keys when a refresh returns the same JWK.
      const prev = this.entries.get(id);
      next.set(id, prev && JSON.stringify(prev.jwk) === JSON.stringify(jwk) ? prev : { id, jwk, imported: new Map() });
    });
    this.entries = next;
    this.fetchedAt = this.clock.now();
  }

  private async jwksUrl(): Promise<string> {
    if (this.issuer.jwksUri !== undefined) return this.issuer.jwksUri;
    const base = this.issuer.issuer.replace(/\/$/, '');
    const doc = (await fetchJson(`${base}/.well-known/openid-configuration`, this.keys.fetchTimeoutMs, this.keys.maxBytes)) as { jwks_uri?: unknown };
    if (typeof doc?.jwks_uri !== 'string' || !/^https?:\/\//.test(doc.jwks_uri)) throw new FetchError('the discovery document has no jwks_uri', 'bad_json');
    const insecure = doc.jwks_uri.startsWith('http:') && !/^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\//.test(doc.jwks_uri);
    if (insecure && !this.keys.allowInsecureHttp) throw new FetchError('the discovery document names a plain-http jwks_uri', 'bad_json');
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
      this.log.warn({ issuer: this.issuer.issuer, outcome, reason: (err as Error).message, keptKeys: this.entries.size }, 'signing key fetch failed');
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
