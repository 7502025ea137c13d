import type { DecisionContext } from '../../decision/decision-context.js';
import { underscoredNames } from '../intake/intake.js';

/**
 * The 200 answer's headers. Envoy copies those matching `headersToUpstreamOnAllow` onto the
 * upstream request (overwriting), those matching `headersToDownstreamOnAllow` onto the client
 * answer, and strips every name listed in `x-envoy-auth-headers-to-remove` from the upstream
 * request (Envoy ext_authz filter, https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/ext_authz_filter). A name we set is not also listed for removal: whether Envoy
 * removes before or after setting is not part of the protocol, and setting already overwrites
 * the client's copy.
 */
export function allowHeaders(ctx: DecisionContext): Record<string, string> {
  const out: Record<string, string> = { 'content-length': '0' };
  const up = ctx.upstreamHeaders;
  for (const k in up) out[k] = up[k] as string;
  const down = ctx.responseHeaders;
  for (const k in down) out[k] = down[k] as string;
  let remove = '';
  // Underscored names the check saw are removed too (see hasUnderscore); Envoy only shows the
  // check the headers its allow list names, so those are all this door can strip.
  for (const h of [...ctx.removeUpstreamHeaders, ...underscoredNames(ctx.view.headers)]) {
    if (h in up) continue;
    remove = remove === '' ? h : `${remove}, ${h}`;
  }
  if (remove !== '') out['x-envoy-auth-headers-to-remove'] = remove;
  return out;
}
