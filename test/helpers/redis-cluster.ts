// A real Redis Cluster on loopback: three masters started by the test, joined by redis-cli
// (https://redis.io/docs/latest/operate/oss_and_stack/management/scaling/), no replicas.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { redisBinary, startRedis, type RedisServer } from './redis-server.js';
import { until } from './wait.js';

export interface RedisCluster {
  /** `host:port` of each master, the seed list a cluster client takes. */
  readonly nodes: readonly string[];
  /** A plain client of each master (not cluster-aware): to read what each one holds and ran. */
  readonly masters: readonly Redis[];
  stop(): Promise<void>;
}

/** Three cluster-enabled redis-servers on free ports, every slot assigned; fails when redis-server or redis-cli is missing. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const cli = redisBinary('redis-cli');
  const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
  const servers: RedisServer[] = [];
  const masters: Redis[] = [];
  try {
    for (let i = 0; i < 3; i++)
      servers.push(
        await startRedis([
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${i}.conf`,
          '--cluster-node-timeout',
          '2000',
          '--dir',
          dir,
        ]),
      );
    const nodes = servers.map((s) => `127.0.0.1:${s.port}`);
    await promisify(execFile)(cli, ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: 30_000,
    });
    masters.push(...servers.map((s) => new Redis(s.url)));
    await until(
      'every node sees the cluster as ok',
      async () =>
        (await Promise.all(masters.map((m) => m.cluster('INFO')))).every((t) => t.includes('cluster_state:ok')),
      20_000,
    );
    return {
      nodes,
      masters,
      stop: async () => {
        for (const m of masters) m.disconnect();
        await Promise.all(servers.map((s) => s.stop()));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    for (const m of masters) m.disconnect();
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
