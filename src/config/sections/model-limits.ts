import type { Spec } from '../schema-dsl.js';

/** Fields of `models.<model>` owned by issue 5: rate limits. */
export const modelLimitFields = {} satisfies Record<string, Spec>;
