import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_AUDIENCE, startDevIssuer, type DevIssuer } from '../src/quickstart/dev-issuer.js';
import { passThroughGateway, v1Predict, type Scenario, type SetupContext } from './scenarios-common.js';

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

/** Checks through the HTTP and gRPC doors, without and with a (cached) token, each against a proxied request. */
export function extAuthzScenarios(): Scenario[] {
  return [
    // What Envoy sends with includeRequestBodyInCheck (a check without the body is refused
    // body_incomplete): the original method and path, headers, the whole body marked not partial.
    {
      name: 'ext-authz http check',
      baseline: 'gateway pass-through',
      door: 'ext-authz-http',
      gateway: (ctx) => ({
        ...passThroughGateway(ctx),
        extAuthz: { http: { enabled: true, host: '127.0.0.1', port: 0 } },
      }),
      requests: () => [
        { ...v1Predict(), headers: { 'x-envoy-auth-partial-body': 'false', 'x-request-id': 'bench-1' } },
      ],
    },
    {
      name: 'ext-authz grpc check',
      baseline: 'gateway pass-through',
      door: 'ext-authz-grpc',
      gateway: (ctx) => ({
        ...passThroughGateway(ctx),
        extAuthz: { grpc: { enabled: true, host: '127.0.0.1', port: 0 } },
      }),
      requests: () => [{ ...v1Predict(), headers: { 'content-type': 'application/json', 'x-request-id': 'bench-1' } }],
    },
    // The same with a bearer token (verified once, then from the token cache), against a proxied request with that token.
    {
      name: 'ext-authz proxy, cached token',
      baseline: 'gateway pass-through',
      gateway: tokenGateway({}),
      requests: async () => [
        {
          ...v1Predict(),
          headers: { 'content-type': 'application/json', authorization: `Bearer ${await benchToken()}` },
        },
      ],
      teardown: stopBenchIssuer,
    },
    {
      name: 'ext-authz http check, cached token',
      baseline: 'ext-authz proxy, cached token',
      door: 'ext-authz-http',
      gateway: tokenGateway({ http: { enabled: true, host: '127.0.0.1', port: 0 } }),
      requests: async () => [
        {
          ...v1Predict(),
          headers: { 'x-envoy-auth-partial-body': 'false', authorization: `Bearer ${await benchToken()}` },
        },
      ],
      teardown: stopBenchIssuer,
    },
    {
      name: 'ext-authz grpc check, cached token',
      baseline: 'ext-authz proxy, cached token',
      door: 'ext-authz-grpc',
      gateway: tokenGateway({ grpc: { enabled: true, host: '127.0.0.1', port: 0 } }),
      requests: async () => [{ ...v1Predict(), headers: { authorization: `Bearer ${await benchToken()}` } }],
      teardown: stopBenchIssuer,
    },
  ];
}
