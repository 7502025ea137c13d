/** Which front door a request came through: for metrics and logs; the decision does not depend on it. */
export type Door = 'proxy' | 'grpc' | 'ext-authz-http' | 'ext-authz-grpc';

/**
 * One request, described once, whatever door it came through. Header names are lower-case.
 * `authorization` holds every raw Authorization value, because Node keeps only one of
 * duplicates in `headers` (RFC 6750 §2: two credentials must be refused, not picked from).
 */
export interface RequestView {
  readonly door: Door;
  /**
   * Whether the predictor's answer passes back through this gateway (the proxy): only then can the
   * pipeline rewrite it (labels-only) or observe it (extraction). An ext-authz check only
   * authorizes; Envoy's ext_authz never shows the answer to the authorizer.
   */
  readonly forwardsAnswer: boolean;
  readonly method: string;
  /** Raw path, without the query string; never decoded. */
  readonly path: string;
  /** Raw query string without the leading `?` ('' when none). */
  readonly query: string;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly authorization: readonly string[];
  /** Every Host value the request carried (Node keeps only the first in `headers`); more than one is refused (RFC 9112 §3.2). Every door sets it; optional only so views built by hand stay valid. */
  readonly hosts?: readonly string[];
  /** Body bytes when the door has them (proxy: always; ext-authz: only when Envoy sends the body). */
  readonly body: Buffer | undefined;
  /** Envoy sent only the first bytes of the body (`x-envoy-auth-partial-body: true`). */
  readonly bodyPartial: boolean;
  readonly peer: string;
  readonly requestId: string;
}

export function headerValue(view: RequestView, name: string): string | undefined {
  const v = view.headers[name];
  return typeof v === 'string' || v === undefined ? v : v[0];
}

/** Splits `/a/b?x=1` into path and query without allocating a URL object. */
export function splitPathAndQuery(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

/** All values of one header from Node's rawHeaders (which keeps duplicates). */
export function rawHeaderValues(rawHeaders: readonly string[], lowerName: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) out.push(rawHeaders[i + 1] as string);
  }
  return out;
}
