import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { request } from 'undici';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { send, v1Body } from '../helpers/http.js';
import { jsonAnswer, startScriptedPredictor, type ScriptedPredictor } from '../helpers/scripted-predictor.js';
import { sleep, until } from '../helpers/wait.js';

const PREDICT = '/v1/models/iris:predict';

/** A gateway passing answers unchanged (regression model) in front of a scripted predictor. */
async function gatewayFor(p: ScriptedPredictor, upstream: Record<string, unknown> = {}): Promise<Harness> {
  return startHarness(() => ({ upstream: { url: p.url, ...upstream }, models: { iris: { task: 'regression' } } }));
}

async function metricValue(h: Harness, name: string): Promise<number> {
  const text = await h.gateway.metrics.registry.getSingleMetricAsString(name);
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('proxy: the predictor call', () => {
  it('cuts a predictor that trickles its answer at upstream.timeoutMs with 504 upstream_timeout', async () => {
    // One byte every 100 ms never trips an idle timeout; the deadline is for the whole answer.
    const p = await startScriptedPredictor((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n');
      const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write(' ')), 100);
      socket.on('close', () => clearInterval(timer));
    });
    const h = await gatewayFor(p, { timeoutMs: 600 });
    try {
      const started = performance.now();
      const r = await send(`${h.url}${PREDICT}`, { body: v1Body() });
      const took = performance.now() - started;
      assert.equal(r.status, 504);
      assert.equal(r.json()['code'], 'upstream_timeout');
      assert.ok(took >= 550 && took < 2000, `answered after ${took.toFixed(0)} ms`);
    } finally {
      await h.close();
      await p.close();
    }
  });

  it('cancels the predictor call when the client goes away, so 200 aborts against a hung predictor leave the pool usable', async () => {
    const hung: Socket[] = [];
    const p = await startScriptedPredictor((socket, req) => {
      if (req.head.includes('x-hang: 1')) hung.push(socket);
      else socket.write(jsonAnswer({ predictions: [1] }));
    });
    const h = await gatewayFor(p, { connections: 8, timeoutMs: 30000 });
    try {
      for (let batch = 0; batch < 4; batch++) {
        await Promise.all(
          Array.from({ length: 50 }, async () => {
            const ac = new AbortController();
            const pending = request(`${h.url}${PREDICT}`, {
              method: 'POST',
              body: JSON.stringify(v1Body()),
              headers: { 'content-type': 'application/json', 'x-hang': '1' },
              signal: ac.signal,
            });
            await sleep(30);
            ac.abort();
            await pending.then(
              (r) => r.body.dump(),
              () => undefined,
            );
          }),
        );
      }
      const started = performance.now();
      const r = await send(`${h.url}${PREDICT}`, { body: v1Body() });
      assert.equal(r.status, 200, r.text);
      assert.ok(performance.now() - started < 10_000, 'the pool answered long before the 30 s deadline');
      // Every abandoned call was cut at the predictor too, not left to run until the timeout.
      await until('every abandoned call is cut at the predictor', () => hung.every((s) => s.destroyed));
      // (Some clients give up before their request even reaches the predictor.)
      assert.ok(hung.length >= 8, `${hung.length} calls reached the predictor`);
      assert.ok((await metricValue(h, 'inference_gateway_client_aborts_total')) >= hung.length);
    } finally {
      await h.close();
      await p.close();
    }
  });

  it('answers 503 upstream_overloaded at once when every predictor connection is busy and the queue is full', async () => {
    const hung: Socket[] = [];
    const p = await startScriptedPredictor((socket) => void hung.push(socket));
    const h = await gatewayFor(p, { connections: 1, maxQueue: 2, timeoutMs: 30_000 });
    const acs = Array.from({ length: 3 }, () => new AbortController());
    try {
      const waiting = acs.map((ac) =>
        request(`${h.url}${PREDICT}`, { method: 'POST', body: JSON.stringify(v1Body()), signal: ac.signal }).catch(
          () => undefined,
        ),
      );
      await until('the first call holds the only connection', () => hung.length === 1);
      const started = performance.now();
      const r = await send(`${h.url}${PREDICT}`, { body: v1Body() });
      assert.equal(r.status, 503);
      assert.equal(r.json()['code'], 'upstream_overloaded');
      assert.ok(performance.now() - started < 10_000, 'answered long before the 30 s deadline');
      for (const ac of acs) ac.abort();
      await Promise.all(waiting);
    } finally {
      await h.close();
      await p.close();
    }
  });

  it('retries a request whose reused keep-alive connection the predictor reset unread: 0 failures', async () => {
    // The predictor closes connections idle for 30 ms; a request crossing that close on the wire
    // meets a reset. Modelled without timing luck: a request arriving on an expired connection is
    // reset unread, which is what the predictor's kernel does when the close won the race.
    const idleSince = new WeakMap<Socket, number>();
    const p = await startScriptedPredictor((socket) => {
      const last = idleSince.get(socket);
      if (last !== undefined && performance.now() - last > 30) {
        socket.resetAndDestroy();
        return;
      }
      socket.write(jsonAnswer({ predictions: [1] }));
      idleSince.set(socket, performance.now());
    });
    const h = await gatewayFor(p);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) {
        statuses.push((await send(`${h.url}${PREDICT}`, { body: v1Body() })).status);
        await sleep(50);
      }
      assert.deepEqual(statuses, Array(20).fill(200));
      assert.equal(await metricValue(h, 'inference_gateway_upstream_retries_total'), 19);
    } finally {
      await h.close();
      await p.close();
    }
  });

  it('never retries a request the predictor read before it closed the connection without answering', async () => {
    const p = await startScriptedPredictor((socket) => socket.end());
    const h = await gatewayFor(p);
    try {
      const r = await send(`${h.url}${PREDICT}`, { body: v1Body() });
      assert.equal(r.status, 502);
      assert.deepEqual(r.json(), {
        error: 'the predictor closed the connection before answering',
        code: 'upstream_unreachable',
      });
      await sleep(50);
      assert.equal(p.requests.length, 1, 'the predictor saw the request once');
      assert.equal(await metricValue(h, 'inference_gateway_upstream_retries_total'), 0);
    } finally {
      await h.close();
      await p.close();
    }
  });

  it('answers 502 upstream_bad_response, not upstream_unreachable, when the predictor answers something that is not HTTP', async () => {
    const p = await startScriptedPredictor((socket) => socket.end('garbage from a confused predictor\r\n\r\n'));
    const h = await gatewayFor(p);
    try {
      const r = await send(`${h.url}${PREDICT}`, { body: v1Body() });
      assert.equal(r.status, 502);
      assert.equal(r.json()['code'], 'upstream_bad_response');
    } finally {
      await h.close();
      await p.close();
    }
  });

  it('forwards W3C trace context and B3 headers to the predictor unchanged', async () => {
    const p = await startScriptedPredictor((socket) => socket.write(jsonAnswer({ predictions: [1] })));
    const h = await gatewayFor(p);
    const trace = {
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
      'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
      'x-b3-spanid': 'e457b5a2e4d86bd1',
      'x-b3-parentspanid': '05e3ac9a4f6e3b90',
      'x-b3-sampled': '1',
      b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90',
    };
    try {
      const r = await send(`${h.url}${PREDICT}`, { body: v1Body(), headers: trace });
      assert.equal(r.status, 200);
      const head = p.requests.at(-1)!.head.toLowerCase();
      for (const [k, v] of Object.entries(trace))
        assert.ok(head.includes(`\r\n${k}: ${v.toLowerCase()}\r\n`), `${k} forwarded unchanged`);
    } finally {
      await h.close();
      await p.close();
    }
  });
});
