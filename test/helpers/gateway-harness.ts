import { buildConfig } from '../../src/config/load-config.js';
import type { GatewayConfig } from '../../src/config/schema.js';
import { Gateway } from '../../src/gateway.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import {
  startDemoPredictor,
  type DemoPredictor,
  type DemoPredictorOptions,
} from '../../src/quickstart/demo-predictor.js';

export interface Harness {
  readonly gateway: Gateway;
  readonly predictor: DemoPredictor;
  readonly url: string;
  readonly adminUrl: string;
  /** Set when the config enables the HTTP ext-authz door. */
  readonly extAuthzHttpUrl: string | undefined;
  /** host:port, set when the config enables the gRPC ext-authz door. */
  readonly extAuthzGrpcAddress: string | undefined;
  /** host:port, set when the config sets server.grpcPort. */
  readonly grpcAddress: string | undefined;
  readonly config: GatewayConfig;
  close(): Promise<void>;
}

type Raw = Record<string, unknown>;

function merge(base: Raw, over: Raw): Raw {
  const out: Raw = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? merge(b as Raw, v as Raw)
        : v;
  }
  return out;
}

export interface HarnessOptions {
  /** The gateway's clock (tests move it instead of sleeping). */
  readonly now?: () => number;
  /** The gateway's logger (tests that read access lines pass one writing to a stream); silent by default. */
  readonly log?: Logger;
}

/** A real predictor and a real gateway on port 0; `config` is merged over loopback defaults. */
export async function startHarness(
  config: (predictorUrl: string) => Raw = () => ({}),
  predictorOptions: DemoPredictorOptions = {},
  options: HarnessOptions = {},
): Promise<Harness> {
  const predictor = await startDemoPredictor({ remember: 50, ...predictorOptions });
  const raw = merge(
    {
      server: { host: '127.0.0.1', port: 0, shutdownGraceSeconds: 2, drainDelaySeconds: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      upstream: { url: predictor.url },
      log: { level: 'silent' },
      models: { iris: {} },
      auth: { enabled: false },
    },
    config(predictor.url),
  );
  const cfg = buildConfig(raw, 'test');
  const gateway = await Gateway.create(cfg, {
    log: options.log ?? createLogger('silent'),
    defaultMetrics: false,
    ...(options.now ? { now: options.now } : {}),
  });
  const at = await gateway.listen();
  return {
    gateway,
    predictor,
    url: at.url,
    adminUrl: at.adminUrl,
    extAuthzHttpUrl: at.extAuthzHttpUrl,
    extAuthzGrpcAddress: at.extAuthzGrpcAddress,
    grpcAddress: at.grpcAddress,
    config: cfg,
    close: async () => {
      await gateway.close();
      await predictor.close();
    },
  };
}
