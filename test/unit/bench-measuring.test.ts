// How the bench reads CPU time, wrk's results and CPU profiles.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpuMicros, cpuTickMicros, memoryOf, parseStatTicks } from '../../bench/proc-stats.js';
import { parseWrkResult } from '../../bench/load/wrk-load.js';
import { packageOf, summariseProfile, type CpuProfile } from '../../bench/profile-summary.js';

describe('bench CPU and memory from /proc', () => {
  it('adds utime, stime, cutime and cstime, even when the command name holds spaces and parentheses', () => {
    const stat =
      '4242 (node (worker) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 700 300 20 10 20 0 11 0 12345 1000000 2000 0';
    assert.equal(parseStatTicks(stat), 700 + 300 + 20 + 10);
  });

  it("sees this process spend the CPU time the process's own accounting reports", () => {
    // Computes until Node's own account (getrusage) shows 200 ms of CPU, however long a loaded
    // machine makes that take in wall time (bounded at 30 s), then reads /proc for the same span.
    const before = cpuMicros(process.pid);
    const own = process.cpuUsage();
    const giveUp = performance.now() + 30_000;
    let x = 0;
    const spent = () => {
      const d = process.cpuUsage(own);
      return d.user + d.system;
    };
    while (spent() < 200_000 && performance.now() < giveUp) for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + 1);
    assert.ok(x > 0);
    const measured = spent();
    assert.ok(measured >= 200_000, `only ${measured} µs of CPU in 30 s`);
    assert.ok(cpuMicros(process.pid) - before >= measured - 2 * cpuTickMicros);
  });

  it('reads resident memory and its peak in bytes', () => {
    const m = memoryOf(process.pid);
    assert.ok(m.rss > 1048576 && m.peakRss >= m.rss);
  });
});

describe('bench wrk results', () => {
  it('turns the done hook line into req/s and milliseconds, counting socket errors apart from non-2xx answers', () => {
    const r = parseWrkResult('Running 2s test\nWRK-RESULT 20000 2000000 1 2 3 7 4 1500 12000\n');
    assert.deepEqual(r, { requests: 20000, seconds: 2, rps: 10000, p50: 1.5, p99: 12, non2xx: 7, errors: 10 });
  });

  it('fails when wrk printed no result line instead of reporting zeros', () => {
    assert.throws(() => parseWrkResult('unable to connect'), /no result line/);
  });
});

describe('bench profile summary', () => {
  const frame = (id: number, functionName: string, url: string) => ({
    id,
    callFrame: { functionName, url, lineNumber: 9 },
  });
  const profile: CpuProfile = {
    nodes: [
      frame(1, '(idle)', ''),
      frame(2, 'verify', 'file:///app/node_modules/jose/dist/verify.js'),
      frame(3, 'decide', 'file:///app/dist/src/decision/pipeline.js'),
      frame(4, 'send', 'file:///app/node_modules/@fastify/reply-from/index.js'),
    ],
    samples: [1, 2, 3, 2, 4],
    timeDeltas: [5000, 100, 300, 100, 500],
  };
  const s = summariseProfile(profile);

  it('counts self time outside idle', () => {
    assert.equal(s.busyMicros, 1000);
  });

  it('sums self time by function and by package, largest first', () => {
    assert.deepEqual(
      s.packages.map((p) => [p.name, p.micros]),
      [
        ['@fastify/reply-from', 500],
        ['inference-gateway src/', 300],
        ['jose', 200],
      ],
    );
    assert.equal(s.functions.find((f) => f.name.startsWith('verify'))?.micros, 200);
  });

  it('names Node runtime frames and V8 pseudo-frames as such', () => {
    assert.equal(packageOf('node:internal/streams/readable', 'read'), 'node (runtime)');
    assert.equal(packageOf('', '(garbage collector)'), '(garbage collector)');
  });
});
