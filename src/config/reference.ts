import { annotatedConfigSchema, type JsonSchemaNode } from './json-schema.js';

export interface ReferenceRow {
  readonly path: string;
  readonly type: string;
  readonly default: string;
  readonly env: string;
  readonly doc: string;
}

function itemKind(items: JsonSchemaNode | undefined): string {
  switch (items?.type) {
    case 'string':
      return ' of strings';
    case 'integer':
      return ' of integers';
    case 'number':
      return ' of numbers';
    case 'object':
      return ' of objects';
    default:
      return '';
  }
}

const isMap = (node: JsonSchemaNode): boolean => typeof node.additionalProperties === 'object';

function typeOf(node: JsonSchemaNode): string {
  if (node.enum) return node.enum.map((e) => JSON.stringify(e)).join(' | ');
  if (node.properties) return 'object';
  if (isMap(node)) return `map of ${node.keyName ?? 'name'}`;
  if (node.type === 'array') return `array${itemKind(node.items)}`;
  return node.type ?? 'any';
}

function defaultOf(node: JsonSchemaNode, required: boolean, inMap: boolean): string {
  // A settings object's `{}` default only says "absent means all defaults": its fields show theirs.
  if (node.properties) return required || inMap || 'default' in node ? '' : '(unset)';
  if ('default' in node && !node.secret) return JSON.stringify(node.default);
  if (!required) return '(unset)';
  return isMap(node) || inMap ? '' : '(required)';
}

/** Every documented field, depth first; map keys appear as `<keyName>`, array items as `[]`. */
export function referenceRows(
  node: JsonSchemaNode = annotatedConfigSchema(),
  path = '',
  required = true,
  inMap = false,
): ReferenceRow[] {
  const rows: ReferenceRow[] = [];
  if (path !== '')
    rows.push({
      path,
      type: typeOf(node),
      default: defaultOf(node, required, inMap),
      env: node.env ?? '',
      doc: node.description ?? '',
    });
  if (node.properties) {
    const needed = new Set(node.required ?? []);
    for (const [key, child] of Object.entries(node.properties))
      rows.push(...referenceRows(child, path === '' ? key : `${path}.${key}`, needed.has(key)));
  } else if (typeof node.additionalProperties === 'object') {
    rows.push(...referenceRows(node.additionalProperties, `${path}.<${node.keyName ?? 'name'}>`, true, true));
  } else if (node.type === 'array' && node.items?.properties) {
    rows.push(...referenceRows(node.items, `${path}[]`, true).filter((r) => r.path !== `${path}[]`));
  }
  return rows;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The configuration reference as a Markdown table, generated from the one schema. */
export function configReferenceMarkdown(): string {
  const lines = ['| field | type | default | env | meaning |', '| --- | --- | --- | --- | --- |'];
  for (const r of referenceRows()) {
    lines.push(
      `| \`${r.path}\` | ${cell(r.type)} | ${r.default ? `\`${cell(r.default)}\`` : ''} | ${r.env ? `\`${r.env}\`` : ''} | ${cell(r.doc)} |`,
    );
  }
  return lines.join('\n');
}

export const REFERENCE_START = '<!-- config-reference:start (generated: npm run docs:config) -->';
export const REFERENCE_END = '<!-- config-reference:end -->';

/** Replaces the generated section of a document with the current reference. */
export function withReference(doc: string): string {
  const start = doc.indexOf(REFERENCE_START);
  const end = doc.indexOf(REFERENCE_END);
  if (start < 0 || end < start) throw new Error('the document has no config reference markers');
  return `${doc.slice(0, start + REFERENCE_START.length)}\n${configReferenceMarkdown()}\n${doc.slice(end)}`;
}
