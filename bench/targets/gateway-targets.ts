// Our gateway in the configurations the tables compare: pass-through, then one capability at a
// time, then everything on. Each runs in its own process (bench/server-process.ts) with its
// production defaults except where a row says otherwise; its access log is on and written to
// /dev/null (the cost of building and writing each line is paid).
import { join } from 'node:path';
import { buildConfig } from '../../src/config/load-config.js';
import { DEMO_LABELS } from '../../src/quickstart/demo-model.js';
import { startRedis, type RedisServer } from '../../test/helpers/redis-server.js';
import { startChild } from '../child-processes.js';
import type { BenchIdentity } from '../bench-identity.js';
import type { RunningTarget, Target, TargetEnv } from './target.js';

type Config = Record<string, unknown>;

// Budgets far above what a run spends: the bench measures the cost of counting, not refusals.
export const ROOMY_WINDOWS = [
  { name: 'burst', predictions: 1_000_000_000, perSeconds: 1 },
  { name: 'daily', predictions: 1_000_000_000, perSeconds: 86400 },
];

/** The iris model's input contract, as the README's example declares it. */
const IRIS_INPUT = { features: 4, shape: [4], datatype: 'FP32', min: 0, max: 10, maxBatch: 256 };
const labelsModel = { labels: [...DEMO_LABELS], input: IRIS_INPUT };
// A regression model's answer is not reduced: the answer passes through unchanged.
const passModel = { task: 'regression' };

/**
 * The extraction guard scoring every query and acting on it: enforce mode, in force from the
 * first request (`minAccounts: 0` enforces the published thresholds; a deployment's population
 * calibration would take 200 accounts the bench does not have), so the gate looks every account
 * up and reads its level on every request. The bench sends one identical query thousands of times
 * per user: exact re-sends are counted apart and are no evidence, so no account escalates (the
 * bench counts any non-2xx answer as a failure). Features scaled by the iris training set's
 * per-feature mean and standard deviation (Fisher 1936, as in the UCI Iris data set description).
 */
export const EXTRACTION_MODEL_FIELDS = {
  extraction: {
    mode: 'enforce',
    features: { centre: [5.843, 3.057, 3.758, 1.199], scale: [0.825, 0.434, 1.759, 0.76] },
    calibration: { minAccounts: 0 },
  },
};

/** Why this build cannot run the extraction rows, or undefined when its schema takes the field. */
export function extractionNotBuilt(): string | undefined {
  try {
    buildConfig(
      { auth: { enabled: false }, models: { iris: { ...labelsModel, ...EXTRACTION_MODEL_FIELDS } } },
      'bench',
    );
    return undefined;
  } catch (e) {
    const first = (e as { problems?: Array<{ path: string; message: string }> }).problems?.[0];
    return `not built: this build's config refuses models.iris.extraction${first ? ` (${first.path}: ${first.message})` : ''}`;
  }
}

export const authConfig = (id: BenchIdentity): Config => ({
  auth: { issuers: [{ issuer: id.issuer, jwks: id.jwks, audiences: [id.audience], algorithms: ['RS256'] }] },
});

/** A gateway config for a bench child: both ports chosen by the kernel on loopback, forwarding to the predictor. */
export const gatewayChildConfig = (predictorUrl: string, cfg: Config): Config => ({
  server: { host: '127.0.0.1', port: 0 },
  admin: { host: '127.0.0.1', port: 0 },
  upstream: { url: predictorUrl },
  ...cfg,
});

function gatewayTarget(
  id: string,
  name: string,
  authenticates: boolean,
  config: (env: TargetEnv, redis: () => Promise<string>) => Promise<Config> | Config,
  notBuilt?: string,
): Target {
  return {
    id,
    name,
    group: 'gateway',
    authenticates,
    ...(notBuilt ? { notBuilt } : {}),
    async start(env: TargetEnv): Promise<RunningTarget> {
      let redis: RedisServer | undefined;
      const cfg = await config(env, async () => (redis ??= await startRedis()).url);
      const profile = env.profileDir
        ? ['--cpu-prof', `--cpu-prof-dir=${env.profileDir}`, `--cpu-prof-name=${id}.cpuprofile`]
        : [];
      try {
        const child = await startChild('gateway', gatewayChildConfig(env.predictorUrl, cfg), {
          execArgv: profile,
          stdout: 'ignore',
        });
        return {
          url: child.url,
          pid: child.pid,
          async stop() {
            await child.stop();
            await redis?.stop();
          },
        };
      } catch (e) {
        await redis?.stop();
        throw e;
      }
    },
  };
}

const extraction = extractionNotBuilt();
const extractionFields = extraction ? {} : EXTRACTION_MODEL_FIELDS;

/** The everything-on row's config (without server, admin and upstream), also measured in-process by bench/profiles. */
export const everythingOnConfig = (id: BenchIdentity): Config => ({
  ...authConfig(id),
  models: { iris: { ...labelsModel, ...extractionFields } },
  limits: { default: ROOMY_WINDOWS },
});

export const gatewayTargets: Target[] = [
  gatewayTarget('gw-pass', 'gateway pass-through', false, () => ({
    auth: { enabled: false },
    models: { iris: passModel },
  })),
  gatewayTarget('gw-auth', 'gateway + auth (warm cache)', true, (env) => ({
    ...authConfig(env.identity),
    models: { iris: passModel },
  })),
  gatewayTarget('gw-limits-mem', 'gateway + auth + limits (memory)', true, (env) => ({
    ...authConfig(env.identity),
    models: { iris: passModel },
    limits: { default: ROOMY_WINDOWS },
  })),
  gatewayTarget('gw-limits-redis', 'gateway + auth + limits (Redis)', true, async (env, redis) => ({
    ...authConfig(env.identity),
    models: { iris: passModel },
    limits: { default: ROOMY_WINDOWS, store: { kind: 'redis', redisUrl: await redis() } },
  })),
  gatewayTarget('gw-labels', 'gateway + labels-only', false, () => ({
    auth: { enabled: false },
    models: { iris: labelsModel },
  })),
  gatewayTarget(
    'gw-extraction',
    'gateway + auth + extraction (enforce)',
    true,
    (env) => ({ ...authConfig(env.identity), models: { iris: { ...labelsModel, ...EXTRACTION_MODEL_FIELDS } } }),
    extraction,
  ),
  gatewayTarget(
    'gw-all',
    `gateway, everything on (auth, memory limits, labels-only${extraction ? '' : ', extraction enforced'})`,
    true,
    (env) => everythingOnConfig(env.identity),
  ),
  gatewayTarget('gw-all-redis', 'gateway, everything on, limits on Redis', true, async (env, redis) => {
    const cfg = everythingOnConfig(env.identity);
    return { ...cfg, limits: { ...(cfg['limits'] as Config), store: { kind: 'redis', redisUrl: await redis() } } };
  }),
];

export const gatewayEverythingOnId = 'gw-all';
export const profileFile = (dir: string, id: string) => join(dir, `${id}.cpuprofile`);
