import type { DecisionContext } from './decision-context.js';
import type { Denial } from './denial.js';

/** What decide(view) returns to a door: allowed with the context the stages filled, or denied. */
export type Decision =
  | { readonly allowed: true; readonly ctx: DecisionContext }
  | { readonly allowed: false; readonly denial: Denial; readonly ctx: DecisionContext };
