import { readFileSync } from 'node:fs';
import type { JWK } from 'jose';

// JWK members that hold private or secret key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2).
const SECRET_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/**
 * Why a document is not a usable public JWKS (RFC 7517 §5: an object with a `keys` array of JWKs),
 * or undefined when it is. A set that publishes private or secret keys is broken: refused whole
 * rather than guessed from. One rule for config validation and for key loading, so
 * `check-config` refuses exactly what `serve` would.
 */
export function jwksProblem(doc: unknown): string | undefined {
  const keys =
    typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys)) return 'is not a JWKS: expected an object with a "keys" array';
  for (const [i, k] of keys.entries()) {
    if (typeof k !== 'object' || k === null || Array.isArray(k) || typeof (k as JWK).kty !== 'string')
      return `keys[${i}] is not a JWK (no "kty")`;
    for (const m of SECRET_MEMBERS)
      if ((k as Record<string, unknown>)[m] !== undefined)
        return `keys[${i}] contains private key material ("${m}"): publish only public keys`;
  }
  return undefined;
}

/** Reads and checks a JWKS file: the document, or why it cannot be used. */
export function readJwksFile(
  file: string,
): { readonly ok: true; readonly keys: JWK[] } | { readonly ok: false; readonly reason: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, reason: `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})` };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'is not JSON' };
  }
  const problem = jwksProblem(doc);
  return problem ? { ok: false, reason: problem } : { ok: true, keys: (doc as { keys: JWK[] }).keys };
}
