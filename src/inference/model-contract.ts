import type { ModelConfig } from '../config/schema.js';
import { claimAt } from '../auth/claims.js';
import type { Identity } from '../decision/identity.js';
import { isFloatType, isIntegerType, isNumericType } from './tensor-data.js';

export type ResponsePolicy = 'labels' | 'top-k' | 'full';

export interface InputContract {
  /** Per-row dimensions (without batch), or undefined for no shape rule. */
  readonly rowShape: readonly number[] | undefined;
  readonly datatype: string | undefined;
  readonly numeric: boolean;
  readonly min: number;
  readonly max: number;
  readonly maxBatch: number;
  /** Anything beyond the always-on finiteness check to look at. */
  readonly hasRules: boolean;
}

/** One model's contract, compiled at start-up so the hot path only reads fields. */
export interface ModelContract {
  readonly model: string;
  readonly classifier: boolean;
  readonly labels: readonly string[];
  readonly labelIndex: ReadonlyMap<string, number>;
  readonly scoreOutputs: ReadonlySet<string> | undefined;
  readonly binaryThreshold: number;
  readonly input: InputContract;
  readonly policy: ResponsePolicy;
  readonly topK: number;
  /** 10^decimals, for rounding. */
  readonly scale: number;
  readonly confidenceFloor: number | undefined;
  readonly abstainLabel: string;
  readonly fullClaim: { readonly claim: string; readonly values: readonly unknown[] } | undefined;
}

export function compileContract(model: string, m: ModelConfig): ModelContract {
  const i = m.input;
  const rowShape = i.shape ?? (i.features !== undefined ? [i.features] : undefined);
  const datatype = i.datatype;
  return {
    model,
    classifier: m.task === 'classification',
    labels: m.labels,
    labelIndex: new Map(m.labels.map((l, k) => [l, k])),
    scoreOutputs: m.scoreOutputs.length > 0 ? new Set(m.scoreOutputs) : undefined,
    binaryThreshold: m.binaryThreshold,
    input: {
      rowShape,
      datatype,
      numeric: datatype !== undefined && isNumericType(datatype),
      min: i.min ?? -Infinity,
      max: i.max ?? Infinity,
      maxBatch: i.maxBatch ?? Infinity,
      hasRules: rowShape !== undefined || datatype !== undefined || i.min !== undefined || i.max !== undefined,
    },
    policy: m.response.policy,
    topK: m.response.topK,
    scale: 10 ** m.response.decimals,
    confidenceFloor: m.response.confidenceFloor,
    abstainLabel: m.response.abstainLabel,
    fullClaim: m.response.fullClaim,
  };
}

function holds(identity: Identity | undefined, rule: NonNullable<ModelContract['fullClaim']>): boolean {
  if (!identity) return false;
  const v = claimAt(identity.claims, rule.claim);
  const candidates = Array.isArray(v) ? v : [v];
  return candidates.some((c) => rule.values.includes(c));
}

/** The policy for this caller: `full` for holders of the configured claim, else the model's policy. */
export function effectivePolicy(c: ModelContract, identity: Identity | undefined): ResponsePolicy {
  if (!c.classifier) return 'full';
  if (c.policy !== 'full' && c.fullClaim && holds(identity, c.fullClaim)) return 'full';
  return c.policy;
}

/** Does a V2 datatype fit the contract's datatype (integers for integer types, ...)? */
export function valueFits(datatype: string, v: unknown): boolean {
  if (isFloatType(datatype)) return typeof v === 'number';
  if (isIntegerType(datatype)) return typeof v === 'number' && Number.isInteger(v);
  if (datatype === 'BOOL') return typeof v === 'boolean';
  return typeof v === 'string';
}
