/** A command-line number checked against its range: every bench loop is bounded by what it is given. */
export function boundedArg(name: string, v: string | undefined, min: number, max: number, integer = false): number {
  const x = Number(v);
  const ok = integer ? Number.isInteger(x) : Number.isFinite(x);
  if (!ok || x < min || x > max)
    throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  return x;
}
