import type { GatewayConfig, ModelConfig } from '../config/schema.js';
import { deny, type Denial } from '../decision/denial.js';
import type { Verb } from '../inference/kserve-route.js';
import { audiencesOf, claimAt, scopesOf } from './claims.js';
import type { Identity } from '../decision/identity.js';
import type { TrustedIssuer } from './token-verifier.js';

type Requirement = NonNullable<ModelConfig['auth']['all']>;

/** A model's and verb's requirements, merged once at start-up (`all` + the verb's own). */
interface Compiled {
  readonly scopes: readonly string[];
  readonly claims: ReadonlyArray<readonly [string, ReadonlySet<string>]>;
  readonly issuers: ReadonlySet<string> | undefined;
  readonly audiences: ReadonlySet<string> | undefined;
}

const VERBS: readonly Verb[] = ['predict', 'explain', 'metadata', 'ready'];
const key = (v: unknown) => JSON.stringify(v);

function compile(parts: ReadonlyArray<Requirement | undefined>): Compiled {
  const scopes = new Set<string>();
  const claims = new Map<string, Set<string>>();
  let issuers: Set<string> | undefined;
  let audiences: Set<string> | undefined;
  for (const p of parts) {
    if (!p) continue;
    for (const s of p.scopes) scopes.add(s);
    for (const [path, values] of Object.entries(p.claims)) claims.set(path, new Set(values.map(key)));
    if (p.issuers.length > 0) issuers = new Set(p.issuers);
    if (p.audiences.length > 0) audiences = new Set(p.audiences);
  }
  return { scopes: [...scopes], claims: [...claims], issuers, audiences };
}

export class ModelRequirements {
  private readonly byModel = new Map<string, Map<Verb, Compiled>>();

  constructor(models: GatewayConfig['models']) {
    for (const [name, model] of Object.entries(models)) {
      const verbs = new Map<Verb, Compiled>();
      for (const verb of VERBS) {
        const own = verb === 'ready' ? undefined : model.auth[verb];
        verbs.set(verb, compile([model.auth.all, own]));
      }
      this.byModel.set(name, verbs);
    }
  }

  /** 401 for a token not meant for this model (issuer, audience), 403 for missing scopes or claims. */
  check(model: string, verb: Verb, identity: Identity, issuer: TrustedIssuer): Denial | undefined {
    const req = this.byModel.get(model)?.get(verb);
    if (!req) return undefined;
    if (req.issuers && !req.issuers.has(issuer.config.issuer))
      return deny('token_invalid', 'tokens of this issuer are not accepted for this model');
    const accepted = req.audiences ?? issuer.audiences;
    if (!audiencesOf(identity.claims).some((a) => typeof a === 'string' && accepted.has(a))) {
      return deny('token_invalid', 'the token audience is not accepted for this model');
    }
    if (req.scopes.length > 0) {
      const have = scopesOf(identity.claims);
      const missing = req.scopes.filter((s) => !have.has(s));
      if (missing.length > 0)
        return deny('insufficient_scope', `the token lacks the scope ${missing.join(' ')}`, {
          scope: req.scopes.join(' '),
        });
    }
    for (const [path, allowed] of req.claims) {
      const value = claimAt(identity.claims, path);
      const values = Array.isArray(value) ? value : [value];
      if (!values.some((x) => x !== undefined && allowed.has(key(x)))) {
        return deny('insufficient_scope', `the token claim ${path} does not hold a value this model requires`);
      }
    }
    return undefined;
  }
}
