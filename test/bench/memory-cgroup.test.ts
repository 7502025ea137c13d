// The bench's pod-memory run puts the gateway in a real memory cgroup: the group must limit what
// it claims to, Node inside it must size its heap from the limit as in a pod, and an OOM kill
// must show in the reading. Needs root and a memory controller (v2 or v1); without them the
// tests fail with the reason.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDemoPredictor } from '../../src/quickstart/demo-predictor.js';
import { startChild } from '../../bench/child-processes.js';
import { createMemoryCgroup, type MemoryCgroup } from '../../bench/memory-cgroup.js';

const MiB = 1048576;
const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const groups: MemoryCgroup[] = [];
function group(name: string, limitBytes: number): MemoryCgroup {
  const attempt = createMemoryCgroup(`igw-test-${name}-${process.pid}`, limitBytes);
  if ('unavailable' in attempt) assert.fail(attempt.unavailable);
  groups.push(attempt.cgroup);
  return attempt.cgroup;
}
after(() => {
  for (const g of groups) g.remove();
});

describe('bench memory cgroup', () => {
  it('starts a child inside the group, where Node sizes its heap from the group limit', async () => {
    const g = group('heap', 384 * MiB);
    const child = await startChild('predictor', undefined, { stdout: 'ignore', cgroupProcs: g.procsFile });
    try {
      const { heapLimit } = await child.heap();
      assert.ok(heapLimit < 384 * MiB, `heap limit ${heapLimit / MiB} MiB inside a 384 MiB group`);
      assert.ok(g.read().currentBytes > 0, 'the child is charged to the group');
    } finally {
      await child.stop();
    }
  });

  it('counts an OOM kill when a process in the group outgrows its limit', async () => {
    const g = group('oom', 128 * MiB);
    // Buffers live outside V8's heap, so only the cgroup can stop this one.
    const grow = 'const a = []; for (let i = 0; i < 64; i++) a.push(Buffer.alloc(16 << 20, 1));';
    const child = spawn('/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', g.procsFile, process.execPath, '-e', grow], {
      stdio: 'ignore',
    });
    const signal = await new Promise<NodeJS.Signals | null>((done) => child.once('exit', (_c, s) => done(s)));
    assert.equal(signal, 'SIGKILL');
    const r = g.read();
    assert.ok(r.oomKills >= 1, `oom kills ${r.oomKills}`);
    assert.ok(r.peakBytes <= 128 * MiB && r.peakBytes > 64 * MiB, `peak ${r.peakBytes / MiB} MiB`);
  });

  it("logs at start-up the pod's memory limit and the heap limit Node derived from it (serve, inside the group)", async () => {
    const g = group('serve', 384 * MiB);
    const predictor = await startDemoPredictor();
    const dir = mkdtempSync(join(tmpdir(), 'igw-memory-plan-'));
    const file = join(dir, 'gateway.yaml');
    writeFileSync(
      file,
      `server: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: 0 }\nupstream: { url: ${predictor.url} }\nauth: { enabled: false }\nmodels:\n  iris: { task: regression }\n`,
    );
    const child = spawn(
      '/bin/sh',
      ['-c', 'echo $$ > "$0" && exec "$@"', g.procsFile, process.execPath, MAIN, 'serve', '--config', file],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, NODE_OPTIONS: '' },
      },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const found = out.split('\n').find((l) => l.includes('"memory plan"'));
          if (found) resolve(found);
        });
        child.once('exit', (code) => reject(new Error(`serve exited early (${code}): ${out}`)));
      });
      const memory = (JSON.parse(line) as { memory: { containerLimitBytes: number; heapLimitBytes: number } }).memory;
      assert.equal(memory.containerLimitBytes, 384 * MiB);
      assert.ok(memory.heapLimitBytes < 384 * MiB, `heap limit ${memory.heapLimitBytes / MiB} MiB`);
    } finally {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
      await predictor.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
