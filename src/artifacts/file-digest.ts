import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

// Large reads: a multi-GB model is hashed in 1 MiB chunks, never held in memory.
const CHUNK_BYTES = 1024 * 1024;

/** SHA-256 of a file, streamed; resolves with the hex digest and the byte count. */
export function sha256File(path: string, signal?: AbortSignal): Promise<{ sha256: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    const stream = createReadStream(path, { highWaterMark: CHUNK_BYTES, ...(signal ? { signal } : {}) });
    stream.on('data', (chunk) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    stream.once('error', reject);
    stream.once('end', () => resolve({ sha256: hash.digest('hex'), bytes }));
  });
}
