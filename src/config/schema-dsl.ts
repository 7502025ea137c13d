// A small declarative schema language: one declaration gives the TypeScript type,
// the validator (every problem at once, unknown keys rejected, defaults applied), the
// environment overrides and the README reference. Hand-written rather than a library so that
// messages name the exact path and the reference can be generated from the same source.

export interface Problem {
  readonly path: string;
  readonly message: string;
}

interface Common {
  readonly doc: string;
  /** Environment variable that overrides this field (only fields outside maps and arrays). */
  readonly env?: string;
  /** Never echo the value in messages or logs. */
  readonly secret?: boolean;
  /** Absent means `undefined` instead of "is required". */
  readonly optional?: boolean;
}

export interface StringSpec<T extends string = string> extends Common {
  readonly kind: 'string';
  readonly default?: T;
  readonly enum?: readonly T[];
  readonly pattern?: RegExp;
  readonly patternHint?: string;
  readonly minLength?: number;
  readonly check?: (value: string) => string | undefined;
}
export interface NumberSpec extends Common {
  readonly kind: 'integer' | 'number';
  readonly default?: number;
  readonly min?: number;
  readonly max?: number;
}
export interface BooleanSpec extends Common {
  readonly kind: 'boolean';
  readonly default?: boolean;
}
export interface ArraySpec<I extends Spec = Spec> extends Common {
  readonly kind: 'array';
  readonly items: I;
  readonly default?: readonly unknown[];
  readonly minItems?: number;
  readonly maxItems?: number;
}
export interface ObjectSpec<F extends Record<string, Spec> = Record<string, Spec>> extends Common {
  readonly kind: 'object';
  readonly fields: F;
  /** Cross-field rules; returns problems with paths relative to this object ('' for itself). */
  readonly check?: (value: Record<string, unknown>) => Problem[];
}
export interface MapSpec<V extends Spec = Spec> extends Common {
  readonly kind: 'map';
  readonly values: V;
  /** What the keys name, for the reference (`models.<model>.labels`). */
  readonly keyName: string;
  readonly keyPattern?: RegExp;
  readonly default?: Record<string, unknown>;
}
/** Any JSON value; the owner checks it (used for claim values). */
export interface AnySpec extends Common {
  readonly kind: 'any';
}

export type Spec = StringSpec<string> | NumberSpec | BooleanSpec | ArraySpec<Spec> | ObjectSpec | MapSpec<Spec> | AnySpec;

type WithOptional<S, T> = S extends { optional: true } ? T | undefined : T;
type InferBase<S> = S extends { kind: 'string'; enum: readonly (infer E)[] }
  ? E
  : S extends { kind: 'string' }
    ? string
  : S extends NumberSpec
    ? number
    : S extends BooleanSpec
      ? boolean
      : S extends ArraySpec<infer I>
        ? ReadonlyArray<Infer<I>>
        : S extends ObjectSpec<infer F>
          ? { readonly [K in keyof F]: Infer<F[K]> }
          : S extends MapSpec<infer V>
            ? Readonly<Record<string, Infer<V>>>
            : S extends AnySpec
              ? unknown
              : never;
export type Infer<S> = WithOptional<S, InferBase<S>>;

// Builders keep literal types (enums) and keep call sites short.
export const s = {
  string<const O extends Omit<StringSpec<string>, 'kind'>>(o: O): O & { kind: 'string' } {
    return { kind: 'string', ...o };
  },
  integer<const O extends Omit<NumberSpec, 'kind'>>(o: O): O & { kind: 'integer' } {
    return { kind: 'integer', ...o };
  },
  number<const O extends Omit<NumberSpec, 'kind'>>(o: O): O & { kind: 'number' } {
    return { kind: 'number', ...o };
  },
  boolean<const O extends Omit<BooleanSpec, 'kind'>>(o: O): O & { kind: 'boolean' } {
    return { kind: 'boolean', ...o };
  },
  array<I extends Spec, const O extends Omit<ArraySpec<I>, 'kind' | 'items'>>(items: I, o: O): O & { kind: 'array'; items: I } {
    return { kind: 'array', items, ...o };
  },
  object<F extends Record<string, Spec>, const O extends Omit<ObjectSpec<F>, 'kind' | 'fields'>>(
    fields: F,
    o: O,
  ): O & { kind: 'object'; fields: F } {
    return { kind: 'object', fields, ...o };
  },
  map<V extends Spec, const O extends Omit<MapSpec<V>, 'kind' | 'values'>>(values: V, o: O): O & { kind: 'map'; values: V } {
    return { kind: 'map', values, ...o };
  },
  any<const O extends Omit<AnySpec, 'kind'>>(o: O): O & { kind: 'any' } {
    return { kind: 'any', ...o };
  },
};

const join = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function hasDefault(spec: Spec): boolean {
  return 'default' in spec && spec.default !== undefined;
}

/** Validates `input` against `spec`, applying defaults. Returns the value and every problem found. */
export function validate(spec: Spec, input: unknown, path = ''): { value: unknown; problems: Problem[] } {
  const problems: Problem[] = [];
  const value = check(spec, input, path, problems);
  return { value, problems };
}

function check(spec: Spec, input: unknown, path: string, problems: Problem[]): unknown {
  if (input === undefined || input === null) {
    if (hasDefault(spec)) return structuredClone((spec as { default: unknown }).default);
    if (spec.kind === 'object' && !spec.optional) return check(spec, {}, path, problems);
    if (spec.kind === 'map' && !spec.optional) return {};
    if (spec.optional) return undefined;
    problems.push({ path, message: 'is required' });
    return undefined;
  }
  switch (spec.kind) {
    case 'string': {
      if (typeof input !== 'string') {
        problems.push({ path, message: `expected a string, got ${typeName(input)}` });
        return undefined;
      }
      const shown = spec.secret ? '(secret)' : JSON.stringify(input);
      if (spec.enum && !spec.enum.includes(input)) {
        problems.push({ path, message: `expected one of ${spec.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${shown}` });
      } else if (spec.minLength !== undefined && input.length < spec.minLength) {
        problems.push({ path, message: `must be at least ${spec.minLength} characters long` });
      } else if (spec.pattern && !spec.pattern.test(input)) {
        problems.push({ path, message: `${spec.patternHint ?? `must match ${spec.pattern}`}, got ${shown}` });
      } else if (spec.check) {
        const msg = spec.check(input);
        if (msg) problems.push({ path, message: msg });
      }
      return input;
    }
    case 'integer':
    case 'number': {
      if (typeof input !== 'number' || !Number.isFinite(input)) {
        problems.push({ path, message: `expected ${spec.kind === 'integer' ? 'an integer' : 'a number'}, got ${typeName(input)}` });
        return undefined;
      }
      if (spec.kind === 'integer' && !Number.isInteger(input)) {
        problems.push({ path, message: `expected an integer, got ${input}` });
      } else if (spec.min !== undefined && input < spec.min) {
        problems.push({ path, message: `must be at least ${spec.min}, got ${input}` });
      } else if (spec.max !== undefined && input > spec.max) {
        problems.push({ path, message: `must be at most ${spec.max}, got ${input}` });
      }
      return input;
    }
    case 'boolean':
      if (typeof input !== 'boolean') problems.push({ path, message: `expected true or false, got ${typeName(input)}` });
      return input;
    case 'any':
      return input;
    case 'array': {
      if (!Array.isArray(input)) {
        problems.push({ path, message: `expected an array${describeItems(spec.items)}, got ${typeName(input)}` });
        return undefined;
      }
      if (spec.minItems !== undefined && input.length < spec.minItems) {
        problems.push({ path, message: `must have at least ${spec.minItems} item${spec.minItems === 1 ? '' : 's'}` });
      }
      if (spec.maxItems !== undefined && input.length > spec.maxItems) {
        problems.push({ path, message: `must have at most ${spec.maxItems} items` });
      }
      // A scalar item type gets one message for the whole array: "expected an array of strings".
      if (spec.items.kind === 'string' && input.some((v) => typeof v !== 'string')) {
        problems.push({ path, message: 'expected an array of strings' });
        return undefined;
      }
      return input.map((item, i) => check(spec.items, item, `${path}[${i}]`, problems));
    }
    case 'map': {
      if (typeof input !== 'object' || Array.isArray(input)) {
        problems.push({ path, message: `expected a map of ${spec.keyName} to settings, got ${typeName(input)}` });
        return undefined;
      }
      const out: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(input as Record<string, unknown>)) {
        if (spec.keyPattern && !spec.keyPattern.test(key)) {
          problems.push({ path: join(path, key), message: `is not a valid ${spec.keyName} name` });
          continue;
        }
        out[key] = check(spec.values, v, join(path, key), problems);
      }
      return out;
    }
    case 'object': {
      if (typeof input !== 'object' || Array.isArray(input)) {
        problems.push({ path, message: `expected an object, got ${typeName(input)}` });
        return undefined;
      }
      const raw = input as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      const before = problems.length;
      for (const key of Object.keys(raw)) {
        if (!(key in spec.fields)) {
          const known = Object.keys(spec.fields);
          problems.push({ path: join(path, key), message: `unknown key (known keys: ${known.join(', ')})` });
        }
      }
      for (const [key, fieldSpec] of Object.entries(spec.fields)) {
        out[key] = check(fieldSpec, raw[key], join(path, key), problems);
      }
      if (spec.check) {
        // Cross-field rules only make sense when the fields themselves are well-formed.
        if (before === problems.length) {
          for (const p of spec.check(out)) problems.push({ path: p.path === '' ? path : join(path, p.path), message: p.message });
        }
      }
      return out;
    }
  }
}

function describeItems(items: Spec): string {
  switch (items.kind) {
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

export interface ReferenceRow {
  readonly path: string;
  readonly type: string;
  readonly default: string;
  readonly env: string;
  readonly doc: string;
}

/** Every documented field, depth first; map keys appear as `<keyName>`, array items as `[]`. */
export function referenceRows(spec: Spec, path = ''): ReferenceRow[] {
  const rows: ReferenceRow[] = [];
  const row = (type: string): ReferenceRow => ({
    path,
    type,
    default:
      hasDefault(spec) && !spec.secret
        ? JSON.stringify((spec as { default: unknown }).default)
        : spec.optional
          ? '(unset)'
          : spec.kind === 'object' || spec.kind === 'map' || path === '' || path.endsWith('>')
            ? ''
            : '(required)',
    env: spec.env ?? '',
    doc: spec.doc,
  });
  switch (spec.kind) {
    case 'object':
      if (path !== '') rows.push(row('object'));
      for (const [key, f] of Object.entries(spec.fields)) rows.push(...referenceRows(f, join(path, key)));
      break;
    case 'map':
      rows.push(row(`map of ${spec.keyName}`));
      rows.push(...referenceRows(spec.values, join(path, `<${spec.keyName}>`)));
      break;
    case 'array':
      rows.push(row(`array${describeItems(spec.items)}`));
      if (spec.items.kind === 'object') rows.push(...referenceRows(spec.items, `${path}[]`).filter((r) => r.path !== `${path}[]`));
      break;
    case 'string':
      rows.push(row(spec.enum ? spec.enum.map((e) => `"${e}"`).join(' | ') : 'string'));
      break;
    default:
      rows.push(row(spec.kind));
  }
  return rows;
}

/** Environment overrides: only fields on a plain object path can carry `env`. */
export function envBindings(spec: Spec, path: string[] = []): Array<{ path: string[]; spec: Spec; env: string }> {
  const out: Array<{ path: string[]; spec: Spec; env: string }> = [];
  if (spec.env) out.push({ path, spec, env: spec.env });
  if (spec.kind === 'object') {
    for (const [key, f] of Object.entries(spec.fields)) out.push(...envBindings(f, [...path, key]));
  }
  return out;
}

/** Parses an environment string for a field; returns the value or a problem message. */
export function parseEnvValue(spec: Spec, raw: string): { value?: unknown; error?: string } {
  switch (spec.kind) {
    case 'string':
      return { value: raw };
    case 'integer':
    case 'number': {
      const n = Number(raw);
      return raw.trim() === '' || !Number.isFinite(n) ? { error: `expected a number, got ${JSON.stringify(raw)}` } : { value: n };
    }
    case 'boolean':
      if (raw === 'true' || raw === '1') return { value: true };
      if (raw === 'false' || raw === '0') return { value: false };
      return { error: `expected true or false, got ${JSON.stringify(raw)}` };
    case 'array':
      return { value: raw.split(',').map((x) => x.trim()).filter((x) => x !== '') };
    default:
      return { error: 'cannot be set from the environment' };
  }
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
