import { request } from 'undici';
import type { GatewayConfig } from '../config/schema.js';
import type { ReadinessCheck } from './readiness.js';

/** In a Knative pod the gateway's readiness stands for the model's: probe the predictor's readiness path. */
export function upstreamReadiness(config: GatewayConfig): ReadinessCheck {
  const url = new URL(config.upstream.readinessPath, config.upstream.url).toString();
  const timeout = config.upstream.readinessTimeoutMs;
  return {
    name: 'predictor',
    async check() {
      try {
        const res = await request(url, {
          method: 'GET',
          headersTimeout: timeout,
          bodyTimeout: timeout,
          signal: AbortSignal.timeout(timeout),
        });
        await res.body.dump();
        return res.statusCode === 200
          ? { ready: true }
          : { ready: false, detail: `predictor readiness answered ${res.statusCode}` };
      } catch (err) {
        return {
          ready: false,
          detail: `predictor unreachable: ${(err as { code?: string }).code ?? (err as Error).message}`,
        };
      }
    },
  };
}
