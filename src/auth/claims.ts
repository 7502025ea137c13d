// The claim lookup is the identity's own (decision/identity.ts): every capability reads claims through it.
export { claimAt } from '../decision/identity.js';

/** Scopes from the space-delimited `scope` claim (RFC 8693) or an `scp` array. */
export function scopesOf(claims: Readonly<Record<string, unknown>>): Set<string> {
  const out = new Set<string>();
  const scope = claims['scope'];
  if (typeof scope === 'string') for (const s of scope.split(' ')) if (s) out.add(s);
  const scp = claims['scp'];
  if (Array.isArray(scp)) {
    for (const s of scp) if (typeof s === 'string') out.add(s);
  } else if (typeof scp === 'string') {
    for (const s of scp.split(' ')) if (s) out.add(s);
  }
  return out;
}

/** `aud` as a list (RFC 7519 §4.1.3 allows a string or an array). Non-strings never match. */
export function audiencesOf(claims: Readonly<Record<string, unknown>>): readonly unknown[] {
  const aud = claims['aud'];
  return Array.isArray(aud) ? aud : aud === undefined ? [] : [aud];
}

// A header value is visible ASCII and spaces (RFC 9110 §5.5 field-content, without obs-text:
// Node, Envoy and most servers refuse or mangle anything else, and a CR/LF would end the header).
const PLAIN_VALUE = /^[\x20-\x7e]*$/;
// RFC 8187 §3.2.1 attr-char: what stays as is inside an ext-value.
const ATTR_CHAR = /[A-Za-z0-9!#$&+\-.^_`|~]/;
const EXT_PREFIX = "UTF-8''";

/**
 * A claim value as a header value that every door can send. A value of visible ASCII is sent as
 * is; anything else (non-ASCII such as `李雷`, CR, LF, other controls) is sent as an RFC 8187
 * ext-value, `UTF-8''` followed by the percent-encoded UTF-8 bytes, so it is never refused by a
 * door (5xx), never splits a header, and the upstream can decode it unambiguously. A plain value
 * that itself starts with `UTF-8''` is encoded too, so a claim cannot pass as an encoded one.
 */
export function headerSafeValue(value: string): string {
  if (PLAIN_VALUE.test(value) && !value.startsWith(EXT_PREFIX)) return value;
  let out = EXT_PREFIX;
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && ATTR_CHAR.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Header value for a claim: strings as is, numbers and booleans printed, lists and objects as JSON; then made header-safe. */
export function claimHeaderValue(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return headerSafeValue(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return headerSafeValue(JSON.stringify(value));
}
