import { deny, type Denial } from '../../decision/denial.js';

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'FST_REPLY_FROM_GATEWAY_TIMEOUT', 'FST_REPLY_FROM_TIMEOUT', 'ETIMEDOUT']);

/** Maps a failed predictor call (reply-from / undici error) to a stable code. */
export function upstreamFailure(error: unknown): Denial {
  let e = error as { code?: string; cause?: unknown } | undefined;
  const codes: string[] = [];
  for (let depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === 'string') codes.push(e.code);
    e = e.cause as typeof e;
  }
  if (codes.some((c) => TIMEOUT_CODES.has(c))) return deny('upstream_timeout', 'the predictor did not answer in time');
  return deny('upstream_unreachable', 'the predictor could not be reached');
}
