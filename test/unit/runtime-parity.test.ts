import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inferenceRequestOf, inferenceRowsOf } from '../../src/inference/inference-request.js';
import { inputViolation } from '../../src/inference/input-contract.js';
import { decodeTensorBytes } from '../../src/inference/binary-tensors.js';
import { routedContext } from '../helpers/request-view.js';

// Each body below is read by KServe's Python server as kserve/kserve protocol/dataplane.py and
// utils/utils.py read it; the gateway must count and check those same rows, or refuse.

const v1 = (body: unknown) => routedContext(body, { path: '/v1/models/m:predict' });
const v2 = (body: unknown) => routedContext(body, { path: '/v2/models/m/infer' });
const event = (data: unknown, extra: Record<string, unknown> = {}) => ({
  specversion: '1.0',
  type: 'io.kserve.inference.request',
  source: 'test',
  id: 'e-1',
  time: '2026-01-01T00:00:00Z',
  data,
  ...extra,
});
const refusal = (ctx: ReturnType<typeof v1>) => {
  const r = inferenceRequestOf(ctx);
  assert.ok(r && !r.ok, 'the body is refused');
  return r.denial;
};
const CONTRACT = { features: 2, min: 0, max: 10, maxBatch: 1024 } as Parameters<typeof inputViolation>[1];

describe('reading a V1 body as the model server does', () => {
  it('refuses a body carrying both instances and inputs with invalid_body naming both', () => {
    const d = refusal(v1({ instances: [[1, 2]], inputs: Array.from({ length: 1000 }, () => [1, 2]) }));
    assert.equal(d.code, 'invalid_body');
    assert.match(d.message, /both "instances" and "inputs"/);
  });

  it('counts and checks the inputs member when it is the only one', () => {
    const ctx = v1({
      inputs: [
        [1, 2],
        [3, 4],
        [5, 99],
      ],
    });
    const r = inferenceRequestOf(ctx);
    assert.ok(r?.ok);
    assert.equal(ctx.cost, 3);
    assert.match(inputViolation(r.request, CONTRACT) ?? '', /inputs\[2\]\[1\]: 99 is above the maximum 10/);
  });

  it('reads a structured CloudEvent as its data: the rows inside are counted and checked', () => {
    const ctx = v1(
      event({
        instances: [
          [1, 2],
          [3, 4],
          [5, -1],
        ],
      }),
    );
    const r = inferenceRequestOf(ctx);
    assert.ok(r?.ok);
    assert.equal(ctx.cost, 3);
    assert.match(inputViolation(r.request, CONTRACT) ?? '', /instances\[2\]\[1\]: -1 is below the minimum 0/);
    assert.deepEqual(inferenceRowsOf(r.request), [
      [1, 2],
      [3, 4],
      [5, -1],
    ]);
  });

  it('refuses an envelope without every attribute KServe requires before it unwraps data', () => {
    const { time: _t, ...noTime } = event({ instances: [[1, 2]] });
    assert.match(refusal(v1(noTime)).message, /CloudEvent envelope/);
  });

  it('refuses an envelope that also carries rows beside its data', () => {
    assert.match(
      refusal(
        v1(
          event(
            { instances: [[1, 2]] },
            {
              instances: [
                [1, 2],
                [3, 4],
              ],
            },
          ),
        ),
      ).message,
      /beside its data/,
    );
  });

  it('refuses an envelope whose data is not a JSON object', () => {
    assert.match(refusal(v1(event('{"instances": [[1, 2]]}'))).message, /data is not a JSON object/);
  });

  it('unwraps an envelope once: an envelope inside data is read as a plain body', () => {
    const ctx = v1(
      event({
        ...event({ instances: [[1, 2]] }),
        instances: [
          [1, 2],
          [3, 4],
        ],
      }),
    );
    assert.ok(inferenceRequestOf(ctx)?.ok);
    assert.equal(ctx.cost, 2);
  });

  it('counts a dict row of lists as the rows pandas builds from it', () => {
    const ctx = v1({ instances: [{ a: Array.from({ length: 40 }, () => 1), b: Array.from({ length: 40 }, () => 2) }] });
    assert.ok(inferenceRequestOf(ctx)?.ok);
    assert.equal(ctx.cost, 40);
  });

  it('counts every row of every DataFrame when rows are lists of dicts', () => {
    const ctx = v1({ instances: [[{ a: 1 }, { a: 2 }, { a: 3 }], [{ a: 4 }]] });
    assert.ok(inferenceRequestOf(ctx)?.ok);
    assert.equal(ctx.cost, 4);
  });

  it('refuses a Content-Type KServe would not parse as JSON, since the model would get raw bytes', () => {
    const ctx = routedContext(
      { instances: [[1, 2]] },
      { path: '/v1/models/m:predict', headers: { 'content-type': 'text/plain' } },
    );
    const r = inferenceRequestOf(ctx);
    assert.ok(r && !r.ok);
    assert.match(r.denial.message, /Content-Type "text\/plain" is not JSON/);
  });

  it('reads a JSON Content-Type with parameters, and a binary-mode CloudEvent whatever its Content-Type', () => {
    const withCharset = routedContext(
      { instances: [[1, 2]] },
      { path: '/v1/models/m:predict', headers: { 'content-type': 'application/json; charset=utf-8' } },
    );
    assert.ok(inferenceRequestOf(withCharset)?.ok);
    const binaryEvent = routedContext(
      { instances: [[1, 2]] },
      {
        path: '/v1/models/m:predict',
        headers: {
          'content-type': 'text/plain',
          'ce-specversion': '1.0',
          'ce-source': 's',
          'ce-type': 't',
          'ce-id': '1',
        },
      },
    );
    assert.ok(inferenceRequestOf(binaryEvent)?.ok);
  });

  it('refuses rows that are neither a list nor columns in the input contract', () => {
    const r = inferenceRequestOf(v1({ instances: 'abc' }));
    assert.ok(r?.ok);
    assert.match(inputViolation(r.request, CONTRACT) ?? '', /instances: expected a list of rows/);
  });
});

describe('reading every input of a V2 body', () => {
  const input = (name: string, rows: number[][]) => ({
    name,
    shape: [rows.length, rows[0]!.length],
    datatype: 'FP32',
    data: rows.flat(),
  });

  it('gives each row as the concatenation of every input row at that index', () => {
    const r = inferenceRequestOf(
      v2({
        inputs: [
          input('a', [
            [1, 2],
            [3, 4],
          ]),
          input('b', [[5], [6]]),
        ],
      }),
    );
    assert.ok(r?.ok);
    assert.deepEqual(inferenceRowsOf(r.request), [
      [1, 2, 5],
      [3, 4, 6],
    ]);
  });

  it('lists the rows of inputs whose batch dimensions differ one input after the other', () => {
    const r = inferenceRequestOf(v2({ inputs: [input('a', [[1, 2]]), input('b', [[5], [6], [7]])] }));
    assert.ok(r?.ok);
    assert.deepEqual(inferenceRowsOf(r.request), [[1, 2], [5], [6], [7]]);
  });

  it('still reads the numeric input when a string input comes first', () => {
    const r = inferenceRequestOf(
      v2({
        inputs: [
          { name: 'pad', shape: [1], datatype: 'BYTES', data: ['x'] },
          input('x', [
            [1, 2],
            [3, 4],
          ]),
        ],
      }),
    );
    assert.ok(r?.ok);
    assert.deepEqual(inferenceRowsOf(r.request), [
      [1, 2],
      [3, 4],
    ]);
  });

  it('counts the largest batch dimension of all inputs', () => {
    const ctx = v2({ inputs: [input('a', [[1, 2]]), input('b', [[5], [6], [7]])] });
    assert.ok(inferenceRequestOf(ctx)?.ok);
    assert.equal(ctx.cost, 3);
  });
});

describe('reading binary-extension V2 inputs as the runtime does', () => {
  const binaryCtx = (values: number[], extraBytes = 0, shape = [values.length / 2, 2]) => {
    const json = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'x', shape, datatype: 'FP32', parameters: { binary_data_size: values.length * 4 } }],
      }),
    );
    const tensor = Buffer.alloc(values.length * 4 + extraBytes);
    values.forEach((v, i) => tensor.writeFloatLE(v, i * 4));
    return routedContext(Buffer.concat([json, tensor]), {
      path: '/v2/models/m/infer',
      headers: { 'inference-header-content-length': String(json.length) },
    });
  };
  const contract = { min: 0, max: 10, maxBatch: 1024 } as Parameters<typeof inputViolation>[1];

  it('gives the decoded rows of a binary input to the extraction guard', () => {
    const r = inferenceRequestOf(binaryCtx([1, 2, 3, 4]));
    assert.ok(r?.ok);
    assert.deepEqual(inferenceRowsOf(r.request), [
      [1, 2],
      [3, 4],
    ]);
  });

  it('checks the values of a binary input against the contract', () => {
    const r = inferenceRequestOf(binaryCtx([1, 2, 3, 40]));
    assert.ok(r?.ok);
    assert.match(inputViolation(r.request, contract) ?? '', /40 is above the maximum 10/);
  });

  it('refuses NaN sent as binary FP32', () => {
    const r = inferenceRequestOf(binaryCtx([1, 2, NaN, 4]));
    assert.ok(r?.ok);
    assert.match(inputViolation(r.request, contract) ?? '', /NaN is not a finite number/);
  });

  it('refuses a binary input whose element count does not fit its shape', () => {
    const r = inferenceRequestOf(binaryCtx([1, 2, 3, 4], 0, [3, 2]));
    assert.ok(r?.ok);
    assert.match(inputViolation(r.request, contract) ?? '', /has 4 elements, shape \[3, 2\] needs 6/);
  });

  it('decodes FP16 and BF16 binary tensors to their values', () => {
    const half = Buffer.alloc(4);
    half.writeUInt16LE(0x3c00, 0); // 1.0 in binary16
    half.writeUInt16LE(0xc000, 2); // -2.0
    assert.deepEqual(decodeTensorBytes('FP16', half), [1, -2]);
    const bf = Buffer.alloc(2);
    bf.writeUInt16LE(0x3f80, 0); // 1.0 in bfloat16
    assert.deepEqual(decodeTensorBytes('BF16', bf), [1]);
  });

  it('refuses a body with tensor bytes no input claims', () => {
    const r = inferenceRequestOf(binaryCtx([1, 2, 3, 4], 8));
    assert.ok(r && !r.ok);
    assert.match(r.denial.message, /no input claims/);
  });
});
