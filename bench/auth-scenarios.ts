import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_AUDIENCE, startDevIssuer, type DevIssuer } from '../src/quickstart/dev-issuer.js';
import { passThroughGateway, v1Predict, type Scenario, type SetupContext } from './scenarios-common.js';

const TOKENS = 64;

/** Authentication with a warm verified-token cache: a pool of valid tokens from a loopback issuer. */
export function authScenario(): Scenario {
  let issuer: DevIssuer | undefined;
  let tokens: string[] = [];
  return {
    name: 'gateway auth (warm cache)',
    baseline: 'gateway pass-through',
    async gateway(ctx: SetupContext) {
      issuer = await startDevIssuer({ stateDir: mkdtempSync(join(tmpdir(), 'igw-bench-')) });
      tokens = await Promise.all(Array.from({ length: TOKENS }, (_, i) => issuer!.mint({ sub: `user-${i}` })));
      return {
        ...passThroughGateway(ctx),
        auth: {
          issuers: [
            {
              issuer: issuer.issuer,
              jwksUri: issuer.jwksUri,
              audiences: [DEV_AUDIENCE],
              algorithms: ['ES256'],
              claimHeaders: { 'x-user-id': 'sub' },
            },
          ],
        },
      };
    },
    requests: () =>
      tokens.map((t) => ({
        ...v1Predict(),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${t}` },
      })),
    async teardown() {
      await issuer?.close();
    },
  };
}
