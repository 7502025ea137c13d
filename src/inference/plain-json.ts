// A reader for the JSON most inference bodies are: ASCII, no escapes, shallow, numbers a float64
// holds exactly as written (at most 15 significant digits, a small exponent), no key twice. On
// that subset every JSON reader of the KServe runtimes reads the same value, so nothing the strict
// reader (strict-json.ts) refuses can be in it; anything outside it is left to the strict reader,
// which reads or refuses it and says why. One pass over the bytes, no text decoded for numbers,
// which costs less than JSON.parse followed by the strict reader's own checks: a [256, 4] tensor
// of features is about 1,300 values.
//
// Numbers: a decimal literal with at most 15 significant digits and a power of ten of at most 22
// either way is m × 10^e or m / 10^e with m and 10^|e| both exact doubles, so one IEEE operation
// gives the correctly rounded value, the same double JSON.parse and strtod give (Clinger 1990,
// "How to read floating point numbers accurately", the fast path).

const MAX_DEPTH = 16;
const MAX_DIGITS = 15;
const MAX_POWER = 22;
const POW10: readonly number[] = Array.from({ length: MAX_POWER + 1 }, (_, k) => Number(`1e${k}`));

// Byte classes.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** What `readPlainJson` answers when the body is outside the subset (a JSON value is never this). */
export const NOT_PLAIN: unique symbol = Symbol('not plain JSON');

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Thrown inside the reader only, caught at its entry: the body is outside the subset. One instance, made once. */
const OUTSIDE = new Error('outside the plain JSON subset');

class Reader {
  i = 0;
  constructor(private readonly b: Buffer) {}

  skipSpace(): number {
    const b = this.b;
    let i = this.i;
    let c = b[i];
    while (c !== undefined && isSpace(c)) c = b[++i];
    this.i = i;
    if (c === undefined) throw OUTSIDE;
    return c;
  }

  value(depth: number): unknown {
    const c = this.skipSpace();
    if (c === OPEN_ARRAY) return this.array(depth + 1);
    if (c === OPEN_OBJECT) return this.object(depth + 1);
    if (c === QUOTE) return this.string();
    if (c === MINUS || (c >= ZERO && c <= NINE)) return this.number();
    if (this.word('true')) return true;
    if (this.word('false')) return false;
    if (this.word('null')) return null;
    throw OUTSIDE;
  }

  word(w: string): boolean {
    const b = this.b;
    const i = this.i;
    for (let k = 0; k < w.length; k++) if (b[i + k] !== w.charCodeAt(k)) return false;
    this.i = i + w.length;
    return true;
  }

  array(depth: number): unknown[] {
    if (depth > MAX_DEPTH) throw OUTSIDE;
    this.i++;
    const out: unknown[] = [];
    if (this.skipSpace() === CLOSE_ARRAY) {
      this.i++;
      return out;
    }
    const b = this.b;
    for (;;) {
      // Numbers, the bulk of a tensor, are read without the general dispatch.
      const c = b[this.i];
      out.push(c !== undefined && c >= ZERO && c <= NINE ? this.number() : this.value(depth));
      const next = this.skipSpace();
      this.i++;
      if (next === COMMA) continue;
      if (next === CLOSE_ARRAY) return out;
      throw OUTSIDE;
    }
  }

  object(depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) throw OUTSIDE;
    this.i++;
    const out: Record<string, unknown> = {};
    let c = this.skipSpace();
    if (c === CLOSE_OBJECT) {
      this.i++;
      return out;
    }
    for (;;) {
      if (c !== QUOTE) throw OUTSIDE;
      const key = this.string();
      // A key seen twice is read differently by different runtimes; `__proto__` would set the
      // prototype where JSON.parse makes a property. Both are the strict reader's to judge.
      if (key === '__proto__' || Object.hasOwn(out, key)) throw OUTSIDE;
      if (this.skipSpace() !== COLON) throw OUTSIDE;
      this.i++;
      out[key] = this.value(depth);
      const next = this.skipSpace();
      this.i++;
      if (next === COMMA) {
        c = this.skipSpace();
        continue;
      }
      if (next === CLOSE_OBJECT) return out;
      throw OUTSIDE;
    }
  }

  /** A string without escapes or control characters, at the opening quote. */
  string(): string {
    const b = this.b;
    const start = this.i + 1;
    const end = b.indexOf(QUOTE, start);
    if (end < 0) throw OUTSIDE;
    for (let k = start; k < end; k++) {
      const c = b[k]!;
      if (c < 0x20 || c === BACKSLASH) throw OUTSIDE;
    }
    this.i = end + 1;
    return b.toString('latin1', start, end);
  }

  /** A number in JSON's grammar that a double holds as written (see the top of the file). */
  number(): number {
    const b = this.b;
    let i = this.i;
    let negative = false;
    if (b[i] === MINUS) {
      negative = true;
      i++;
    }
    let c = b[i];
    if (c === undefined || c < ZERO || c > NINE) throw OUTSIDE;
    let m = 0;
    let digits = 0;
    if (c === ZERO) {
      i++;
      c = b[i];
      // JSON allows no leading zero ("01").
      if (c !== undefined && c >= ZERO && c <= NINE) throw OUTSIDE;
    } else {
      while (c !== undefined && c >= ZERO && c <= NINE) {
        m = m * 10 + (c - ZERO);
        digits++;
        c = b[++i];
      }
    }
    let power = 0;
    if (c === DOT) {
      c = b[++i];
      if (c === undefined || c < ZERO || c > NINE) throw OUTSIDE;
      while (c !== undefined && c >= ZERO && c <= NINE) {
        // Leading zeros of a fraction ("0.05") are not significant digits.
        if (m !== 0 || c !== ZERO) digits++;
        m = m * 10 + (c - ZERO);
        power--;
        c = b[++i];
      }
    }
    if (c === 0x65 || c === 0x45) {
      c = b[++i];
      let exponentNegative = false;
      if (c === MINUS || c === PLUS) {
        exponentNegative = c === MINUS;
        c = b[++i];
      }
      if (c === undefined || c < ZERO || c > NINE) throw OUTSIDE;
      let exponent = 0;
      while (c !== undefined && c >= ZERO && c <= NINE) {
        // Past 99 the literal is outside the subset whatever its digits.
        if (exponent < 100) exponent = exponent * 10 + (c - ZERO);
        c = b[++i];
      }
      power += exponentNegative ? -exponent : exponent;
    }
    if (digits > MAX_DIGITS || power > MAX_POWER || power < -MAX_POWER) throw OUTSIDE;
    this.i = i;
    const v = power >= 0 ? m * POW10[power]! : m / POW10[-power]!;
    return negative ? -v : v;
  }
}

/** Every byte printable ASCII or JSON whitespace: no BOM, no UTF-8 to validate, no control character. */
function plainAscii(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c > 0x7e || (c < 0x20 && !isSpace(c))) return false;
  }
  return true;
}

/**
 * The body's value when it is in the plain subset, else NOT_PLAIN (the strict reader then reads
 * or refuses it). Never throws.
 */
export function readPlainJson(bytes: Buffer): unknown {
  if (!plainAscii(bytes)) return NOT_PLAIN;
  const r = new Reader(bytes);
  try {
    const v = r.value(0);
    // Only whitespace may follow the value.
    for (let i = r.i; i < bytes.length; i++) if (!isSpace(bytes[i]!)) return NOT_PLAIN;
    return v;
  } catch (e) {
    if (e === OUTSIDE) return NOT_PLAIN;
    throw e;
  }
}
