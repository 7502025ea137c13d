import type { ErrorCode } from './error-codes.js';

/** A refusal, as a value (not an exception). Status, gRPC code and challenge come from the code table. */
export interface Denial {
  readonly code: ErrorCode;
  /** Human-readable; safe to show the client (never echoes a token). */
  readonly message: string;
  /** RFC 6750 `scope=` for insufficient_scope. */
  readonly scope?: string;
  readonly retryAfterSeconds?: number;
  /** Extra response headers (RateLimit, ...). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Extra JSON fields in the body (e.g. which window tripped). */
  readonly details?: Readonly<Record<string, unknown>>;
}

export function deny(code: ErrorCode, message: string, extra?: Omit<Denial, 'code' | 'message'>): Denial {
  return extra ? { code, message, ...extra } : { code, message };
}
