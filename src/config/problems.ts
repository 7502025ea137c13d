// Turns zod's issues into the gateway's problems: a dotted path and a short reason in plain
// words, every problem at once. A value is echoed only where it helps and is never a secret
// (secret fields set their own messages, see `matching` in ./fields.ts).
import type * as z from 'zod';
import { typeName } from './fields.js';

export interface Problem {
  readonly path: string;
  readonly message: string;
}

type RawIssue = z.core.$ZodRawIssue;

function elementKind(inst: unknown): string {
  const element = (inst as { _zod?: { def?: { element?: { _zod: { def: { type: string; format?: string } } } } } })._zod
    ?.def?.element?._zod.def;
  if (!element) return '';
  if (element.type === 'number') return element.format === 'safeint' ? ' of integers' : ' of numbers';
  if (element.type === 'string' || element.type === 'enum') return ' of strings';
  if (element.type === 'object') return ' of objects';
  return '';
}

function isIntegerSchema(inst: unknown): boolean {
  return (inst as { _zod?: { def?: { format?: string } } })._zod?.def?.format === 'safeint';
}

function knownKeys(inst: unknown): string {
  const shape = (inst as { _zod?: { def?: { shape?: Record<string, unknown> } } })._zod?.def?.shape;
  return shape ? Object.keys(shape).join(', ') : '';
}

function expectedType(issue: Extract<RawIssue, { code: 'invalid_type' }>): string {
  const got = issue.input;
  switch (issue.expected) {
    case 'int':
      return `expected an integer, got ${typeof got === 'number' ? got : typeName(got)}`;
    case 'number':
      if (isIntegerSchema(issue.inst))
        return `expected an integer, got ${typeof got === 'number' ? got : typeName(got)}`;
      return typeof got === 'number'
        ? `expected a finite number, got ${got}`
        : `expected a number, got ${typeName(got)}`;
    case 'string':
      return `expected a string, got ${typeName(got)}`;
    case 'boolean':
      return `expected true or false, got ${typeName(got)}`;
    case 'array':
      return `expected an array${elementKind(issue.inst)}, got ${typeName(got)}`;
    case 'object':
      return `expected an object, got ${typeName(got)}`;
    default:
      return `expected ${issue.expected}, got ${typeName(got)}`;
  }
}

/** The error map of config parsing: zod's issue codes in the gateway's words. */
export function configMessage(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      // An absent required field (a null YAML value was removed before parsing, so it lands here too).
      return issue.input === undefined ? 'is required' : expectedType(issue);
    case 'too_small': {
      const n = Number(issue.minimum);
      if (issue.origin === 'array') return `must have at least ${n} item${n === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return `must be at least ${n} characters long`;
      return `must be ${issue.inclusive === false ? 'above' : 'at least'} ${n}, got ${String(issue.input)}`;
    }
    case 'too_big': {
      const n = Number(issue.maximum);
      if (issue.origin === 'array') return `must have at most ${n} items`;
      if (issue.origin === 'string') return `must be at most ${n} characters long`;
      return `must be ${issue.inclusive === false ? 'below' : 'at most'} ${n}, got ${String(issue.input)}`;
    }
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${typeof issue.input === 'string' ? JSON.stringify(issue.input) : typeName(issue.input)}`;
    case 'invalid_format':
      // Every pattern in the schema has its own hint; this fallback never echoes the value.
      return issue.format === 'regex' && 'pattern' in issue
        ? `must match ${String(issue.pattern)}`
        : `is not a valid ${issue.format}`;
    case 'unrecognized_keys':
      return `unknown key (known keys: ${knownKeys(issue.inst)})`;
    default:
      return undefined;
  }
}

function joinPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** One problem per issue; an unknown-keys issue becomes one problem per key, at the key's path. */
export function problemsOf(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({ path: joinPath([...prefix, ...issue.path, key]), message: issue.message });
    } else {
      out.push({ path: joinPath([...prefix, ...issue.path]), message: issue.message });
    }
  }
  return out;
}
