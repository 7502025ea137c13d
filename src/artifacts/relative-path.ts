import { ArtifactError } from './artifact-error.js';

/**
 * A manifest path must name a file inside the model directory: relative, no `..`, no empty or
 * `.` segments (a leading `./`, as `find . | xargs sha256sum` writes, is dropped). Returns the
 * normalized path.
 */
export function checkRelativePath(name: string): string {
  const path = name.startsWith('./') ? name.slice(2) : name;
  if (path.startsWith('/'))
    throw new ArtifactError('unsafe_path', `${name}: an absolute path escapes the model directory`);
  if (path.includes('\0')) throw new ArtifactError('unsafe_path', `${JSON.stringify(name)}: a NUL byte in a path`);
  const segments = path.split('/');
  if (segments.includes('..'))
    throw new ArtifactError('unsafe_path', `${name}: a ../ segment escapes the model directory`);
  if (segments.some((s) => s === '' || s === '.'))
    throw new ArtifactError('unsafe_path', `${name}: not a normalized relative path`);
  return path;
}
