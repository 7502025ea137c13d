// The bench's Node load generators against a real recording HTTP server: they must send exactly
// the bench call, stay within their bounds, and count what came back. (wrk: test/bench.)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { v2InferCall } from '../../bench/load/bench-call.js';
import { pacedLoad } from '../../bench/load/paced-load.js';
import { countedLoad } from '../../bench/load/counted-load.js';
import { startRecordingServer, type RecordingServer } from '../helpers/recording-server.js';

const call = v2InferCall(3, 'header.payload.signature');
let server: RecordingServer;

before(async () => {
  server = await startRecordingServer(call);
});
after(() => server.close());

describe('bench load generators', () => {
  it('the paced load offers its fixed rate and sends no more than rate × time', async () => {
    server.reset();
    const r = await pacedLoad(server.url, call, 200, 1, 10, 0.5);
    assert.equal(server.seen.requests, 300);
    assert.equal(r.requests, 300);
    assert.equal(server.seen.mismatched, 0);
    assert.ok(r.seconds >= 1.4 && r.seconds < 3, `took ${r.seconds} s`);
  });

  it('the counted load sends exactly the requests it builds, one per index', async () => {
    server.reset();
    const r = await countedLoad(server.url, (i) => v2InferCall(3, `user-${i}`), 500, 8, 30);
    assert.equal(r.requests, 500);
    assert.equal(server.seen.authorizations.size, 500);
    assert.equal(r.cutShort, false);
  });

  it('the counted load stops at its time bound and says so', async () => {
    server.reset();
    const r = await countedLoad(server.url, () => call, 10_000_000, 4, 0.3);
    assert.ok(r.cutShort);
    assert.ok(r.requests < 10_000_000);
  });
});
