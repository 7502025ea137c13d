import { buildConfig } from '../../src/config/load-config.js';
import { ModelGuard } from '../../src/extraction/model-guard.js';

/** The extraction guard of a model `m` in enforce mode, built from `extraction` as the config loader reads it. */
export function enforcingGuard(extraction: Record<string, unknown>): ModelGuard {
  const config = buildConfig({
    auth: { enabled: false },
    models: { m: { extraction: { mode: 'enforce', ...extraction } } },
  });
  return new ModelGuard('m', 'enforce', config.models['m']!);
}
