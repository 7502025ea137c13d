import { claimAt } from '../decision/identity.js';
import type { ModelConfig } from '../config/schema.js';
import type { Identity } from '../decision/identity.js';

/** One model's contract, compiled once at start-up from `models.<model>`. */
export interface ModelContract {
  readonly task: 'classification' | 'regression';
  readonly labels: readonly string[] | undefined;
  readonly labelSet: ReadonlySet<string> | undefined;
  /** V2 outputs to reduce; undefined means every output not in passOutputs. */
  readonly scoreOutputs: ReadonlySet<string> | undefined;
  /** V2 outputs that leave unchanged; any other output not in scoreOutputs is dropped. */
  readonly passOutputs: ReadonlySet<string>;
  /** Upstream response headers that leave a reduced route (lower-case). */
  readonly passHeaders: readonly string[];
  readonly threshold: number;
  readonly input: ModelConfig['input'];
  readonly policy: 'labels' | 'top-k';
  /** Classes per row the policy lets out (1 under labels). */
  readonly classesOut: number;
  readonly decimals: number;
  readonly floor: number | undefined;
  readonly abstain: string;
  readonly explainForAll: boolean;
  readonly fullAccess: { readonly claim: string; readonly values: ReadonlySet<string> } | undefined;
}

export function compileContract(m: ModelConfig): ModelContract {
  const r = m.response;
  return {
    task: m.task,
    labels: m.labels,
    labelSet: m.labels ? new Set(m.labels) : undefined,
    scoreOutputs: m.scoreOutputs.length > 0 ? new Set(m.scoreOutputs) : undefined,
    passOutputs: new Set(m.passOutputs),
    passHeaders: r.passHeaders,
    threshold: m.binaryThreshold,
    input: m.input,
    policy: r.policy,
    classesOut: r.policy === 'top-k' ? r.topK : 1,
    decimals: r.decimals,
    floor: r.confidenceFloor,
    abstain: r.abstainLabel,
    explainForAll: r.explain,
    fullAccess: r.fullAccess ? { claim: r.fullAccess.claim, values: new Set(r.fullAccess.values) } : undefined,
  };
}

/** True when the verified identity holds the claim that grants unreduced answers. */
export function hasFullAccess(c: ModelContract, identity: Identity | undefined): boolean {
  if (!c.fullAccess || !identity) return false;
  const v = claimAt(identity.claims, c.fullAccess.claim);
  const { values } = c.fullAccess;
  if (typeof v === 'string') return values.has(v);
  return Array.isArray(v) && v.some((x) => typeof x === 'string' && values.has(x));
}
