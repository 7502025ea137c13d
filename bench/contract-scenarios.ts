import { DEMO_LABELS } from '../src/quickstart/demo-model.js';
import { passThroughGateway, v1Predict, type Scenario, type SetupContext } from './scenarios-common.js';

const labelsGateway = (ctx: SetupContext) => ({
  ...passThroughGateway(ctx),
  models: { iris: { labels: [...DEMO_LABELS] } },
});

/** Labels-only rewriting against pass-through of the same batch size, for 1 and 256 rows. */
export function contractScenarios(): Scenario[] {
  return [1, 256].flatMap((rows): Scenario[] => {
    const base = `gateway pass-through ${rows} row${rows > 1 ? 's' : ''}`;
    return [
      { name: base, baseline: 'gateway pass-through', gateway: passThroughGateway, requests: () => [v1Predict(rows)] },
      {
        name: `gateway labels-only ${rows} row${rows > 1 ? 's' : ''}`,
        baseline: base,
        gateway: labelsGateway,
        requests: () => [v1Predict(rows)],
      },
    ];
  });
}
