import { after, before } from 'node:test';
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

function findBinary(): string {
  for (const candidate of ['redis-server', '/usr/bin/redis-server', '/usr/local/bin/redis-server']) {
    if (spawnSync(candidate, ['--version']).status === 0) return candidate;
  }
  throw new Error(
    'redis-server is not installed: these tests need a real Redis (apt-get install redis-server; .ci/run does it)',
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

/** A real redis-server on a free loopback port, without persistence; the test fails when the binary is missing. */
export async function startRedis(): Promise<RedisServer> {
  const bin = findBinary();
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

/** A redis-server started before the tests of the suite it is called in, and stopped after them. */
export function suiteRedis(): RedisServer {
  let server: RedisServer | undefined;
  before(async () => {
    server = await startRedis();
  });
  after(() => server?.stop());
  const started = (): RedisServer => {
    if (!server) throw new Error('the suite’s redis-server is used before its before() hook ran');
    return server;
  };
  return {
    get url() {
      return started().url;
    },
    get port() {
      return started().port;
    },
    start: () => started().start(),
    stop: () => started().stop(),
    freeze: () => started().freeze(),
    thaw: () => started().thaw(),
  };
}
