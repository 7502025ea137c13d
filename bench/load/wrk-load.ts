// wrk (C, one thread, epoll) as a second load generator: if it reaches more req/s than
// autocannon on the same target, autocannon was the bottleneck there. Its Lua `done` hook
// prints one machine-readable line; latencies come in microseconds.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchCall, LoadResult } from './bench-call.js';

export const WRK_BIN = '/usr/bin/wrk';

export function wrkInstalled(): boolean {
  return spawnSync(WRK_BIN, ['--version']).error === undefined;
}

// Lua long brackets take any text except their own closing bracket.
function luaString(s: string): string {
  let level = '';
  while (s.includes(`]${level}]`)) level += '=';
  return `[${level}[${s}]${level}]`;
}

export function wrkScript(call: BenchCall): string {
  const headers = Object.entries(call.headers)
    .map(([k, v]) => `wrk.headers[ ${luaString(k)} ] = ${luaString(v)}`)
    .join('\n');
  return `wrk.method = ${luaString(call.method)}
wrk.path = ${luaString(call.path)}
wrk.body = ${luaString(call.body)}
${headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK-RESULT %d %d %d %d %d %d %d %d %d\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;
}

/** Parses the line the script's `done` hook prints. */
export function parseWrkResult(stdout: string): Omit<LoadResult, 'generator'> {
  const m = /^WRK-RESULT ((?:\d+ ){8}\d+)$/m.exec(stdout);
  if (!m?.[1]) throw new Error(`wrk printed no result line: ${stdout.slice(-300)}`);
  const [requests, durationUs, connect, read, write, status, timeout, p50Us, p99Us] = m[1]
    .split(' ')
    .map(Number) as number[] & { length: 9 };
  const seconds = durationUs! / 1e6;
  return {
    requests: requests!,
    seconds,
    rps: requests! / seconds,
    p50: p50Us! / 1000,
    p99: p99Us! / 1000,
    non2xx: status!,
    errors: connect! + read! + write! + timeout!,
  };
}

export async function wrkLoad(
  url: string,
  call: BenchCall,
  connections: number,
  seconds: number,
  workDir: string,
): Promise<LoadResult> {
  const text = wrkScript(call);
  const script = join(workDir, `wrk-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.lua`);
  writeFileSync(script, text);
  const child = spawn(WRK_BIN, ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, url], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  // wrk stops itself at -d; the watchdog covers a wedged run.
  const watchdog = setTimeout(() => child.kill('SIGKILL'), (seconds + 15) * 1000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(watchdog);
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${err.trim() || out.slice(-300)}`);
  return { generator: 'wrk', ...parseWrkResult(out) };
}
