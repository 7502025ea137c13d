import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { buildConfig } from '../../src/config/load-config.js';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import { Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { DEMO_LABELS } from '../../src/quickstart/demo-model.js';
import { startDemoPredictor } from '../../src/quickstart/demo-predictor.js';
import { DEV_AUDIENCE, startDevIssuer } from '../../src/quickstart/dev-issuer.js';
import { DEMO_EXTRACTION } from '../../src/quickstart/quickstart.js';

/**
 * One benign and one attacking account through the real proxy: the dev issuer's real tokens
 * (both hold the model-owner role, so they get probabilities until degraded), the demo predictor
 * answering probabilities, the quickstart's extraction settings (enforce, default ladder).
 */
export async function endToEnd(requests = 500): Promise<string> {
  const predictor = await startDemoPredictor({ modelName: 'iris' });
  const issuer = await startDevIssuer({ stateDir: mkdtempSync(join(tmpdir(), 'igw-bench-e2e-')), port: 0 });
  const cfg = buildConfig(
    {
      server: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      upstream: { url: predictor.url },
      log: { level: 'silent' },
      auth: {
        issuers: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audiences: [DEV_AUDIENCE], algorithms: ['ES256'] }],
      },
      models: {
        iris: {
          labels: [...DEMO_LABELS],
          response: { fullAccess: { claim: 'roles', values: ['model-owner'] } },
          extraction: DEMO_EXTRACTION,
        },
      },
      operator: { jwt: { claim: 'roles', values: ['gateway-operator'] } },
    },
    'bench',
  );
  const gateway = await Gateway.create(cfg, { log: createLogger('silent'), defaultMetrics: false });
  const at = await gateway.listen();
  const { centre, scale } = DEMO_EXTRACTION.features;
  const operator = {
    authorization: `Bearer ${await issuer.mint({ sub: 'bench-operator', claims: { roles: ['gateway-operator'] } })}`,
  };
  try {
    const account = async (sub: string, rowAt: (i: number) => number[]) => {
      const token = await issuer.mint({ sub, claims: { roles: ['model-owner'] } });
      let flaggedAt = 0;
      let labelsAt = 0;
      let blockedAt = 0;
      let level = 'none';
      for (let i = 1; i <= requests && blockedAt === 0; i++) {
        const res = await request(`${at.url}/v1/models/iris:predict`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ instances: [rowAt(i)] }),
        });
        const text = await res.body.text();
        if (res.statusCode === 403) blockedAt = i;
        else if (
          res.statusCode === 200 &&
          !Array.isArray((JSON.parse(text) as { predictions: unknown[] }).predictions[0]) &&
          labelsAt === 0
        )
          labelsAt = i;
        await new Promise((r) => setTimeout(r, 2)); // the observer scores after the answer has left
        const admin = await request(
          `${at.adminUrl}/extraction/users/${encodeURIComponent(`${issuer.issuer}|${sub}`)}`,
          { headers: operator },
        );
        const view = (await admin.body.json()) as { models?: Array<{ level: string }> };
        level = view.models?.[0]?.level ?? 'none';
        if (level !== 'none' && flaggedAt === 0) flaggedAt = i;
      }
      return { sub, flaggedAt, labelsAt, blockedAt, level };
    };
    const rng = new Xoshiro128(2026);
    const benign = await account('benign-user', () =>
      centre.map((c, j) => Math.round((c + scale[j]! * rng.normal()) * 100) / 100),
    );
    const base = [5.8, 3.0, 4.3, 1.3];
    const attacker = await account('sweeping-attacker', (i) => {
      const j = Math.floor((i - 1) / 40) % 4;
      const row = base.slice();
      row[j] = centre[j]! + scale[j]! * (-2 + (4 * ((i - 1) % 40)) / 39);
      return row.map((v) => Math.round(v * 1000) / 1000);
    });
    const cell = (n: number) => (n ? String(n) : 'never');
    return [
      `Real proxy, real ES256 tokens from the dev issuer, the demo iris predictor answering probabilities, the quickstart's settings (enforce, default ladder); up to ${requests} one-row requests per account.`,
      '',
      '| account | flagged at request | first labels-only answer | blocked at request | level at the end | expected |',
      '| --- | ---: | ---: | ---: | --- | --- |',
      `| ${attacker.sub} (one-feature sweep) | ${cell(attacker.flaggedAt)} | ${cell(attacker.labelsAt)} | ${cell(attacker.blockedAt)} | ${attacker.level} | flagged, then degraded: ${attacker.flaggedAt > 0 && attacker.labelsAt > attacker.flaggedAt ? 'yes' : 'NO'} |`,
      `| ${benign.sub} (natural queries) | ${cell(benign.flaggedAt)} | ${cell(benign.labelsAt)} | ${cell(benign.blockedAt)} | ${benign.level} | never flagged: ${benign.flaggedAt === 0 && benign.labelsAt === 0 ? 'yes' : 'NO'} |`,
    ].join('\n');
  } finally {
    await gateway.close();
    await Promise.all([predictor.close(), issuer.close()]);
  }
}
