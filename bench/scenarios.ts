// The benchmark scenarios. Each later capability adds its own next to its baseline, so every
// ratio compares two figures measured in the same run on the same machine.

import { passThroughGateway, v1Predict, type Scenario } from './scenarios-common.js';
import { authScenario } from './auth-scenarios.js';
import { limitsMemoryScenario, limitsRedisScenario } from './limits-scenarios.js';
import { extAuthzScenarios } from './ext-authz-scenarios.js';
import { contractScenarios } from './contract-scenarios.js';
import { tracingScenarios } from './tracing-scenarios.js';

export type { BenchRequest, Scenario, SetupContext } from './scenarios-common.js';

export const scenarios: Scenario[] = [
  { name: 'direct', requests: () => [v1Predict()] },
  { name: 'gateway pass-through', baseline: 'direct', gateway: passThroughGateway, requests: () => [v1Predict()] },

  // --- authentication ---
  authScenario(),

  // --- model contracts ---
  ...contractScenarios(),

  // --- rate limits ---
  limitsMemoryScenario(),
  limitsRedisScenario(),

  // --- ext-authz doors ---
  ...extAuthzScenarios(),

  // --- tracing ---
  ...tracingScenarios(),
];
