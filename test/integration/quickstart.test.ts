import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { quickstartBanner, startQuickstart, type Quickstart } from '../../src/quickstart/quickstart.js';
import { send } from '../helpers/http.js';
import { until } from '../helpers/wait.js';
import { DEMO_LABELS } from '../../src/quickstart/demo-model.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

/** Reads method, URL, headers and body back out of a printed curl line. */
function parseCurl(line: string): { url: string; headers: Record<string, string>; body: string } {
  const headers: Record<string, string> = {};
  for (const m of line.matchAll(/-H '([^:]+): ([^']*)'/g)) headers[m[1]!.toLowerCase()] = m[2]!;
  const body = /-d '([^']*)'/.exec(line)?.[1] ?? '';
  const url = /(http:\/\/\S+)$/.exec(line)?.[1] ?? '';
  return { url, headers, body };
}

describe('quickstart', () => {
  let q: Quickstart;
  let stateDir: string;
  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'igw-qs-'));
    q = await startQuickstart({ port: 0, adminPort: 0, stateDir, logLevel: 'silent' });
  });
  after(() => q.close());

  it('prints two curl lines, one for V1 and one for V2', () => {
    assert.equal(q.curlLines.length, 2);
    assert.ok(q.curlLines.every((l) => l.startsWith('curl ')));
    assert.match(q.curlLines[0]!, /:predict$/);
    assert.match(q.curlLines[1]!, /\/infer$/);
  });

  for (const i of [0, 1]) {
    it(`answers printed curl line ${i + 1} with 200`, async () => {
      const c = parseCurl(q.curlLines[i]!);
      const r = await send(c.url, { headers: c.headers, body: c.body });
      assert.equal(r.status, 200, r.text);
    });

    it(`answers printed curl line ${i + 1} with class names, not probabilities`, async () => {
      const c = parseCurl(q.curlLines[i]!);
      const doc = (await send(c.url, { headers: c.headers, body: c.body })).json();
      const names =
        i === 0
          ? (doc as { predictions: unknown[] }).predictions
          : (doc as { outputs: Array<{ data: unknown[]; datatype: string }> }).outputs[0]!.data;
      assert.ok(names.length > 0);
      for (const n of names) assert.ok((DEMO_LABELS as readonly unknown[]).includes(n), `${String(n)} is a label`);
      if (i === 1) assert.equal((doc as { outputs: Array<{ datatype: string }> }).outputs[0]!.datatype, 'BYTES');
    });

    it(`answers printed curl line ${i + 1} without its token with 401`, async () => {
      const c = parseCurl(q.curlLines[i]!);
      delete c.headers['authorization'];
      const r = await send(c.url, { headers: c.headers, body: c.body });
      assert.equal(r.status, 401);
    });
  }

  it('answers the printed gRPC client line with class names through the gRPC door', async () => {
    assert.ok(quickstartBanner(q).includes(q.grpcLine));
    const cmd = /^node -e "(.*)"$/.exec(q.grpcLine)?.[1];
    assert.ok(cmd, q.grpcLine);
    const queries = async () =>
      (
        await send(`${q.listening.adminUrl}/extraction/users?model=iris`, {
          headers: { authorization: `Bearer ${q.operatorToken}` },
        })
      )
        .json<{ users: Array<{ user: string; queries: number }> }>()
        .users.find((u) => u.user.endsWith('|alice'))?.queries ?? 0;
    const before = await queries();
    // Asynchronously: the gateway answering it runs in this process.
    const out = await promisify(execFile)(process.execPath, ['-e', cmd], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('../../../', import.meta.url)),
      timeout: 10000,
    });
    const labels = /^predict: (.*)$/m.exec(out.stdout)?.[1]?.split(', ') ?? [];
    assert.equal(labels.length, 2, out.stdout);
    for (const l of labels) assert.ok((DEMO_LABELS as readonly string[]).includes(l), `${l} is a label`);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(await queries(), before + 2, 'the extraction guard counted both gRPC rows');
  });

  it('accepts a token minted by `inference-gateway token`', async () => {
    const out = spawnSync(process.execPath, [MAIN, 'token', '--sub', 'bob'], {
      encoding: 'utf8',
      env: { ...process.env, INFERENCE_GATEWAY_STATE_DIR: stateDir },
    });
    assert.equal(out.status, 0, out.stderr);
    const c = parseCurl(q.curlLines[0]!);
    const r = await send(c.url, {
      headers: { ...c.headers, authorization: `Bearer ${out.stdout.trim()}` },
      body: c.body,
    });
    assert.equal(r.status, 200);
  });

  it('tracks the demo model in enforce mode and prints how to watch it on the admin port', async () => {
    const c = parseCurl(q.curlLines[0]!);
    await send(c.url, { headers: c.headers, body: c.body });
    const banner = quickstartBanner(q);
    assert.ok(banner.includes(`${q.listening.adminUrl}/extraction/users`));
    const users = async () =>
      (
        await send(`${q.listening.adminUrl}/extraction/users?model=iris`, {
          headers: { authorization: `Bearer ${q.operatorToken}` },
        })
      ).json<{
        users: Array<{ user: string; queries: number; scores: Record<string, number> }>;
      }>().users;
    await until('alice is tracked with her two queries', async () =>
      (await users()).some((u) => u.user.endsWith('|alice') && u.queries >= 2),
    );
  });

  it('refuses a one-feature sweep from its one account with 403 after answering it labels, as the banner says', async () => {
    assert.match(quickstartBanner(q), /refused with 403 after/);
    const token = await q.issuer.mint({ sub: 'sweeper' });
    const firstSeen = new Map<string, number>();
    for (let i = 1; i <= 1000 && !firstSeen.has('403'); i++) {
      const r = await send(`${q.listening.url}/v1/models/iris:predict`, {
        headers: { authorization: `Bearer ${token}` },
        body: { instances: [[6.0, 2.9, 1 + i * 0.01, 1.5]] },
      });
      const kind =
        r.status === 200
          ? Array.isArray(r.json<{ predictions: unknown[] }>().predictions[0])
            ? 'scores'
            : 'labels'
          : String(r.status);
      if (!firstSeen.has(kind)) firstSeen.set(kind, i);
    }
    assert.deepEqual([...firstSeen.keys()], ['labels', '403']);
    assert.ok(firstSeen.get('403')! <= 500, `the sweep was refused at request ${firstSeen.get('403')}`);
    const users = (
      await send(`${q.listening.adminUrl}/extraction/users?model=iris`, {
        headers: { authorization: `Bearer ${q.operatorToken}` },
      })
    ).json<{
      users: Array<{ user: string; level: string }>;
    }>().users;
    assert.equal(users.find((u) => u.user.endsWith('|sweeper'))?.level, 'block');
  });
});
