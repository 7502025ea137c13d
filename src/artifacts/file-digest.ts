import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

// A multi-GB model is hashed through one reused 1 MiB buffer: memory stays flat whatever the file
// size (a read stream allocates a fresh chunk per read and leaves them to the collector).
const CHUNK_BYTES = 1024 * 1024;

/** SHA-256 of a file, read in place; resolves with the hex digest and the byte count. */
export async function sha256File(path: string, signal?: AbortSignal): Promise<{ sha256: string; bytes: number }> {
  signal?.throwIfAborted();
  const file = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    let bytes = 0;
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await file.read(buffer, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      bytes += bytesRead;
    }
    return { sha256: hash.digest('hex'), bytes };
  } finally {
    await file.close();
  }
}
