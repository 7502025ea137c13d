import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_AUDIENCE, startDevIssuer, type DevIssuer } from '../src/quickstart/dev-issuer.js';

// The benchmark scenarios. Each later capability adds its own next to its baseline, so every
// ratio compares two figures measured in the same run on the same machine.

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

export const passThroughGateway = (ctx: SetupContext) => ({
  upstream: { url: ctx.predictorUrl },
  auth: { enabled: false },
  models: { iris: {} },
});

export const scenarios: Scenario[] = [
  { name: 'direct', requests: () => [v1Predict()] },
  { name: 'gateway pass-through', baseline: 'direct', gateway: passThroughGateway, requests: () => [v1Predict()] },

  // --- authentication (issue 3) ---

  // --- model contracts (issue 4) ---

  // --- rate limits (issue 5) ---

  // --- ext-authz doors (issue 6) ---
  // What Envoy sends without includeRequestBodyInCheck: the original method and path, headers, no body.
  {
    name: 'ext-authz http check',
    baseline: 'gateway pass-through',
    door: 'ext-authz-http',
    gateway: (ctx) => ({ ...passThroughGateway(ctx), extAuthz: { http: { enabled: true, host: '127.0.0.1', port: 0 } } }),
    requests: () => [{ method: 'POST', path: '/v1/models/iris:predict', headers: { 'content-length': '0', 'x-request-id': 'bench-1' } }],
  },
  {
    name: 'ext-authz grpc check',
    baseline: 'gateway pass-through',
    door: 'ext-authz-grpc',
    gateway: (ctx) => ({ ...passThroughGateway(ctx), extAuthz: { grpc: { enabled: true, host: '127.0.0.1', port: 0 } } }),
    requests: () => [{ method: 'POST', path: '/v1/models/iris:predict', headers: { 'content-type': 'application/json', 'x-request-id': 'bench-1' } }],
  },
  // The same with a bearer token (verified once, then from the token cache), against a proxied request with that token.
  {
    name: 'ext-authz proxy, cached token',
    baseline: 'gateway pass-through',
    gateway: tokenGateway({}),
    requests: async () => [{ ...v1Predict(), headers: { 'content-type': 'application/json', authorization: `Bearer ${await benchToken()}` } }],
    teardown: stopBenchIssuer,
  },
  {
    name: 'ext-authz http check, cached token',
    baseline: 'ext-authz proxy, cached token',
    door: 'ext-authz-http',
    gateway: tokenGateway({ http: { enabled: true, host: '127.0.0.1', port: 0 } }),
    requests: async () => [{ method: 'POST', path: '/v1/models/iris:predict', headers: { 'content-length': '0', authorization: `Bearer ${await benchToken()}` } }],
    teardown: stopBenchIssuer,
  },
  {
    name: 'ext-authz grpc check, cached token',
    baseline: 'ext-authz proxy, cached token',
    door: 'ext-authz-grpc',
    gateway: tokenGateway({ grpc: { enabled: true, host: '127.0.0.1', port: 0 } }),
    requests: async () => [{ method: 'POST', path: '/v1/models/iris:predict', headers: { authorization: `Bearer ${await benchToken()}` } }],
    teardown: stopBenchIssuer,
  },
];

// One loopback issuer per token scenario (started by its gateway config, stopped by its teardown).
let benchIssuer: Promise<DevIssuer> | undefined;
function issuerForBench(): Promise<DevIssuer> {
  benchIssuer ??= startDevIssuer({ stateDir: mkdtempSync(join(tmpdir(), 'gw-bench-issuer-')) });
  return benchIssuer;
}
async function benchToken(): Promise<string> {
  return (await issuerForBench()).mint({ sub: 'bench', ttlSeconds: 3600 });
}
async function stopBenchIssuer(): Promise<void> {
  const i = benchIssuer;
  benchIssuer = undefined;
  if (i) await (await i).close();
}
function tokenGateway(extAuthz: Record<string, unknown>) {
  return async (ctx: SetupContext) => {
    const i = await issuerForBench();
    return {
      ...passThroughGateway(ctx),
      auth: { enabled: true, issuers: [{ issuer: i.issuer, jwksUri: i.jwksUri, audiences: [DEV_AUDIENCE] }] },
      extAuthz,
    };
  };
}
