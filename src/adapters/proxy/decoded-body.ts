import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

/** The answer's bytes without their content-encoding; undefined when the encoding is unknown or the bytes are corrupt. */
export function decodedBody(body: Buffer, encoding: string | string[] | undefined): Buffer | undefined {
  const e = (Array.isArray(encoding) ? encoding.join(',') : (encoding ?? '')).trim().toLowerCase();
  if (e === '' || e === 'identity') return body;
  try {
    if (e === 'gzip' || e === 'x-gzip') return gunzipSync(body);
    if (e === 'deflate') return inflateSync(body);
    if (e === 'br') return brotliDecompressSync(body);
  } catch {
    return undefined;
  }
  return undefined;
}
