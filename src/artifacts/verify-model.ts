// Layer 4 of the serving design: before a model is served, every file under its directory is
// hashed and compared with the manifest written after training; with a public key, the
// manifest's signature is checked first (a manifest stored beside the model is only as
// trustworthy as its signature).

import { join } from 'node:path';
import { ArtifactError, type ArtifactErrorKind } from './artifact-error.js';
import { sha256File } from './file-digest.js';
import { parseManifest } from './manifest.js';
import { readInput } from './read-input.js';
import { canonicalPath, listModelTree } from './model-tree.js';
import { loadPublicKey, verifySignature } from './signature.js';

export type ModelProblemKind = ArtifactErrorKind | 'missing' | 'extra' | 'mismatch';

export interface ModelProblem {
  readonly kind: ModelProblemKind;
  /** The file concerned, relative to the model directory; absent for whole-check problems (key, signature). */
  readonly path?: string;
  readonly message: string;
}

export interface VerifyModelOptions {
  readonly dir: string;
  readonly manifest: string;
  readonly publicKey?: string;
  readonly signature?: string;
  readonly signal?: AbortSignal;
}

export interface VerifyModelResult {
  readonly ok: boolean;
  readonly problems: readonly ModelProblem[];
  readonly files: number;
  readonly bytes: number;
  readonly signed: boolean;
}

/** Checks a model directory against its manifest; never throws for a check failure, it reports it. */
export async function verifyModel(o: VerifyModelOptions): Promise<VerifyModelResult> {
  const failed = (err: unknown): VerifyModelResult => {
    if (!(err instanceof ArtifactError)) throw err;
    return { ok: false, problems: [{ kind: err.kind, message: err.message }], files: 0, bytes: 0, signed: false };
  };
  if ((o.publicKey === undefined) !== (o.signature === undefined)) {
    return failed(new ArtifactError('bad_key', 'a public key and a signature go together: give both or neither'));
  }
  let entries;
  try {
    const manifestBytes = await readInput(o.manifest, 'manifest');
    if (o.publicKey !== undefined && o.signature !== undefined) {
      const key = loadPublicKey(await readInput(o.publicKey, 'public key'), `public key ${o.publicKey}`);
      verifySignature(manifestBytes, await readInput(o.signature, 'signature'), key, `signature ${o.signature}`);
    }
    entries = parseManifest(manifestBytes.toString('utf8'));
  } catch (err) {
    return failed(err);
  }

  const exclude = new Set(await Promise.all([o.manifest, ...(o.signature ? [o.signature] : [])].map(canonicalPath)));
  let tree;
  try {
    tree = await listModelTree(o.dir, exclude);
  } catch (err) {
    return failed(err);
  }
  const problems: ModelProblem[] = tree.problems.map((p) => ({ kind: p.kind, path: p.path, message: p.message }));
  const flagged = new Set(problems.map((p) => p.path));
  let files = 0;
  let bytes = 0;
  const listed = new Set<string>();
  for (const e of entries) {
    listed.add(e.path);
    // `sha256sum * > MANIFEST` run inside the directory lists the (then empty) manifest itself.
    if (exclude.has(join(tree.root, e.path))) {
      problems.push({
        kind: 'manifest_invalid',
        path: e.path,
        message: `${e.path}: the manifest lists itself or its signature; write it outside the directory, then move it in`,
      });
      continue;
    }
    const abs = tree.files.get(e.path);
    if (abs === undefined) {
      if (!flagged.has(e.path))
        problems.push({
          kind: 'missing',
          path: e.path,
          message: `${e.path}: listed in the manifest, missing from the directory`,
        });
      continue;
    }
    try {
      const d = await sha256File(abs, o.signal);
      files++;
      bytes += d.bytes;
      if (d.sha256 !== e.sha256)
        problems.push({
          kind: 'mismatch',
          path: e.path,
          message: `${e.path}: SHA-256 ${d.sha256} differs from the manifest's ${e.sha256}`,
        });
    } catch (err) {
      if (o.signal?.aborted) throw err;
      problems.push({
        kind: 'unreadable',
        path: e.path,
        message: `${e.path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      });
    }
  }
  for (const path of tree.files.keys()) {
    if (!listed.has(path))
      problems.push({ kind: 'extra', path, message: `${path}: in the directory, not in the manifest` });
  }
  return { ok: problems.length === 0, problems, files, bytes, signed: o.publicKey !== undefined };
}
