import type { IncomingHttpHeaders } from 'node:http';
import { bearerToken } from '../auth/bearer-token.js';
import { audiencesOf, claimAt } from '../auth/claims.js';
import { TokenVerifier, type Verification } from '../auth/token-verifier.js';
import type { GatewayConfig } from '../config/schema.js';
import { deny, type Denial } from '../decision/denial.js';
import { isPromise } from '../decision/stage.js';
import type { Logger } from '../observability/logger.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import { lastXfccElement } from './xfcc.js';
import { clockReading } from '../decision/clock.js';

/** Who an operator request came from, as the audit log names it. */
export interface OperatorIdentity {
  readonly kind: 'jwt' | 'spiffe';
  /** `issuer|subject` for a token, the SPIFFE ID for a peer. */
  readonly id: string;
}

export type OperatorCheck =
  { readonly ok: true; readonly operator: OperatorIdentity } | { readonly ok: false; readonly denial: Denial };

/** What the check reads of a request (the admin server passes Node's request fields). */
export interface OperatorRequest {
  readonly headers: IncomingHttpHeaders;
  /** Every raw Authorization value: two credentials are refused, never picked from (RFC 6750 §2). */
  readonly authorization: readonly string[];
  readonly query: string;
  readonly peer: string;
}

const NOT_OPERATOR = deny('operator_required', 'an operator identity is required');
const OFF = deny(
  'operator_off',
  'operator endpoints are off: no operator identity is configured (operator.jwt or operator.spiffe)',
);

/** Address forms Node reports for one peer: IPv4 peers of a dual-stack socket come as `::ffff:a.b.c.d`. */
const plainAddress = (a: string) => (a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a);

/**
 * The operator identity of an admin request, by either configured way:
 * - the mesh peer identity: the URI SAN of the client certificate in the last XFCC element,
 *   trusted only when the TCP peer is the sidecar (`operator.spiffe.trustedProxies`), checked
 *   against an exact allowlist;
 * - a bearer JWT verified by the auth module's verifier (same issuers, keys, cache policy),
 *   whose audience is accepted for operators and whose role claim holds a configured value.
 * Refusals follow RFC 6750 when the JWT way is configured, as on the serving port.
 */
export class OperatorAuth {
  readonly enabled: boolean;
  readonly realm: string;
  private readonly verifier: TokenVerifier | undefined;
  private readonly spiffeAllow: ReadonlySet<string>;
  private readonly trustedPeers: ReadonlySet<string>;

  constructor(
    private readonly config: GatewayConfig,
    now: () => number,
    metrics: GatewayMetrics,
    log: Logger,
  ) {
    const op = config.operator;
    this.enabled = op.jwt !== undefined || op.spiffe !== undefined;
    this.realm = config.auth.realm;
    this.spiffeAllow = new Set(op.spiffe?.allow ?? []);
    this.trustedPeers = new Set((op.spiffe?.trustedProxies ?? []).map(plainAddress));
    // Its own verifier over the same issuers: operator tokens do not share the serving port's
    // cache, so a flood of operator logins cannot evict the hot path's verified tokens.
    this.verifier = op.jwt ? new TokenVerifier(config.auth, clockReading(now), metrics, log) : undefined;
  }

  start(): void {
    this.verifier?.start();
  }

  close(): void {
    this.verifier?.close();
  }

  check(req: OperatorRequest): OperatorCheck | Promise<OperatorCheck> {
    if (!this.enabled) return { ok: false, denial: OFF };
    const peer = this.peerIdentity(req);
    if (peer) return { ok: true, operator: { kind: 'spiffe', id: peer } };
    if (!this.verifier) return { ok: false, denial: NOT_OPERATOR };
    const token = bearerToken(req);
    if (typeof token !== 'string') return { ok: false, denial: token };
    const v = this.verifier.verify(token);
    return isPromise(v) ? v.then((r) => this.operatorOf(r)) : this.operatorOf(v);
  }

  private peerIdentity(req: OperatorRequest): string | undefined {
    if (this.spiffeAllow.size === 0 || !this.trustedPeers.has(plainAddress(req.peer))) return undefined;
    const raw = req.headers['x-forwarded-client-cert'];
    const element = lastXfccElement(Array.isArray(raw) ? raw.join(',') : raw);
    // One URI SAN only: a certificate naming two identities is not one operator.
    if (!element || element.uri.length !== 1) return undefined;
    const id = element.uri[0]!;
    return this.spiffeAllow.has(id) ? id : undefined;
  }

  private operatorOf(v: Verification): OperatorCheck {
    if (!v.ok) return v;
    const jwt = this.config.operator.jwt!;
    const { identity, issuer } = v.verified;
    if (jwt.issuers.length > 0 && !jwt.issuers.includes(identity.issuer))
      return { ok: false, denial: deny('token_invalid', 'tokens of this issuer carry no operator rights') };
    const accepted = jwt.audiences.length > 0 ? new Set(jwt.audiences) : issuer.audiences;
    if (!audiencesOf(identity.claims).some((a) => typeof a === 'string' && accepted.has(a)))
      return { ok: false, denial: deny('token_invalid', 'the token audience is not accepted for operators') };
    const value = claimAt(identity.claims, jwt.claim);
    const held = typeof value === 'string' ? value.split(' ') : Array.isArray(value) ? value : [];
    if (!held.some((x) => typeof x === 'string' && jwt.values.includes(x))) {
      return { ok: false, denial: deny('insufficient_scope', `the token claim ${jwt.claim} holds no operator role`) };
    }
    return { ok: true, operator: { kind: 'jwt', id: `${identity.issuer}|${identity.subject}` } };
  }
}
