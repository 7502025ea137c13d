import { passThroughGateway, v1Predict, type Scenario, type SetupContext } from './scenarios-common.js';

const IRIS = ['setosa', 'versicolor', 'virginica'];

/** Labels-only rewriting (and the input contract) of the demo predictor's probabilities. */
const labelsGateway = (ctx: SetupContext) => ({
  ...passThroughGateway(ctx),
  models: { iris: { labels: IRIS, input: { features: 4, maxBatch: 256 } } },
});

/** Each labels-only scenario is compared with a pass-through of the same batch size, in the same run. */
export function contractScenarios(): Scenario[] {
  return [
    { name: 'direct 256 rows', requests: () => [v1Predict(256)] },
    { name: 'gateway pass-through 256 rows', baseline: 'direct 256 rows', gateway: passThroughGateway, requests: () => [v1Predict(256)] },
    { name: 'gateway labels-only 1 row', baseline: 'gateway pass-through', gateway: labelsGateway, requests: () => [v1Predict(1)] },
    { name: 'gateway labels-only 256 rows', baseline: 'gateway pass-through 256 rows', gateway: labelsGateway, requests: () => [v1Predict(256)] },
  ];
}
