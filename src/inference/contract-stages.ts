import type { StageFactory } from '../decision/stage-deps.js';

/** Model contracts: input validation, response policy (issue 4). */
export const contractStages: StageFactory = () => [];
