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
    doc: 'V2 outputs that hold scores or classes (e.g. `predict_proba`, `output-0`); others pass unchanged. Empty: every output is reduced.',
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
  const labels = m['labels'] as readonly string[] | undefined;
  if (!labels) return [];
  const problems: Problem[] = [];
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
