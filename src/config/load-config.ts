import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { deepFreeze, envBindings, parseEnvValue, validate, type Problem } from './schema-dsl.js';
import { gatewaySchema, type GatewayConfig } from './schema.js';

export class ConfigError extends Error {
  readonly code = 'config_invalid';
  constructor(
    readonly source: string,
    readonly problems: readonly Problem[],
  ) {
    super(`${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.map((p) => `  ${p.path || '(root)'}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses YAML text; syntax errors are reported with their line, like any other problem. */
export function parseConfigText(text: string, source: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => ({ path: `(line ${e.linePos?.[0]?.line ?? '?'})`, message: e.message.split('\n')[0] ?? e.message })),
    );
  }
  return doc.toJS() ?? {};
}

/** Applies environment overrides (deploy-time values) onto the raw document before validation. */
function applyEnv(raw: unknown, env: NodeJS.ProcessEnv, problems: Problem[]): unknown {
  const root = (raw && typeof raw === 'object' && !Array.isArray(raw) ? structuredClone(raw) : raw) as Record<string, unknown>;
  if (typeof root !== 'object' || root === null) return raw;
  for (const binding of envBindings(gatewaySchema)) {
    const text = env[binding.env];
    if (text === undefined) continue;
    const parsed = parseEnvValue(binding.spec, text);
    if (parsed.error) {
      problems.push({ path: `${binding.path.join('.')} (from ${binding.env})`, message: parsed.error });
      continue;
    }
    let node: Record<string, unknown> = root;
    for (const key of binding.path.slice(0, -1)) {
      const next = node[key];
      if (next === undefined || next === null) node[key] = {};
      else if (typeof next !== 'object' || Array.isArray(next)) break;
      node = node[key] as Record<string, unknown>;
    }
    node[binding.path[binding.path.length - 1] as string] = parsed.value;
  }
  return root;
}

/** Validates a raw document (plus environment) into the frozen config, or throws ConfigError with every problem. */
export function buildConfig(raw: unknown, source = 'config', env: NodeJS.ProcessEnv = {}): GatewayConfig {
  const problems: Problem[] = [];
  const withEnv = applyEnv(raw ?? {}, env, problems);
  const result = validate(gatewaySchema, withEnv);
  problems.push(...result.problems);
  if (problems.length > 0) throw new ConfigError(source, problems);
  return deepFreeze(result.value as GatewayConfig);
}

export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '(file)', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }]);
  }
  return buildConfig(parseConfigText(text, file), file, env);
}
