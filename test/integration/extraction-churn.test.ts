// Churn does not launder an account: a flood of fresh accounts evicts ordinary accounts from
// the table, but an escalated account keeps its evidence (and its block) until it decays or an
// operator clears it; every eviction is counted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  IRIS_FEATURES,
  irisSweep,
  metricTotal,
  settle,
  startExtractionGateway,
  type ExtractionGateway,
} from '../helpers/extraction-gateway.js';

const LADDER = { degradeAt: 3, throttleAt: 0, blockAt: 9, halfLifeSeconds: 60, hysteresis: 0.5 };

describe('extraction account table under churn', () => {
  let g: ExtractionGateway;
  before(async () => {
    g = await startExtractionGateway({ mode: 'enforce', features: IRIS_FEATURES, actions: LADDER, maxAccounts: 20 });
  });
  after(() => g.close());

  it('keeps an escalated account blocked through a flood of fresh accounts, and counts the evictions', async () => {
    const sweep = irisSweep();
    let status = 200;
    for (let i = 0; i < 400 && status !== 403; i++) {
      status = (await g.predictAs('mallory', [sweep.next().value!])).status;
      await settle();
    }
    assert.equal(status, 403, 'blocked before the flood');
    // 100 fresh accounts, one row each: five times the table.
    for (let u = 0; u < 100; u++) {
      assert.equal((await g.predictAs(`fresh-${u}`, [[5.1, 3.5, 1.4, 0.2 + u / 1000]])).status, 200);
      await settle();
    }
    assert.equal((await g.predictAs('mallory', [[5.1, 3.5, 1.4, 0.2]])).status, 403, 'still blocked after the flood');
    assert.ok((await metricTotal(g, 'inference_gateway_extraction_evictions_total', 'kind="account"')) >= 80);
    assert.equal(await metricTotal(g, 'inference_gateway_extraction_evictions_total', 'kind="escalated"'), 1);
    // An operator's clear still lets it back.
    await g.admin(`/extraction/users/${encodeURIComponent(`${g.issuer.issuer}|mallory`)}`, { method: 'DELETE' });
    assert.equal((await g.predictAs('mallory', [[5.1, 3.5, 1.4, 0.2]])).status, 200);
  });

  it('lets a blocked account back once its evidence has decayed, flood or not', async () => {
    const sweep = irisSweep();
    let status = 200;
    for (let i = 0; i < 400 && status !== 403; i++) {
      status = (await g.predictAs('trudy', [sweep.next().value!])).status;
      await settle();
    }
    assert.equal(status, 403);
    for (let u = 0; u < 40; u++) await g.predictAs(`fresh2-${u}`, [[5.1, 3.5, 1.4, 0.3 + u / 1000]]);
    // Eight half-lives (tokens last ten minutes of the test's clock).
    g.advance(8 * 60_000);
    assert.equal((await g.predictAs('trudy', [[5.1, 3.5, 1.4, 0.2]])).status, 200);
  });
});
