import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { startDemoPredictor } from '../../src/quickstart/demo-predictor.js';
import { v1Body } from '../helpers/http.js';
import { sleep, until } from '../helpers/wait.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

/** One request on a fresh connection (as a client routed by a Service just after SIGTERM would make). */
async function fresh(
  url: string,
  path: string,
  body?: string,
): Promise<{ status: number; headers: Record<string, unknown>; text: string } | { error: string }> {
  try {
    const r = await request(`${url}${path}`, {
      method: body ? 'POST' : 'GET',
      body,
      headers: { 'content-type': 'application/json', connection: 'close' },
      reset: true,
    });
    return { status: r.statusCode, headers: r.headers, text: await r.body.text() };
  } catch (err) {
    return { error: (err as { code?: string }).code ?? String(err) };
  }
}

describe('proxy: rolling restart (the real CLI process, SIGTERM)', () => {
  it('keeps accepting through server.drainDelaySeconds while /readyz reports draining, finishes in-flight work, then stops', async () => {
    const predictor = await startDemoPredictor({ delayMs: 0, remember: 10 });
    const dir = mkdtempSync(join(tmpdir(), 'igw-drain-'));
    const file = join(dir, 'gateway.yaml');
    writeFileSync(
      file,
      `server:\n  host: 127.0.0.1\n  port: 0\n  drainDelaySeconds: 3\n  shutdownGraceSeconds: 5\nadmin:\n  host: 127.0.0.1\n  port: 0\nupstream:\n  url: ${predictor.url}\nauth:\n  enabled: false\nlog:\n  accessLog: false\nmodels:\n  iris: { task: regression }\n`,
    );
    const child = spawn(process.execPath, [MAIN, 'serve', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const { url, admin } = await new Promise<{ url: string; admin: string }>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)","admin":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
          if (m) resolve({ url: m[1]!, admin: m[2]! });
        });
        child.once('exit', (code) => reject(new Error(`gateway exited early (${code})`)));
      });
      const body = JSON.stringify(v1Body());
      const readyBefore = await fresh(admin, '/readyz');
      assert.ok('status' in readyBefore && readyBefore.status === 200, JSON.stringify(readyBefore));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const signalled = performance.now();
      child.kill('SIGTERM');

      // During the delay (3 s): readiness says draining, yet every new connection is served. The
      // requests stop 1.5 s before the delay ends, a margin for a loaded machine.
      await until('readiness reports draining', async () => {
        const ready = await fresh(admin, '/readyz');
        return 'status' in ready && ready.status === 503 && ready.text.includes('draining');
      });
      predictor.delayMs = 4000; // one request still running when the listener closes
      const inFlight = fresh(url, '/v1/models/iris:predict', body);
      await until('the in-flight request reached the predictor', () =>
        predictor.received.some((r) => r.method === 'POST'),
      );
      predictor.delayMs = 0;
      const during: Array<Awaited<ReturnType<typeof fresh>>> = [];
      while (performance.now() - signalled < 1500) {
        during.push(await fresh(url, '/v1/models/iris:predict', body));
        await sleep(40);
      }
      assert.ok(during.length >= 3, `${during.length} requests during the delay`);
      for (const r of during) {
        assert.ok('status' in r, `a connection was refused during the drain delay: ${JSON.stringify(r)}`);
        assert.equal(r.status, 200);
        assert.equal(r.headers['connection'], 'close', 'clients are asked to reconnect elsewhere');
      }

      // After the delay: no longer accepting, the in-flight request still completes, exit 0.
      await until('the listener closed after the delay', async () => 'error' in (await fresh(url, '/v2/health/live')));
      assert.ok(performance.now() - signalled >= 3000, 'the listener stayed open through the delay');
      const finished = await inFlight;
      assert.ok('status' in finished && finished.status === 200, JSON.stringify(finished));
      assert.equal(await exited, 0);
    } finally {
      child.kill('SIGKILL');
      await predictor.close();
    }
  });
});
