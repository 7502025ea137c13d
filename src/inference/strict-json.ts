// The one reader of request JSON. The gateway decides on its parse and forwards the original
// bytes, so wherever JSON readers disagree the model server could predict on a body other than
// the one that was counted and checked. The readers of the KServe runtimes (Python's json,
// orjson, RapidJSON as Triton and TF Serving build it, Go's encoding/json) disagree on duplicate
// keys (last wins, or first), a leading byte order mark (skipped, or an error), invalid UTF-8 and
// lone surrogates (passed through, replaced, or an error), NaN/Infinity (accepted, or an error),
// integers past 2^53 (exact, or rounded), literals past float64 (inf, or an error), nesting depth
// (a limit of 1024, 10000, or none) and data after the value (ignored, or an error). Each of those
// is refused here, so every body the gateway lets through reads the same in all of them. The table
// with sources is in the README ("How request JSON is read").
//
// Cost: one native UTF-8 check (simdutf), JSON.parse, and one walk over the parsed value; only a
// body the walk cannot vouch for pays a scan over its bytes for what JSON.parse cannot report (a
// key seen twice, an unsafe number, a lone surrogate escape, depth). The scan touches each byte
// once and allocates only for object keys. There is one reader on purpose: a second, faster one
// for common bodies would be a second place where a body could read differently, on the path that
// decides what the model server is allowed to read.

import { isUtf8 } from 'node:buffer';

/** Nesting deeper than this is refused: orjson stops at 1024, CPython's json near 1000, RapidJSON never. 64 is far above any KServe body. */
export const MAX_JSON_DEPTH = 64;

export type StrictJson =
  | { readonly ok: true; readonly value: unknown }
  /** `nonFinite`: the body holds a NaN or Infinity literal (an input problem rather than broken JSON). */
  | { readonly ok: false; readonly reason: string; readonly nonFinite?: true };

const NOT_JSON = { ok: false, reason: 'request body is not valid JSON' } as const;
const BOM = {
  ok: false,
  reason:
    'request body starts with a byte order mark: some model servers skip it, others refuse the body; send JSON without it',
} as const;
const NOT_UTF8 = {
  ok: false,
  reason:
    'request body is not valid UTF-8: some model servers pass the raw bytes to the model, others replace or refuse them',
} as const;
const NON_FINITE = {
  ok: false,
  reason: 'inputs must be finite numbers: NaN and Infinity are refused',
  nonFinite: true,
} as const;
const TOO_DEEP = { ok: false, reason: `request body nests deeper than ${MAX_JSON_DEPTH} levels` } as const;
const OVERFLOW = {
  ok: false,
  reason:
    'inputs must be finite numbers: a literal beyond the float64 range is read as infinity by some model servers and refused by others',
  nonFinite: true,
} as const;
const LONE_SURROGATE = {
  ok: false,
  reason: 'request body has a string with a lone surrogate escape (\\ud800-\\udfff): model servers read it differently',
} as const;

const fail = (reason: string): StrictJson => ({ ok: false, reason });

/**
 * Reads a request body as JSON, or says why it is refused. Never throws.
 *
 * A body without surprises takes a fast path: JSON.parse, then one walk over the parsed value that counts
 * its keys, the colons inside its strings, its depth and any number that could be an unsafe
 * integer or an overflow. In a body without a backslash every ':' outside a string separates a
 * key from its value, so the colons of the text equal keys plus colons in strings exactly when no
 * key was dropped as a duplicate (a dropped copy leaves its colon in the text and none in the
 * tree). Anything else (a backslash, a suspicious number, too deep, a count that differs) is read
 * again by the byte scan, which names what it finds.
 */
export function readStrictJson(bytes: Buffer): StrictJson {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return BOM;
  if (!isUtf8(bytes)) return NOT_UTF8;
  const text = bytes.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Name NaN, Infinity or depth when that is why; otherwise it is simply not JSON.
    return scan(bytes) ?? NOT_JSON;
  }
  const tally = new Tally();
  tally.value(value, 0);
  const duplicatesPossible = text.indexOf('\\') !== -1 || tally.keys + tally.stringColons !== colonsIn(text);
  const problem = duplicatesPossible || tally.suspicious ? scan(bytes) : undefined;
  if (problem !== undefined) return problem;
  // The counts said a key was dropped, yet the scan found none: refuse rather than guess.
  if (duplicatesPossible && text.indexOf('\\') === -1) return fail('request body repeats a key in one object');
  return { ok: true, value };
}

const UNSAFE = 2 ** 53;

/** One walk over a parsed value: its keys, the colons inside its strings, and whether it needs the byte scan. */
class Tally {
  keys = 0;
  stringColons = 0;
  /** A number at or past 2^53 (maybe an unsafe integer literal, maybe Infinity), or depth past the limit. */
  suspicious = false;

  value(v: unknown, depth: number): void {
    if (typeof v === 'number') {
      if (!(v < UNSAFE && v > -UNSAFE)) this.suspicious = true;
    } else if (typeof v === 'string') {
      if (v.indexOf(':') !== -1) this.stringColons += colonsIn(v);
    } else if (typeof v === 'object' && v !== null) {
      if (depth >= MAX_JSON_DEPTH) this.suspicious = true;
      else if (Array.isArray(v)) this.array(v, depth + 1);
      else this.object(v as Record<string, unknown>, depth + 1);
    }
  }

  /** Arrays of numbers (tensor rows) are checked in place, without a call per element. */
  array(a: readonly unknown[], depth: number): void {
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      if (typeof x === 'number') {
        if (!(x < UNSAFE && x > -UNSAFE)) this.suspicious = true;
      } else if (Array.isArray(x) && depth < MAX_JSON_DEPTH) {
        const row = x as readonly unknown[];
        for (let j = 0; j < row.length; j++) {
          const y = row[j];
          if (typeof y === 'number') {
            if (!(y < UNSAFE && y > -UNSAFE)) this.suspicious = true;
          } else {
            this.value(y, depth + 1);
          }
        }
      } else {
        this.value(x, depth);
      }
    }
  }

  object(o: Record<string, unknown>, depth: number): void {
    for (const k in o) {
      this.keys++;
      if (k.indexOf(':') !== -1) this.stringColons += colonsIn(k);
      this.value(o[k], depth);
    }
  }
}

function colonsIn(s: string): number {
  let n = 0;
  for (let p = s.indexOf(':'); p !== -1; p = s.indexOf(':', p + 1)) n++;
  return n;
}

// Character codes.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COLON = 0x3a;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const N = 0x4e;
const I = 0x49;
const E_LOWER = 0x65;
const E_UPPER = 0x45;
const PLUS = 0x2b;

// Objects with few keys (the usual case) are checked by a linear look-up; larger ones get a Set.
const SMALL_OBJECT = 16;

class KeySet {
  private readonly list: string[] = [];
  private set: Set<string> | undefined;

  /** Empties the set for the next object at the same depth (objects at one depth never overlap). */
  reset(): KeySet {
    this.list.length = 0;
    this.set = undefined;
    return this;
  }

  /** false when the key was already there. */
  add(key: string): boolean {
    const set = this.set;
    if (set !== undefined) {
      if (set.has(key)) return false;
      set.add(key);
      return true;
    }
    const list = this.list;
    for (let k = 0; k < list.length; k++) if (list[k] === key) return false;
    list.push(key);
    if (list.length > SMALL_OBJECT) this.set = new Set(list);
    return true;
  }
}

// Byte classes of the scan. Everything else (commas, whitespace, '-', '+', letters of true,
// false and null) is skipped at the cost of one table look-up.
const SKIP = 0;
const DIGIT = 1;
const DOT_CLASS = 2;
const STRING = 3;
const OPEN = 4;
const CLOSE = 5;
const NON_FINITE_START = 6;
const EXPONENT = 7;
const CLASS = new Uint8Array(256);
for (let c = ZERO; c <= NINE; c++) CLASS[c] = DIGIT;
CLASS[DOT] = DOT_CLASS;
CLASS[QUOTE] = STRING;
CLASS[OPEN_OBJECT] = OPEN;
CLASS[OPEN_ARRAY] = OPEN;
CLASS[CLOSE_OBJECT] = CLOSE;
CLASS[CLOSE_ARRAY] = CLOSE;
CLASS[N] = NON_FINITE_START;
CLASS[I] = NON_FINITE_START;
CLASS[E_LOWER] = EXPONENT;
CLASS[E_UPPER] = EXPONENT;
// Digits after a '.' or an 'e' never count towards a long integer part.
const NOT_INTEGER = -(2 ** 30);

/**
 * What JSON.parse would accept but a model server could read differently, or undefined. Works on
 * the bytes (already checked to be UTF-8); on text that is not JSON at all it may stop anywhere:
 * JSON.parse refuses that text afterwards.
 */
function scan(b: Buffer): StrictJson | undefined {
  const n = b.length;
  // One entry per open container: a KeySet for an object, null for an array.
  const stack: (KeySet | null)[] = [];
  // One reusable key set per depth.
  const sets: KeySet[] = [];
  // The next backslash at or after the current string; strings before it have no escapes.
  let nextBackslash = -2;
  // Digits in a row of the current integer part.
  let run = 0;
  for (let i = 0; i < n; i++) {
    const k = CLASS[b[i] as number];
    if (k === DIGIT) {
      // 16 digits may be past 2^53: check the whole number (rare in real bodies).
      if (++run === 16) {
        let start = i - 15;
        if (b[start - 1] === MINUS) start--;
        const r = numberEnd(b, start);
        if (typeof r !== 'number') return r;
        i = r - 1;
        run = 0;
      }
      continue;
    }
    if (k === SKIP) {
      run = 0;
      continue;
    }
    if (k === DOT_CLASS) {
      run = NOT_INTEGER;
      continue;
    }
    if (k === EXPONENT) {
      run = NOT_INTEGER;
      // Inside true/false the 'e' is followed by no digit; a number's exponent of three digits can overflow.
      let j = i + 1;
      const sign = b[j];
      if (sign === MINUS) continue;
      if (sign === PLUS) j++;
      if (!isDigit(b[j]) || !isDigit(b[j + 1]) || !isDigit(b[j + 2])) continue;
      let start = i;
      while (start > 0 && isNumberByte(b[start - 1])) start--;
      const r = numberEnd(b, start);
      if (typeof r !== 'number') return r;
      // A number ending before this 'e' ("1.5-1e100") means the bytes are not JSON, which
      // JSON.parse refuses: go on after the 'e', never back (going back never ended).
      if (r > i) i = r - 1;
      run = 0;
      continue;
    }
    run = 0;
    if (k === STRING) {
      let end = b.indexOf(QUOTE, i + 1);
      if (end < 0) return undefined;
      if (nextBackslash !== -1 && nextBackslash < i) nextBackslash = b.indexOf(BACKSLASH, i);
      const escaped = nextBackslash !== -1 && nextBackslash < end;
      if (escaped) {
        end = escapedStringEnd(b, i);
        if (end < 0) return LONE_SURROGATE;
        if (end >= n) return undefined;
      }
      // A string followed by ':' is a key of the innermost object.
      let after = end + 1;
      while (isSpace(b[after])) after++;
      if (b[after] === COLON) {
        const keys = stack[stack.length - 1];
        if (!keys) return undefined;
        // Keys are compared as their UTF-8 bytes (read as latin1: one character per byte, no decoding).
        const key = escaped ? decodeKey(b, i, end) : b.toString('latin1', i + 1, end);
        if (key === undefined) return undefined;
        if (!keys.add(key)) {
          return fail(
            `request body repeats the key ${JSON.stringify(Buffer.from(key, 'latin1').toString('utf8'))} in one object: model servers disagree on which copy they read (Python, orjson and Go the last, RapidJSON the first)`,
          );
        }
      }
      i = end;
    } else if (k === OPEN) {
      if (stack.length >= MAX_JSON_DEPTH) return TOO_DEEP;
      const depth = stack.length;
      stack.push(b[i] === OPEN_OBJECT ? (sets[depth]?.reset() ?? (sets[depth] = new KeySet())) : null);
    } else if (k === CLOSE) {
      stack.pop();
    } else {
      // Outside a string 'N' and 'I' only start NaN or Infinity (Python's json writes them).
      return NON_FINITE;
    }
  }
  return undefined;
}

const isSpace = (c: number | undefined) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number | undefined) => c !== undefined && c >= ZERO && c <= NINE;
// Bytes of a number before its exponent (the sign included).
const isNumberByte = (c: number | undefined) => isDigit(c) || c === DOT || c === MINUS;

/**
 * The index after the number starting at `start`, or why it is refused: a literal past float64
 * (Node and Python read Infinity, orjson and RapidJSON refuse) or an integer past 2^53 (Node
 * rounds it, Python, orjson and RapidJSON keep it exact).
 */
function numberEnd(b: Buffer, start: number): number | StrictJson {
  let j = start;
  if (b[j] === MINUS) j++;
  const intStart = j;
  while (isDigit(b[j])) j++;
  const intDigits = j - intStart;
  let fraction = false;
  let exponent = 0;
  let exponentNegative = false;
  if (b[j] === DOT) {
    fraction = true;
    j++;
    while (isDigit(b[j])) j++;
  }
  let hasExponent = false;
  if (b[j] === E_LOWER || b[j] === E_UPPER) {
    hasExponent = true;
    j++;
    if (b[j] === MINUS || b[j] === PLUS) {
      exponentNegative = b[j] === MINUS;
      j++;
    }
    while (isDigit(b[j])) {
      if (exponent < 1e6) exponent = exponent * 10 + ((b[j] as number) - ZERO);
      j++;
    }
  }
  const literal = () => b.toString('latin1', start, j);
  // Integers of up to 15 digits are always exact; longer ones are checked.
  if (!fraction && !hasExponent && intDigits > 15 && !Number.isSafeInteger(Number(literal()))) {
    return fail(
      `request body has the integer ${b.toString('latin1', start, Math.min(j, start + 40))}${j - start > 40 ? '…' : ''}, beyond 2^53: model servers read it exactly, JavaScript rounds it`,
    );
  }
  // Only a long integer part or a large positive exponent can overflow float64 (max about 1.8e308).
  if (intDigits > 300 || (hasExponent && !exponentNegative && exponent + intDigits > 300)) {
    if (!Number.isFinite(Number(literal()))) return OVERFLOW;
  }
  return j;
}

/** The index of the closing quote of the escaped string at `start` (n when unterminated), or -1 for a lone surrogate escape. */
function escapedStringEnd(b: Buffer, start: number): number {
  const n = b.length;
  let j = start + 1;
  while (j < n) {
    const c = b[j];
    if (c === QUOTE) return j;
    if (c !== BACKSLASH) {
      j++;
      continue;
    }
    if (b[j + 1] !== 0x75 /* u */) {
      j += 2;
      continue;
    }
    const unit = hex4(b, j + 2);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      // A high surrogate must be followed at once by an escaped low one.
      if (b[j + 6] !== BACKSLASH || b[j + 7] !== 0x75) return -1;
      const low = hex4(b, j + 8);
      if (low < 0xdc00 || low > 0xdfff) return -1;
      j += 12;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return -1;
    } else {
      j += 6;
    }
  }
  return n;
}

function hex4(b: Buffer, at: number): number {
  const h = b.toString('latin1', at, at + 4);
  return /^[0-9a-fA-F]{4}$/.test(h) ? parseInt(h, 16) : -1;
}

/** A key written with escapes, decoded as every reader decodes it (`"\u0061"` is `"a"`), as its UTF-8 bytes read as latin1. */
function decodeKey(b: Buffer, start: number, end: number): string | undefined {
  try {
    return Buffer.from(JSON.parse(b.toString('utf8', start, end + 1)) as string, 'utf8').toString('latin1');
  } catch {
    return undefined;
  }
}
