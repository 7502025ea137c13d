import type { StageFactory } from '../decision/stage-deps.js';

/** Authentication and per-model authorization (issue 3). */
export const authStages: StageFactory = () => [];
