import type { IncomingMessage } from 'node:http';
import type { BodyBudget } from './body-budget.js';

export type BodyResult =
  | { readonly ok: true; readonly body: Buffer | undefined; readonly reserved: number }
  | { readonly ok: false; readonly reason: 'too_large' | 'over_budget' | 'aborted' };

const EMPTY = { ok: true, body: undefined, reserved: 0 } as const;
const TOO_LARGE = { ok: false, reason: 'too_large' } as const;
const OVER_BUDGET = { ok: false, reason: 'over_budget' } as const;
const ABORTED = { ok: false, reason: 'aborted' } as const;

// A refused request whose body is already buffered and at most this large is drained (Node reads
// and drops it) so its connection stays open; a larger or unfinished upload is left unread and
// the connection closed, so a client cannot make the gateway read what it will never use.
const DRAINABLE_BYTES = 64 * 1024;

/** Whether these headers frame a body (RFC 9112 §6.3: Transfer-Encoding or a non-zero Content-Length). */
export function declaresBody(headers: Readonly<Record<string, string | readonly string[] | undefined>>): boolean {
  const cl = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0');
}

/** Whether the request has a body at all. */
export function hasBody(req: IncomingMessage): boolean {
  return declaresBody(req.headers);
}

/**
 * Whether a refused request's connection must close: it carries a body that is not yet wholly
 * received, or is too large to be worth draining. Call it after an await (the parser has then
 * taken in every byte that came with the head). Whatever is left unread when the answer ends,
 * Node reads and drops (a drained body), so only a small, complete one may stay.
 */
export function mustCloseAfterRefusal(req: IncomingMessage): boolean {
  if (!hasBody(req)) return false;
  if (req.readableLength > DRAINABLE_BYTES) return true;
  // Node sets `complete` a little after the last body bytes are buffered; a declared length already met counts too.
  const declared = req.headers['transfer-encoding'] === undefined ? Number(req.headers['content-length']) : -1;
  return !(req.complete || req.readableLength === declared);
}

/**
 * Reads a body as Node's parser framed it (Content-Length or chunked; a request with both was
 * already refused by the parser). Bytes are reserved from the shared budget as they arrive,
 * never ahead from the declared length; the caller releases `reserved` once the body is no
 * longer needed. Past `maxBytes` or the budget, reading stops and the caller answers and closes
 * the connection (the rest of the upload is never read). Synchronous when the whole body is
 * already buffered, a promise otherwise.
 */
export function readBody(req: IncomingMessage, maxBytes: number, budget: BodyBudget): BodyResult | Promise<BodyResult> {
  const chunked = req.headers['transfer-encoding'] !== undefined;
  const declared = req.headers['content-length'];
  if (!chunked && (declared === undefined || declared === '0')) return EMPTY;
  const length = chunked ? -1 : Number(declared);
  if (length > maxBytes) return TOO_LARGE;
  // Most bodies arrive with their head: by now Node's parser has buffered all of it and seen the
  // message end, so it is taken at once (the same bytes 'data' would give), without a promise,
  // listeners or a copy into a buffer of our own.
  if (length > 0 && req.complete && req.readableLength === length) {
    if (!budget.tryReserve(length)) return OVER_BUDGET;
    const all = req.read() as Buffer | null;
    if (all !== null && all.length === length) return { ok: true, body: all, reserved: length };
    // Not reached (read() with no size returns every buffered byte); never forward a short body.
    budget.release(length);
    return ABORTED;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  return new Promise((resolve) => {
    const done = (r: BodyResult) => {
      req.off('data', onData).off('end', onEnd).off('close', onClose);
      if (!r.ok) budget.release(size);
      resolve(r);
    };
    const onData = (c: Buffer) => {
      if (size + c.length > maxBytes) return done(TOO_LARGE);
      if (!budget.tryReserve(c.length)) return done(OVER_BUDGET);
      size += c.length;
      chunks.push(c);
    };
    const onEnd = () => {
      if (length >= 0 && size !== length) return done(ABORTED);
      done({
        ok: true,
        body: size === 0 ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size),
        reserved: size,
      });
    };
    const onClose = () => done(ABORTED);
    req.on('data', onData).on('end', onEnd).on('close', onClose);
  });
}
