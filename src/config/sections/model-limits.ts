import { s, type Spec } from '../schema-dsl.js';
import { checkPolicy, windowSpec } from './limits.js';

const windows = (doc: string) => s.array(windowSpec, { doc, optional: true, maxItems: 8 });

/** Fields of `models.<model>` owned by issue 5: rate limits. */
export const modelLimitFields = {
  limits: s.object(
    {
      default: windows('Replaces `limits.default` for this model.'),
      tiers: s.map(s.array(windowSpec, { doc: 'Windows of this tier.', maxItems: 8 }), { doc: 'Replaces `limits.tiers` for this model.', keyName: 'tier', optional: true }),
      metadata: windows('Replaces `limits.metadata` for this model.'),
    },
    { doc: "This model's own windows; each list set here replaces the global one of the same kind.", optional: true, check: checkPolicy },
  ),
} satisfies Record<string, Spec>;
