import { deny, type Denial } from '../../decision/denial.js';

// What happened to a predictor call, said precisely (the client and the metric both get it).
const TIMEOUT = deny('upstream_timeout', 'the predictor did not answer in time');
const UNREACHABLE = deny('upstream_unreachable', 'the predictor could not be reached');
const DROPPED = deny('upstream_unreachable', 'the predictor closed the connection before answering');
const GARBAGE = deny('upstream_bad_response', 'the predictor answered something that is not valid HTTP');
const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);

/**
 * The gateway's own deadline for a whole predictor answer (upstream.timeoutMs) passed: the call is
 * aborted with this, never with an error code borrowed from undici (jose's and undici's errors
 * carry their own stable `code` the same way).
 */
export class UpstreamDeadlineError extends Error {
  static readonly code = 'IGW_UPSTREAM_DEADLINE';
  readonly code = UpstreamDeadlineError.code;
  constructor() {
    super('the predictor did not answer within upstream.timeoutMs');
    this.name = 'UpstreamDeadlineError';
  }
}

/** The client closed its connection first: the gateway cancels the predictor call with this. */
export class ClientGoneError extends Error {
  static readonly code = 'IGW_CLIENT_GONE';
  readonly code = ClientGoneError.code;
  constructor() {
    super('the client closed the connection');
    this.name = 'ClientGoneError';
  }
}

function codesOf(error: unknown): string[] {
  let e = error as { code?: string; name?: string; cause?: unknown } | undefined;
  const codes: string[] = [];
  for (let depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === 'string') codes.push(e.code);
    // undici leaves some parse errors without a code (a reply not starting with HTTP/).
    else if (e.name === 'HTTPParserError') codes.push('HPE_UNKNOWN');
    e = e.cause as typeof e;
  }
  return codes;
}

/** Maps a failed predictor call (an undici error) to a stable code. */
export function upstreamFailure(error: unknown): Denial {
  if (error instanceof UpstreamDeadlineError) return TIMEOUT;
  const codes = codesOf(error);
  if (codes.some((c) => TIMEOUT_CODES.has(c))) return TIMEOUT;
  // llhttp's parse errors (HPE_*): the predictor spoke, but not HTTP.
  if (
    codes.some(
      (c) => c.startsWith('HPE_') || c === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || c === 'UND_ERR_INVALID_ARG',
    )
  )
    return GARBAGE;
  if (codes.includes('UND_ERR_SOCKET')) return DROPPED;
  return UNREACHABLE;
}
