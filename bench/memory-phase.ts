// One gateway with per-user state (limits, and extraction when built): resident memory and p99
// after N distinct users, and CPU per request for a user with about 10² prior requests against
// one with 10⁵. Run twice by the bench: without a limit, and inside a memory cgroup (a pod's
// memory limit), where only the users step runs. HS256 tokens, because minting 100,000 RS256
// tokens would take minutes; the verified-token cache fills with them all the same.
import { randomBytes } from 'node:crypto';
import { hs256TokenFactory } from './bench-identity.js';
import { v2InferCall, type BenchCall } from './load/bench-call.js';
import { countedLoad, type CountedResult } from './load/counted-load.js';
import { cpuMicros, memoryOf } from './proc-stats.js';
import { startChild } from './child-processes.js';
import { DEMO_LABELS } from '../src/quickstart/demo-model.js';
import type { CgroupReading, MemoryCgroup } from './memory-cgroup.js';
import { EXTRACTION_MODEL_FIELDS, ROOMY_WINDOWS } from './targets/gateway-targets.js';

export interface MemoryPhaseOptions {
  readonly predictorUrl: string;
  readonly users: number;
  readonly history: number;
  readonly connections: number;
  readonly extractionBuilt: boolean;
  /** Requests in each CPU window of the history comparison. */
  readonly window: number;
  readonly maxSecondsPerStep: number;
  readonly log: (line: string) => void;
  /** Start the gateway inside this group (its limit is the pod's) and skip the history windows. */
  readonly cgroup?: MemoryCgroup;
  /** Node flags of the gateway beyond --expose-gc (the deployment's NODE_OPTIONS for the pod run). */
  readonly nodeFlags?: readonly string[];
}

export interface MemoryPhaseResult {
  readonly config: string;
  readonly rssBeforeBytes: number;
  readonly rssAfterBytes: number;
  readonly peakRssBytes: number;
  /** RSS right after a full garbage collection following the users: what the state itself holds. */
  readonly rssAfterGcBytes: number;
  /** V8 heap in use after that collection: the live objects, per-user state included. */
  readonly heapAfterGcBytes: number;
  readonly users: CountedResult;
  /** CPU of the gateway process per request of the users step. */
  readonly usersCpuMicrosPerRequest: number;
  /** The Node flags the gateway ran with (beyond --expose-gc). */
  readonly nodeFlags: readonly string[];
  /** V8's heap limit as the gateway sized it at start-up, and its young generation after the users. */
  readonly heapLimitBytes: number;
  readonly youngBytes: number;
  /** Set for the run inside a cgroup: the group's limit and what it recorded. */
  readonly cgroup?: { readonly version: 1 | 2; readonly limitBytes: number } & CgroupReading;
  /** Not measured inside the cgroup (the history question does not depend on the limit). */
  readonly fewPrior?: { prior: number; cpuMicrosPerRequest: number; window: CountedResult };
  readonly manyPrior?: { prior: number; cpuMicrosPerRequest: number; window: CountedResult; history: CountedResult };
}

const ISSUER = 'https://hs.bench.invalid';
const AUDIENCE = 'inference-bench';

export async function memoryPhase(o: MemoryPhaseOptions): Promise<MemoryPhaseResult> {
  const secret = randomBytes(32).toString('base64url');
  const token = hs256TokenFactory(secret, ISSUER, AUDIENCE);
  const model = {
    labels: [...DEMO_LABELS],
    input: { features: 4, shape: [4], datatype: 'FP32', min: 0, max: 10, maxBatch: 256 },
    ...(o.extractionBuilt ? EXTRACTION_MODEL_FIELDS : {}),
  };
  const gateway = await startChild(
    'gateway',
    {
      server: { host: '127.0.0.1', port: 0, drainDelaySeconds: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      upstream: { url: o.predictorUrl },
      auth: { issuers: [{ issuer: ISSUER, hmacSecret: secret, audiences: [AUDIENCE], algorithms: ['HS256'] }] },
      models: { iris: model },
      limits: { default: ROOMY_WINDOWS },
    },
    {
      stdout: 'ignore',
      execArgv: ['--expose-gc', ...(o.nodeFlags ?? [])],
      ...(o.cgroup ? { cgroupProcs: o.cgroup.procsFile } : {}),
    },
  );
  const config = `auth (HS256), memory limits (2 windows per user), labels-only${o.extractionBuilt ? ', extraction (enforce)' : ''}`;
  try {
    const oneUser = (sub: string): ((i: number) => BenchCall) => {
      const call = v2InferCall(1, token(sub));
      return () => call;
    };
    const cpuWindow = async (callFor: (i: number) => BenchCall) => {
      const before = cpuMicros(gateway.pid);
      const window = await countedLoad(gateway.url, callFor, o.window, o.connections, o.maxSecondsPerStep);
      return { window, cpuMicrosPerRequest: (cpuMicros(gateway.pid) - before) / Math.max(1, window.requests) };
    };

    o.log('memory: warm-up, 10,000 requests of 100 users');
    await countedLoad(
      gateway.url,
      (i) => v2InferCall(1, token(`warm-${i % 100}`)),
      10_000,
      o.connections,
      o.maxSecondsPerStep,
    );

    const rssBeforeBytes = memoryOf(gateway.pid).rss;
    const cpuBefore = cpuMicros(gateway.pid);
    o.log(
      `memory: ${o.users} distinct users${o.cgroup ? `, inside a ${o.cgroup.limitBytes / 1048576} MiB cgroup (v${o.cgroup.version})` : ''}`,
    );
    const users = await countedLoad(
      gateway.url,
      (i) => v2InferCall(1, token(`user-${i}`)),
      o.users,
      o.connections,
      o.maxSecondsPerStep,
    );
    const usersCpuMicrosPerRequest = (cpuMicros(gateway.pid) - cpuBefore) / Math.max(1, users.requests);
    const after = memoryOf(gateway.pid);
    const { heapLimit, youngBytes } = await gateway.heap();
    const heapAfterGcBytes = await gateway.collectGarbage();
    if (heapAfterGcBytes === undefined) throw new Error('the memory gateway was started without --expose-gc');
    const rssAfterGcBytes = memoryOf(gateway.pid).rss;
    const measured = {
      config,
      rssBeforeBytes,
      rssAfterBytes: after.rss,
      rssAfterGcBytes,
      heapAfterGcBytes,
      peakRssBytes: Math.max(after.peakRss, memoryOf(gateway.pid).peakRss),
      users,
      usersCpuMicrosPerRequest,
      nodeFlags: o.nodeFlags ?? [],
      heapLimitBytes: heapLimit,
      youngBytes,
    };
    if (o.cgroup)
      return {
        ...measured,
        cgroup: { version: o.cgroup.version, limitBytes: o.cgroup.limitBytes, ...o.cgroup.read() },
      };

    // History, measured after the users so both windows see the same heap and caches: 20 users
    // with 10² prior requests each (a window spread over them keeps every measured request at
    // 10²–3·10² before it) against one user with 10⁵. The windows alternate twice, so drift of
    // the machine falls on both.
    const FEW_USERS = 20;
    const fewCalls = Array.from({ length: FEW_USERS }, (_, u) => v2InferCall(1, token(`user-few-${u}`)));
    const few = (i: number) => fewCalls[i % FEW_USERS]!;
    await countedLoad(gateway.url, few, FEW_USERS * 100, o.connections, o.maxSecondsPerStep);
    o.log(`memory: ${o.history} requests of one user`);
    const hot = oneUser('user-hot');
    const history = await countedLoad(gateway.url, hot, o.history, o.connections, o.maxSecondsPerStep);
    const windows = {
      few: [] as Awaited<ReturnType<typeof cpuWindow>>[],
      many: [] as Awaited<ReturnType<typeof cpuWindow>>[],
    };
    for (let i = 0; i < 2; i++) {
      windows.few.push(await cpuWindow(few));
      windows.many.push(await cpuWindow(hot));
    }
    const pooled = (ws: Awaited<ReturnType<typeof cpuWindow>>[]) => {
      const requests = ws.reduce((n, w) => n + w.window.requests, 0);
      return {
        window: { ...ws[0]!.window, requests },
        cpuMicrosPerRequest:
          ws.reduce((n, w) => n + w.cpuMicrosPerRequest * w.window.requests, 0) / Math.max(1, requests),
      };
    };
    const fewPrior = { prior: 100, ...pooled(windows.few) };
    const manyPrior = { prior: history.requests, history, ...pooled(windows.many) };
    return { ...measured, fewPrior, manyPrior };
  } catch (e) {
    // Inside a cgroup the likely cause is the OOM killer: say what the group recorded.
    if (!o.cgroup) throw e;
    const r = o.cgroup.read();
    throw new Error(
      `${(e as Error).message} (cgroup: ${r.oomKills} OOM kill(s), peak ${(r.peakBytes / 1048576).toFixed(0)} MiB of ${o.cgroup.limitBytes / 1048576})`,
      { cause: e },
    );
  } finally {
    await gateway.stop();
  }
}
