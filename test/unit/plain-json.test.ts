// The plain reader takes the bodies most clients send and reads them in one pass; everything
// else goes to the general strict reader. On every body, whatever the strict reader answers
// (the value, or the refusal and its reason) must be what the general reader answers alone.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NOT_PLAIN, readPlainJson } from '../../src/inference/plain-json.js';
import { readAnyStrictJson, readStrictJson } from '../../src/inference/strict-json.js';

const RUNS = 3000;

/** The strict reader with the plain path and the general reader alone agree, to the sign of zero. */
function agree(bytes: Buffer): void {
  assert.deepStrictEqual(readStrictJson(bytes), readAnyStrictJson(bytes), bytes.toString('latin1').slice(0, 200));
}

// Number literals of every shape JSON allows and some it does not: any digits, fraction,
// exponent, sign, leading zeros.
const digits = (min: number, max: number) =>
  fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max }).map((d) => d.join(''));
const literal = fc
  .record({
    sign: fc.constantFrom('', '', '-', '+'),
    int: fc.oneof(digits(1, 3), digits(1, 22), fc.constantFrom('0', '00', '01')),
    fraction: fc.option(fc.oneof(digits(1, 4), digits(0, 22)), { nil: undefined }),
    exponent: fc.option(
      fc.record({
        e: fc.constantFrom('e', 'E'),
        sign: fc.constantFrom('', '-', '+'),
        d: fc.oneof(digits(1, 2), digits(0, 4)),
      }),
      { nil: undefined },
    ),
  })
  .map(
    ({ sign, int, fraction, exponent }) =>
      `${sign}${int}${fraction !== undefined ? `.${fraction}` : ''}${exponent ? `${exponent.e}${exponent.sign}${exponent.d}` : ''}`,
  );

// Tensor bodies as clients write them: rows of doubles (any double JSON.stringify writes) or of literals.
const tensorBody = fc
  .record({
    rows: fc.array(
      fc.array(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer()), {
        minLength: 1,
        maxLength: 5,
      }),
      {
        minLength: 1,
        maxLength: 8,
      },
    ),
    name: fc.oneof(fc.constant('input-0'), fc.string({ maxLength: 6 })),
  })
  .map(({ rows, name }) =>
    JSON.stringify({ inputs: [{ name, shape: [rows.length, rows[0]!.length], datatype: 'FP32', data: rows }] }),
  );
const literalBody = fc
  .array(fc.array(literal, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 })
  .map((rows) => `{"inputs":[{"name":"x","data":[${rows.map((r) => `[${r.join(',')}]`).join(',')}]}]}`);

// Whatever bytes a hostile or careless client adds, anywhere.
const noise = fc.constantFrom(
  '"',
  '\\',
  '\\u0041',
  '\\ud800',
  ',',
  ':',
  '{',
  '}',
  '[',
  ']',
  ' ',
  '\t',
  '\u0000',
  '\u007f',
  'é',
  '\ufeff',
  'NaN',
  'Infinity',
  'true',
  'nul',
  '1e999',
  '9007199254740993',
  '-0',
  '__proto__',
  '"a":1,"a":2',
);
const mutated = (base: fc.Arbitrary<string>) =>
  fc.tuple(base, fc.array(fc.tuple(fc.nat(), noise), { minLength: 1, maxLength: 3 })).map(([text, edits]) => {
    let s = text;
    for (const [at, what] of edits) {
      const i = at % (s.length + 1);
      s = s.slice(0, i) + what + s.slice(i);
    }
    return s;
  });

describe('the plain JSON reader', () => {
  it('agrees with the general strict reader on any JSON text', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 5 }), (text) => agree(Buffer.from(text))),
      { numRuns: RUNS },
    );
  });

  it('agrees with the general strict reader on tensor bodies of any doubles and integers', () => {
    fc.assert(
      fc.property(tensorBody, (text) => agree(Buffer.from(text))),
      { numRuns: RUNS },
    );
  });

  it('agrees with the general strict reader on number literals of every shape, valid or not', () => {
    fc.assert(
      fc.property(literalBody, (text) => agree(Buffer.from(text))),
      { numRuns: RUNS },
    );
  });

  it('agrees with the general strict reader on bodies with bytes inserted anywhere', () => {
    fc.assert(
      fc.property(mutated(fc.oneof(tensorBody, literalBody, fc.json({ maxDepth: 3 }))), (text) =>
        agree(Buffer.from(text)),
      ),
      { numRuns: RUNS },
    );
  });

  it('reads a number of at most 15 significant digits as the same double JSON.parse reads', () => {
    fc.assert(
      fc.property(literal, (text) => {
        const v = readPlainJson(Buffer.from(text));
        if (v !== NOT_PLAIN) assert.ok(Object.is(v, JSON.parse(text)), text);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('reads the bench body, a [256, 4] FP32 tensor, itself', () => {
    const body = JSON.stringify({
      inputs: [
        {
          name: 'input-0',
          shape: [256, 4],
          datatype: 'FP32',
          data: Array.from({ length: 256 }, () => [6.8, 2.8, 4.8, 1.4]),
        },
      ],
    });
    assert.deepStrictEqual(readPlainJson(Buffer.from(body)), JSON.parse(body));
  });

  it('leaves a key written twice to the strict reader, which refuses it', () => {
    const bytes = Buffer.from('{"inputs":[],"inputs":[{"name":"x"}]}');
    assert.equal(readPlainJson(bytes), NOT_PLAIN);
    const r = readStrictJson(bytes);
    assert.ok(!r.ok);
    assert.match(r.reason, /repeats the key "inputs"/);
  });

  it('leaves a __proto__ key to the strict reader, which reads it as a plain property', () => {
    const bytes = Buffer.from('{"__proto__":{"x":1}}');
    assert.equal(readPlainJson(bytes), NOT_PLAIN);
    const r = readStrictJson(bytes);
    assert.ok(r.ok);
    assert.ok(Object.hasOwn(r.value as object, '__proto__'));
  });

  it('leaves integers past 15 digits to the strict reader, which refuses those past 2^53', () => {
    const bytes = Buffer.from('[9007199254740993]');
    assert.equal(readPlainJson(bytes), NOT_PLAIN);
    assert.ok(!readStrictJson(bytes).ok);
  });

  it('leaves a byte order mark, non-ASCII text and data after the value to the strict reader', () => {
    for (const b of [Buffer.from('\ufeff{"a":1}'), Buffer.from('{"a":"é"}'), Buffer.from('{"a":1} x')])
      assert.equal(readPlainJson(b), NOT_PLAIN);
  });
});
