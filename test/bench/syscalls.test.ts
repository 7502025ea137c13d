// The bench's syscalls phase attaches strace to a running target and divides its counts by the
// requests sent: checked on the Node floor in front of a real predictor (strace must be installed).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChild, type Child } from '../../bench/child-processes.js';
import { createBenchIdentity } from '../../bench/bench-identity.js';
import { v2InferCall } from '../../bench/load/bench-call.js';
import { countedLoad } from '../../bench/load/counted-load.js';
import { parseStraceSummary, syscallsPhase, syscallsTable } from '../../bench/syscalls-phase.js';
import { nodeFloorTarget } from '../../bench/targets/node-peers.js';
import type { RunningTarget } from '../../bench/targets/target.js';

const workDir = mkdtempSync(join(tmpdir(), 'bench-syscalls-test-'));
// The predictor in its own process, as in the bench: in the test's process its writes would wait on the test's own work.
let predictor: Child;
let floor: RunningTarget;
before(async () => {
  predictor = await startChild('predictor', undefined, { stdout: 'ignore' });
  const identity = await createBenchIdentity(workDir);
  floor = await nodeFloorTarget.start({ predictorUrl: predictor.url, identity, workDir, profileDir: undefined });
});
after(async () => {
  await floor.stop();
  await predictor.stop();
  rmSync(workDir, { recursive: true, force: true });
});

describe('bench syscalls phase', () => {
  it('reads the per-syscall table of strace -c, errors column included, total left out', () => {
    const text = [
      '% time     seconds  usecs/call     calls    errors syscall',
      '------ ----------- ----------- --------- --------- ----------------',
      ' 60.00    0.006000           1      6001           read',
      ' 40.00    0.004000           4      1000        12 connect',
      '------ ----------- ----------- --------- --------- ----------------',
      '100.00    0.010000           1      7001        12 total',
    ].join('\n');
    assert.deepEqual(parseStraceSummary(text), [
      { syscall: 'read', calls: 6001, errors: 0 },
      { syscall: 'connect', calls: 1000, errors: 12 },
    ]);
  });

  it('counts one writev per message and about two reads per kept-alive request of the Node floor at -c1', async () => {
    // Warm, as in the bench: the first requests also open the floor's connection to the predictor.
    await countedLoad(floor.url, () => v2InferCall(1, undefined), 1000, 1, 30);
    const run = await syscallsPhase(
      [{ id: 'node-floor', ...floor, call: v2InferCall(1, undefined) }],
      300,
      [1],
      workDir,
      () => {},
    );
    assert.ok('profiles' in run, 'unavailable' in run ? run.unavailable : '');
    assert.deepEqual(run.failures, []);
    const p = run.profiles[0]!;
    assert.equal(p.requests, 300);
    const per = (name: string) => (p.counts.find((c) => c.syscall === name)?.calls ?? 0) / p.requests;
    const detail = JSON.stringify(p.counts.slice(0, 6));
    // The floor writes each message (to the predictor, to the client) with one writev.
    assert.ok(Math.abs(per('writev') - 2) < 0.05, `writev ${per('writev')} per request: ${detail}`);
    // One read of the client's request and one of the predictor's answer; a few more are the
    // loop's eventfd, woken when V8's compiler and GC threads finish a job (a read and a write each).
    assert.ok(per('read') >= 1.95 && per('read') < 2.5, `read ${per('read')} per request: ${detail}`);
    assert.match(
      syscallsTable(run, (id) => id),
      /\| writev \| 2\.0\d \|/,
    );
  });
});
