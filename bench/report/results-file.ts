// Writes the harness's section of bench/RESULTS.md between its markers, leaving the other
// sections (each owned by whoever measured them) as they are.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const BEGIN = '<!-- bench:peers:begin (written by npm run bench) -->';
export const END = '<!-- bench:peers:end -->';

export function replaceSection(doc: string, section: string): string {
  const block = `${BEGIN}\n${section.trim()}\n${END}`;
  const b = doc.indexOf(BEGIN);
  const e = doc.indexOf(END);
  if (b >= 0 && e > b) return doc.slice(0, b) + block + doc.slice(e + END.length);
  // First run: the section goes after the file's title and introduction, before the first "## ".
  const firstSection = doc.indexOf('\n## ');
  if (firstSection < 0) return `${doc.trimEnd()}\n\n${block}\n`;
  return `${doc.slice(0, firstSection + 1)}${block}\n\n${doc.slice(firstSection + 1)}`;
}

export function writeSection(file: string, section: string): void {
  const doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n';
  writeFileSync(file, replaceSection(doc, section));
}
