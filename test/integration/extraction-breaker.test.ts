// Never a mass block: a detector that escalates more than its share of a model's accounts is
// taken as miscalibrated for that model, stops escalating, and says so (metric, log line).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { send } from '../helpers/http.js';
import {
  IRIS_FEATURES,
  hasScores,
  irisSweep,
  settle,
  startExtractionGateway,
  type ExtractionGateway,
} from '../helpers/extraction-gateway.js';

const LADDER = { degradeAt: 3, throttleAt: 0, blockAt: 0, halfLifeSeconds: 600, hysteresis: 0.5 };

const metricLines = async (g: ExtractionGateway, name: string) =>
  (await send(`${g.adminUrl}/metrics`)).text.split('\n').filter((l) => l.startsWith(name));

describe('extraction circuit breaker', () => {
  let g: ExtractionGateway;
  const lines: Array<Record<string, unknown>> = [];
  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n'))
          if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    g = await startExtractionGateway(
      // Every escalation counts as marginal (farBeyond 100): two sweepers stand for a miscalibrated detector.
      {
        mode: 'enforce',
        features: IRIS_FEATURES,
        actions: LADDER,
        breaker: { share: 0.01, minAccounts: 2, farBeyond: 100 },
      },
      {},
      { logTo: sink },
    );
  });
  after(() => g.close());

  /** Sweeps as `sub` until its answers turn to labels (degraded) or `max` queries. */
  async function sweepUntilDegraded(sub: string, max: number): Promise<boolean> {
    const sweep = irisSweep();
    for (let i = 0; i < max; i++) {
      const r = await g.predictAs(sub, [sweep.next().value!]);
      await settle();
      if (r.status === 200 && !hasScores(r)) return true;
    }
    return false;
  }

  it('stops escalation once a detector has degraded its share of accounts, and fires its metric', async () => {
    assert.equal(await sweepUntilDegraded('sweeper-1', 400), true, 'the first sweeper is degraded');
    assert.deepEqual(
      (await metricLines(g, 'inference_gateway_extraction_breaker_trips_total')).filter((l) => !l.endsWith(' 0')),
      [],
    );
    // The second escalation is two of two active accounts escalated by one detector: it is wrong for this model.
    const sweep = irisSweep();
    let open: string[] = [];
    for (let i = 0; i < 400 && open.length === 0; i++) {
      await g.predictAs('sweeper-2', [sweep.next().value!]);
      await settle();
      open = (await metricLines(g, 'inference_gateway_extraction_breaker_open')).filter((l) => l.endsWith(' 1'));
    }
    assert.equal(open.length, 1, open.join('\n'));
    const detector = /detector="([a-z]+)"/.exec(open[0]!)![1]!;
    assert.ok(
      (await metricLines(g, 'inference_gateway_extraction_breaker_trips_total')).some(
        (l) => l.includes(`detector="${detector}"`) && l.endsWith(' 1'),
      ),
    );
    const logged = lines.find(
      (l) => l['msg'] === 'extraction breaker open: detector miscalibrated for this model, escalation stopped',
    );
    assert.equal(logged?.['detector'], detector);
    assert.match(String(logged?.['reason']), /2 of 2 active accounts/);

    // The accounts it escalated are held at flag (full answers again); a third sweeper's alarms from that detector add nothing.
    const back = await g.predictAs('sweeper-1', [[5.1, 3.5, 1.4, 0.2]]);
    assert.ok(hasScores(back), 'held at flag while the breaker is open');
    await sweepUntilDegraded('sweeper-3', 300);
    const view = (await g.admin(`/extraction/users/${encodeURIComponent(`${g.issuer.issuer}|sweeper-3`)}`)).json<{
      models: Array<Record<string, unknown>>;
    }>().models[0]!;
    assert.ok((view['scores'] as Record<string, number>)[detector]! >= 1, 'the tripped detector still scores it');
    const drivers = (view['levelChanges'] as Array<{ detector: string }>).map((c) => c.detector);
    assert.ok(!drivers.includes(detector), `escalated by ${drivers.join(', ')}, never by ${detector}`);
  });
});
