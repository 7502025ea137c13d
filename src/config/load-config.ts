import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { envBindings, type EnvBinding } from './json-schema.js';
import { configMessage, problemsOf, type Problem } from './problems.js';
import { configFindings } from './footguns.js';
import { gatewaySchema, type GatewayConfig } from './schema.js';

export type { Problem } from './problems.js';

export class ConfigError extends Error {
  readonly code = 'config_invalid';
  constructor(
    readonly source: string,
    readonly problems: readonly Problem[],
  ) {
    super(
      `${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.map((p) => `  ${p.path || '(root)'}: ${p.message}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/** Parses YAML text; syntax errors are reported with their line, like any other problem. */
export function parseConfigText(text: string, source: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => ({
        path: `(line ${e.linePos?.[0]?.line ?? '?'})`,
        message: e.message.split('\n')[0] ?? e.message,
      })),
    );
  }
  return doc.toJS() ?? {};
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A copy of the document where a null value of a key means "not set": YAML writes an empty
 * `server:` or `iris:` as null, and it takes the defaults like an absent key. Array items keep
 * their nulls (a null item is an error there).
 */
function nullsAsUnset(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(nullsAsUnset);
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = v === null ? undefined : nullsAsUnset(v);
  return out;
}

/** Parses an environment string for a field of the given JSON Schema type; returns the value or a problem message. */
export function parseEnvValue(type: string, raw: string): { value?: unknown; error?: string } {
  switch (type) {
    case 'integer':
    case 'number': {
      const n = Number(raw);
      return raw.trim() === '' || !Number.isFinite(n)
        ? { error: `expected a number, got ${JSON.stringify(raw)}` }
        : { value: n };
    }
    case 'boolean':
      if (raw === 'true' || raw === '1') return { value: true };
      if (raw === 'false' || raw === '0') return { value: false };
      return { error: `expected true or false, got ${JSON.stringify(raw)}` };
    case 'array':
      return {
        value: raw
          .split(',')
          .map((x) => x.trim())
          .filter((x) => x !== ''),
      };
    default:
      return { value: raw };
  }
}

function setAt(root: Record<string, unknown>, binding: EnvBinding, value: unknown): void {
  let node = root;
  for (const key of binding.path.slice(0, -1)) {
    const next = node[key];
    if (next === undefined || next === null) node[key] = {};
    else if (!isPlainObject(next)) return; // the document's own type error is reported by the schema
    node = node[key] as Record<string, unknown>;
  }
  node[binding.path[binding.path.length - 1] as string] = value;
}

/** Applies environment overrides (deploy-time values) onto the document before validation. */
function applyEnv(doc: unknown, env: NodeJS.ProcessEnv, problems: Problem[]): unknown {
  if (!isPlainObject(doc)) return doc;
  for (const binding of envBindings()) {
    const text = env[binding.env];
    if (text === undefined) continue;
    const parsed = parseEnvValue(binding.type, text);
    if (parsed.error) problems.push({ path: `${binding.path.join('.')} (from ${binding.env})`, message: parsed.error });
    else setAt(doc, binding, parsed.value);
  }
  return doc;
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

/** Validates a raw document (plus environment) into the frozen config, or throws ConfigError with every problem. */
export function buildConfig(raw: unknown, source = 'config', env: NodeJS.ProcessEnv = {}): GatewayConfig {
  const problems: Problem[] = [];
  const doc = applyEnv(nullsAsUnset(raw ?? {}), env, problems);
  const result = gatewaySchema.safeParse(doc, { error: configMessage });
  if (!result.success) problems.push(...problemsOf(result.error.issues));
  // Fields valid one by one can still weaken the gateway together (see footguns.ts).
  else problems.push(...configFindings(result.data).errors);
  if (problems.length > 0 || !result.success) throw new ConfigError(source, problems);
  return deepFreeze(result.data);
}

export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [
      { path: '(file)', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` },
    ]);
  }
  return buildConfig(parseConfigText(text, file), file, env);
}

/** Legal but unusual combinations in a valid config, for `check-config` and the start-up log. */
export function configWarnings(config: GatewayConfig): readonly Problem[] {
  return configFindings(config).warnings;
}
