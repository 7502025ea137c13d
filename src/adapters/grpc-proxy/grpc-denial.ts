import type { Denial } from '../../decision/denial.js';
import { codeInfo } from '../../decision/error-codes.js';
import { renderHttpDenial } from '../../decision/http-denial.js';

/** Metadata keys carrying the gateway's refusal beside the status: the stable code, and the REST JSON body byte for byte. */
export const GATEWAY_CODE_KEY = 'gateway-error-code';
export const GATEWAY_BODY_KEY = 'gateway-error-bin';

/**
 * `grpc-message` is percent-encoded: bytes outside %x20-7E and `%` itself (gRPC over HTTP/2,
 * https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md).
 */
export function percentEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8'))
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/**
 * A denial as a trailers-only gRPC answer: the status from the code table, the message, the stable
 * code and the same JSON body the REST door sends (`-bin` metadata travels base64-encoded), and
 * the REST answer's headers (RateLimit, Retry-After, WWW-Authenticate) as metadata.
 */
export function grpcDenialHeaders(denial: Denial, realm: string): Record<string, string> {
  const http = renderHttpDenial(denial, realm);
  const out: Record<string, string> = {};
  for (const k in http.headers) if (k !== 'content-type') out[k] = http.headers[k]!;
  out['grpc-status'] = String(codeInfo(denial.code).grpc);
  out['grpc-message'] = percentEncode(denial.message);
  out[GATEWAY_CODE_KEY] = denial.code;
  out[GATEWAY_BODY_KEY] = Buffer.from(http.body, 'utf8').toString('base64');
  return out;
}
