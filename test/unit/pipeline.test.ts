import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig } from '../../src/config/load-config.js';
import { deny, type Denial } from '../../src/decision/denial.js';
import { DecisionPipeline } from '../../src/decision/pipeline.js';
import type { Stage, StageName } from '../../src/decision/stage.js';
import { createLogger } from '../../src/observability/logger.js';
import { postView } from '../helpers/request-view.js';

const config = buildConfig({ log: { level: 'silent' }, models: { iris: {} }, auth: { enabled: false } }, 'test');
const view = () => postView({ instances: [[1, 2, 3, 4]] }, { path: '/v1/models/iris:predict' });
const later = <T>(v: T) => new Promise<T>((resolve) => setImmediate(() => resolve(v)));

/** A head-phase stage that records its name, then answers `result` at once or on a later turn. */
function stage(name: StageName, ran: string[], result: () => Denial | undefined, async = false): Stage {
  return {
    name,
    run() {
      ran.push(name);
      const r = result();
      return async ? later(r) : r;
    },
  };
}

const pipelineOf = (stages: Stage[]) => new DecisionPipeline(config, stages, createLogger('silent'));

describe('the pipeline running a phase of stages that answer at once or later', () => {
  it('runs every stage in order, whether each answers at once or later, and allows', async () => {
    const ran: string[] = [];
    const p = pipelineOf([
      stage('extraction-gate', ran, () => undefined),
      stage('authorize', ran, () => undefined, true),
      stage('authenticate', ran, () => undefined),
    ]);
    const d = await p.decideHead(view());
    assert.equal(d.allowed, true);
    assert.deepEqual(ran, ['authenticate', 'authorize', 'extraction-gate']);
  });

  it('stops at a denial given later by a stage, and runs none after it', async () => {
    const ran: string[] = [];
    const p = pipelineOf([
      stage('authenticate', ran, () => undefined),
      stage('authorize', ran, () => deny('insufficient_scope', 'no'), true),
      stage('extraction-gate', ran, () => undefined),
    ]);
    const d = await p.decideHead(view());
    assert.equal(!d.allowed && d.denial.code, 'insufficient_scope');
    assert.deepEqual(ran, ['authenticate', 'authorize']);
  });

  it('answers internal_error when a stage after one that answered later throws', async () => {
    const ran: string[] = [];
    const boom = () => {
      throw new Error('bug');
    };
    const p = pipelineOf([
      stage('authenticate', ran, () => undefined, true),
      stage('authorize', ran, boom),
      stage('extraction-gate', ran, () => undefined),
    ]);
    const d = await p.decideHead(view());
    assert.equal(!d.allowed && d.denial.code, 'internal_error');
    assert.deepEqual(ran, ['authenticate', 'authorize']);
  });

  it('answers internal_error when a stage throws before any stage answered later', async () => {
    const p = pipelineOf([
      {
        name: 'authenticate',
        run() {
          throw new Error('bug');
        },
      },
    ]);
    const d = await p.decideHead(view());
    assert.equal(!d.allowed && d.denial.code, 'internal_error');
  });

  it('answers internal_error when a stage rejects', async () => {
    const p = pipelineOf([{ name: 'authenticate', run: () => Promise.reject(new Error('store down')) }]);
    const d = await p.decideHead(view());
    assert.equal(!d.allowed && d.denial.code, 'internal_error');
  });

  it('hands a decision of stages that all answered at once back as a promise, like any other', async () => {
    const p = pipelineOf([stage('authenticate', [], () => undefined)]);
    const pending = p.decideHead(view());
    assert.ok(pending instanceof Promise);
    assert.equal((await pending).allowed, true);
  });

  it('decides a body phase whose stages all answer at once without a promise, for the proxy door', async () => {
    const ran: string[] = [];
    const p = pipelineOf([stage('contract', ran, () => undefined), stage('rate-limit', ran, () => undefined)]);
    const head = await p.decideHead(view());
    assert.ok(head.allowed);
    const d = p.decideBodyAtOnce(head.ctx);
    assert.ok(!(d instanceof Promise));
    assert.equal(d.allowed, true);
    assert.deepEqual(ran, ['contract', 'rate-limit']);
  });

  it('decides a body phase with a stage that answers later as a promise of the same decision', async () => {
    const p = pipelineOf([stage('rate-limit', [], () => deny('rate_limited', 'over'), true)]);
    const head = await p.decideHead(view());
    assert.ok(head.allowed);
    const d = p.decideBodyAtOnce(head.ctx);
    assert.ok(d instanceof Promise);
    const decided = await d;
    assert.equal(!decided.allowed && decided.denial.code, 'rate_limited');
  });
});

describe('the pipeline and answers that must be rewritten', () => {
  const rewriting: Stage = {
    name: 'contract',
    run(ctx) {
      ctx.rewrite = { rewrite: () => ({ ok: true, body: '{}' }) };
      return undefined;
    },
  };

  it('refuses with scores_not_allowed when the answer does not pass back through the gateway', async () => {
    const d = await pipelineOf([rewriting]).decide(
      postView({ instances: [[1, 2, 3, 4]] }, { path: '/v1/models/iris:predict', door: 'ext-authz-http' }),
    );
    assert.equal(d.allowed, false);
    assert.equal(!d.allowed && d.denial.code, 'scores_not_allowed');
  });

  it('allows the same decision when the answer passes back through the gateway (the proxy rewrites it)', async () => {
    const d = await pipelineOf([rewriting]).decide(view());
    assert.equal(d.allowed, true);
  });
});
