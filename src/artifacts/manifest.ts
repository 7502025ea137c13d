// The digest manifest in the format GNU coreutils' `sha256sum` writes and `sha256sum -c` reads:
// one line per file, `<64 hex digits><space><space or *><file name>`, where `*` marks binary
// mode (the same digest on POSIX). A name holding a backslash or a newline is written with
// them escaped (`\\`, `\n`) and the line then starts with a backslash (coreutils manual,
// "sha2 utilities" / md5sum invocation). Paths are relative to the model directory.

import { ArtifactError } from './artifact-error.js';
import { checkRelativePath } from './relative-path.js';

export interface ManifestEntry {
  readonly path: string;
  readonly sha256: string;
}

const LINE = /^(\\?)([0-9a-fA-F]{64}) [ *](.+)$/;

function unescapeName(name: string, lineNo: number): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = name[++i];
    if (next === '\\') out += '\\';
    else if (next === 'n') out += '\n';
    else
      throw new ArtifactError(
        'manifest_invalid',
        `manifest line ${lineNo}: unknown escape \\${next ?? ''} in the file name`,
      );
  }
  return out;
}

/** Parses a manifest; every malformed line, unsafe path or duplicate is reported at once. */
export function parseManifest(text: string): ManifestEntry[] {
  const entries: ManifestEntry[] = [];
  const problems: string[] = [];
  let unsafe = false;
  const seen = new Set<string>();
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const m = LINE.exec(line);
    if (!m) {
      problems.push(`manifest line ${lineNo}: expected "<sha256 hex>  <path>"`);
      return;
    }
    let name = m[3]!;
    try {
      if (m[1] === '\\') name = unescapeName(name, lineNo);
      const path = checkRelativePath(name);
      if (seen.has(path)) problems.push(`manifest line ${lineNo}: ${path} is listed twice`);
      seen.add(path);
      entries.push({ path, sha256: m[2]!.toLowerCase() });
    } catch (err) {
      if (!(err instanceof ArtifactError)) throw err;
      unsafe ||= err.kind === 'unsafe_path';
      problems.push(`manifest line ${lineNo}: ${err.message}`);
    }
  });
  // A path escaping the directory is an attack, not a typo: it gets its own kind (and alert label).
  if (problems.length > 0) throw new ArtifactError(unsafe ? 'unsafe_path' : 'manifest_invalid', problems.join('\n'));
  if (entries.length === 0) throw new ArtifactError('manifest_invalid', 'the manifest lists no file');
  return entries;
}

/** Writes entries as `sha256sum` does (text mode, two spaces), sorted by path so the output is reproducible. */
export function formatManifest(entries: readonly ManifestEntry[]): string {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  let out = '';
  for (const e of sorted) {
    const escaped = /[\\\n]/.test(e.path);
    const name = escaped ? e.path.replaceAll('\\', '\\\\').replaceAll('\n', '\\n') : e.path;
    out += `${escaped ? '\\' : ''}${e.sha256}  ${name}\n`;
  }
  return out;
}
