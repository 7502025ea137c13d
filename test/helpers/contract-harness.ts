import { buildConfig } from '../../src/config/load-config.js';
import { Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { startFixturePredictor, type FixturePredictor } from './fixture-predictor.js';

export interface ContractHarness {
  readonly url: string;
  readonly predictor: FixturePredictor;
  close(): Promise<void>;
}

/** The real gateway in front of a fixture predictor, with the given models (auth off unless given). */
export async function startContractHarness(models: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<ContractHarness> {
  const predictor = await startFixturePredictor();
  const cfg = buildConfig(
    {
      server: { host: '127.0.0.1', port: 0, shutdownGraceSeconds: 1 },
      admin: { host: '127.0.0.1', port: 0 },
      upstream: { url: predictor.url },
      log: { level: 'silent' },
      auth: { enabled: false },
      models,
      ...extra,
    },
    'test',
  );
  const gateway = await Gateway.create(cfg, { log: createLogger('silent'), defaultMetrics: false });
  const at = await gateway.listen();
  return {
    url: at.url,
    predictor,
    close: async () => {
      await gateway.close();
      await predictor.close();
    },
  };
}
