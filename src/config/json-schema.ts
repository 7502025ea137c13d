// The configuration schema as JSON Schema (draft-07, the draft editors' YAML language servers
// support best), generated from the zod declaration. Two forms: the annotated one keeps the
// gateway's own keywords (`env`, `secret`, `keyName`) for the reference and the environment
// overrides; the published one (`inference-gateway config-schema`, gateway.schema.json) keeps
// only standard keywords so any validator accepts it.
import { z } from './fields.js';
import { gatewaySchema } from './schema.js';

/** The subset of JSON Schema that z.toJSONSchema emits for this config. */
export interface JsonSchemaNode {
  readonly type?: string;
  readonly enum?: readonly unknown[];
  readonly default?: unknown;
  readonly description?: string;
  readonly properties?: Readonly<Record<string, JsonSchemaNode>>;
  readonly required?: readonly string[];
  readonly items?: JsonSchemaNode;
  readonly additionalProperties?: JsonSchemaNode | boolean;
  readonly env?: string;
  readonly secret?: boolean;
  readonly keyName?: string;
  readonly [keyword: string]: unknown;
}

const GATEWAY_KEYWORDS = new Set(['env', 'secret', 'keyName']);

let annotated: JsonSchemaNode | undefined;

/** JSON Schema of what a config file may contain (defaults make fields optional), with the gateway's keywords. */
export function annotatedConfigSchema(): JsonSchemaNode {
  annotated ??= z.toJSONSchema(gatewaySchema, {
    target: 'draft-07',
    io: 'input',
    unrepresentable: 'throw',
  }) as JsonSchemaNode;
  return annotated;
}

function withoutGatewayKeywords(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutGatewayKeywords);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    // `properties` maps field names to schemas: a field may be called `env` too.
    if (GATEWAY_KEYWORDS.has(key) && typeof v !== 'object') continue;
    out[key] = withoutGatewayKeywords(v);
  }
  return out;
}

/** The published JSON Schema: standard keywords only. */
export function publishedConfigSchema(): Record<string, unknown> {
  return withoutGatewayKeywords(annotatedConfigSchema()) as Record<string, unknown>;
}

/** The published schema as the text of gateway.schema.json. */
export function configSchemaText(): string {
  return `${JSON.stringify(publishedConfigSchema(), null, 2)}\n`;
}

export interface EnvBinding {
  readonly path: readonly string[];
  readonly env: string;
  readonly type: string;
}

let bindings: readonly EnvBinding[] | undefined;

/** Fields the environment may override: only on a plain object path (not inside maps or arrays). */
export function envBindings(): readonly EnvBinding[] {
  if (bindings) return bindings;
  const out: EnvBinding[] = [];
  const walk = (node: JsonSchemaNode, path: string[]): void => {
    if (node.env) out.push({ path, env: node.env, type: node.type ?? 'string' });
    for (const [key, child] of Object.entries(node.properties ?? {})) walk(child, [...path, key]);
  };
  walk(annotatedConfigSchema(), []);
  bindings = out;
  return out;
}
