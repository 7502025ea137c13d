/** Reads a claim by dotted path (`realm_access.roles`); a top-level name with dots wins (e.g. URL claims). */
export function claimAt(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  if (path in claims) return claims[path];
  let node: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

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

/** Header value for a claim: strings as is, numbers and booleans printed, lists and objects as JSON. */
export function claimHeaderValue(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
