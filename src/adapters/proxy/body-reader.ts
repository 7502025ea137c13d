import type { IncomingMessage } from 'node:http';
import type { BodyBudget } from './body-budget.js';

export type BodyResult = { readonly ok: true; readonly body: Buffer | undefined; readonly reserved: number } | { readonly ok: false; readonly reason: 'too_large' | 'over_budget' | 'aborted' };

const EMPTY = { ok: true, body: undefined, reserved: 0 } as const;
const TOO_LARGE = { ok: false, reason: 'too_large' } as const;
const OVER_BUDGET = { ok: false, reason: 'over_budget' } as const;
const ABORTED = { ok: false, reason: 'aborted' } as const;

/** Whether the request has a body at all (RFC 9112 §6.3: Transfer-Encoding or a non-zero Content-Length). */
export function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0');
}

/**
 * Reads a body as Node's parser framed it (Content-Length or chunked; a request with both was
 * already refused by the parser), into one buffer when the length is declared. Bytes are
 * reserved from the shared budget before they are held; the caller releases `reserved` once the
 * body is no longer needed. Past `maxBytes` or the budget, reading stops and the caller answers
 * and closes the connection (the rest of the upload is never read). Synchronous when the whole
 * body is already buffered, a promise otherwise.
 */
export function readBody(req: IncomingMessage, maxBytes: number, budget: BodyBudget): BodyResult | Promise<BodyResult> {
  const chunked = req.headers['transfer-encoding'] !== undefined;
  const declared = req.headers['content-length'];
  if (!chunked && (declared === undefined || declared === '0')) return EMPTY;
  const length = chunked ? -1 : Number(declared);
  if (length > maxBytes) return TOO_LARGE;
  // A declared length is reserved whole and read into one buffer; a chunked body reserves as it grows.
  if (length >= 0 && !budget.tryReserve(length)) return OVER_BUDGET;
  // Most bodies arrive with their head: by now Node's parser has buffered all of it and seen the
  // message end, so it is taken at once (the same bytes 'data' would give), without a promise,
  // listeners or a copy into a buffer of our own.
  if (length > 0 && req.complete && req.readableLength === length) {
    const all = req.read() as Buffer | null;
    if (all !== null && all.length === length) return { ok: true, body: all, reserved: length };
    // Not reached (read() with no size returns every buffered byte); never forward a short body.
    budget.release(length);
    return ABORTED;
  }
  const whole = length >= 0 ? Buffer.allocUnsafe(length) : undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  return new Promise((resolve) => {
    const done = (r: BodyResult) => {
      req.off('data', onData).off('end', onEnd).off('close', onClose);
      if (!r.ok) budget.release(whole ? length : size);
      resolve(r);
    };
    const onData = (c: Buffer) => {
      if (whole) {
        size += c.copy(whole, size);
        return;
      }
      if (size + c.length > maxBytes) return done(TOO_LARGE);
      if (!budget.tryReserve(c.length)) return done(OVER_BUDGET);
      size += c.length;
      chunks.push(c);
    };
    const onEnd = () => {
      if (whole) return done(size === length ? { ok: true, body: whole, reserved: length } : ABORTED);
      done({ ok: true, body: size === 0 ? undefined : Buffer.concat(chunks, size), reserved: size });
    };
    const onClose = () => done(ABORTED);
    req.on('data', onData).on('end', onEnd).on('close', onClose);
  });
}
