import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { accepts as canConnect, freePort } from '../../bench/targets/spawned-server.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX_BIN = '/usr/sbin/nginx';

export interface Nginx {
  readonly url: string;
  readonly prefix: string;
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * Debian's nginx in the foreground (no daemon, no master), everything it writes in a temp
 * prefix. `server` is the body of one `server {}` block; `listen` is added here.
 */
export async function startNginx(server: (port: number) => string): Promise<Nginx> {
  if (!existsSync(NGINX_BIN)) {
    throw new Error(
      `nginx is required for this test and was not found at ${NGINX_BIN}: install Debian's nginx (apt-get install nginx), as .ci/run does`,
    );
  }
  const prefix = mkdtempSync(join(tmpdir(), 'gw-nginx-'));
  for (const d of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(prefix, d));
  const port = await freePort();
  const conf = `daemon off;
master_process off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log info;
events { worker_connections 64; }
http {
  access_log ${prefix}/access.log;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  server {
    listen 127.0.0.1:${port};
${server(port)}
  }
}
`;
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  const child: ChildProcess = spawn(
    NGINX_BIN,
    ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', join(prefix, 'nginx.conf')],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const errorLog = () => (existsSync(join(prefix, 'error.log')) ? readFileSync(join(prefix, 'error.log'), 'utf8') : '');
  const deadline = Date.now() + 5000;
  while (!(await canConnect(port))) {
    if (exited !== undefined || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not start (exit ${exited}): ${stderr}\n${errorLog()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    prefix,
    errorLog,
    stop: async () => {
      if (exited === undefined) {
        const gone = new Promise<void>((r) => child.once('exit', () => r()));
        child.kill('SIGQUIT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await gone;
        clearTimeout(timer);
      }
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
