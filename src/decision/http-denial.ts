import type { Denial } from './denial.js';
import { codeInfo } from './error-codes.js';

export interface HttpDenial {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

// RFC 6750 §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E.
function quoteSafe(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, ' ');
}

/** RFC 6750 §3 challenge for a denial, or undefined when the code carries none. */
export function wwwAuthenticate(denial: Denial, realm: string): string | undefined {
  const info = codeInfo(denial.code);
  const base = `Bearer realm="${quoteSafe(realm)}"`;
  switch (info.challenge) {
    case 'none':
      return undefined;
    case 'bare':
      return base;
    case 'insufficient_scope':
      return `${base}, error="insufficient_scope", error_description="${quoteSafe(denial.message)}"${denial.scope ? `, scope="${quoteSafe(denial.scope)}"` : ''}`;
    default:
      return `${base}, error="${info.challenge}", error_description="${quoteSafe(denial.message)}"`;
  }
}

/** The HTTP form of a denial: status and headers from the code table, KServe's `{"error": ...}` body plus the stable code. */
export function renderHttpDenial(denial: Denial, realm: string): HttpDenial {
  const info = codeInfo(denial.code);
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  const challenge = wwwAuthenticate(denial, realm);
  if (challenge) headers['www-authenticate'] = challenge;
  if (denial.retryAfterSeconds !== undefined)
    headers['retry-after'] = String(Math.max(1, Math.ceil(denial.retryAfterSeconds)));
  if (denial.headers) Object.assign(headers, denial.headers);
  const body = JSON.stringify({ error: denial.message, code: denial.code, ...denial.details });
  return { status: info.http, headers, body };
}

/**
 * A denial as both Envoy ext_authz check doors answer it: the HTTP form, plus, when the client
 * made a gRPC call, the table's gRPC code as `grpc-status`. Envoy answers a gRPC client itself, a
 * trailers-only local reply; it keeps a `grpc-status` the authorization service set and maps the
 * HTTP status only when there is none (Envoy source/common/http/utility.cc, `encodeLocalReply`).
 * That map (gRPC doc/http-grpc-status-mapping.md) is coarse: 400 becomes INTERNAL, 413 UNKNOWN,
 * 429 UNAVAILABLE, a status clients retry at once. `grpc-message` is not set: Envoy writes the
 * body there in every case.
 */
export function renderCheckDenial(denial: Denial, realm: string, grpcCall: boolean): HttpDenial {
  const r = renderHttpDenial(denial, realm);
  if (grpcCall) r.headers['grpc-status'] = String(codeInfo(denial.code).grpc);
  return r;
}
