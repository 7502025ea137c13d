import type { Spec } from '../schema-dsl.js';

/** Fields of `models.<model>` owned by issue 3: authentication. */
export const modelAuthFields = {} satisfies Record<string, Spec>;
