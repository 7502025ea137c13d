import { s, type Problem, type Spec } from '../schema-dsl.js';

export const TENSOR_DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const;

const inputContract = s.object(
  {
    features: s.integer({ doc: 'Values per row: V1 instances must be lists of this length, V2 inputs must have shape [batch, features].', min: 1, optional: true }),
    shape: s.array(s.integer({ doc: 'A dimension.', min: 1 }), {
      doc: 'Shape of one row without the batch dimension (e.g. [28, 28]); replaces `features` when set.',
      optional: true,
      minItems: 1,
    }),
    datatype: s.string({ doc: 'Required V2 tensor datatype; for V1, any numeric datatype requires numbers and BYTES requires strings.', enum: TENSOR_DATATYPES, optional: true }),
    min: s.number({ doc: 'Smallest allowed numeric value.', optional: true }),
    max: s.number({ doc: 'Largest allowed numeric value.', optional: true }),
    maxBatch: s.integer({ doc: 'Most rows one request may carry.', min: 1, optional: true }),
  },
  {
    doc: 'Input contract, checked before the predictor is called (400 `invalid_input` naming the input and the rule). Non-finite numbers (NaN, Infinity) are always refused.',
    check: (v): Problem[] => (typeof v['min'] === 'number' && typeof v['max'] === 'number' && v['min'] > v['max'] ? [{ path: 'min', message: 'must not be greater than max' }] : []),
  },
);

const responsePolicy = s.object(
  {
    policy: s.string({
      doc: 'What a classifier answer may reveal: `labels` (predicted class only), `top-k` (best classes with rounded scores) or `full` (the raw answer, unchanged). `full` here applies to every caller; prefer `fullClaim` to open it for some identities only.',
      enum: ['labels', 'top-k', 'full'],
      default: 'labels',
    }),
    topK: s.integer({ doc: 'Classes returned per row under `top-k`.', min: 1, max: 100, default: 3 }),
    decimals: s.integer({ doc: 'Decimals scores are rounded to under `top-k`.', min: 0, max: 6, default: 2 }),
    fullClaim: s.object(
      {
        claim: s.string({ doc: 'Claim (dotted path) checked on the verified token.', minLength: 1 }),
        values: s.array(s.any({ doc: 'An accepted value.' }), { doc: 'Accepted values; an array claim matches when any element does.', minItems: 1 }),
      },
      { doc: 'Identities holding this claim get the `full` answer (and may call :explain), e.g. a model-owner role.', optional: true },
    ),
    confidenceFloor: s.number({ doc: 'Below this top score a row is answered with `abstainLabel` instead of a class (needs `labels`).', min: 0, max: 1, optional: true }),
    abstainLabel: s.string({ doc: 'Label returned for rows under the confidence floor.', minLength: 1, default: 'abstain' }),
  },
  { doc: 'Response policy for classifiers (ignored for regression). Answers that cannot be made safe become 502 `upstream_bad_response`.' },
);

/** Fields of `models.<model>` owned by issue 4: model contracts. */
export const modelContractFields = {
  task: s.string({ doc: 'What the model predicts; only classifier answers are rewritten.', enum: ['classification', 'regression'], default: 'classification' }),
  labels: s.array(s.string({ doc: 'A class name.', minLength: 1 }), {
    doc: 'Class names by index (the order of the probability columns, e.g. sklearn `classes_`); answers carry these names instead of indices.',
    default: [],
  }),
  scoreOutputs: s.array(s.string({ doc: 'An output name.', minLength: 1 }), {
    doc: 'V2 outputs that hold class scores or classes; other outputs are dropped from classifier answers. Empty: every output is read as scores or classes.',
    default: [],
  }),
  binaryThreshold: s.number({ doc: 'A single score per row at or above this is class 1 (xgboost binary:logistic).', min: 0, max: 1, default: 0.5 }),
  input: inputContract,
  response: responsePolicy,
} satisfies Record<string, Spec>;

/** Cross-field rules of the contract fields (run from the model section). */
export function checkModelContract(v: Record<string, unknown>): Problem[] {
  const response = v['response'] as { confidenceFloor?: number; abstainLabel?: string } | undefined;
  const labels = v['labels'] as readonly string[] | undefined;
  const problems: Problem[] = [];
  if (response?.confidenceFloor !== undefined && (labels?.length ?? 0) === 0) {
    problems.push({ path: 'response.confidenceFloor', message: 'needs `labels`, so an abstaining row can be told apart from a class' });
  }
  if (labels && new Set(labels).size !== labels.length) problems.push({ path: 'labels', message: 'must not repeat a label' });
  if (labels && response?.abstainLabel !== undefined && response.confidenceFloor !== undefined && labels.includes(response.abstainLabel)) {
    problems.push({ path: 'response.abstainLabel', message: 'must differ from every class label' });
  }
  return problems;
}
