import type { Socket } from 'node:net';
import { deny, type Denial } from '../../decision/denial.js';
import { renderHttpDenial } from '../../decision/http-denial.js';

const TOO_LARGE = deny('headers_too_large', 'the request line or headers are too large');
const TIMED_OUT = deny('request_timeout', 'the request was not received in time');
const MALFORMED = deny('bad_request', 'the request is not valid HTTP/1.1');

function denialFor(err: NodeJS.ErrnoException): Denial {
  if (err.code === 'HPE_HEADER_OVERFLOW') return TOO_LARGE;
  if (
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ||
    err.code === 'HPE_HEADERS_TIMEOUT' ||
    err.code === 'ERR_HTTP_HEADERS_TIMEOUT'
  )
    return TIMED_OUT;
  return MALFORMED;
}

/**
 * Node's parser refused the request, or a headers/request timeout fired, before any handler ran.
 * Node would answer a bare status line; this answers the JSON error shape with its stable code
 * (RFC 9110 §15.5.9 408, RFC 6585 §5 431) and closes the connection, since its framing is lost.
 */
export function clientErrorAnswer(
  err: NodeJS.ErrnoException,
  socket: Socket,
  realm: string,
): { code: string; status: number } | undefined {
  const busy = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  // A response already began on this connection (or the peer is gone): nothing sane to add.
  if (err.code === 'ECONNRESET' || !socket.writable || busy?.headersSent) {
    socket.destroy();
    return undefined;
  }
  const denial = denialFor(err);
  const r = renderHttpDenial(denial, realm);
  let head = `HTTP/1.1 ${r.status} ${STATUS_TEXT[r.status] ?? 'Error'}\r\n`;
  for (const k in r.headers) head += `${k}: ${r.headers[k]}\r\n`;
  head += `content-length: ${Buffer.byteLength(r.body)}\r\nconnection: close\r\n\r\n`;
  socket.end(head + r.body);
  return { code: denial.code, status: r.status };
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};
