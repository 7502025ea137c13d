import { matching, settings, z, crossField, CROSS_FIELD } from '../fields.js';

export const TENSOR_DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BF16',
  'BYTES',
] as const;

const inputContract = z
  .strictObject({
    features: z
      .int()
      .min(1)
      .optional()
      .meta({ description: 'V1: values per instance (a list row has this length, a dict row this many keys).' }),
    shape: z
      .array(z.int().min(-1).meta({ description: 'A dimension; -1 for any size.' }))
      .optional()
      .meta({
        description:
          'V2: the shape of one row, without the batch dimension (e.g. `[4]`; `-1` for any size). Every input must match.',
      }),
    datatype: z.enum(TENSOR_DATATYPES).optional().meta({ description: 'V2: the datatype every input must declare.' }),
    min: z.number().optional().meta({ description: 'Smallest allowed input value.' }),
    max: z.number().optional().meta({ description: 'Largest allowed input value.' }),
    maxBatch: z.int().min(1).default(1024).meta({ description: 'Most rows (predictions) in one request.' }),
  })
  .superRefine(
    crossField((v, ctx) => {
      if (v.min !== undefined && v.max !== undefined && v.min > v.max)
        ctx.addIssue({ code: 'custom', path: ['min'], message: `is above max (${v.min} > ${v.max})` });
    }),
    CROSS_FIELD,
  )
  .prefault({})
  .meta({
    description:
      'Input contract; NaN and Infinity are always refused. A violation is 400 `invalid_input` naming the input and the rule.',
  });

const responsePolicy = settings(
  {
    policy: z.enum(['labels', 'top-k']).default('labels').meta({
      description:
        'What a classifier answer is reduced to: `labels` (the class, the default) or `top-k` (the `topK` best classes with scores rounded to `decimals`). Full answers only for `fullAccess`.',
    }),
    topK: z.int().min(1).max(100).default(3).meta({
      description: 'Classes per row under `top-k` (also the largest Triton `classification` a request may ask).',
    }),
    decimals: z.int().min(0).max(6).default(2).meta({ description: 'Decimals kept in `top-k` scores.' }),
    confidenceFloor: z.number().min(0).max(1).optional().meta({
      description:
        'A row whose best score is below this becomes `abstainLabel` (rows without scores are not affected).',
    }),
    abstainLabel: z
      .string()
      .min(1)
      .default('abstain')
      .meta({ description: 'The answer for a row below `confidenceFloor`.' }),
    passHeaders: z
      .array(
        matching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'expected a header name (RFC 9110 token)').meta({
          description: 'A header name.',
        }),
      )
      .default([])
      .meta({
        description:
          "Predictor response headers that leave a reduced route. Every other predictor header stays behind (a runtime's `x-model-scores` would carry scores); the gateway's own (`x-request-id`, `RateLimit`, framing) are always sent.",
      }),
    explain: z.boolean().default(false).meta({
      description:
        'Allow V1 `:explain` for everyone (explanations carry scores). Otherwise only `fullAccess` identities may explain.',
    }),
    fullAccess: z
      .strictObject({
        claim: z.string().min(1).meta({ description: 'Claim path (e.g. `realm_access.roles`).' }),
        values: z
          .array(z.string().meta({ description: 'An accepted value.' }))
          .min(1)
          .meta({
            description: 'Values that grant full answers (any of them; an array claim matches when any element does).',
          }),
      })
      .optional()
      .meta({
        description: 'Identities holding this claim get the predictor answer unchanged (e.g. a model-owner role).',
      }),
  },
  'Response policy for classifiers (regression answers pass unchanged).',
);

/** Fields of `models.<model>` for model contracts. */
export const modelContractFields = {
  task: z
    .enum(['classification', 'regression'])
    .default('classification')
    .meta({ description: '`classification` answers are reduced per `response`; `regression` answers pass unchanged.' }),
  labels: z
    .array(z.string().min(1).meta({ description: 'Class name.' }))
    .min(1)
    .optional()
    .meta({
      description:
        'Class names by index (the order of the probability columns, e.g. sklearn `classes_`). Without them answers carry class indices. With them, a label outside this list in an answer fails closed.',
    }),
  scoreOutputs: z
    .array(z.string().meta({ description: 'Output name.' }))
    .default([])
    .meta({
      description:
        'V2 outputs that hold scores or classes (e.g. `predict_proba`, `output-0`); they are reduced. Any other output is dropped unless listed in `passOutputs` (an extra `logits` output would carry scores). Empty: every output not in `passOutputs` is reduced.',
    }),
  passOutputs: z
    .array(z.string().meta({ description: 'Output name.' }))
    .default([])
    .meta({
      description:
        'V2 outputs that leave unchanged on reduced routes (e.g. a regression head or an embedding id you vouch for). Never list an output that carries scores.',
    }),
  binaryThreshold: z
    .number()
    .min(0)
    .max(1)
    .default(0.5)
    .meta({ description: 'A single probability per row (xgboost `binary:logistic`) at or above this is class 1.' }),
  input: inputContract,
  response: responsePolicy,
};

/**
 * Rules across the contract fields of one model. Repeated labels would make two classes
 * indistinguishable, and an abstain label equal to a class would pass an abstention off as
 * a confident prediction.
 */
export function checkModelContract(
  m: {
    readonly labels?: readonly string[] | undefined;
    readonly scoreOutputs?: readonly string[] | undefined;
    readonly passOutputs?: readonly string[] | undefined;
    readonly response?: { readonly confidenceFloor?: number | undefined; readonly abstainLabel?: string | undefined };
  },
  ctx: z.RefinementCtx,
): void {
  const scoreOutputs = new Set(m.scoreOutputs ?? []);
  for (const [i, o] of (m.passOutputs ?? []).entries()) {
    if (scoreOutputs.has(o))
      ctx.addIssue({
        code: 'custom',
        path: ['passOutputs', i],
        message: `${JSON.stringify(o)} is also in scoreOutputs: an output is either reduced or passed`,
      });
  }
  if (!m.labels) return;
  const seen = new Set<string>();
  for (const [i, l] of m.labels.entries()) {
    if (seen.has(l))
      ctx.addIssue({ code: 'custom', path: ['labels', i], message: `repeats the label ${JSON.stringify(l)}` });
    seen.add(l);
  }
  const response = m.response;
  if (
    response?.confidenceFloor !== undefined &&
    response.abstainLabel !== undefined &&
    seen.has(response.abstainLabel)
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['response', 'abstainLabel'],
      message: `is also a class label (${JSON.stringify(response.abstainLabel)}); an abstention must not read as a prediction`,
    });
  }
}
