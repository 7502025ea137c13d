import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { connect } from 'node:net';

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  /** Starts again on the same port (after stop). */
  start(): Promise<void>;
  /** SIGSTOP: the process stops answering but its connections stay open, as in a long GC pause or a frozen node. */
  freeze(): void;
  /** SIGCONT after freeze: Redis runs every command that waited, in order. */
  thaw(): void;
}

/** The path of a Redis program (`redis-server`, `redis-cli`); throws, failing the test, when it is not installed. */
export function redisBinary(name = 'redis-server'): string {
  for (const candidate of [name, `/usr/bin/${name}`, `/usr/local/bin/${name}`]) {
    if (spawnSync(candidate, ['--version']).status === 0) return candidate;
  }
  throw new Error(
    `${name} is not installed: these tests need a real Redis (apt-get install redis-server; .ci/run does it)`,
  );
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.setTimeout(500, () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
  });
}

/** A real redis-server on a free loopback port, without persistence; the test fails when the binary is missing. `args` are added to its command line. */
export async function startRedis(args: readonly string[] = []): Promise<RedisServer> {
  const bin = redisBinary();
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    // Starting twice would spawn a second server that dies on the busy port while `child` forgets the live one.
    if (child && child.exitCode === null && child.signalCode === null) return;
    child = spawn(
      bin,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'no',
        '--enable-debug-command',
        'local',
        ...args,
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 200; i++) {
      if (await answersPing(port)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`redis-server did not answer on port ${port} within 5 s`);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
    stop: () =>
      new Promise<void>((resolve) => {
        if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}
