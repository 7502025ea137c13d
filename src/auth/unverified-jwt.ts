// Cheap checks before any crypto or network: shape, header, issuer, algorithm and
// time claims on the *unverified* token, so garbage never triggers a key fetch. Nothing read here
// is trusted until the signature verifies.

const SEGMENT = /^[A-Za-z0-9_-]+$/;

export interface UnverifiedJwt {
  readonly alg: string;
  readonly kid: string | undefined;
  readonly payload: Record<string, unknown>;
}

function decodeJson(segment: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Splits and decodes a compact JWS; returns a reason string when it cannot be a JWT. */
export function readUnverified(token: string): UnverifiedJwt | string {
  const parts = token.split('.');
  if (parts.length !== 3) return 'the token is not in the form header.payload.signature';
  const [h, p, sig] = parts as [string, string, string];
  if (!SEGMENT.test(h) || !SEGMENT.test(p) || !SEGMENT.test(sig)) return 'the token is not base64url in every part';
  const header = decodeJson(h);
  if (!header) return 'the token header is not a JSON object';
  if (typeof header['alg'] !== 'string') return 'the token header has no algorithm';
  if (header['crit'] !== undefined) return 'the token header has critical extensions this gateway does not understand';
  if (header['kid'] !== undefined && typeof header['kid'] !== 'string') return 'the token kid is not a string';
  if (typeof header['kid'] === 'string' && header['kid'].length > 256) return 'the token kid is too long';
  const payload = decodeJson(p);
  if (!payload) return 'the token payload is not a JSON object';
  return { alg: header['alg'], kid: header['kid'], payload };
}

/** Time claims with skew (Envoy semantics): expired when now > exp + skew, early when now + skew < nbf. */
export function timeProblem(
  payload: Readonly<Record<string, unknown>>,
  nowSeconds: number,
  skew: number,
): string | undefined {
  const exp = payload['exp'];
  if (exp === undefined) return 'the token has no exp claim';
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return 'the token exp claim is not a number';
  if (nowSeconds > exp + skew) return 'the token expired';
  const nbf = payload['nbf'];
  if (nbf !== undefined) {
    if (typeof nbf !== 'number' || !Number.isFinite(nbf)) return 'the token nbf claim is not a number';
    if (nowSeconds + skew < nbf) return 'the token is not valid yet';
  }
  const iat = payload['iat'];
  if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat)))
    return 'the token iat claim is not a number';
  return undefined;
}
