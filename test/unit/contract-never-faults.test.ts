// Property: whatever body a client sends to a predict route, the contract stage answers with a
// decision (allow, or a 4xx code), never an internal fault.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildConfig } from '../../src/config/load-config.js';
import { DecisionPipeline } from '../../src/decision/pipeline.js';
import type { RequestView } from '../../src/decision/request-view.js';
import { postView } from '../helpers/request-view.js';
import type { StageDeps } from '../../src/decision/stage-deps.js';
import { contractStages } from '../../src/inference/contract-stages.js';
import { createLogger } from '../../src/observability/logger.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';

const config = buildConfig(
  {
    auth: { enabled: false },
    models: {
      loose: {},
      strict: {
        labels: ['a', 'b'],
        input: { features: 2, shape: [2], datatype: 'FP32', min: -1, max: 1, maxBatch: 4 },
      },
      ranked: { labels: ['a', 'b', 'c'], response: { policy: 'top-k', topK: 2 } },
    },
  },
  'test',
);
const pipeline = new DecisionPipeline(
  config,
  contractStages({ config, metrics: new GatewayMetrics({ defaultMetrics: false }) } as StageDeps),
  createLogger('silent'),
);

const scalar = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 6 }),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('NaN', 'inf', '-Infinity'),
);
const nested = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 3 }), tie('value'), { maxKeys: 3 }),
  ),
})).value;
const tensor = fc.record({
  name: fc.oneof(fc.string({ maxLength: 4 }), nested),
  shape: fc.oneof(fc.array(fc.integer({ min: -1, max: 3 }), { maxLength: 3 }), nested),
  datatype: fc.oneof(fc.constantFrom('FP32', 'FP64', 'INT64', 'BOOL', 'BYTES', 'UINT8', 'BF16', 'X'), nested),
  data: nested,
  parameters: fc.oneof(fc.constant(undefined), fc.record({ binary_data_size: fc.oneof(fc.nat(), nested) })),
});
const v2 = fc.record(
  {
    inputs: fc.oneof(fc.array(tensor, { maxLength: 3 }), nested),
    outputs: fc.oneof(fc.array(fc.record({ name: fc.string(), parameters: nested })), nested),
    parameters: nested,
  },
  { requiredKeys: [] },
);
const v1 = fc.oneof(fc.record({ instances: nested }), fc.record({ inputs: nested }), nested);

// JSON.stringify(undefined) is undefined: send the literal null then.
const view = (path: string, doc: unknown, door: RequestView['door']): RequestView =>
  postView(JSON.stringify(doc) ?? 'null', { path, door });

describe('contract stage against any request body (property)', () => {
  for (const model of ['loose', 'strict', 'ranked']) {
    it(`decides every V1 and V2 body for model ${model} without an internal fault`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            v1.map((d) => ['v1', d] as const),
            v2.map((d) => ['v2', d] as const),
          ),
          fc.constantFrom('proxy', 'ext-authz-http') as fc.Arbitrary<RequestView['door']>,
          async ([protocol, doc], door) => {
            const path = protocol === 'v1' ? `/v1/models/${model}:predict` : `/v2/models/${model}/infer`;
            const d = await pipeline.decide(view(path, doc, door));
            if (!d.allowed) assert.notEqual(d.denial.code, 'internal_error', d.denial.message);
          },
        ),
        { numRuns: 400 },
      );
    });
  }
});
