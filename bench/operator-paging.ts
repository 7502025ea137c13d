// The serving port's latency while an operator pages through every tracked account on the admin
// listener. `npm run build && node dist/bench/operator-paging.js [--accounts 100000] [--seconds 8]`
// The gateway and the predictor run in their own processes; this process populates the accounts
// through the gateway's ext-authz door (one scored check per account), then alternates windows
// of serving load alone and serving load with an operator paging (plain, and filtered on a level
// no account has, the costliest page: it reads its whole scan budget). Every loop is bounded.
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { SignJWT } from 'jose';
import { Pool } from 'undici';
import { startChild, type Child } from './child-processes.js';
import { boundedArg } from './cli-bounds.js';

const { values } = parseArgs({
  options: {
    accounts: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '8' },
  },
});
const ACCOUNTS = boundedArg('accounts', values.accounts, 100, 200_000, true);
const SECONDS = boundedArg('seconds', values.seconds, 1, 60);
const CONNECTIONS = boundedArg('connections', values.connections, 1, 64, true);
const POPULATE_DEADLINE_MS = 300_000;
const PAGE = 100;

const ISSUER = 'https://bench.invalid/operator';
const SECRET = new TextEncoder().encode('operator-paging-bench-hmac-secret-of-32-bytes+');
const mint = (sub: string, roles: string[] = []) =>
  new SignJWT({ roles })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience('inference')
    .setSubject(sub)
    .setExpirationTime('2h')
    .sign(SECRET);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const ms = (v: number) => v.toFixed(2);

interface Window {
  readonly name: string;
  readonly requests: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly cpuPerRequest: number;
  readonly pages: number;
  readonly pageP50: number;
  readonly pageMax: number;
  readonly passes: number;
}

interface PagerTask {
  readonly adminUrl: string;
  readonly operator: string;
  readonly query: string;
  readonly until: number;
}

/** The operator, in its own thread: parsing its pages must not delay the serving load's clock. */
async function pager(t: PagerTask): Promise<number[]> {
  const admin = new Pool(t.adminUrl, { connections: 1 });
  const times: number[] = [];
  let cursor: string | null = null;
  // performance.timeOrigin differs per thread: deadlines travel as wall-clock milliseconds.
  while (Date.now() < t.until && times.length < 100_000) {
    const start = performance.now();
    const r = await admin.request({
      method: 'GET',
      path: `/extraction/users?limit=${PAGE}${t.query}${cursor ? `&cursor=${cursor}` : ''}`,
      headers: { authorization: t.operator },
    });
    const j = (await r.body.json()) as { next: string | null };
    if (r.statusCode !== 200) throw new Error(`page answered ${r.statusCode}`);
    times.push(performance.now() - start);
    cursor = j.next;
    if (cursor === null) times.push(-1); // a full pass ended here
  }
  await admin.close();
  return times;
}

function runPager(task: PagerTask): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: task, argv: process.argv.slice(2) });
    w.once('message', (times: number[]) => resolve(times));
    w.once('error', reject);
  });
}

async function main(): Promise<void> {
  const predictor = await startChild('predictor');
  const adminPort = await freePort();
  const gateway = await startChild(
    'gateway',
    {
      server: { host: '127.0.0.1', port: 0, drainDelaySeconds: 0 },
      admin: { host: '127.0.0.1', port: adminPort },
      upstream: { url: predictor.url },
      log: { level: 'silent' },
      auth: {
        issuers: [
          {
            issuer: ISSUER,
            hmacSecret: new TextDecoder().decode(SECRET),
            algorithms: ['HS256'],
            audiences: ['inference'],
          },
        ],
      },
      extAuthz: { http: { enabled: true, host: '127.0.0.1', port: 0, pathPrefix: '/authz' } },
      models: {
        iris: {
          labels: ['setosa', 'versicolor', 'virginica'],
          extraction: {
            mode: 'shadow',
            features: { centre: [5.84, 3.06, 3.76, 1.2], scale: [0.83, 0.44, 1.77, 0.76] },
            maxAccounts: ACCOUNTS + 100,
            maxStateBytes: 16 * 1024 ** 3,
          },
        },
      },
      operator: { jwt: { claim: 'roles', values: ['gateway-operator'] }, pageLimit: PAGE },
    },
    { stdout: 'ignore', execArgv: ['--max-old-space-size=8192'] },
  );
  const children: Child[] = [gateway, predictor];
  try {
    const adminUrl = `http://127.0.0.1:${adminPort}`;
    const operator = `Bearer ${await mint('bench-operator', ['gateway-operator'])}`;
    const populated = await populate(gateway.extAuthzHttpUrl!);
    const client = `Bearer ${await mint('bench-client')}`;
    const serving = new Pool(gateway.url, { connections: CONNECTIONS });
    const admin = new Pool(adminUrl, { connections: 1 });
    const body = JSON.stringify({ instances: [[5.1, 3.5, 1.4, 0.2]] });
    const predict = async () => {
      const r = await serving.request({
        method: 'POST',
        path: '/v1/models/iris:predict',
        headers: { authorization: client, 'content-type': 'application/json' },
        body,
      });
      await r.body.text();
      if (r.statusCode !== 200) throw new Error(`predict answered ${r.statusCode}`);
    };
    const page = async (query: string, cursor: string | null): Promise<{ users: number; next: string | null }> => {
      const r = await admin.request({
        method: 'GET',
        path: `/extraction/users?limit=${PAGE}${query}${cursor ? `&cursor=${cursor}` : ''}`,
        headers: { authorization: operator },
      });
      const j = (await r.body.json()) as { users: unknown[]; next: string | null };
      if (r.statusCode !== 200) throw new Error(`page answered ${r.statusCode}`);
      return { users: j.users.length, next: j.next };
    };
    // One full pass first: the index has caught up, and its size is the population.
    let listed = 0;
    for (let c: string | null = null, n = 0; n < 10_000; n++) {
      const p = await page('', c);
      listed += p.users;
      if (!(c = p.next)) break;
    }
    for (let i = 0; i < 2000; i++) await predict(); // warm-up

    const window = async (name: string, query: string | undefined): Promise<Window> => {
      const latencies: number[] = [];
      const pageTimes: number[] = [];
      let passes = 0;
      const until = performance.now() + SECONDS * 1000;
      const cpu0 = await gateway.cpuMicros();
      const load = Array.from({ length: CONNECTIONS }, async () => {
        while (performance.now() < until) {
          const t = performance.now();
          await predict();
          latencies.push(performance.now() - t);
        }
      });
      const paging =
        query === undefined
          ? Promise.resolve([])
          : runPager({ adminUrl, operator, query, until: Date.now() + SECONDS * 1000 });
      const [times] = await Promise.all([paging, ...load]);
      for (const t of times) if (t < 0) passes++;
      pageTimes.push(...times.filter((t) => t >= 0));
      const cpu = (await gateway.cpuMicros()) - cpu0;
      latencies.sort((a, b) => a - b);
      pageTimes.sort((a, b) => a - b);
      return {
        name,
        requests: latencies.length,
        p50: quantile(latencies, 0.5),
        p99: quantile(latencies, 0.99),
        max: latencies[latencies.length - 1] ?? NaN,
        cpuPerRequest: cpu / latencies.length,
        pages: pageTimes.length,
        pageP50: quantile(pageTimes, 0.5),
        pageMax: pageTimes[pageTimes.length - 1] ?? NaN,
        passes,
      };
    };

    // Paging alone: the gateway's CPU per page is the event-loop time a page costs (each page is read in one turn).
    const perPage = async (query: string, pages: number) => {
      const cpu0 = await gateway.cpuMicros();
      let cursor: string | null = null;
      for (let i = 0; i < pages; i++) cursor = (await page(query, cursor)).next;
      return ((await gateway.cpuMicros()) - cpu0) / pages;
    };
    const plainPageCpu = await perPage('', 100);
    const filteredPageCpu = await perPage('&level=block', 100);

    await runPager({ adminUrl, operator, query: '', until: Date.now() + 1000 }); // the pager's own warm-up
    const rows: Window[] = [];
    for (let round = 0; round < 2; round++) {
      rows.push(await window('serving alone', undefined));
      rows.push(await window(`serving + operator paging (limit ${PAGE})`, ''));
      rows.push(
        await window(
          `serving + operator paging, filtered (level=block: ${Math.min(2000, PAGE * 20)} accounts read per page)`,
          '&level=block',
        ),
      );
    }
    await serving.close();
    await admin.close();

    const out: string[] = [];
    out.push(
      `${new Date().toISOString()}, ${ACCOUNTS} accounts populated through the ext-authz door (${populated.toFixed(0)} s), ${listed} listed by one full pass; serving load: ${CONNECTIONS} connections, closed loop, V1 predict of one row through the proxy, ${SECONDS} s per window, two rounds.`,
      '',
      '| window | requests | p50 ms | p99 ms | max ms | gateway CPU µs/req | operator pages | page p50 ms | page max ms | full passes |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows.map(
        (r) =>
          `| ${r.name} | ${r.requests} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.cpuPerRequest.toFixed(0)} | ${r.pages} | ${r.pages ? ms(r.pageP50) : '—'} | ${r.pages ? ms(r.pageMax) : '—'} | ${r.pages ? r.passes : '—'} |`,
      ),
      '',
      `Gateway CPU per page, paging alone (100 pages): ${(plainPageCpu / 1000).toFixed(2)} ms for a plain page of ${PAGE}, ${(filteredPageCpu / 1000).toFixed(2)} ms for a filtered page reading ${Math.min(2000, PAGE * 20)} accounts.`,
    );
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    for (const c of children) await c.stop();
  }
}

/** One scored ext-authz check per account, 32 at a time; returns the seconds it took. */
async function populate(extAuthzUrl: string): Promise<number> {
  const pool = new Pool(extAuthzUrl, { connections: 32 });
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < ACCOUNTS && performance.now() - t0 < POPULATE_DEADLINE_MS) {
      const i = next++;
      const token = await mint(`user-${String(i).padStart(6, '0')}`);
      const row = [5.84 + (i % 7) / 10, 3.06, 3.76 + (i % 5) / 10, 1.2];
      const r = await pool.request({
        method: 'POST',
        path: '/authz/v1/models/iris:predict',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ instances: [row] }),
      });
      await r.body.text();
      if (r.statusCode !== 200) throw new Error(`check answered ${r.statusCode}`);
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  await pool.close();
  if (next < ACCOUNTS)
    throw new Error(`populated only ${next} of ${ACCOUNTS} accounts in ${POPULATE_DEADLINE_MS / 1000} s`);
  return (performance.now() - t0) / 1000;
}

if (isMainThread) await main();
else parentPort!.postMessage(await pager(workerData as PagerTask));
