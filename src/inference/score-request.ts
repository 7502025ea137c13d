// Request features that ask a predictor for scores (PROTOCOLS.md §4.3): MLServer
// `outputs: [{"name": "predict_proba"}]`, Triton `classification` > 1, and the binary
// extension's `binary_data` / `binary_data_output`, whose opaque bytes we would have to parse.
import type { ResponsePolicy } from './model-contract.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Why this V2 request asks for more than the policy reveals, or undefined. */
export function scoreRequestReason(doc: Record<string, unknown>, policy: Exclude<ResponsePolicy, 'full'>, topK: number): string | undefined {
  const outputs = doc['outputs'];
  if (!Array.isArray(outputs)) return undefined;
  for (const o of outputs) {
    if (!isObject(o)) continue;
    if (o['name'] === 'predict_proba') return `output "predict_proba" returns class probabilities, and this model's response policy is ${policy}`;
    const k = isObject(o['parameters']) ? o['parameters']['classification'] : undefined;
    const allowed = policy === 'labels' ? 1 : topK;
    if (typeof k === 'number' && k > allowed) return `classification ${k} returns ${k} scored classes, and this model's response policy allows ${allowed}`;
  }
  return undefined;
}

/** Removes binary-output requests in place so the answer comes back as JSON; true when something was removed. */
export function stripBinaryOutputs(doc: Record<string, unknown>): boolean {
  let changed = false;
  const params = doc['parameters'];
  if (isObject(params) && 'binary_data_output' in params) {
    delete params['binary_data_output'];
    changed = true;
  }
  const outputs = doc['outputs'];
  if (Array.isArray(outputs)) {
    for (const o of outputs) {
      const p = isObject(o) ? o['parameters'] : undefined;
      if (isObject(p) && 'binary_data' in p) {
        delete p['binary_data'];
        changed = true;
      }
    }
  }
  return changed;
}
