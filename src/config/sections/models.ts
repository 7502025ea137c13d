import { s } from '../schema-dsl.js';
import { modelAuthFields } from './model-auth.js';
import { checkModelContract, modelContractFields } from './model-contract.js';
import { modelExtractionFields } from './model-extraction.js';
import { modelLimitFields } from './model-limits.js';

export const modelSection = s.object(
  {
    protocol: s.string({ doc: 'Inference protocol the model speaks; requests in the other protocol are refused.', default: 'any', enum: ['v1', 'v2', 'any'] }),

    // Per-model claim requirements (authentication, issue 3).
    ...modelAuthFields,

    // Input contract and response policy (model contracts, issue 4).
    ...modelContractFields,

    // Per-model rate-limit policies (issue 5).
    ...modelLimitFields,

    // Model-extraction detection (issue 13).
    ...modelExtractionFields,
  },
  { doc: 'One served model.', check: checkModelContract },
);

export const modelsSection = s.map(modelSection, {
  doc: 'The models behind this gateway, by KServe model name. Requests for a model not listed here are refused (404 `model_not_found`).',
  keyName: 'model',
  keyPattern: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$/,
});
