import { s, type Problem, type Spec } from '../schema-dsl.js';

export const TENSOR_DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BF16', 'BYTES'] as const;

const inputContract = s.object(
  {
    features: s.integer({ doc: 'V1: values per instance (a list row has this length, a dict row this many keys).', optional: true, min: 1 }),
    shape: s.array(s.integer({ doc: 'A dimension; -1 for any size.', min: -1 }), {
      doc: 'V2: the shape of one row, without the batch dimension (e.g. `[4]`; `-1` for any size). Every input must match.',
      optional: true,
    }),
    datatype: s.string({ doc: 'V2: the datatype every input must declare.', optional: true, enum: TENSOR_DATATYPES }),
    min: s.number({ doc: 'Smallest allowed input value.', optional: true }),
    max: s.number({ doc: 'Largest allowed input value.', optional: true }),
    maxBatch: s.integer({ doc: 'Most rows (predictions) in one request.', default: 1024, min: 1 }),
  },
  {
    doc: 'Input contract; NaN and Infinity are always refused. A violation is 400 `invalid_input` naming the input and the rule.',
    check(v): Problem[] {
      const min = v['min'] as number | undefined;
      const max = v['max'] as number | undefined;
      return min !== undefined && max !== undefined && min > max ? [{ path: 'min', message: `is above max (${min} > ${max})` }] : [];
    },
  },
);

const responsePolicy = s.object(
  {
    policy: s.string({
      doc: 'What a classifier answer is reduced to: `labels` (the class, the default) or `top-k` (the `topK` best classes with scores rounded to `decimals`). Full answers only for `fullAccess`.',
      default: 'labels',
      enum: ['labels', 'top-k'],
    }),
    topK: s.integer({ doc: 'Classes per row under `top-k` (also the largest Triton `classification` a request may ask).', default: 3, min: 1, max: 100 }),
    decimals: s.integer({ doc: 'Decimals kept in `top-k` scores.', default: 2, min: 0, max: 6 }),
    confidenceFloor: s.number({ doc: 'A row whose best score is below this becomes `abstainLabel` (rows without scores are not affected).', optional: true, min: 0, max: 1 }),
    abstainLabel: s.string({ doc: 'The answer for a row below `confidenceFloor`.', default: 'abstain', minLength: 1 }),
    passHeaders: s.array(s.string({ doc: 'A header name.', pattern: /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, patternHint: 'expected a header name (RFC 9110 token)' }), {
      doc: "Predictor response headers that leave a reduced route. Every other predictor header stays behind (a runtime's `x-model-scores` would carry scores); the gateway's own (`x-request-id`, `RateLimit`, framing) are always sent.",
      default: [],
    }),
    explain: s.boolean({ doc: 'Allow V1 `:explain` for everyone (explanations carry scores). Otherwise only `fullAccess` identities may explain.', default: false }),
    fullAccess: s.object(
      {
        claim: s.string({ doc: 'Claim path (e.g. `realm_access.roles`).', minLength: 1 }),
        values: s.array(s.string({ doc: 'An accepted value.' }), { doc: 'Values that grant full answers (any of them; an array claim matches when any element does).', minItems: 1 }),
      },
      { doc: 'Identities holding this claim get the predictor answer unchanged (e.g. a model-owner role).', optional: true },
    ),
  },
  { doc: 'Response policy for classifiers (regression answers pass unchanged).' },
);

/** Fields of `models.<model>` owned by issue 4: model contracts. */
export const modelContractFields = {
  task: s.string({ doc: '`classification` answers are reduced per `response`; `regression` answers pass unchanged.', default: 'classification', enum: ['classification', 'regression'] }),
  labels: s.array(s.string({ doc: 'Class name.', minLength: 1 }), {
    doc: 'Class names by index (the order of the probability columns, e.g. sklearn `classes_`). Without them answers carry class indices. With them, a label outside this list in an answer fails closed.',
    optional: true,
    minItems: 1,
  }),
  scoreOutputs: s.array(s.string({ doc: 'Output name.' }), {
    doc: 'V2 outputs that hold scores or classes (e.g. `predict_proba`, `output-0`); they are reduced. Any other output is dropped unless listed in `passOutputs` (an extra `logits` output would carry scores). Empty: every output not in `passOutputs` is reduced.',
    default: [],
  }),
  passOutputs: s.array(s.string({ doc: 'Output name.' }), {
    doc: 'V2 outputs that leave unchanged on reduced routes (e.g. a regression head or an embedding id you vouch for). Never list an output that carries scores.',
    default: [],
  }),
  binaryThreshold: s.number({ doc: 'A single probability per row (xgboost `binary:logistic`) at or above this is class 1.', default: 0.5, min: 0, max: 1 }),
  input: inputContract,
  response: responsePolicy,
} satisfies Record<string, Spec>;

/**
 * Rules across the contract fields of one model. Repeated labels would make two classes
 * indistinguishable, and an abstain label equal to a class would pass an abstention off as
 * a confident prediction.
 */
export function checkModelContract(m: Record<string, unknown>): Problem[] {
  const problems: Problem[] = [];
  const scoreOutputs = new Set((m['scoreOutputs'] as readonly string[] | undefined) ?? []);
  for (const [i, o] of ((m['passOutputs'] as readonly string[] | undefined) ?? []).entries()) {
    if (scoreOutputs.has(o)) problems.push({ path: `passOutputs[${i}]`, message: `${JSON.stringify(o)} is also in scoreOutputs: an output is either reduced or passed` });
  }
  const labels = m['labels'] as readonly string[] | undefined;
  if (!labels) return problems;
  const seen = new Set<string>();
  for (const [i, l] of labels.entries()) {
    if (seen.has(l)) problems.push({ path: `labels[${i}]`, message: `repeats the label ${JSON.stringify(l)}` });
    seen.add(l);
  }
  const response = m['response'] as { confidenceFloor?: number; abstainLabel?: string } | undefined;
  if (response?.confidenceFloor !== undefined && response.abstainLabel !== undefined && seen.has(response.abstainLabel)) {
    problems.push({ path: 'response.abstainLabel', message: `is also a class label (${JSON.stringify(response.abstainLabel)}); an abstention must not read as a prediction` });
  }
  return problems;
}
