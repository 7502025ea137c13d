import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { send } from '../helpers/http.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${CLIENT_SPAN}-01`;
const INFER = '/v2/models/iris/infer';
const IRIS_ROW = { inputs: [{ name: 'input-0', shape: [1, 4], datatype: 'FP32', data: [[6.8, 2.8, 4.8, 1.4]] }] };

/** A gateway exporting to a local OTLP receiver; `run` sends requests, then the gateway closes (flushing its spans). */
async function traced(
  run: (h: Harness) => Promise<void>,
  tracing: Record<string, unknown> = {},
  config: Record<string, unknown> = {},
): Promise<OtlpReceiver['spans']> {
  const receiver = await startOtlpReceiver();
  try {
    const h = await startHarness(() => ({
      ...config,
      tracing: { enabled: true, endpoint: receiver.url, serviceName: 'gw-under-test', ...tracing },
    }));
    try {
      await run(h);
    } finally {
      await h.close();
    }
    return receiver.spans;
  } finally {
    await receiver.close();
  }
}

describe('trace context', () => {
  it('with tracing off, passes the W3C and B3 trace headers to the predictor unchanged', async () => {
    const h = await startHarness();
    try {
      const trace = {
        traceparent: TRACEPARENT,
        tracestate: 'vendor=opaque',
        'x-b3-traceid': TRACE_ID,
        'x-b3-spanid': CLIENT_SPAN,
        'x-b3-parentspanid': '05e3ac9a4f6e3b90',
        'x-b3-sampled': '1',
      };
      const r = await send(`${h.url}${INFER}`, { body: IRIS_ROW, headers: trace });
      assert.equal(r.status, 200, r.text);
      const received = h.predictor.received.at(-1)!.headers;
      for (const [name, value] of Object.entries(trace)) assert.equal(received[name], value, name);
    } finally {
      await h.close();
    }
  });

  it("with tracing on, exports the decision's spans as children of the caller's span", async () => {
    const spans = await traced(async (h) => {
      const r = await send(`${h.url}${INFER}`, { body: IRIS_ROW, headers: { traceparent: TRACEPARENT } });
      assert.equal(r.status, 200, r.text);
    });
    const decisions = spans.filter((s) => s.name.startsWith('decide '));
    assert.deepEqual(decisions.map((s) => s.name).sort(), ['decide body', 'decide head']);
    for (const s of decisions) {
      assert.equal(s.traceId, TRACE_ID);
      assert.equal(s.parentSpanId, CLIENT_SPAN);
      assert.equal(s.serviceName, 'gw-under-test');
      assert.equal(s.attributes['gateway.decision'], 'allow');
      assert.equal(s.attributes['gateway.model'], 'iris');
      assert.equal(s.attributes['gateway.door'], 'proxy');
    }
  });

  it("with tracing on, sends the predictor the upstream span's context in W3C and B3 headers", async () => {
    let received: Record<string, string | string[] | undefined> = {};
    const spans = await traced(async (h) => {
      const r = await send(`${h.url}${INFER}`, {
        body: IRIS_ROW,
        headers: {
          traceparent: TRACEPARENT,
          tracestate: 'vendor=opaque',
          'x-b3-traceid': TRACE_ID,
          'x-b3-spanid': CLIENT_SPAN,
          'x-b3-parentspanid': '05e3ac9a4f6e3b90',
          'x-b3-sampled': '1',
        },
      });
      assert.equal(r.status, 200, r.text);
      received = h.predictor.received.at(-1)!.headers;
    });
    const upstream = spans.find((s) => s.name === 'POST upstream');
    assert.ok(upstream, JSON.stringify(spans.map((s) => s.name)));
    assert.equal(upstream.traceId, TRACE_ID);
    assert.equal(upstream.parentSpanId, CLIENT_SPAN);
    assert.equal(upstream.attributes['http.response.status_code'], 200);
    assert.equal(received['traceparent'], `00-${TRACE_ID}-${upstream.spanId}-01`);
    assert.equal(received['tracestate'], 'vendor=opaque');
    assert.equal(received['x-b3-traceid'], TRACE_ID);
    assert.equal(received['x-b3-spanid'], upstream.spanId);
    assert.equal(received['x-b3-parentspanid'], undefined);
  });

  it('marks the upstream span as an error when the predictor cannot be reached', async () => {
    const spans = await traced(
      async (h) => {
        const r = await send(`${h.url}${INFER}`, { body: IRIS_ROW, headers: { traceparent: TRACEPARENT } });
        assert.equal(r.status, 502, r.text);
      },
      {},
      { upstream: { url: 'http://127.0.0.1:1' } },
    );
    const upstream = spans.find((s) => s.name === 'POST upstream');
    assert.equal(upstream?.status.code, 2 /* STATUS_CODE_ERROR */);
    assert.equal(upstream?.status.message, 'upstream_unreachable');
  });

  it('makes the same decision spans for an ext-authz check, under the proxy span Envoy sends', async () => {
    const spans = await traced(
      async (h) => {
        const r = await send(`${h.extAuthzHttpUrl!}${INFER}`, {
          body: IRIS_ROW,
          headers: { traceparent: TRACEPARENT },
        });
        assert.equal(r.status, 200, r.text);
      },
      {},
      { extAuthz: { http: { enabled: true, host: '127.0.0.1', port: 0 } } },
    );
    const head = spans.find((s) => s.name === 'decide head');
    assert.equal(head?.attributes['gateway.door'], 'ext-authz-http');
    assert.equal(head?.parentSpanId, CLIENT_SPAN);
  });

  it('records a refusal on the decision span with its code, not as an error', async () => {
    const spans = await traced(async (h) => {
      const r = await send(`${h.url}/v2/models/unknown/infer`, {
        body: IRIS_ROW,
        headers: { traceparent: TRACEPARENT },
      });
      assert.equal(r.status, 404);
    });
    const head = spans.find((s) => s.name === 'decide head');
    assert.ok(head, JSON.stringify(spans));
    assert.equal(head.attributes['gateway.decision'], 'deny');
    assert.equal(head.attributes['gateway.denial.code'], 'model_not_found');
    assert.notEqual(head.status.code, 2 /* STATUS_CODE_ERROR */);
  });

  it('continues a trace that arrives in B3 headers only (Envoy, Istio)', async () => {
    const spans = await traced(async (h) => {
      await send(`${h.url}${INFER}`, {
        body: IRIS_ROW,
        headers: { 'x-b3-traceid': TRACE_ID, 'x-b3-spanid': CLIENT_SPAN, 'x-b3-sampled': '1' },
      });
    });
    const head = spans.find((s) => s.name === 'decide head');
    assert.equal(head?.traceId, TRACE_ID);
    assert.equal(head?.parentSpanId, CLIENT_SPAN);
  });

  it('starts a new trace for a request without trace context', async () => {
    const spans = await traced(async (h) => {
      await send(`${h.url}${INFER}`, { body: IRIS_ROW });
    });
    const head = spans.find((s) => s.name === 'decide head');
    assert.ok(head);
    assert.match(head.traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(head.traceId, TRACE_ID);
    assert.equal(head.parentSpanId, '');
  });

  it("follows the caller's decision not to sample", async () => {
    const spans = await traced(async (h) => {
      await send(`${h.url}${INFER}`, { body: IRIS_ROW, headers: { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-00` } });
    });
    assert.deepEqual(spans, []);
  });

  it('records no new trace when sampleRatio is 0', async () => {
    const spans = await traced(
      async (h) => {
        await send(`${h.url}${INFER}`, { body: IRIS_ROW });
      },
      { sampleRatio: 0 },
    );
    assert.deepEqual(spans, []);
  });

  it('records a trace the caller marks sampled only at sampleRatio: an unauthenticated client cannot force sampling', async () => {
    const spans = await traced(
      async (h) => {
        for (let i = 0; i < 5; i++)
          await send(`${h.url}${INFER}`, {
            body: IRIS_ROW,
            headers: { traceparent: `00-${TRACE_ID.slice(0, -1)}${i}-${CLIENT_SPAN}-01` },
          });
      },
      { sampleRatio: 0 },
      {
        auth: {
          enabled: true,
          issuers: [
            {
              issuer: 'https://issuer.test',
              hmacSecret: 'a-test-secret-of-at-least-32-bytes!!',
              audiences: ['inference'],
              algorithms: ['HS256'],
            },
          ],
        },
      },
    );
    assert.deepEqual(spans, []);
  });

  it('puts at most 128 characters of a path in a span, and the route template of a model route', async () => {
    const long = `/x${'a'.repeat(15000)}`;
    const spans = await traced(async (h) => {
      await send(`${h.url}${long}`);
      await send(`${h.url}${INFER}`, { body: IRIS_ROW });
    });
    const heads = spans.filter((s) => s.name === 'decide head');
    const paths = heads.map((s) => String(s.attributes['url.path']));
    assert.ok(
      paths.every((p) => p.length <= 129),
      `path attributes of ${paths.map((p) => p.length).join(', ')} characters`,
    );
    assert.ok(heads.some((s) => s.attributes['http.route'] === '/v2/models/{model}/infer'));
    assert.ok(!JSON.stringify(spans).includes('a'.repeat(200)));
  });

  it('never puts the bearer token in a span', async () => {
    const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2VjcmV0LXNpZ25hdHVyZQ';
    const spans = await traced(async (h) => {
      await send(`${h.url}${INFER}?x=${token}`, {
        body: IRIS_ROW,
        headers: { traceparent: TRACEPARENT, authorization: `Bearer ${token}` },
      });
    });
    assert.ok(spans.length > 0);
    assert.ok(!JSON.stringify(spans).includes(token));
  });
});
