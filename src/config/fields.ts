// Building blocks for the configuration schema, on zod 4. Every field carries its own
// documentation (`.meta({ description })`), so the validator, the TypeScript types, the JSON
// Schema (`z.toJSONSchema`) and the Markdown reference all come from the one declaration.
import * as z from 'zod';

declare module 'zod' {
  interface GlobalMeta {
    /** Environment variable that overrides this field (only fields on a plain object path, outside maps and arrays). */
    env?: string;
    /** Never echo the value in messages, and never show a default in the reference. */
    secret?: boolean;
    /** What a map's keys name, for the reference (`models.<model>.labels`). */
    keyName?: string;
  }
}

export { z };

/**
 * A cross-field check (`.superRefine(crossField(check), CROSS_FIELD)`) that runs even when a field
 * of the same object has a type problem, so check-config reports every problem at once instead of
 * the cross-field ones only after the type errors are fixed. The check may then meet a malformed
 * field, which is reported already: what it throws on one (a TypeError) adds nothing.
 */
export function crossField<T>(check: (v: T, ctx: z.RefinementCtx<T>) => void): (v: T, ctx: z.RefinementCtx<T>) => void {
  return (v, ctx) => {
    try {
      check(v, ctx);
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;
    }
  };
}

/** Runs a crossField check whenever the value is an object, whatever problems its fields have. */
export const CROSS_FIELD = {
  when: (payload: { value: unknown }) => typeof payload.value === 'object' && payload.value !== null,
};

/** Message of a pattern failure: the hint, then the value unless the field is secret. */
function patternMessage(hint: string, secret: boolean) {
  return (issue: { input?: unknown }): string => (secret ? hint : `${hint}, got ${JSON.stringify(issue.input)}`);
}

/** A string that must match `pattern`; `hint` says in words what is expected. */
export function matching(pattern: RegExp, hint: string, options: { secret?: boolean } = {}): z.ZodString {
  return z.string().regex(pattern, { error: patternMessage(hint, options.secret === true) });
}

/** A TCP port; 0 asks the system for a free one (tests). */
export function port(description: string, defaultPort: number, env: string) {
  return z.int().min(0).max(65535).default(defaultPort).meta({ description, env });
}

/**
 * A settings object: unknown keys are refused, and an absent (or empty YAML `key:`) object is
 * read as `{}`, so its fields take their defaults.
 */
export function settings<S extends z.ZodRawShape>(shape: S, description: string) {
  const object = z.strictObject(shape);
  // `{}` is parsed like any input: a settings object whose field is required reports it as missing.
  return object.prefault({} as z.input<typeof object>).meta({ description });
}

/**
 * A map from names the user chooses (models, tiers, headers, claims) to values. The key pattern
 * and the message name what the keys are (`is not a valid model name`).
 */
export function mapOf<V extends z.ZodType>(keyName: string, values: V, keyPattern?: RegExp) {
  const key = keyPattern ? z.string().regex(keyPattern) : z.string();
  return z.record(key, values, {
    error: (issue) => {
      if (issue.code === 'invalid_key') return `is not a valid ${keyName} name`;
      if (issue.code === 'invalid_type' && issue.input !== undefined)
        return `expected a map of ${keyName} to settings, got ${typeName(issue.input)}`;
      return undefined;
    },
  });
}

/** "a string", "an array", "null": how a wrong value is named in messages (never the value itself). */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
