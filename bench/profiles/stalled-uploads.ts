// Resident memory of a gateway process before and after 100 clients send `Authorization: Bearer x`
// and most of a 10 MB body, then stall (issue: 96 MB → 1,088 MB before the head phase existed).
//   node dist/bench/profiles/stalled-uploads.js
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const config = {
  server: { host: '127.0.0.1', port: 0, drainDelaySeconds: 0 },
  admin: { host: '127.0.0.1', port: 0 },
  log: { level: 'warn' },
  upstream: { url: 'http://127.0.0.1:9' },
  auth: {
    issuers: [
      {
        issuer: 'https://issuer.test',
        hmacSecret: 'a-bench-secret-of-at-least-32-bytes!',
        audiences: ['inference'],
        algorithms: ['HS256'],
      },
    ],
  },
  models: { iris: {} },
};
const child = fork(fileURLToPath(new URL('../server-process.js', import.meta.url)), ['gateway'], {
  env: { ...process.env, BENCH_CONFIG: JSON.stringify(config) },
  stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
});
const url = await new Promise<string>((resolve) => child.once('message', (m: { url: string }) => resolve(m.url)));
const { port } = new URL(url);
await new Promise((r) => setTimeout(r, 500));
const before = rssMb(child.pid!);
const chunk = Buffer.alloc(1024 * 1024, 0x20);
const sockets: Socket[] = [];
for (let i = 0; i < 100; i++) {
  const s = connect(Number(port), '127.0.0.1');
  s.on('error', () => undefined);
  await new Promise((r) => s.once('connect', r));
  s.write(
    `POST /v1/models/iris:predict HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\nContent-Type: application/json\r\nContent-Length: ${10 * 1024 * 1024 - 1}\r\n\r\n`,
  );
  for (let mb = 0; mb < 9 && !s.destroyed; mb++) s.write(chunk);
  sockets.push(s);
}
await new Promise((r) => setTimeout(r, 2000));
const during = rssMb(child.pid!);
for (const s of sockets) s.destroy();
await new Promise((r) => setTimeout(r, 1000));
const after = rssMb(child.pid!);
process.stdout.write(
  `gateway RSS: ${before.toFixed(0)} MB before, ${during.toFixed(0)} MB with 100 stalled unauthenticated 10 MB uploads, ${after.toFixed(0)} MB after they left\n`,
);
child.kill('SIGTERM');
