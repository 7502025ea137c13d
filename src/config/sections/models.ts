import { mapOf, z, crossField, CROSS_FIELD } from '../fields.js';
import { modelAuthFields } from './model-auth.js';
import { checkModelContract, modelContractFields } from './model-contract.js';
import { modelExtractionFields } from './model-extraction.js';
import { modelLimitFields } from './model-limits.js';

export const modelSection = z
  .strictObject({
    protocol: z
      .enum(['v1', 'v2', 'any'])
      .default('any')
      .meta({ description: 'Inference protocol the model speaks; requests in the other protocol are refused.' }),

    // Per-model claim requirements (authentication).
    ...modelAuthFields,

    // Input contract and response policy (model contracts).
    ...modelContractFields,

    // Per-model rate-limit policies.
    ...modelLimitFields,

    // Model-extraction detection.
    ...modelExtractionFields,
  })
  .superRefine(crossField(checkModelContract), CROSS_FIELD)
  .prefault({})
  .meta({ description: 'One served model.' });

export const modelsSection = mapOf('model', modelSection, /^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$/)
  .default({})
  .meta({
    description:
      'The models behind this gateway, by KServe model name. Requests for a model not listed here are refused (404 `model_not_found`).',
    keyName: 'model',
  });
