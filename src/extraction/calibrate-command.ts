import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import type { GatewayConfig } from '../config/schema.js';
import { UNKNOWN_CLASS } from './class-base-rates.js';
import { ModelGuard } from './model-guard.js';

export interface CalibrateOutcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** One recorded request: its account, its rows (V1 `instances`) and, when recorded, the answers. */
interface RecordedRequest {
  readonly user: string;
  readonly instances: readonly (readonly number[])[];
  readonly predictions?: readonly (readonly number[] | number | string)[];
}

/**
 * `inference-gateway calibrate --config FILE --model NAME --requests FILE`: computes the model's
 * calibration from recorded requests (JSON lines, in time order, each
 * `{"user": …, "instances": [[…], …], "predictions": [[probabilities…] | label, …]}`), exactly as
 * the gateway would learn it from live traffic, and prints it as the config block that pins it.
 */
export function calibrateCommand(
  config: GatewayConfig,
  model: string | undefined,
  requests: string | undefined,
  source: string,
): CalibrateOutcome {
  if (!model || !requests)
    return { code: 2, stdout: '', stderr: 'calibrate needs --config FILE --model NAME --requests FILE\n' };
  const m = config.models[model];
  if (!m) return { code: 2, stdout: '', stderr: `model ${JSON.stringify(model)} is not in the config\n` };
  if (!m.extraction.features)
    return { code: 2, stdout: '', stderr: `models.${model}.extraction.features is required to calibrate\n` };
  const c = m.extraction.calibration;
  // Learning mode whatever the file pins, with room for every account of the recording.
  const learning = {
    ...m,
    extraction: {
      ...m.extraction,
      maxAccounts: 10_000_000,
      maxStateBytes: Number.MAX_SAFE_INTEGER,
      calibration: { ...c, pinned: undefined, minAccounts: Math.max(1, c.minAccounts) },
    },
  };
  const guard = new ModelGuard(model, 'shadow', learning);
  const lines = readFileSync(requests, 'utf8').split('\n');
  let n = 0;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.trim();
    if (!text) continue;
    let r: RecordedRequest;
    try {
      r = JSON.parse(text) as RecordedRequest;
    } catch {
      return { code: 1, stdout: '', stderr: `${requests}:${i + 1}: not JSON\n` };
    }
    if (typeof r.user !== 'string' || !Array.isArray(r.instances))
      return { code: 1, stdout: '', stderr: `${requests}:${i + 1}: needs "user" and "instances"\n` };
    const acc = guard.account(r.user, n);
    const rows: readonly (readonly number[])[] = r.instances;
    const answers: RecordedRequest['predictions'] = r.predictions;
    rows.forEach((row, k) => {
      const answer = answers?.[k];
      const p: readonly number[] | undefined = typeof answer === 'object' ? answer : undefined;
      let cls = UNKNOWN_CLASS;
      let margin = Number.NaN;
      if (p && p.length > 0) {
        let best = 0;
        let second = -Infinity;
        for (let j = 1; j < p.length; j++) if (p[j]! > p[best]!) best = j;
        for (let j = 0; j < p.length; j++) if (j !== best && p[j]! > second) second = p[j]!;
        cls = best;
        if (p.length >= 2) margin = p[best]! - second;
      } else if (typeof answer === 'string' || typeof answer === 'number') cls = guard.classIdOf(answer);
      guard.guard.observe(acc, row, cls, margin, n);
    });
    n++;
  }
  const cal = guard.calibration;
  cal.refresh(n);
  if (cal.state !== 'calibrated')
    return {
      code: 1,
      stdout: '',
      stderr: `${requests}: ${cal.accounts} accounts with at least ${c.minQueries} scored queries; calibration needs ${c.minAccounts}\n`,
    };
  const pinned = cal.snapshot();
  const block = { models: { [model]: { extraction: { calibration: { pinned } } } } };
  const header = `# inference-gateway calibrate: ${pinned.accounts} accounts, ${pinned.queries} scored queries, ${n} requests from ${requests} (config ${source})\n`;
  return { code: 0, stdout: header + stringify(block), stderr: '' };
}
