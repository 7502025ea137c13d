import { referenceRows } from './schema-dsl.js';
import { gatewaySchema } from './schema.js';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The configuration reference as a Markdown table, generated from the one schema. */
export function configReferenceMarkdown(): string {
  const rows = referenceRows(gatewaySchema);
  const lines = ['| field | type | default | env | meaning |', '| --- | --- | --- | --- | --- |'];
  for (const r of rows) {
    lines.push(`| \`${r.path}\` | ${cell(r.type)} | ${r.default ? `\`${cell(r.default)}\`` : ''} | ${r.env ? `\`${r.env}\`` : ''} | ${cell(r.doc)} |`);
  }
  return lines.join('\n');
}

export const REFERENCE_START = '<!-- config-reference:start (generated: npm run docs:config) -->';
export const REFERENCE_END = '<!-- config-reference:end -->';

/** Replaces the generated section of a README with the current reference. */
export function withReference(readme: string): string {
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  if (start < 0 || end < start) throw new Error('README has no config reference markers');
  return `${readme.slice(0, start + REFERENCE_START.length)}\n${configReferenceMarkdown()}\n${readme.slice(end)}`;
}
