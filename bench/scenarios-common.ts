// Shapes and helpers shared by the scenario files.

export interface BenchRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export interface SetupContext {
  readonly predictorUrl: string;
}

export interface Scenario {
  readonly name: string;
  /** Which door the load goes to (default: the proxy, or the predictor when there is no gateway). */
  readonly door?: 'ext-authz-http' | 'ext-authz-grpc';
  /** Scenario whose throughput this one is compared with. */
  readonly baseline?: string;
  /** Gateway config (merged over bench defaults); absent means "hit the predictor directly". */
  readonly gateway?: (ctx: SetupContext) => Promise<Record<string, unknown>> | Record<string, unknown>;
  /** One or more requests, cycled by the load generator. */
  readonly requests: (ctx: SetupContext) => Promise<BenchRequest[]> | BenchRequest[];
  /** Resources the scenario started (an issuer, a Redis); stopped after it runs. */
  readonly teardown?: () => Promise<void>;
}

const row = [6.8, 2.8, 4.8, 1.4];
export const v1Predict = (rows = 1): BenchRequest => ({
  method: 'POST',
  path: '/v1/models/iris:predict',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ instances: Array.from({ length: rows }, () => row) }),
});

// No token, no limit, and answers passed unchanged (a regression model is not reduced to labels);
// the body is still parsed once for the input contract's batch cap, as every deployment does.
export const passThroughGateway = (ctx: SetupContext) => ({
  upstream: { url: ctx.predictorUrl },
  auth: { enabled: false },
  models: { iris: { task: 'regression' } },
});
