import { request } from 'undici';

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'TimeoutError',
]);

export class FetchError extends Error {
  constructor(
    message: string,
    /** Bounded metric label. */
    readonly outcome: 'timeout' | 'unreachable' | 'http_status' | 'too_large' | 'bad_json',
  ) {
    super(message);
  }
}

/**
 * GETs a JSON document with a timeout and a size cap. Redirects are not followed (a redirect
 * could move key fetches to a host nobody configured), non-200 is an error.
 */
export async function fetchJson(url: string, timeoutMs: number, maxBytes: number): Promise<unknown> {
  let res;
  try {
    res = await request(url, {
      method: 'GET',
      headers: { accept: 'application/json, application/jwk-set+json' },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    // AbortSignal.timeout() rejects with a DOMException whose `code` is the number 23
    // (TIMEOUT_ERR) and whose name says what happened: read the name, not only the code.
    const e = err as { code?: unknown; name?: string };
    const code = typeof e.code === 'string' ? e.code : (e.name ?? 'Error');
    const timeout = TIMEOUT_CODES.has(code) || e.name === 'TimeoutError';
    throw new FetchError(`${url}: ${code}`, timeout ? 'timeout' : 'unreachable');
  }
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new FetchError(`${url}: expected 200, got ${res.statusCode}`, 'http_status');
  }
  const declared = Number(res.headers['content-length']);
  if (declared > maxBytes) {
    await res.body.dump();
    throw new FetchError(`${url}: ${declared} bytes is over the ${maxBytes}-byte limit`, 'too_large');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        res.body.destroy();
        throw new FetchError(`${url}: over the ${maxBytes}-byte limit`, 'too_large');
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof FetchError) throw err;
    throw new FetchError(`${url}: ${(err as Error).message}`, 'timeout');
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new FetchError(`${url}: not JSON`, 'bad_json');
  }
}
