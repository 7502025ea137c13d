import { mapOf, z, crossField, CROSS_FIELD } from '../fields.js';
import { checkPolicy, optionalWindows, windowSpec } from './limits.js';

/** Fields of `models.<model>` for rate limits. */
export const modelLimitFields = {
  limits: z
    .strictObject({
      default: optionalWindows('Replaces `limits.default` for this model.'),
      tiers: mapOf('tier', z.array(windowSpec).max(8).meta({ description: 'Windows of this tier.' }))
        .optional()
        .meta({ description: 'Replaces `limits.tiers` for this model.', keyName: 'tier' }),
      metadata: optionalWindows('Replaces `limits.metadata` for this model.'),
    })
    .superRefine(crossField(checkPolicy), CROSS_FIELD)
    .optional()
    .meta({ description: "This model's own windows; each list set here replaces the global one of the same kind." }),
};
