import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { MAX_JSON_DEPTH, readStrictJson } from '../../src/inference/strict-json.js';

// Each case is a place where the JSON readers of the KServe runtimes disagree (Python's json,
// orjson, RapidJSON as Triton and TF Serving build it, Go's encoding/json): the gateway must read
// the body as the model server will, or refuse it. The README's "How request JSON is read" table
// lists the same cases.

const read = (text: string | Buffer) => readStrictJson(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
const refusedFor = (text: string | Buffer, reason: RegExp) => {
  const r = read(text);
  assert.equal(r.ok, false, `expected a refusal of ${String(text).slice(0, 80)}`);
  if (!r.ok) assert.match(r.reason, reason);
};

describe('strict JSON reader: duplicate keys (RapidJSON reads the first copy, the others the last)', () => {
  it('refuses a duplicate top-level key and names it', () =>
    refusedFor('{"instances":[[99,99,99,99]],"instances":[[1,1,1,1]]}', /repeats the key "instances"/));

  it('refuses a duplicate key deep inside a tensor object', () =>
    refusedFor(
      '{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,3,4],"data":[9,9,9,9]}]}',
      /repeats the key "data"/,
    ));

  it('refuses a duplicate under parameters', () =>
    refusedFor(
      '{"inputs":[],"parameters":{"binary_data_output":false,"binary_data_output":true}}',
      /"binary_data_output"/,
    ));

  it('refuses a duplicate written with an escape (\\u0069nstances is instances)', () =>
    refusedFor('{"instances":[[1]],"\\u0069nstances":[[2]]}', /repeats the key "instances"/));

  it('refuses a duplicate of a non-ASCII key, one copy escaped', () =>
    refusedFor('{"é":1,"\\u00e9":2}', /repeats the key "é"/));

  it('refuses a duplicate in an object with many keys', () => {
    const keys = Array.from({ length: 40 }, (_, i) => `"k${i}":${i}`).join(',');
    refusedFor(`{${keys},"k7":0}`, /repeats the key "k7"/);
  });

  it('accepts the same key in sibling objects', () =>
    assert.equal(read('{"inputs":[{"name":"a"},{"name":"b"}],"outputs":[{"name":"a"}]}').ok, true));

  it('accepts a colon inside a string value and inside a key', () => {
    const r = read('{"time":"2020-01-01T00:00:00Z","a:b":{"c":"x:y:z"}}');
    assert.deepEqual(r, { ok: true, value: { time: '2020-01-01T00:00:00Z', 'a:b': { c: 'x:y:z' } } });
  });

  it('does not take a key-like string inside an array for a key', () =>
    assert.equal(read('{"a":["k","k"],"b":"k"}').ok, true));
});

describe('strict JSON reader: encodings', () => {
  it('refuses a leading byte order mark (RapidJSON and Python skip it, orjson and Go refuse)', () =>
    refusedFor(Buffer.from('\ufeff{"instances":[[1]]}', 'utf8'), /byte order mark/));

  it('refuses invalid UTF-8 (RapidJSON passes the bytes on, Node would read U+FFFD)', () =>
    refusedFor(
      Buffer.concat([Buffer.from('{"instances":[["'), Buffer.from([0xff, 0xfe]), Buffer.from('"]]}')]),
      /not valid UTF-8/,
    ));

  it('refuses a UTF-8-encoded surrogate (CESU, which Python reads with surrogatepass)', () =>
    refusedFor(
      Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]),
      /not valid UTF-8/,
    ));

  it('refuses a lone high surrogate escape', () => refusedFor('{"a":"\\ud800"}', /lone surrogate/));

  it('refuses a lone low surrogate escape (RapidJSON 1.1.0 accepts it, master refuses)', () =>
    refusedFor('{"a":"x\\udc00y"}', /lone surrogate/));

  it('accepts a surrogate pair written as escapes', () =>
    assert.deepEqual(read('{"a":"\\ud83d\\ude00"}'), { ok: true, value: { a: '😀' } }));

  it('accepts an escaped quote and backslash inside keys and values', () =>
    assert.deepEqual(read('{"a\\"b":"c\\\\"}'), { ok: true, value: { 'a"b': 'c\\' } }));
});

describe('strict JSON reader: numbers', () => {
  it('refuses NaN as an input problem (Python and RapidJSON with NanAndInf read it)', () => {
    const r = read('{"instances":[[1,NaN]]}');
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.nonFinite, true);
  });

  it('refuses -Infinity as an input problem', () => {
    const r = read('{"instances":[[1,-Infinity]]}');
    assert.equal(!r.ok && r.nonFinite, true);
  });

  it('refuses a literal past float64 (Node and Python read Infinity, orjson refuses)', () => {
    const r = read('{"instances":[[1e400]]}');
    assert.equal(!r.ok && r.nonFinite, true);
  });

  it('refuses a 400-digit integer (past float64 as well)', () =>
    assert.equal(read(`{"a":${'9'.repeat(400)}}`).ok, false));

  it('refuses an integer past 2^53 (orjson and RapidJSON keep it exact, Node rounds)', () =>
    refusedFor('{"sequence_id":9007199254740993}', /beyond 2\^53/));

  it('accepts 2^53 - 1 and its negative', () =>
    assert.deepEqual(read('{"a":[9007199254740991,-9007199254740991]}'), {
      ok: true,
      value: { a: [9007199254740991, -9007199254740991] },
    }));

  it('accepts a float with many digits, a large finite exponent and an underflow to 0', () => {
    const r = read('{"a":[0.30000001192092896,1234567890123456.5,1.5e300,1e-400]}');
    assert.deepEqual(r, { ok: true, value: { a: [0.30000001192092896, 1234567890123456.5, 1.5e300, 0] } });
  });
});

describe('strict JSON reader: structure', () => {
  it(`refuses nesting deeper than ${MAX_JSON_DEPTH} (orjson stops at 1024, RapidJSON never)`, () =>
    refusedFor(`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`, /deeper than 64/));

  it(`accepts nesting of exactly ${MAX_JSON_DEPTH}`, () =>
    assert.equal(read(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`).ok, true));

  it('refuses data after the value (TF Serving ignores it)', () =>
    refusedFor('{"instances":[[1]]} {"instances":[[2]]}', /not valid JSON/));

  it('refuses a NUL after the value (RapidJSON stops reading there)', () =>
    refusedFor('{"instances":[[1]]}\u0000{"x":1}', /not valid JSON/));

  it('accepts trailing whitespace', () => assert.equal(read('{"a":1} \r\n\t').ok, true));
});

describe('strict JSON reader: bodies that are not JSON', () => {
  // Regression: the scan went back to the start of "1.5-1" on reaching an exponent of three
  // digits, found the same exponent again, and never ended: one request held the event loop.
  // The read runs in a worker so that a regression fails this test instead of hanging it.
  it('refuses a number with a minus inside it before a three-digit exponent, and returns', async () => {
    const module = new URL('../../src/inference/strict-json.js', import.meta.url).href;
    const worker = new Worker(
      `import(${JSON.stringify(module)}).then((m) => {
         const { parentPort } = require('node:worker_threads');
         parentPort.postMessage([m.readStrictJson(Buffer.from('{"inputs":[1.5-1e100]}')), m.readStrictJson(Buffer.from('[-3.15-06758632e+277]'))]);
       });`,
      { eval: true },
    );
    try {
      const answer = await Promise.race([
        once(worker, 'message').then(([m]) => m as unknown),
        sleep(10_000).then(() => 'no answer within 10 s'),
      ]);
      assert.deepEqual(answer, [
        { ok: false, reason: 'request body is not valid JSON' },
        { ok: false, reason: 'request body is not valid JSON' },
      ]);
    } finally {
      await worker.terminate();
    }
  });
});
