// Runs a server binary in the foreground and waits until its port accepts connections; the
// process is the target, so its pid is what /proc is read for.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import type { RunningTarget } from './target.js';

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Whether something accepts TCP connections on the loopback port now. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill(signal);
  });
}

/** Spawns `command args` (which listens on `port`) and resolves once the port accepts, or rejects with its stderr. */
export async function spawnListening(
  command: string,
  args: string[],
  port: number,
  stopSignal: NodeJS.Signals = 'SIGTERM',
): Promise<RunningTarget> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (spawnError || child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `${command} did not start${child.exitCode !== null ? ` (exit ${child.exitCode})` : ''}: ${spawnError?.message ?? stderr.trim()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  if (child.pid === undefined) throw new Error(`${command} has no pid`);
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop: () => stopProcess(child, stopSignal) };
}

/** Runs a Node peer script that prints one JSON line `{"url": ...}` once it listens. */
export async function spawnNodePeer(script: string, env: Record<string, string>): Promise<RunningTarget> {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start in 15 s: ${stderr}`)), 15_000);
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      try {
        resolve((JSON.parse(out.slice(0, nl)) as { url: string }).url);
      } catch {
        reject(new Error(`${script} printed ${out.slice(0, nl)}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}: ${stderr.trim()}`));
    });
  });
  child.stdout?.resume();
  if (child.pid === undefined) throw new Error(`${script} has no pid`);
  return { url, pid: child.pid, stop: () => stopProcess(child) };
}
