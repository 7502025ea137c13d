import type { Spec } from '../schema-dsl.js';

/** Fields of `models.<model>` owned by issue 4: model contracts. */
export const modelContractFields = {} satisfies Record<string, Spec>;
