// wrk, the bench's load generator, against a real recording HTTP server: it must send exactly the
// bench call and count what came back. Runs under `npm run test:bench`, which installs wrk.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v2InferCall } from '../../bench/load/bench-call.js';
import { wrkInstalled, wrkLoad } from '../../bench/load/wrk-load.js';
import { startRecordingServer, type RecordingServer } from '../helpers/recording-server.js';

const call = v2InferCall(3, 'header.payload.signature');
let server: RecordingServer;
const workDir = mkdtempSync(join(tmpdir(), 'wrk-load-test-'));

before(async () => {
  server = await startRecordingServer(call);
});
after(async () => {
  await server.close();
  rmSync(workDir, { recursive: true, force: true });
});

describe('wrk load', () => {
  it('wrk is installed (npm run bench:setup installs it)', () => {
    assert.ok(wrkInstalled());
  });

  it('wrk sends the bench call byte for byte, a body holding "]]" included', async () => {
    server.reset();
    assert.ok(call.body.includes(']]'));
    const r = await wrkLoad(server.url, call, 2, 1, workDir);
    assert.ok(r.requests > 0);
    assert.equal(r.non2xx, 0);
    assert.equal(server.seen.mismatched, 0);
    assert.deepEqual([...server.seen.authorizations], ['Bearer header.payload.signature']);
  });

  it('wrk counts answers that are not 2xx', async () => {
    server.reset();
    const r = await wrkLoad(server.url, { ...call, body: '{}' }, 1, 1, workDir);
    assert.ok(r.non2xx > 0 && r.non2xx === r.requests);
  });
});
