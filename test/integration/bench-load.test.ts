// The bench's load generators against a real recording HTTP server: they must send exactly
// the bench call, stay within their bounds, and count what came back.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v2InferCall } from '../../bench/load/bench-call.js';
import { wrkInstalled, wrkLoad } from '../../bench/load/wrk-load.js';
import { pacedLoad } from '../../bench/load/paced-load.js';
import { countedLoad } from '../../bench/load/counted-load.js';

const call = v2InferCall(3, 'header.payload.signature');
let server: Server;
let url: string;
const seen = { requests: 0, mismatched: 0, authorizations: new Set<string>() };
const workDir = mkdtempSync(join(tmpdir(), 'bench-load-test-'));

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.requests++;
      seen.authorizations.add(String(req.headers.authorization));
      const exact = req.method === call.method && req.url === call.path && Buffer.concat(chunks).toString() === call.body && req.headers['content-type'] === 'application/json';
      if (!exact) seen.mismatched++;
      res.writeHead(exact ? 200 : 400, { 'content-length': '2' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(workDir, { recursive: true, force: true });
});
const reset = () => {
  seen.requests = 0;
  seen.mismatched = 0;
  seen.authorizations.clear();
};

describe('bench load generators', () => {
  it('wrk is installed (npm run bench:setup installs it)', () => {
    assert.ok(wrkInstalled());
  });

  it('wrk sends the bench call byte for byte, a body holding "]]" included', async () => {
    reset();
    assert.ok(call.body.includes(']]'));
    const r = await wrkLoad(url, call, 2, 1, workDir);
    assert.ok(r.requests > 0);
    assert.equal(r.non2xx, 0);
    assert.equal(seen.mismatched, 0);
    assert.deepEqual([...seen.authorizations], ['Bearer header.payload.signature']);
  });

  it('wrk counts answers that are not 2xx', async () => {
    reset();
    const r = await wrkLoad(url, { ...call, body: '{}' }, 1, 1, workDir);
    assert.ok(r.non2xx > 0 && r.non2xx === r.requests);
  });

  it('the paced load offers its fixed rate and sends no more than rate × time', async () => {
    reset();
    const r = await pacedLoad(url, call, 200, 1, 10, 0.5);
    assert.equal(seen.requests, 300);
    assert.equal(r.requests, 300);
    assert.equal(seen.mismatched, 0);
    assert.ok(r.seconds >= 1.4 && r.seconds < 3, `took ${r.seconds} s`);
  });

  it('the counted load sends exactly the requests it builds, one per index', async () => {
    reset();
    const r = await countedLoad(url, (i) => v2InferCall(3, `user-${i}`), 500, 8, 30);
    assert.equal(r.requests, 500);
    assert.equal(seen.authorizations.size, 500);
    assert.equal(r.cutShort, false);
  });

  it('the counted load stops at its time bound and says so', async () => {
    reset();
    const r = await countedLoad(url, () => call, 10_000_000, 4, 0.3);
    assert.ok(r.cutShort);
    assert.ok(r.requests < 10_000_000);
  });
});
