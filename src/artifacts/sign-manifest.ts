// The training side of layer 4: write the manifest of a model directory (and, given a private
// key, its signature) for `verify-model` to check before serving.

import { writeFile } from 'node:fs/promises';
import { ArtifactError } from './artifact-error.js';
import { sha256File } from './file-digest.js';
import { formatManifest, type ManifestEntry } from './manifest.js';
import { canonicalPath, listModelTree } from './model-tree.js';
import { loadPrivateKey, signData, type SignatureEncoding } from './signature.js';
import { readInput } from './read-input.js';

export interface SignManifestOptions {
  readonly dir: string;
  /** Where the manifest is written. */
  readonly manifest: string;
  readonly privateKey?: string;
  /** Where the signature is written (required with privateKey). */
  readonly signature?: string;
  readonly encoding?: SignatureEncoding;
}

/** Hashes the directory, writes the manifest and the signature; refuses a directory it could not verify later. */
export async function signManifest(o: SignManifestOptions): Promise<{ files: number; bytes: number }> {
  if ((o.privateKey === undefined) !== (o.signature === undefined))
    throw new ArtifactError('bad_key', 'a private key and a signature file go together: give both or neither');
  // Load the key before hashing gigabytes, so a bad key fails at once.
  const key =
    o.privateKey !== undefined
      ? loadPrivateKey(await readInput(o.privateKey, 'private key'), `private key ${o.privateKey}`)
      : undefined;
  const tree = await listModelTree(
    o.dir,
    new Set(await Promise.all([o.manifest, ...(o.signature ? [o.signature] : [])].map(canonicalPath))),
  );
  if (tree.problems.length > 0)
    throw new ArtifactError(tree.problems[0]!.kind, tree.problems.map((p) => p.message).join('\n'));
  if (tree.files.size === 0) throw new ArtifactError('unreadable', `${o.dir}: no file to list`);
  const entries: ManifestEntry[] = [];
  let bytes = 0;
  for (const [path, abs] of tree.files) {
    const d = await sha256File(abs);
    bytes += d.bytes;
    entries.push({ path, sha256: d.sha256 });
  }
  const text = Buffer.from(formatManifest(entries));
  await writeFile(o.manifest, text);
  if (key && o.signature) await writeFile(o.signature, signData(text, key, o.encoding ?? 'base64'));
  return { files: entries.length, bytes };
}
