// Lists the files of a model directory as the manifest names them. Symbolic links are followed
// only when they resolve to a regular file inside the directory: a link to /etc/passwd, or to
// another volume, would make the check vouch for bytes the model writer does not control.

import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { ArtifactError } from './artifact-error.js';

export interface TreeProblem {
  readonly kind: 'unsafe_path' | 'unreadable';
  readonly path: string;
  readonly message: string;
}

/**
 * The path the walk will see for `file` (its directory resolved through symbolic links), so that
 * a manifest given as /mnt/models/M is recognised under the directory's real path. The file
 * itself need not exist yet (sign-manifest is about to write it).
 */
export async function canonicalPath(file: string): Promise<string> {
  try {
    return join(await realpath(dirname(resolve(file))), basename(file));
  } catch {
    return resolve(file);
  }
}

export interface ModelTree {
  /** The directory's real path. */
  readonly root: string;
  /** Relative path (with `/`) → absolute path to read. */
  readonly files: Map<string, string>;
  readonly problems: TreeProblem[];
}

const errCode = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

/** Walks `dir`; `exclude` holds absolute paths not to list (the manifest and its signature when kept in the directory). */
export async function listModelTree(dir: string, exclude: ReadonlySet<string> = new Set()): Promise<ModelTree> {
  let root: string;
  try {
    root = await realpath(dir);
    if (!(await stat(root)).isDirectory()) throw new ArtifactError('unreadable', `${dir}: not a directory`);
  } catch (err) {
    if (err instanceof ArtifactError) throw err;
    throw new ArtifactError('unreadable', `${dir}: cannot read the model directory (${errCode(err)})`);
  }
  const files = new Map<string, string>();
  const problems: TreeProblem[] = [];
  const inside = (p: string) => p === root || p.startsWith(root + sep);

  const walk = async (abs: string, rel: string): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(abs)).sort();
    } catch (err) {
      problems.push({ kind: 'unreadable', path: rel || '.', message: `${rel || '.'}: cannot list (${errCode(err)})` });
      return;
    }
    for (const name of names) {
      const childAbs = join(abs, name);
      const childRel = rel === '' ? name : `${rel}/${name}`;
      if (exclude.has(childAbs)) continue;
      try {
        const st = await lstat(childAbs);
        if (st.isDirectory()) await walk(childAbs, childRel);
        else if (st.isFile()) files.set(childRel, childAbs);
        else if (st.isSymbolicLink()) {
          let target: string;
          try {
            target = await realpath(childAbs);
          } catch (err) {
            problems.push({
              kind: 'unreadable',
              path: childRel,
              message: `${childRel}: a symbolic link that does not resolve (${errCode(err)})`,
            });
            continue;
          }
          if (!inside(target))
            problems.push({
              kind: 'unsafe_path',
              path: childRel,
              message: `${childRel}: a symbolic link pointing outside the model directory (to ${target})`,
            });
          else if (!(await stat(target)).isFile())
            problems.push({
              kind: 'unsafe_path',
              path: childRel,
              message: `${childRel}: a symbolic link to something other than a regular file`,
            });
          else files.set(childRel, target);
        } else
          problems.push({
            kind: 'unsafe_path',
            path: childRel,
            message: `${childRel}: not a regular file (device, FIFO or socket)`,
          });
      } catch (err) {
        problems.push({ kind: 'unreadable', path: childRel, message: `${childRel}: cannot read (${errCode(err)})` });
      }
    }
  };
  await walk(root, '');
  return { root, files, problems };
}
