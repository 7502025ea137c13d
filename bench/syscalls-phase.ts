// System calls per request (strace -c -f attached to the running target, every thread counted)
// during a fixed number of requests on kept-alive connections: what a proxy asks of the kernel
// for one request, beside the Node floor and HAProxy. A bounded phase: strace slows the traced
// process by an order of magnitude, so the count is small and the CPU figures of this phase are
// not used anywhere.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchCall } from './load/bench-call.js';
import { countedLoad } from './load/counted-load.js';

export interface SyscallCount {
  readonly syscall: string;
  readonly calls: number;
  readonly errors: number;
}

export interface SyscallProfile {
  readonly targetId: string;
  readonly connections: number;
  readonly requests: number;
  /** Per syscall, most called first. */
  readonly counts: readonly SyscallCount[];
  readonly totalCalls: number;
}

export type SyscallsRun =
  | { readonly profiles: readonly SyscallProfile[]; readonly failures: readonly string[] }
  | { readonly unavailable: string };

/** The table of `strace -c`: `% time  seconds  usecs/call  calls  [errors]  syscall`, the total line left out. */
export function parseStraceSummary(text: string): SyscallCount[] {
  const counts: SyscallCount[] = [];
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5 || !/^\d+(\.\d+)?$/.test(cols[0]!)) continue;
    const syscall = cols[cols.length - 1]!;
    if (syscall === 'total') continue;
    const calls = Number(cols[3]);
    const errors = cols.length >= 6 ? Number(cols[4]) : 0;
    if (Number.isFinite(calls)) counts.push({ syscall, calls, errors: Number.isFinite(errors) ? errors : 0 });
  }
  return counts.sort((a, b) => b.calls - a.calls);
}

export function straceInstalled(): boolean {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Traces each target in turn while `count` requests go through it, once per concurrency: at -c1
 * every request pays its own wake-ups; under load one epoll wait serves several requests.
 */
export async function syscallsPhase(
  targets: readonly { id: string; url: string; pid: number; call: BenchCall }[],
  count: number,
  concurrencies: readonly number[],
  workDir: string,
  log: (line: string) => void,
): Promise<SyscallsRun> {
  if (!straceInstalled()) return { unavailable: 'strace is not installed (npm run bench:setup installs it)' };
  const profiles: SyscallProfile[] = [];
  const failures: string[] = [];
  for (const connections of concurrencies)
    for (const t of targets) {
      const file = join(workDir, `${t.id}-c${connections}.strace.txt`);
      log(`syscalls: ${count} requests through ${t.id} at -c${connections} under strace -c -f`);
      const tracer = spawn('strace', ['-c', '-f', '-p', String(t.pid), '-o', file], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      tracer.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((done) => tracer.once('exit', done));
      // strace reports "Process N attached" per thread before it counts anything.
      const deadline = Date.now() + 5000;
      while (!/attached/.test(stderr) && Date.now() < deadline && tracer.exitCode === null)
        await new Promise((r) => setTimeout(r, 50));
      if (!/attached/.test(stderr)) {
        tracer.kill('SIGKILL');
        await exited;
        failures.push(`${t.id}: strace did not attach: ${stderr.trim().split('\n')[0] ?? 'no output'}`);
        continue;
      }
      const res = await countedLoad(t.url, () => t.call, count, connections, 120);
      tracer.kill('SIGINT');
      await exited;
      if (res.non2xx || res.errors) failures.push(`${t.id}: ${res.non2xx} non-2xx, ${res.errors} errors under strace`);
      const counts = parseStraceSummary(readFileSync(file, 'utf8'));
      rmSync(file, { force: true });
      profiles.push({
        targetId: t.id,
        connections,
        requests: res.requests,
        counts,
        totalCalls: counts.reduce((n, c) => n + c.calls, 0),
      });
    }
  return { profiles, failures };
}

/** Calls per request by syscall, one column per target; syscalls under 0.05 per request everywhere are summed in "other". */
export function syscallsTable(run: SyscallsRun, nameOf: (id: string) => string): string {
  if ('unavailable' in run) return `Not measured: ${run.unavailable}.`;
  const ps = run.profiles;
  if (!ps.length) return `Not measured: ${run.failures.join('; ') || 'no target ran'}.`;
  const perRequest = (p: SyscallProfile, name: string) =>
    (p.counts.find((c) => c.syscall === name)?.calls ?? 0) / Math.max(1, p.requests);
  const names = [...new Set(ps.flatMap((p) => p.counts.map((c) => c.syscall)))];
  const shown = names.filter((n) => ps.some((p) => perRequest(p, n) >= 0.05));
  const order = (n: string) => -Math.max(...ps.map((p) => perRequest(p, n)));
  shown.sort((a, b) => order(a) - order(b));
  const fmt = (x: number) => (x === 0 ? '0' : x < 0.1 ? x.toFixed(3) : x.toFixed(2));
  const lines = [
    `| syscall (calls per request) | ${ps.map((p) => `${nameOf(p.targetId)}, -c${p.connections}`).join(' | ')} |`,
    `| --- | ${ps.map(() => '---:').join(' | ')} |`,
    ...shown.map((n) => `| ${n} | ${ps.map((p) => fmt(perRequest(p, n))).join(' | ')} |`),
    `| other | ${ps.map((p) => fmt(names.filter((n) => !shown.includes(n)).reduce((s, n) => s + perRequest(p, n), 0))).join(' | ')} |`,
    `| **total** | ${ps.map((p) => `**${fmt(p.totalCalls / Math.max(1, p.requests))}**`).join(' | ')} |`,
    `| requests traced | ${ps.map((p) => p.requests).join(' | ')} |`,
  ];
  return lines.join('\n');
}
