import type { StageFactory } from '../decision/stage-deps.js';

/** Per-user rate limits counted in predictions (issue 5). */
export const limitStages: StageFactory = () => [];
