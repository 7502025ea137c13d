import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Child processes that spin on every core for at most `maxMs`, so a test sees the scheduling delays
 * of a busy pod. Bounded twice: each child exits by itself after `maxMs`, and `stop()` kills it.
 */
export interface CpuBurner {
  stop(): Promise<void>;
}

export function burnCpu(children: number, maxMs: number): CpuBurner {
  const procs: ChildProcess[] = [];
  for (let i = 0; i < children; i++) {
    procs.push(
      spawn(process.execPath, ['-e', `const end = Date.now() + ${maxMs}; while (Date.now() < end) {}`], {
        stdio: 'ignore',
      }),
    );
  }
  return {
    stop: async () => {
      await Promise.all(
        procs.map(
          (p) =>
            new Promise<void>((resolve) => {
              if (p.exitCode !== null || p.signalCode !== null) return resolve();
              p.once('exit', () => resolve());
              p.kill('SIGKILL');
            }),
        ),
      );
    },
  };
}
