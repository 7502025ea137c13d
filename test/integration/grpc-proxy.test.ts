import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { status } from '@grpc/grpc-js';
import { ERROR_CODES } from '../../src/decision/error-codes.js';
import { DEMO_LABELS, predictProba } from '../../src/quickstart/demo-model.js';
import { startDemoGrpcPredictor, type DemoGrpcPredictor } from '../../src/quickstart/demo-grpc-predictor.js';
import { flushAccessLog } from '../../src/observability/access-record.js';
import { createLogger } from '../../src/observability/logger.js';
import { counterValue } from '../helpers/door-fixture.js';
import { startHarness, type Harness, type HarnessOptions } from '../helpers/gateway-harness.js';
import {
  fp32Raw,
  InferenceClient,
  irisInfer,
  type CallResult,
  type InferResponse,
} from '../helpers/grpc-inference-client.js';
import { startJwksIssuer, type JwksIssuer } from '../helpers/jwks-issuer.js';

const ROW = [6.8, 2.8, 4.8, 1.4];
const SETOSA_ROW = [5.1, 3.5, 1.4, 0.2];
const LABELS = [...DEMO_LABELS];
/** The class the demo model gives a row, from its own probabilities. */
const classOf = (row: readonly number[]) => {
  const p = predictProba(row);
  return p.indexOf(Math.max(...p));
};
const labelOf = (row: readonly number[]) => Buffer.from(LABELS[classOf(row)]!);

/** The stable code and REST JSON body the gateway puts beside a refusal's status. */
function refusal(r: CallResult<unknown>): {
  grpc: number | undefined;
  code: unknown;
  body: Record<string, unknown> | undefined;
} {
  const md = r.error?.metadata;
  const bin = md?.get('gateway-error-bin')[0];
  return {
    grpc: r.error?.code,
    code: md?.get('gateway-error-code')[0],
    body: Buffer.isBuffer(bin) ? (JSON.parse(bin.toString('utf8')) as Record<string, unknown>) : undefined,
  };
}

function assertRefused(r: CallResult<unknown>, code: keyof typeof ERROR_CODES): void {
  const seen = refusal(r);
  assert.equal(seen.code, code, `refused with ${code}: ${r.error?.details ?? 'no error'}`);
  assert.equal(seen.grpc, ERROR_CODES[code].grpc, 'gRPC status from the code table');
  assert.equal(seen.body?.['code'], code, 'REST JSON body carries the code');
  assert.equal(seen.body?.['error'], r.error?.details, 'grpc-message is the REST error message');
}

const labelsOf = (r: CallResult<InferResponse>) =>
  r.value?.outputs?.map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape, contents: o.contents }));

async function gateway(
  config: Record<string, unknown>,
  predictor: DemoGrpcPredictor,
  options: HarnessOptions = {},
): Promise<Harness> {
  return startHarness(
    () => ({
      server: { grpcPort: 0, bodyLimitBytes: 4096 },
      upstream: { grpcUrl: predictor.url, timeoutMs: 2000 },
      ...config,
    }),
    {},
    options,
  );
}

/** For the tests of one suite: a demo gRPC predictor, a gateway with `config` in front of it, and a client of its gRPC door. */
function grpcDoorSuite(
  config: Record<string, unknown>,
  options: HarnessOptions = {},
): { readonly predictor: DemoGrpcPredictor; readonly h: Harness; readonly client: InferenceClient } {
  let parts: { predictor: DemoGrpcPredictor; h: Harness; client: InferenceClient } | undefined;
  before(async () => {
    const predictor = await startDemoGrpcPredictor();
    const h = await gateway(config, predictor, options);
    parts = { predictor, h, client: new InferenceClient(h.grpcAddress!) };
  });
  after(async () => {
    parts?.client.close();
    await parts?.h.close();
    await parts?.predictor.close();
  });
  const started = () => parts ?? assert.fail('the suite’s gateway is used before its before() hook ran');
  return {
    get predictor() {
      return started().predictor;
    },
    get h() {
      return started().h;
    },
    get client() {
      return started().client;
    },
  };
}

describe('the gRPC door: labels-only answers', () => {
  const suite = grpcDoorSuite({ models: { iris: { labels: LABELS, input: { features: 4 } } } });

  it('reduces typed FP64 probabilities to one BYTES label per row', async () => {
    suite.predictor.rawOutputs = false;
    const r = await suite.client.infer(irisInfer([ROW, SETOSA_ROW]));
    assert.equal(r.error, undefined, r.error?.details);
    assert.notEqual(classOf(ROW), classOf(SETOSA_ROW), 'two rows of different classes');
    assert.deepEqual(labelsOf(r), [
      {
        name: 'predict',
        datatype: 'BYTES',
        shape: [2],
        contents: { bytes_contents: [labelOf(ROW), labelOf(SETOSA_ROW)] },
      },
    ]);
    assert.equal(r.value?.raw_output_contents, undefined, 'no raw bytes leave');
  });

  it('reduces raw_output_contents probabilities to labels too', async () => {
    suite.predictor.rawOutputs = true;
    try {
      const r = await suite.client.infer(irisInfer([ROW]));
      assert.equal(r.error, undefined, r.error?.details);
      assert.deepEqual(labelsOf(r), [
        { name: 'predict', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [labelOf(ROW)] } },
      ]);
      assert.equal(r.value?.raw_output_contents, undefined);
    } finally {
      suite.predictor.rawOutputs = false;
    }
  });

  it('reads raw_input_contents as the predictor does and forwards them unchanged', async () => {
    const r = await suite.client.infer({
      model_name: 'iris',
      inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4] }],
      raw_input_contents: [fp32Raw([ROW])],
    });
    assert.equal(r.error, undefined, r.error?.details);
    assert.deepEqual(r.value?.outputs?.[0]?.contents, { bytes_contents: [labelOf(ROW)] });
    assert.deepEqual(suite.predictor.requests.at(-1)?.raw_input_contents?.[0], fp32Raw([ROW]));
  });

  it('never lets a predictor error carry its scores out', async () => {
    suite.predictor.failWith = status.INVALID_ARGUMENT;
    try {
      const r = await suite.client.infer(irisInfer([ROW]));
      assertRefused(r, 'upstream_error');
      assert.doesNotMatch(r.error?.details ?? '', /0\.\d{3}/, 'no probability in the message');
      assert.match(r.error?.details ?? '', /grpc-status 3/);
    } finally {
      suite.predictor.failWith = undefined;
    }
  });

  it('keeps the request id and names the model as the request did', async () => {
    const r = await suite.client.infer(irisInfer([ROW], { id: 'req-7' }));
    assert.equal(r.value?.id, 'req-7');
    assert.equal(r.value?.model_name, 'iris');
  });
});

describe('the gRPC door: counted and logged as its own door', () => {
  const out = new PassThrough();
  let logged = '';
  out.on('data', (c: Buffer) => (logged += c.toString('utf8')));
  const log = createLogger('info', out);
  const suite = grpcDoorSuite({ log: { level: 'info' }, models: { iris: { labels: LABELS } } }, { log });

  it('writes the access line of a gRPC call with the door grpc', async () => {
    const r = await suite.client.infer(irisInfer([ROW]), { 'x-request-id': 'grpc-door-1' });
    assert.equal(r.error, undefined, r.error?.details);
    flushAccessLog(log);
    const line = logged
      .split('\n')
      .filter((l) => l.includes('"grpc-door-1"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(line.length, 1, `one access line for the call in:\n${logged}`);
    assert.deepEqual(
      { door: line[0]!['door'], msg: line[0]!['msg'], outcome: line[0]!['outcome'] },
      { door: 'grpc', msg: 'request', outcome: 'allowed' },
    );
  });

  it('counts a gRPC call under door="grpc", never under the HTTP proxy’s door', async () => {
    const m = suite.h.gateway.metrics;
    const labels = (door: string) => ({ door, route_class: 'predict', outcome: 'allowed' });
    const before = {
      grpc: await counterValue(m, 'inference_gateway_requests_total', labels('grpc')),
      proxy: await counterValue(m, 'inference_gateway_requests_total', labels('proxy')),
    };
    const r = await suite.client.infer(irisInfer([ROW]));
    assert.equal(r.error, undefined, r.error?.details);
    assert.equal(await counterValue(m, 'inference_gateway_requests_total', labels('grpc')), before.grpc + 1);
    assert.equal(await counterValue(m, 'inference_gateway_requests_total', labels('proxy')), before.proxy);
    const text = await m.registry.metrics();
    const count = (door: string) =>
      Number(
        new RegExp(`^inference_gateway_decision_duration_seconds_count\\{door="${door}"\\} (\\d+)$`, 'm').exec(
          text,
        )?.[1] ?? 0,
      );
    assert.ok(count('grpc') >= 2, 'the decision time of both calls is under door="grpc"');
    assert.equal(count('proxy'), 0);
  });
});

describe('the gRPC door: reading a ModelInferRequest as the server does', () => {
  const suite = grpcDoorSuite({ models: { iris: { input: { features: 4, maxBatch: 8 } } } });

  const refusedBeforeThePredictor = async (
    request: Parameters<InferenceClient['infer']>[0],
    code: keyof typeof ERROR_CODES,
    message: RegExp,
  ) => {
    const calls = suite.predictor.requests.length;
    const r = await suite.client.infer(request);
    assertRefused(r, code);
    assert.match(r.error?.details ?? '', message);
    assert.equal(suite.predictor.requests.length, calls, 'the predictor never saw it');
  };

  it('refuses two inputs of one name', () =>
    refusedBeforeThePredictor(
      { model_name: 'iris', inputs: [irisInfer().inputs[0]!, irisInfer().inputs[0]!] },
      'invalid_body',
      /two inputs are named "input-0"/,
    ));

  it('refuses an input with both typed contents and raw_input_contents', () =>
    refusedBeforeThePredictor(
      { ...irisInfer([ROW]), raw_input_contents: [fp32Raw([ROW])] },
      'invalid_body',
      /both contents and raw_input_contents/,
    ));

  it('refuses raw bytes that disagree with the declared shape', () =>
    refusedBeforeThePredictor(
      {
        model_name: 'iris',
        inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4] }],
        raw_input_contents: [fp32Raw([ROW, ROW])],
      },
      'invalid_body',
      /holds 32 bytes; shape \[1, 4\] of FP32 needs 16/,
    ));

  it('refuses values in a contents field other than the datatype’s', () =>
    refusedBeforeThePredictor(
      {
        model_name: 'iris',
        inputs: [
          {
            name: 'input-0',
            datatype: 'FP32',
            shape: [1, 4],
            contents: { fp32_contents: ROW, fp64_contents: [1, 2, 3, 4] },
          },
        ],
      },
      'invalid_body',
      /belong in contents.fp32_contents, not contents.fp64_contents/,
    ));

  it('applies the input contract to raw values (a batch over maxBatch)', () =>
    refusedBeforeThePredictor(
      {
        model_name: 'iris',
        inputs: [{ name: 'input-0', datatype: 'FP32', shape: [9, 4] }],
        raw_input_contents: [fp32Raw(new Array(9).fill(ROW))],
      },
      'invalid_input',
      /batch of 9 rows is over this model's maximum of 8/,
    ));

  it('refuses a model the gateway does not serve', () =>
    refusedBeforeThePredictor(
      { ...irisInfer(), model_name: 'secret' },
      'model_not_found',
      /"secret" is not served here/,
    ));

  it('refuses a message over server.bodyLimitBytes', () =>
    refusedBeforeThePredictor(irisInfer(new Array(400).fill(ROW)), 'body_too_large', /over the 4096-byte limit/));

  it('refuses a streaming RPC as UNIMPLEMENTED', async () => {
    const r = await suite.client.call('ModelStreamInfer', 'ModelInferRequest', 'ModelInferResponse', irisInfer());
    assertRefused(r, 'rpc_not_supported');
    assert.equal(r.error?.code, status.UNIMPLEMENTED);
  });

  it('passes health and model readiness calls by the public-route rules', async () => {
    const live = await suite.client.serverLive();
    assert.equal(live.error, undefined);
    assert.equal(live.value?.live, true);
    const ready = await suite.client.modelReady('iris');
    assert.equal(ready.value?.ready, true);
  });
});

describe('the gRPC door: authentication, budgets, deadlines and cancellation', () => {
  let predictor: DemoGrpcPredictor;
  let issuer: JwksIssuer;
  let h: Harness;
  let client: InferenceClient;
  const token = async (o: Parameters<JwksIssuer['token']>[0] = { scope: 'predict' }) => ({
    authorization: `Bearer ${await issuer.token(o)}`,
  });
  before(async () => {
    predictor = await startDemoGrpcPredictor();
    issuer = await startJwksIssuer('inference');
    h = await gateway(
      {
        auth: {
          enabled: true,
          issuers: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audiences: ['inference'] }],
        },
        models: { iris: { auth: { predict: { scopes: ['predict'] } } } },
        limits: { default: [{ name: 'hourly', predictions: 10, perSeconds: 3600 }] },
      },
      predictor,
    );
    client = new InferenceClient(h.grpcAddress!);
  });
  after(async () => {
    client?.close();
    await h?.close();
    await predictor?.close();
    await issuer?.close();
  });

  it('refuses a call without a token as UNAUTHENTICATED', async () =>
    assertRefused(await client.infer(irisInfer()), 'token_missing'));

  it('refuses a forged token as UNAUTHENTICATED', async () =>
    assertRefused(await client.infer(irisInfer(), await token({ scope: 'predict', forged: true })), 'token_invalid'));

  it('refuses a token without the scope as PERMISSION_DENIED', async () =>
    assertRefused(await client.infer(irisInfer(), await token({ scope: 'metadata' })), 'insufficient_scope'));

  it('answers an allowed call, with the token kept from the predictor', async () => {
    const r = await client.infer(irisInfer([ROW, ROW]), await token());
    assert.equal(r.error, undefined, r.error?.details);
    assert.equal(r.value?.outputs?.[0]?.datatype, 'INT64', 'indices without configured labels');
    assert.deepEqual(r.value?.outputs?.[0]?.contents, { int64_contents: [classOf(ROW), classOf(ROW)] });
    assert.equal(predictor.metadata.at(-1)?.['authorization'], undefined, 'the token does not reach the predictor');
  });

  it('counts rows as predictions and refuses a batch over the budget as RESOURCE_EXHAUSTED with RateLimit trailers', async () => {
    const r = await client.infer(irisInfer(new Array(9).fill(ROW)), await token());
    assertRefused(r, 'rate_limited');
    assert.equal(r.error?.code, status.RESOURCE_EXHAUSTED);
    const md = r.error.metadata.getMap();
    assert.equal(md['ratelimit-policy'], '"hourly";q=10;w=3600');
    assert.match(String(md['ratelimit']), /^"hourly";r=0;t=\d+$/);
    assert.match(String(md['retry-after']), /^\d+$/);
  });

  it('answers DEADLINE_EXCEEDED when the predictor is slower than the client’s deadline', async () => {
    predictor.delayMs = 600;
    try {
      const started = Date.now();
      const r = await client.infer(irisInfer(), await token(), { deadline: Date.now() + 200 });
      assert.equal(r.error?.code, status.DEADLINE_EXCEEDED);
      assert.ok(Date.now() - started < 550, 'the deadline, not the predictor, ended the call');
      await new Promise((resolve) => setTimeout(resolve, 150));
      assert.ok(predictor.cancelled >= 1, 'the predictor call was cancelled');
    } finally {
      predictor.delayMs = 0;
    }
  });

  it('bounds the predictor call by upstream.timeoutMs when the client sets no deadline', async () => {
    predictor.delayMs = 2600;
    try {
      const r = await client.infer(irisInfer(), await token());
      assertRefused(r, 'upstream_timeout');
    } finally {
      predictor.delayMs = 0;
    }
  });

  it('cancels the predictor call when the client cancels', async () => {
    predictor.delayMs = 500;
    const before = predictor.cancelled;
    try {
      const r = await client.infer(irisInfer(), await token(), {}, (call) => setTimeout(() => call.cancel(), 150));
      assert.equal(r.error?.code, status.CANCELLED);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(predictor.cancelled, before + 1, 'the predictor saw the cancellation');
    } finally {
      predictor.delayMs = 0;
    }
  });
});

describe('the gRPC door: a predictor that is not there', () => {
  it('answers UNAVAILABLE upstream_unreachable when the predictor refuses the connection', async () => {
    const gone = await startDemoGrpcPredictor();
    await gone.close();
    const h = await gateway({ models: { iris: {} } }, gone);
    const client = new InferenceClient(h.grpcAddress!);
    try {
      assertRefused(await client.infer(irisInfer([ROW])), 'upstream_unreachable');
    } finally {
      client.close();
      await h.close();
    }
  });
});

describe('the gRPC door: the top-k policy', () => {
  const suite = grpcDoorSuite({
    models: { iris: { labels: LABELS, response: { policy: 'top-k', topK: 2, decimals: 2 } } },
  });

  it('answers the best two classes per row with scores rounded to the policy’s decimals', async () => {
    suite.predictor.rawOutputs = true;
    try {
      const r = await suite.client.infer(irisInfer([ROW]));
      assert.equal(r.error, undefined, r.error?.details);
      const p = predictProba(ROW);
      const ranked = p
        .map((score, i) => ({ score, i }))
        .sort((a, b) => b.score - a.score)
        .slice(0, 2);
      assert.deepEqual(labelsOf(r), [
        {
          name: 'predict',
          datatype: 'BYTES',
          shape: [1, 2],
          contents: { bytes_contents: ranked.map((x) => Buffer.from(LABELS[x.i]!)) },
        },
        {
          name: 'predict_scores',
          datatype: 'FP64',
          shape: [1, 2],
          contents: { fp64_contents: ranked.map((x) => Math.round(x.score * 100) / 100) },
        },
      ]);
    } finally {
      suite.predictor.rawOutputs = false;
    }
  });
});
