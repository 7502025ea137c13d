// First-time (uncached) verifications per CPU second: the cost a flood of fresh tokens puts on
// the gateway. Measured in-process against an inline JWKS, so no network time is counted.
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { buildConfig } from '../src/config/load-config.js';
import { TokenVerifier } from '../src/auth/token-verifier.js';
import { systemClock } from '../src/decision/clock.js';
import { createLogger } from '../src/observability/logger.js';
import { GatewayMetrics } from '../src/observability/metrics.js';

export async function uncachedVerificationsPerCpuSecond(alg: 'ES256' | 'RS256', count = 2000): Promise<number> {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  const jwk = { ...(await exportJWK(publicKey)), kid: 'b1', alg };
  const config = buildConfig({
    auth: {
      issuers: [{ issuer: 'https://bench.invalid', jwks: { keys: [jwk] }, audiences: ['bench'], algorithms: [alg] }],
      cache: { maxEntries: 0 },
    },
  });
  const verifier = new TokenVerifier(
    config.auth,
    systemClock,
    new GatewayMetrics({ defaultMetrics: false }),
    createLogger('silent'),
  );
  const now = Math.floor(Date.now() / 1000);
  const tokens = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      new SignJWT({ sub: `u${i}` })
        .setProtectedHeader({ alg, kid: 'b1' })
        .setIssuer('https://bench.invalid')
        .setAudience('bench')
        .setExpirationTime(now + 600)
        .sign(privateKey),
    ),
  );
  await verifier.verify(tokens[0]!); // import the key once, as a running gateway would have
  const before = process.cpuUsage();
  for (const t of tokens) {
    const v = await verifier.verify(t);
    if (!v.ok) throw new Error(`bench token refused: ${v.denial.message}`);
  }
  const used = process.cpuUsage(before);
  return count / ((used.user + used.system) / 1e6);
}
