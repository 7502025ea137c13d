// What may leave around a reduced answer, whatever its status: on a route whose policy reduces
// answers to labels, every byte the predictor sends is a possible side door for its scores — an
// error body that echoes probabilities, a runtime's `x-model-scores` header, a redirect's
// Location. So only the gateway's own bytes and an allowlist of upstream headers leave.

import type { RewrittenAnswer, UpstreamAnswer } from '../decision/decision-context.js';

const JSON_TYPE = 'application/json';

/** Upstream response headers that leave a reduced route, lower-cased; built once per model. */
export type HeaderAllowlist = ReadonlySet<string>;

export function headerAllowlist(names: readonly string[]): HeaderAllowlist {
  return new Set(names.map((n) => n.toLowerCase()));
}

/** The allowlisted upstream headers of an answer (the door adds its own: framing, request id, RateLimit). */
export function allowedHeaders(answer: UpstreamAnswer, allow: HeaderAllowlist): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (allow.size === 0) return out;
  for (const name in answer.headers) {
    const v = answer.headers[name];
    if (v !== undefined && allow.has(name.toLowerCase())) out[name.toLowerCase()] = v;
  }
  return out;
}

/**
 * A non-2xx predictor answer on a reduced route becomes the gateway's own error: the status is
 * kept (a client still learns 400 from 503), the body is a generic message in KServe's error shape
 * (kserve/kserve errors.py: `{"error": ...}`) with a stable code, and the predictor's body stays
 * behind (the caller logs it at debug).
 */
export function upstreamErrorAnswer(answer: UpstreamAnswer, allow: HeaderAllowlist): RewrittenAnswer {
  const body = Buffer.from(
    JSON.stringify({
      error: `the predictor answered ${answer.status}; its answer is withheld under this model's response policy`,
      code: 'upstream_error',
    }),
  );
  return { ok: true, status: answer.status, headers: allowedHeaders(answer, allow), body, contentType: JSON_TYPE };
}
