import type { DecisionContext } from '../../decision/decision-context.js';
import { underscoredNames } from '../intake/intake.js';
import type { Denial } from '../../decision/denial.js';
import { codeInfo, GrpcCode } from '../../decision/error-codes.js';
import { renderCheckDenial } from '../../decision/http-denial.js';
import type { RequestView } from '../../decision/request-view.js';
import { isGrpcCall } from '../../inference/grpc-route.js';
import type { CheckResponseMessage, HeaderOption, ProtoStruct, StructValue } from './check-codec.js';

// HeaderValueOption.append_action OVERWRITE_IF_EXISTS_OR_ADD (https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/core/v3/base.proto).
const OVERWRITE_IF_EXISTS_OR_ADD = 2;
const OVERWRITE = Object.freeze({ value: false });

/**
 * `CheckResponse.dynamic_metadata`: Envoy emits it under `envoy.filters.http.ext_authz` for
 * access logs and later filters (Envoy ext_authz filter docs, "Dynamic Metadata"). It carries the
 * decision, the model route and, once known, the cost and the verified subject — never a token,
 * a claim header value or a score.
 */
export function decisionMetadata(ctx: DecisionContext | undefined, decision: string): ProtoStruct {
  const fields: Record<string, StructValue> = { decision: { stringValue: decision } };
  const route = ctx?.route.kind === 'model' ? ctx.route.route : undefined;
  if (route) {
    fields['model'] = { stringValue: route.model };
    fields['verb'] = { stringValue: route.verb };
  }
  if (ctx && decision === 'allowed') fields['cost'] = { numberValue: ctx.cost };
  if (ctx?.identity) fields['subject'] = { stringValue: ctx.identity.subject };
  return { fields };
}

/**
 * Deny: a non-OK status from the code table's gRPC column (an unset status would mean allow)
 * and the same HTTP status, headers and JSON body the proxy would answer, with `grpc-status` for a
 * gRPC call (renderCheckDenial), so its client sees what the gateway's gRPC door would answer.
 */
export function deniedCheckResponse(
  denial: Denial,
  realm: string,
  ctx?: DecisionContext,
  view: RequestView | undefined = ctx?.view,
): CheckResponseMessage {
  const r = renderCheckDenial(denial, realm, view !== undefined && isGrpcCall(view));
  const headers: HeaderOption[] = [];
  for (const key in r.headers) headers.push({ header: { key, value: r.headers[key] as string } });
  return {
    status: { code: codeInfo(denial.code).grpc, message: denial.message },
    denied_response: { status: { code: r.status }, headers, body: r.body },
    dynamic_metadata: decisionMetadata(ctx, denial.code),
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
  for (const key in down)
    response_headers_to_add.push({
      header: { key, value: down[key] as string },
      append_action: OVERWRITE_IF_EXISTS_OR_ADD,
    });
  const headers_to_remove: string[] = [];
  // Underscored names are removed too (see hasUnderscore): a CGI-style predictor would read them as their hyphenated twins.
  for (const h of [...ctx.removeUpstreamHeaders, ...underscoredNames(ctx.view.headers)])
    if (!(h in up)) headers_to_remove.push(h);
  return {
    status: { code: GrpcCode.OK },
    ok_response: { headers, headers_to_remove, response_headers_to_add },
    dynamic_metadata: decisionMetadata(ctx, 'allowed'),
  };
}
