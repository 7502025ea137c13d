import type { DecisionContext } from '../decision/decision-context.js';
import { deny, type Denial } from '../decision/denial.js';
import { isPromise, type Stage } from '../decision/stage.js';
import type { StageFactory } from '../decision/stage-deps.js';
import { bearerToken } from './bearer-token.js';
import { claimAt, claimHeaderValue } from './claims.js';
import { ModelRequirements } from './model-requirements.js';
import { TokenVerifier, type Verification } from './token-verifier.js';

const UNKNOWN_ISSUER = deny('token_invalid', 'the token issuer is not trusted here');

/** Authentication and per-model authorization: two stages over one verifier. */
export const authStages: StageFactory = (deps) => {
  const { config } = deps;
  if (!config.auth.enabled) return [];
  const verifier = new TokenVerifier(config.auth, deps.clock, deps.metrics, deps.log);
  const requirements = new ModelRequirements(config.models);
  verifier.start();
  deps.onClose(verifier);
  deps.readiness.add({
    name: 'signing-keys',
    async check() {
      const missing = [...verifier.issuers.values()].filter((i) => !i.keys.usable()).map((i) => i.config.issuer);
      return missing.length === 0
        ? { ready: true }
        : { ready: false, detail: `no usable keys for ${missing.join(', ')}` };
    },
  });

  // Headers derived from claims, per issuer, computed once.
  const claimHeaders = new Map(
    [...verifier.issuers].map(([iss, i]) => [
      iss,
      Object.entries(i.config.claimHeaders).map(([h, c]) => [h.toLowerCase(), c] as const),
    ]),
  );
  const everyIssuerStripsToken = [...verifier.issuers.values()].every((i) => !i.config.forwardToken);
  const injected = [...new Set([...claimHeaders.values()].flat().map(([h]) => h))];
  if (everyIssuerStripsToken) injected.push('authorization');

  const accept = (ctx: DecisionContext, v: Verification): Denial | undefined => {
    if (!v.ok) return v.denial;
    const { identity, issuer } = v.verified;
    ctx.identity = identity;
    for (const [header, claim] of claimHeaders.get(issuer.config.issuer) ?? []) {
      const value = claimHeaderValue(claimAt(identity.claims, claim));
      if (value !== undefined) ctx.upstreamHeaders[header] = value;
    }
    if (!everyIssuerStripsToken && !issuer.config.forwardToken) ctx.removeUpstreamHeaders.push('authorization');
    return undefined;
  };

  const authenticate: Stage = {
    name: 'authenticate',
    injectedHeaders: injected,
    run(ctx) {
      const token = bearerToken(ctx.view);
      if (typeof token !== 'string') {
        deps.metrics.authVerifications.inc({ outcome: token.code, cache: 'none' });
        return token;
      }
      const v = verifier.verify(token);
      return isPromise(v) ? v.then((r) => accept(ctx, r)) : accept(ctx, v);
    },
  };

  const authorize: Stage = {
    name: 'authorize',
    run(ctx) {
      const identity = ctx.identity;
      if (!identity || ctx.route.kind !== 'model') return undefined;
      // The identity names its issuer; the issuer's settings are the verifier's, looked up here.
      const issuer = verifier.issuers.get(identity.issuer);
      if (!issuer) return UNKNOWN_ISSUER; // never: authenticate sets identities of configured issuers only
      const denial = requirements.check(ctx.route.route.model, ctx.route.route.verb, identity, issuer);
      if (denial) deps.metrics.authVerifications.inc({ outcome: denial.code, cache: 'none' });
      return denial;
    },
  };

  return [authenticate, authorize];
};
