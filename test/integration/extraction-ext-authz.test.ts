// Extraction behind an ext-authz door: the answer is never seen, so rows are scored from their
// inputs in the decision, and the degrade rung (which needs an answer to rewrite) is skipped.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { send } from '../helpers/http.js';
import {
  IRIS_FEATURES,
  irisSweep,
  startExtractionGateway,
  type ExtractionGateway,
} from '../helpers/extraction-gateway.js';

describe('extraction through the HTTP ext-authz door', () => {
  let g: ExtractionGateway;
  before(async () => {
    g = await startExtractionGateway(
      { mode: 'enforce', features: IRIS_FEATURES, actions: { degradeAt: 3, throttleAt: 0, blockAt: 9 } },
      { extAuthz: { http: { enabled: true, host: '127.0.0.1', port: 0, pathPrefix: '/authz' } } },
    );
  });
  after(() => g.close());

  it('allows a sweeping account past the degrade rung, then denies it 403 access_denied', async () => {
    const sweep = irisSweep();
    const outcomes: string[] = [];
    for (let i = 0; i < 200 && outcomes.at(-1) !== '403 access_denied'; i++) {
      const r = await g.checkAs('mallory', [sweep.next().value!]);
      const o = r.status === 200 ? '200' : `${r.status} ${r.json()['code'] as string}`;
      if (outcomes.at(-1) !== o) outcomes.push(o);
    }
    assert.deepEqual(outcomes, ['200', '403 access_denied']);
  });

  it('scores the checks from their inputs, without classes', async () => {
    const text = (await send(`${g.adminUrl}/metrics`)).text;
    assert.match(
      text,
      /^inference_gateway_extraction_queries_scored_total\{model="iris",mode="enforce",seen="inputs"\} [1-9]\d*$/m,
    );
    assert.doesNotMatch(text, /seen="answer"\} [1-9]/);
  });
});

describe('extraction escalation metrics', () => {
  it('exports every escalation series of a model at 0 from start-up, so the first escalation shows as an increase', async () => {
    const g = await startExtractionGateway({ mode: 'shadow', features: IRIS_FEATURES });
    try {
      const text = (await send(`${g.adminUrl}/metrics`)).text;
      for (const level of ['flag', 'degrade', 'throttle', 'block']) {
        assert.match(
          text,
          new RegExp(
            `^inference_gateway_extraction_level_changes_total\\{model="iris",mode="shadow",level="${level}",direction="up"\\} 0$`,
            'm',
          ),
        );
      }
    } finally {
      await g.close();
    }
  });
});
