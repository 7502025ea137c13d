// CPU time and resident memory of a server process, read from /proc (proc(5)), so every
// target (nginx, HAProxy, Node) is measured the same way, from outside, without its help.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

// utime and friends are in clock ticks; the tick is fixed for the life of the machine.
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Fields 14-17 of /proc/<pid>/stat: utime, stime, and the same for waited-for children. */
export function parseStatTicks(stat: string): number {
  // The command name (field 2) is in parentheses and may hold spaces or ')': split after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  const ticks = [11, 12, 13, 14].map((i) => Number(rest[i]));
  if (ticks.some((t) => !Number.isFinite(t))) throw new Error(`unreadable /proc stat line: ${stat.slice(0, 80)}`);
  return ticks.reduce((a, b) => a + b, 0);
}

function childrenOf(pid: number): number[] {
  const tasks = `/proc/${pid}/task`;
  if (!existsSync(tasks)) return [];
  const out: number[] = [];
  for (const tid of readdirSync(tasks)) {
    try {
      for (const c of readFileSync(`${tasks}/${tid}/children`, 'utf8').trim().split(/\s+/)) if (c) out.push(Number(c));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** CPU microseconds used so far by `pid`, its live descendants and its reaped children. */
export function cpuMicros(pid: number): number {
  let ticks = 0;
  const seen = new Set<number>();
  const walk = (p: number) => {
    if (seen.has(p)) return;
    seen.add(p);
    try {
      ticks += parseStatTicks(readFileSync(`/proc/${p}/stat`, 'utf8'));
    } catch {
      return; // exited meanwhile: its time is in its parent's cutime once reaped
    }
    for (const c of childrenOf(p)) walk(c);
  };
  walk(pid);
  if (!seen.size) throw new Error(`process ${pid} is gone`);
  return (ticks * 1e6) / TICKS_PER_SECOND;
}

export interface Memory {
  /** Resident set now, bytes. */
  readonly rss: number;
  /** Peak resident set since start (VmHWM), bytes. */
  readonly peakRss: number;
}

export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
    return Number(m[1]) * 1024;
  };
  return { rss: kb('VmRSS'), peakRss: kb('VmHWM') };
}

export const cpuTickMicros = 1e6 / TICKS_PER_SECOND;
