import type { DecisionContext } from '../../decision/decision-context.js';
import type { Denial } from '../../decision/denial.js';
import { codeInfo, GrpcCode } from '../../decision/error-codes.js';
import { renderHttpDenial } from '../../decision/http-denial.js';
import type { CheckResponseMessage, HeaderOption } from './check-codec.js';

// HeaderValueOption.append_action OVERWRITE_IF_EXISTS_OR_ADD (https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/core/v3/base.proto).
const OVERWRITE_IF_EXISTS_OR_ADD = 2;
const OVERWRITE = Object.freeze({ value: false });

/**
 * Deny: a non-OK status from the code table's gRPC column (an unset status would mean allow)
 * and the same HTTP status, headers and JSON body the proxy would answer.
 */
export function deniedCheckResponse(denial: Denial, realm: string): CheckResponseMessage {
  const r = renderHttpDenial(denial, realm);
  const headers: HeaderOption[] = [];
  for (const key in r.headers) headers.push({ header: { key, value: r.headers[key] as string } });
  return {
    status: { code: codeInfo(denial.code).grpc, message: denial.message },
    denied_response: { status: { code: r.status }, headers, body: r.body },
  };
}

/**
 * Allow: identity headers overwrite the upstream request's, RateLimit headers go to the client,
 * and names we inject but did not set this time (client copies, the token) are removed.
 * Envoy applies removals after setting, so a name we set is never listed for removal.
 */
export function okCheckResponse(ctx: DecisionContext): CheckResponseMessage {
  const up = ctx.upstreamHeaders;
  const headers: HeaderOption[] = [];
  for (const key in up) headers.push({ header: { key, value: up[key] as string }, append: OVERWRITE });
  const down = ctx.responseHeaders;
  const response_headers_to_add: HeaderOption[] = [];
  for (const key in down) response_headers_to_add.push({ header: { key, value: down[key] as string }, append_action: OVERWRITE_IF_EXISTS_OR_ADD });
  const headers_to_remove: string[] = [];
  for (const h of ctx.removeUpstreamHeaders) if (!(h in up)) headers_to_remove.push(h);
  return { status: { code: GrpcCode.OK }, ok_response: { headers, headers_to_remove, response_headers_to_add } };
}
