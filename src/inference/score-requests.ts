import type { InferenceRequest } from './inference-request.js';
import type { ModelContract } from './model-contract.js';
import { isObject } from './json-object.js';

const requestedOutputs = (doc: Record<string, unknown>): Array<Record<string, unknown>> =>
  Array.isArray(doc['outputs']) ? doc['outputs'].filter(isObject) : [];

/**
 * Why this V2 request asks for more than the policy lets out (sklearn, xgboost and lightgbm servers, MLServer, and Triton's classification extension, https://github.com/triton-inference-server/server/blob/main/docs/protocol/extension_classification.md): MLServer's
 * `predict_proba` output, Triton `classification` above the classes allowed, or binary outputs
 * (opaque bytes a check cannot vouch for). Undefined when it asks for nothing more.
 */
export function scoreRequestReason(req: InferenceRequest, c: ModelContract): string | undefined {
  if (req.protocol !== 'v2') return undefined;
  const doc = req.doc;
  if (isObject(doc['parameters']) && doc['parameters']['binary_data_output'] === true)
    return 'the request asks for binary outputs (binary_data_output)';
  for (const o of requestedOutputs(doc)) {
    if (o['name'] === 'predict_proba') return 'the request asks for the predict_proba output (class probabilities)';
    const p = isObject(o['parameters']) ? o['parameters'] : undefined;
    if (p?.['binary_data'] === true) return `the request asks for output ${String(o['name'])} as binary data`;
    // Triton answers every classification entry as "<score>:<index>[:<label>]", even for a count
    // of 1, and reads the count from a number or a string ("5"): any count carries unrounded
    // scores, which no policy lets out without the rewrite only the proxy can do.
    if (p !== undefined && 'classification' in p)
      return `the request asks for classes with scores (Triton classification ${JSON.stringify(p['classification'])}), which the ${c.policy} policy does not let out unrewritten`;
  }
  return undefined;
}

/**
 * The request the proxy sends instead, so answers come back as JSON the response policy can
 * reduce: binary output parameters removed, Triton `classification` capped at the classes allowed.
 * Undefined when nothing needs changing (the original bytes go upstream).
 */
export function rewrittenForPolicy(req: InferenceRequest, c: ModelContract): Record<string, unknown> | undefined {
  if (req.protocol !== 'v2') return undefined;
  const doc = req.doc;
  let changed = false;
  let parameters = doc['parameters'];
  if (isObject(parameters) && 'binary_data_output' in parameters) {
    const { binary_data_output: _drop, ...rest } = parameters;
    parameters = rest;
    changed = true;
  }
  const outputs = Array.isArray(doc['outputs'])
    ? doc['outputs'].map((o: unknown) => {
        if (!isObject(o) || !isObject(o['parameters'])) return o;
        const { binary_data: _b, ...p } = o['parameters'];
        const k = p['classification'];
        // Any type Triton might read ("5", 5.0, 99): capped to the classes the policy lets out.
        if (k !== undefined && !(typeof k === 'number' && Number.isInteger(k) && k >= 1 && k <= c.classesOut))
          p['classification'] = c.classesOut;
        if ('binary_data' in o['parameters'] || p['classification'] !== k) {
          changed = true;
          return { ...o, parameters: p };
        }
        return o;
      })
    : undefined;
  if (!changed) return undefined;
  return { ...doc, ...(parameters !== undefined ? { parameters } : {}), ...(outputs ? { outputs } : {}) };
}
