// The seams a capability plugs into without touching a door: answer observers, account-level
// degrade and throttle set before the contract and the limits, and the two-phase pipeline.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig } from '../../src/config/load-config.js';
import type { DecisionContext, UpstreamAnswer } from '../../src/decision/decision-context.js';
import { classesOfAnswer } from '../../src/decision/decision-context.js';
import { deny } from '../../src/decision/denial.js';
import { headerValue } from '../../src/decision/request-view.js';
import { DecisionPipeline } from '../../src/decision/pipeline.js';
import type { Stage } from '../../src/decision/stage.js';
import type { StageDeps } from '../../src/decision/stage-deps.js';
import { contractStages } from '../../src/inference/contract-stages.js';
import { limitStages } from '../../src/limits/limit-stages.js';
import { createLogger } from '../../src/observability/logger.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import { systemClock } from '../../src/decision/clock.js';
import { Readiness } from '../../src/observability/readiness.js';
import { DEMO_LABELS } from '../../src/quickstart/demo-model.js';
import { startDemoPredictor, type DemoPredictor } from '../../src/quickstart/demo-predictor.js';
import { send, v1Batch } from '../helpers/http.js';
import { listenProxyDoor, type ListeningDoor } from '../helpers/proxy-door.js';

interface Seen {
  readonly answer: UpstreamAnswer;
  readonly classes: readonly unknown[] | undefined;
  readonly sentBeforeObserved: boolean;
}

describe('answer and account seams through the proxy', () => {
  let predictor: DemoPredictor;
  let proxy: ListeningDoor;
  let url: string;
  const seen: Seen[] = [];
  let answered = 0;

  before(async () => {
    predictor = await startDemoPredictor();
    const config = buildConfig(
      {
        upstream: { url: predictor.url },
        auth: { enabled: false },
        log: { level: 'silent' },
        models: { iris: { labels: [...DEMO_LABELS], response: { fullAccess: { claim: 'role', values: ['owner'] } } } },
        limits: { default: [{ name: 'day', predictions: 20, perSeconds: 86400 }] },
      },
      'test',
    );
    const log = createLogger('silent');
    const metrics = new GatewayMetrics({ defaultMetrics: false });
    const deps: StageDeps = {
      config,
      metrics,
      readiness: new Readiness(),
      log,
      onClose: () => undefined,
      now: Date.now,
      clock: systemClock,
      stores: { redis: undefined },
    };
    // Stands in for authentication: the test names the caller and its role in headers.
    const who: Stage = {
      name: 'authenticate',
      run(ctx) {
        const sub = headerValue(ctx.view, 'x-test-sub') ?? 'anyone';
        ctx.identity = { issuer: 'test', subject: sub, claims: { sub, role: headerValue(ctx.view, 'x-test-role') } };
        return undefined;
      },
    };
    // Stands in for the extraction guard's account actions.
    const gate: Stage = {
      name: 'extraction-gate',
      run(ctx) {
        ctx.degraded = headerValue(ctx.view, 'x-test-degrade') === '1';
        ctx.limitFactor = Number(headerValue(ctx.view, 'x-test-factor') ?? 1);
        return undefined;
      },
    };
    const watcher: Stage = {
      name: 'extraction',
      run(ctx: DecisionContext) {
        const answeredBefore = answered;
        ctx.observers.push({
          observe(answer, c) {
            seen.push({
              answer,
              classes: classesOfAnswer(answer, c)?.map((p) => p.label),
              sentBeforeObserved: answered > answeredBefore,
            });
          },
        });
        return undefined;
      },
    };
    const pipeline = new DecisionPipeline(
      config,
      [who, gate, ...contractStages(deps), ...limitStages(deps), watcher],
      log,
    );
    proxy = await listenProxyDoor({ config, pipeline, metrics, log });
    proxy.door.server.on('request', (_req, res) => res.once('finish', () => answered++));
    url = proxy.url;
  });
  after(async () => {
    await proxy.close();
    await predictor.close();
  });

  const predict = (headers: Record<string, string>, rows = 1) =>
    send(`${url}/v1/models/iris:predict`, { body: v1Batch(rows), headers });
  const lastSeen = async () => {
    for (let i = 0; i < 50 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    return seen.pop();
  };

  it('observers see a reduced answer as the predictor sent it, with its predicted classes, after the client got it', async () => {
    seen.length = 0;
    const r = await predict({ 'x-test-sub': 'a' });
    assert.equal(r.status, 200);
    const s = await lastSeen();
    assert.ok(s);
    const raw = JSON.parse(s.answer.body.toString()) as { predictions: number[][] };
    assert.equal(raw.predictions[0]!.length, DEMO_LABELS.length, 'the unreduced probabilities');
    assert.deepEqual(s.classes, r.json<{ predictions: string[] }>().predictions);
    assert.equal(s.sentBeforeObserved, true);
  });

  it('observers see a full-access answer, which is not rewritten, with its predicted classes', async () => {
    seen.length = 0;
    const r = await predict({ 'x-test-sub': 'b', 'x-test-role': 'owner' });
    const row = r.json<{ predictions: number[][] }>().predictions[0]!;
    assert.equal(row.length, DEMO_LABELS.length, 'the owner gets probabilities');
    const s = await lastSeen();
    assert.ok(s);
    assert.equal(s.classes?.length, 1);
    assert.ok((DEMO_LABELS as readonly string[]).includes(s.classes[0] as string));
  });

  it('a degraded account gets labels although it holds full access', async () => {
    const r = await predict({ 'x-test-sub': 'c', 'x-test-role': 'owner', 'x-test-degrade': '1' });
    assert.equal(r.status, 200);
    const [label] = r.json<{ predictions: unknown[] }>().predictions;
    assert.equal(typeof label, 'string');
  });

  it('a throttled account pays its cost times the factor against its budgets', async () => {
    // Budget 20: a factor of 5 leaves room for four single-row predictions, not five.
    for (let i = 0; i < 4; i++) assert.equal((await predict({ 'x-test-sub': 'd', 'x-test-factor': '5' })).status, 200);
    const r = await predict({ 'x-test-sub': 'd', 'x-test-factor': '5' });
    assert.equal(r.status, 429);
    assert.equal(
      (await predict({ 'x-test-sub': 'e' }, 20)).status,
      200,
      'an unthrottled account keeps its whole budget',
    );
  });
});

describe('the two-phase pipeline', () => {
  const config = buildConfig({ auth: { enabled: false }, log: { level: 'silent' }, models: { iris: {} } }, 'test');
  const ran: string[] = [];
  const stage = (name: Stage['name'], refuse = false): Stage => ({
    name,
    run() {
      ran.push(name);
      return refuse ? deny('token_invalid', 'no') : undefined;
    },
  });
  const view = {
    door: 'proxy' as const,
    forwardsAnswer: true,
    method: 'POST',
    path: '/v1/models/iris:predict',
    query: '',
    headers: {},
    authorization: [],
    body: undefined,
    bodyPartial: false,
    peer: '127.0.0.1',
    requestId: 't',
  };

  it('the head phase runs only the stages that need no body', async () => {
    ran.length = 0;
    const p = new DecisionPipeline(
      config,
      [stage('contract'), stage('authenticate'), stage('extraction-gate'), stage('rate-limit')],
      createLogger('silent'),
    );
    const d = await p.decideHead(view);
    assert.equal(d.allowed, true);
    assert.deepEqual(ran, ['authenticate', 'extraction-gate']);
    await p.decideBody(d.ctx, Buffer.from('{"instances": [[1]]}'));
    assert.deepEqual(ran, ['authenticate', 'extraction-gate', 'contract', 'rate-limit']);
    assert.equal(d.ctx.view.body?.toString(), '{"instances": [[1]]}');
  });

  it('a refusal in the head phase leaves the body unread', async () => {
    ran.length = 0;
    const p = new DecisionPipeline(config, [stage('authenticate', true), stage('contract')], createLogger('silent'));
    const d = await p.decideHead(view);
    assert.equal(d.allowed, false);
    assert.deepEqual(ran, ['authenticate']);
  });

  it('decide runs both phases in order for doors that have the whole request', async () => {
    ran.length = 0;
    const p = new DecisionPipeline(
      config,
      [stage('extraction'), stage('rate-limit'), stage('authorize'), stage('contract')],
      createLogger('silent'),
    );
    assert.equal((await p.decide(view)).allowed, true);
    assert.deepEqual(ran, ['authorize', 'contract', 'rate-limit', 'extraction']);
  });
});
