import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Stalls } from './stall-monitor.js';

export interface Child {
  readonly url: string;
  /** Set when the gateway config enables the ext-authz doors. */
  readonly extAuthzHttpUrl?: string;
  readonly extAuthzGrpcAddress?: string;
  readonly pid: number;
  cpuMicros(): Promise<number>;
  /** A full garbage collection in the child (started with --expose-gc): the V8 heap still used after it, or undefined when it cannot. */
  collectGarbage(): Promise<number | undefined>;
  /** Event-loop delay and GC pauses since the previous call (the first call starts the monitors). */
  stalls(): Promise<Stalls>;
  /** V8's heap limit and the young generation's current size in the child. */
  heap(): Promise<{ heapLimit: number; youngBytes: number }>;
  stop(): Promise<void>;
}

const SERVER = fileURLToPath(new URL('./server-process.js', import.meta.url));

export interface ChildOptions {
  /** Node flags for the child (e.g. --cpu-prof). */
  readonly execArgv?: string[];
  /** Where the child's stdout goes: the access log is written (and paid for) either way. */
  readonly stdout?: 'inherit' | 'ignore';
  /** A cgroup's `cgroup.procs`: the child joins the group before Node starts, so V8 sizes its heap from the group's limit. */
  readonly cgroupProcs?: string;
  /** Another build's bench/server-process.js (a before/after comparison in one run); this build's by default. */
  readonly script?: string;
}

/** Starts a predictor or a gateway in its own process, so its CPU time is its own. */
export async function startChild(
  kind: 'predictor' | 'gateway',
  config?: unknown,
  options: ChildOptions = {},
): Promise<Child> {
  const child: ChildProcess = fork(options.script ?? SERVER, [kind], {
    env: { ...process.env, BENCH_CONFIG: config ? JSON.stringify(config) : '' },
    stdio: ['ignore', options.stdout ?? 'inherit', 'inherit', 'ipc'],
    execArgv: options.cgroupProcs
      ? // fork() runs execPath with execArgv before the script: a shell that joins the group, then execs Node in place (same pid, same IPC fd).
        ['-c', 'echo $$ > "$0" && exec "$@"', options.cgroupProcs, process.execPath, ...(options.execArgv ?? [])]
      : (options.execArgv ?? []),
    ...(options.cgroupProcs ? { execPath: '/bin/sh' } : {}),
  });
  type Started = { url: string; extAuthzHttpUrl?: string; extAuthzGrpcAddress?: string };
  const started = await new Promise<Started>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} did not start in 15 s`)), 15000);
    child.once(
      'message',
      (m: { url?: string; extAuthzHttpUrl?: string; extAuthzGrpcAddress?: string; error?: string }) => {
        clearTimeout(timer);
        if (m.url) resolve(m as Started);
        else reject(new Error(`${kind} failed: ${m.error}`));
      },
    );
    child.once('exit', (code) => reject(new Error(`${kind} exited with ${code}`)));
  });
  if (child.pid === undefined) throw new Error(`${kind} has no pid`);
  return {
    ...started,
    pid: child.pid,
    cpuMicros: () =>
      new Promise<number>((resolve) => {
        child.once('message', (m: { cpu: number }) => resolve(m.cpu));
        child.send('cpu');
      }),
    collectGarbage: () =>
      new Promise<number | undefined>((resolve) => {
        child.once('message', (m: { gc: boolean; heapUsed: number }) => resolve(m.gc ? m.heapUsed : undefined));
        child.send('gc');
      }),
    stalls: () =>
      new Promise<Stalls>((resolve) => {
        child.once('message', (m: { stalls: Stalls }) => resolve(m.stalls));
        child.send('stalls');
      }),
    heap: () =>
      new Promise<{ heapLimit: number; youngBytes: number }>((resolve) => {
        child.once('message', (m: { heapLimit: number; youngBytes: number }) => resolve(m));
        child.send('heap');
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        // Already gone (e.g. killed by the OOM killer of its cgroup): nothing to wait for.
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
