import { deny, type Denial } from '../decision/denial.js';
import type { RequestView } from '../decision/request-view.js';

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token; the scheme is case-insensitive (RFC 9110 §11.1).
const BEARER = /^bearer +(\S*)$/i;
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const HAS_QUERY_TOKEN = /(^|&)access_token=/;
// The well-formed case in one pass: exactly what the three checks below accept together (scheme,
// one token of b64token characters, which excludes whitespace and commas). Anything else takes
// the slow path, which says what is wrong. The scheme is spelled out rather than /i, so the
// token's character class is matched exactly as B64TOKEN matches it.
const WELL_FORMED = /^[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*)$/;

const MISSING = deny('token_missing', 'a bearer token is required');
const TWO_CREDENTIALS = deny('token_ambiguous', 'more than one credential was sent (RFC 6750 §2)');
const NO_TOKEN = deny('token_ambiguous', 'the Authorization header names Bearer but carries no token');
const MALFORMED = deny('token_ambiguous', 'malformed Authorization header');
const BAD_CHARS = deny('token_invalid', 'the token has characters a JWT cannot have');

/**
 * The one bearer token of a request, or the refusal. Query-string tokens are not a token
 * location (RFC 6750 §2.3 discourages them), but a header token plus a query token is two
 * credentials and is refused, as are duplicate Authorization headers (Node would keep one).
 */
export function bearerToken(view: Pick<RequestView, 'authorization' | 'query'>): string | Denial {
  const values = view.authorization;
  if (values.length === 0) return MISSING;
  if (values.length > 1) return TWO_CREDENTIALS;
  if (view.query !== '' && HAS_QUERY_TOKEN.test(view.query)) return TWO_CREDENTIALS;
  const value = values[0] as string;
  const ok = WELL_FORMED.exec(value);
  if (ok) return ok[1] as string;
  const m = BEARER.exec(value);
  if (!m) {
    // Another scheme (Basic, ...) is "no bearer credentials"; a mangled Bearer is a bad request.
    return /^bearer\b/i.test(value) ? MALFORMED : MISSING;
  }
  const token = m[1] as string;
  if (token === '') return NO_TOKEN;
  if (token.includes(',')) return TWO_CREDENTIALS;
  if (!B64TOKEN.test(token)) return BAD_CHARS;
  return token;
}
