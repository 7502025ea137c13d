import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

/**
 * The answer's bytes without their content-encoding; undefined when the encoding is unknown, the
 * bytes are corrupt, or they inflate past `maxBytes` (a small compressed answer can expand a
 * thousandfold, so the cap on buffered bytes must hold after decoding too).
 */
export function decodedBody(
  body: Buffer,
  encoding: string | string[] | undefined,
  maxBytes: number,
): Buffer | undefined {
  const e = (Array.isArray(encoding) ? encoding.join(',') : (encoding ?? '')).trim().toLowerCase();
  if (e === '' || e === 'identity') return body;
  const opts = { maxOutputLength: maxBytes };
  try {
    if (e === 'gzip' || e === 'x-gzip') return gunzipSync(body, opts);
    if (e === 'deflate') return inflateSync(body, opts);
    if (e === 'br') return brotliDecompressSync(body, opts);
  } catch {
    return undefined;
  }
  return undefined;
}
