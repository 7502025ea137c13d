import { readFile } from 'node:fs/promises';
import { ArtifactError } from './artifact-error.js';

/** Reads a small input file (manifest, key, signature); a failure names what and where. */
export async function readInput(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new ArtifactError(
      'unreadable',
      `${what} ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}
