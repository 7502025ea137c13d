import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { ServerCredentials, type Server as GrpcServer } from '@grpc/grpc-js';
import { buildConfig } from '../../src/config/load-config.js';
import type { GatewayConfig } from '../../src/config/schema.js';
import { DecisionPipeline } from '../../src/decision/pipeline.js';
import type { RequestView } from '../../src/decision/request-view.js';
import type { Stage } from '../../src/decision/stage.js';
import { createExtAuthzGrpcServer } from '../../src/adapters/ext-authz-grpc/ext-authz-grpc-server.js';
import { createExtAuthzHttpServer } from '../../src/adapters/ext-authz-http/ext-authz-http-server.js';
import { createLogger } from '../../src/observability/logger.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';

export interface DoorFixture {
  readonly httpUrl: string;
  readonly grpcAddress: string;
  readonly metrics: GatewayMetrics;
  readonly config: GatewayConfig;
  /** Every RequestView the pipeline's stage saw, in order. */
  readonly seen: RequestView[];
  close(): Promise<void>;
}

/**
 * Both ext-authz doors over a real DecisionPipeline whose only stage is the test's own, so the
 * door plumbing (headers to set / remove / return, denials) is exercised without waiting for
 * the capabilities that produce them.
 */
export async function startDoors(
  stage: (seen: RequestView[]) => Stage,
  raw: Record<string, unknown> = {},
): Promise<DoorFixture> {
  const config = buildConfig(
    {
      log: { level: 'silent' },
      models: { iris: {} },
      auth: { enabled: false },
      extAuthz: {
        http: { enabled: true, host: '127.0.0.1', port: 0, pathPrefix: '/authz' },
        grpc: { enabled: true, host: '127.0.0.1', port: 0 },
      },
      ...raw,
    },
    'test',
  );
  const seen: RequestView[] = [];
  const log = createLogger('silent');
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const pipeline = new DecisionPipeline(config, [stage(seen)], log);
  const deps = { config, pipeline, metrics, log };
  const http: Server = createExtAuthzHttpServer(deps);
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const grpc: GrpcServer = createExtAuthzGrpcServer(deps);
  const port = await new Promise<number>((resolve, reject) =>
    grpc.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    httpUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    grpcAddress: `127.0.0.1:${port}`,
    metrics,
    config,
    seen,
    close: async () => {
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
      grpc.forceShutdown();
    },
  };
}

/** Current value of a counter with exactly these labels (0 when never incremented). */
export async function counterValue(
  metrics: GatewayMetrics,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const data = await metric.get();
  const hit = data.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return hit?.value ?? 0;
}
