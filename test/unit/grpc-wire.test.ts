import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { grpcAnswerBytes, grpcAnswerDoc } from '../../src/inference/grpc-answer.js';
import { grpcUnframe } from '../../src/inference/grpc-codec.js';
import { grpcRequestBytes, readGrpcInferBody } from '../../src/inference/grpc-infer-request.js';
import { grpcCallOf } from '../../src/inference/grpc-route.js';
import {
  framedInferRequest,
  framedMessage,
  irisInfer,
  unframedMessage,
  type InferRequest,
} from '../helpers/grpc-inference-client.js';
import { postView } from '../helpers/request-view.js';

// Wire bytes written by hand, for encodings a protobuf library would not produce on its own
// but another client (or a crafted request) may send, and that every runtime reads one way.
const varint = (v: bigint | number): number[] => {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
};
const field = (n: number, payload: Buffer | number[]): Buffer => {
  const p = Buffer.from(payload);
  return Buffer.from([...varint(n * 8 + 2), ...varint(p.length), ...p]);
};
const str = (n: number, s: string | Buffer): Buffer => field(n, Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8'));
const framed = (...parts: Buffer[]): Buffer => {
  const message = Buffer.concat(parts);
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
};
const fp32 = (values: number[]): Buffer => {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeFloatLE(v, i * 4));
  return b;
};
/** An input tensor (ModelInferRequest field 5) from its own fields. */
const input = (...fields: Buffer[]): Buffer => field(5, Buffer.concat(fields));
const shape = (...dims: Array<number | bigint>): Buffer =>
  field(
    3,
    dims.flatMap((d) => varint(d)),
  );
const contents = (...fields: Buffer[]): Buffer => field(5, Buffer.concat(fields));

const reasonOf = (body: Buffer): string => {
  const r = readGrpcInferBody(body);
  return r.ok ? '' : r.reason;
};
const inputsOf = (body: Buffer): Array<Record<string, unknown>> => {
  const r = readGrpcInferBody(body);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.doc['inputs'] as Array<Record<string, unknown>>;
};

describe('reading a ModelInferRequest from the wire as the runtimes read it', () => {
  it('reads what protobufjs encodes the same as protobufjs decodes it, for every typed contents field', () => {
    const request: InferRequest = {
      model_name: 'm',
      id: 'req-1',
      parameters: { p: { int64_param: 7 }, q: { string_param: 'x' } },
      inputs: [
        { name: 'b', datatype: 'BOOL', shape: [2], contents: { bool_contents: [true, false] } },
        { name: 'i', datatype: 'INT32', shape: [2], contents: { int_contents: [-5, 2147483647] } },
        { name: 'l', datatype: 'INT64', shape: [2], contents: { int64_contents: [-9007199254740991, 3] } },
        { name: 'u', datatype: 'UINT32', shape: [1], contents: { uint_contents: [4294967295] } },
        { name: 'v', datatype: 'UINT64', shape: [1], contents: { uint64_contents: [9007199254740991] } },
        {
          name: 'f',
          datatype: 'FP32',
          shape: [1, 20],
          contents: { fp32_contents: Array.from({ length: 20 }, (_, k) => k / 8) },
        },
        {
          name: 'd',
          datatype: 'FP64',
          shape: [1, 17],
          contents: { fp64_contents: Array.from({ length: 17 }, (_, k) => k / 3) },
        },
        { name: 's', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from('héllo')] } },
      ],
      outputs: [{ name: 'out', parameters: { classification: { int64_param: 2 } } }],
    };
    const r = readGrpcInferBody(framedInferRequest(request));
    assert.ok(r.ok, r.ok ? '' : r.reason);
    const want = request.inputs.map((t) => {
      const values = Object.values(t.contents!)[0]!;
      return {
        name: t.name,
        datatype: t.datatype,
        shape: t.shape,
        data: values.map((v) => (Buffer.isBuffer(v) ? v.toString() : v)),
      };
    });
    assert.deepEqual(r.doc['inputs'], want);
    assert.deepEqual(r.doc['parameters'], { p: 7, q: 'x' });
    assert.deepEqual(r.doc['outputs'], [{ name: 'out', parameters: { classification: 2 } }]);
    assert.equal(r.doc['id'], 'req-1');
  });

  it('reads FP32 values at any byte alignment of the message, each exactly', () => {
    const values = Array.from({ length: 33 }, (_, k) => Math.fround(k * 1.37 - 11));
    for (const pad of ['', 'a', 'ab', 'abc']) {
      const body = framed(
        str(1, `m${pad}`),
        input(str(1, 'x'), str(2, 'FP32'), shape(1, 33), contents(field(6, fp32(values)))),
      );
      assert.deepEqual(inputsOf(body)[0]!['data'], values, `padding ${pad.length}`);
    }
  });

  it('concatenates a repeated field sent partly packed and partly one value at a time, as the runtimes do', () => {
    const one = Buffer.from([0x35, ...fp32([3])]); // field 6, wire type 5: one unpacked float
    const body = framed(
      str(1, 'm'),
      input(str(1, 'x'), str(2, 'FP32'), shape(1, 3), contents(field(6, fp32([1, 2])), one)),
    );
    assert.deepEqual(inputsOf(body)[0]!['data'], [1, 2, 3]);
  });

  it('reads shape dimensions sent one varint at a time (unpacked) too', () => {
    const body = framed(
      str(1, 'm'),
      input(str(1, 'x'), str(2, 'FP32'), Buffer.from([0x18, 1, 0x18, 2]), contents(field(6, fp32([1, 2])))),
    );
    assert.deepEqual(inputsOf(body)[0]!['shape'], [1, 2]);
  });

  it('reads the InferParameter member that comes last on the wire (a oneof keeps its last member)', () => {
    const param = (...members: Buffer[]) =>
      field(4, Buffer.concat([str(1, 'binary_data_output'), field(2, Buffer.concat(members))]));
    const asBool = Buffer.from([0x08, 1]);
    const asInt = Buffer.from([0x10, 5]);
    const body = (...members: Buffer[]) =>
      framed(
        str(1, 'm'),
        param(...members),
        input(str(1, 'x'), str(2, 'FP32'), shape(1), contents(field(6, fp32([1])))),
      );
    const params = (b: Buffer) => {
      const r = readGrpcInferBody(b);
      assert.ok(r.ok, r.ok ? '' : r.reason);
      return r.doc['parameters'];
    };
    assert.deepEqual(params(body(asInt, asBool)), { binary_data_output: true });
    assert.deepEqual(params(body(asBool, asInt)), { binary_data_output: 5 });
  });

  it('keeps a parameter named __proto__ as a parameter', () => {
    const body = framed(
      str(1, 'm'),
      field(4, Buffer.concat([str(1, '__proto__'), field(2, [0x08, 1])])),
      input(str(1, 'x'), str(2, 'FP32'), shape(1), contents(field(6, fp32([1])))),
    );
    const r = readGrpcInferBody(body);
    assert.ok(r.ok);
    assert.deepEqual(Object.keys(r.doc['parameters'] as object), ['__proto__']);
    assert.equal(Object.getPrototypeOf(r.doc['parameters']), Object.prototype);
  });

  it('reads INT64 contents below -2^53 and above 2^53 as the nearest numbers, and negative INT32 from ten-byte varints', () => {
    const body = framed(
      str(1, 'm'),
      input(
        str(1, 'l'),
        str(2, 'INT64'),
        shape(3),
        contents(field(3, [...varint(-(2n ** 60n)), ...varint(2n ** 60n), ...varint(-1)])),
      ),
      input(str(1, 'i'), str(2, 'INT32'), shape(1), contents(field(2, varint(-7)))),
    );
    const [l, i] = inputsOf(body);
    assert.deepEqual(l!['data'], [-(2 ** 60), 2 ** 60, -1]);
    assert.deepEqual(i!['data'], [-7]);
  });

  it('refuses a dimension of 2^53 or more, naming it exactly', () => {
    const body = framed(str(1, 'm'), input(str(1, 'x'), str(2, 'FP32'), shape(2n ** 53n + 1n, 1)));
    assert.match(reasonOf(body), /shape: 9007199254740993 is not a non-negative integer/);
  });

  it('refuses a string field that is not UTF-8 (the runtimes fail the parse of a proto3 string)', () => {
    const body = framed(
      str(1, Buffer.from([0x69, 0x72, 0xff])),
      input(str(1, 'x'), str(2, 'FP32'), shape(1), contents(field(6, fp32([1])))),
    );
    assert.match(reasonOf(body), /not a valid protobuf message \(a string field is not valid UTF-8\)/);
    const call = grpcCallOf(postView(body, { path: '/inference.GRPCInferenceService/ModelInfer' }));
    assert.ok(call && !call.ok);
    assert.equal(call.denial.code, 'invalid_body');
  });

  it('reads a multi-byte UTF-8 name as that name', () => {
    const body = framed(str(1, 'm'), input(str(1, 'größe'), str(2, 'FP32'), shape(1), contents(field(6, fp32([1])))));
    assert.equal(inputsOf(body)[0]!['name'], 'größe');
  });

  it('refuses a known field sent with another wire type (the runtimes would skip it as unknown)', () => {
    const modelNameAsVarint = Buffer.from([0x08, 1]);
    const body = framed(
      modelNameAsVarint,
      str(1, 'm'),
      input(str(1, 'x'), str(2, 'FP32'), shape(1), contents(field(6, fp32([1])))),
    );
    assert.match(reasonOf(body), /string arrives with wire type 0, not 2/);
  });

  it('refuses a varint longer than ten bytes, a length running past the message, and a group', () => {
    const base = [str(1, 'm'), input(str(1, 'x'), str(2, 'FP32'), shape(1), contents(field(6, fp32([1]))))];
    const long = Buffer.from([0x78, ...Array<number>(10).fill(0x80), 0]); // field 15, an 11-byte varint
    assert.match(reasonOf(framed(...base, long)), /longer than 10 bytes/);
    assert.match(reasonOf(framed(...base, Buffer.from([0x7a, 9, 1]))), /runs past the message/);
    assert.match(reasonOf(framed(...base, Buffer.from([0x7b, 0x7c]))), /groups/);
  });

  it('skips fields the protocol does not define, as the runtimes do', () => {
    const unknown = Buffer.concat([Buffer.from([0x78, 5]), str(16, 'later'), Buffer.from([0x85, 0x01, 1, 2, 3, 4])]);
    const body = framed(
      str(1, 'm'),
      unknown,
      input(str(1, 'x'), str(2, 'FP32'), shape(1), contents(field(6, fp32([1])))),
    );
    assert.deepEqual(inputsOf(body)[0]!['data'], [1]);
  });

  it('routes ModelReady by the name on the wire and refuses one whose name is not UTF-8', () => {
    const ready = (name: Buffer) =>
      grpcCallOf(postView(framed(str(1, name)), { path: '/inference.GRPCInferenceService/ModelReady' }));
    const ok = ready(Buffer.from('iris'));
    assert.ok(ok?.ok);
    assert.equal(ok.route?.model, 'iris');
    const bad = ready(Buffer.from([0xc3, 0x28]));
    assert.ok(bad && !bad.ok);
    assert.match(bad.denial.message, /not valid UTF-8/);
  });

  it('rewrites parameters and outputs and copies every other field byte for byte', () => {
    const body = framedInferRequest({
      ...irisInfer([[1, 2, 3, 4]]),
      parameters: { binary_data_output: { bool_param: true } },
      outputs: [{ name: 'p', parameters: { classification: { int64_param: 3 } } }],
    });
    const r = readGrpcInferBody(body);
    assert.ok(r.ok);
    // The input field as this client encoded it: its message less the 6 bytes of model_name "iris".
    const inputField = (grpcUnframe(framedInferRequest(irisInfer([[1, 2, 3, 4]]))) as Buffer).subarray(6);
    const sent = grpcRequestBytes(r.message, { parameters: {}, outputs: [{ name: 'p' }] });
    assert.ok(sent.includes(inputField), 'the input is sent as the client encoded it');
    const decoded = unframedMessage('ModelInferRequest', sent);
    assert.deepEqual(decoded['outputs'], [{ name: 'p' }]);
    assert.equal(decoded['parameters'], undefined);
    assert.equal(decoded['model_name'], 'iris');
  });
});

/** Why an answer cannot be read ('' when it can). */
const answerProblem = (body: Buffer): string => {
  const doc = grpcAnswerDoc(body);
  return typeof doc === 'string' ? doc : '';
};

describe('reading and writing a ModelInferResponse on the wire', () => {
  it('writes a reduced answer that an independent protobuf client decodes to the same tensors', () => {
    const doc = {
      model_name: 'iris',
      model_version: '2',
      id: 'req-9',
      outputs: [
        { name: 'predict', shape: [3], datatype: 'BYTES', data: ['setosa', 'virginica', 'größe'] },
        { name: 'idx', shape: [3], datatype: 'INT64', data: [0, -2, 2 ** 60] },
        { name: 'predict_scores', shape: [3, 1], datatype: 'FP64', data: [0.5, 0.25, 1 / 3] },
        { name: 'f', shape: [1], datatype: 'FP32', data: [1.5] },
        { name: 'i', shape: [2], datatype: 'INT32', data: [-1, 7] },
        { name: 'b', shape: [2], datatype: 'BOOL', data: [true, false] },
      ],
    };
    const bytes = grpcAnswerBytes(doc);
    assert.ok(Buffer.isBuffer(bytes));
    const m = unframedMessage('ModelInferResponse', bytes);
    assert.equal(m['model_name'], 'iris');
    assert.equal(m['model_version'], '2');
    assert.equal(m['id'], 'req-9');
    const outputs = m['outputs'] as Array<{
      name: string;
      datatype: string;
      shape: number[];
      contents: Record<string, unknown[]>;
    }>;
    assert.deepEqual(
      outputs.map((o) => [o.name, o.datatype, o.shape]),
      doc.outputs.map((o) => [o.name, o.datatype, o.shape]),
    );
    assert.deepEqual(outputs[0]!.contents['bytes_contents']!.map(String), ['setosa', 'virginica', 'größe']);
    assert.deepEqual(outputs[1]!.contents['int64_contents'], [0, -2, 2 ** 60]);
    assert.deepEqual(outputs[2]!.contents['fp64_contents'], [0.5, 0.25, 1 / 3]);
    assert.deepEqual(outputs[3]!.contents['fp32_contents'], [1.5]);
    assert.deepEqual(outputs[4]!.contents['int_contents'], [-1, 7]);
    assert.deepEqual(outputs[5]!.contents['bool_contents'], [true, false]);
  });

  it('writes an answer of many rows through buffer growth intact', () => {
    const labels = Array.from({ length: 5000 }, (_, k) => `class-${k % 7}`);
    const bytes = grpcAnswerBytes({
      model_name: 'm',
      outputs: [{ name: 'predict', shape: [5000], datatype: 'BYTES', data: labels }],
    });
    assert.ok(Buffer.isBuffer(bytes));
    const m = unframedMessage('ModelInferResponse', bytes);
    const out = (m['outputs'] as Array<{ contents: { bytes_contents: Buffer[] } }>)[0]!;
    assert.deepEqual(out.contents.bytes_contents.map(String), labels);
  });

  it('refuses to write a value its contents field cannot carry', () => {
    const one = (datatype: string, data: unknown[]) =>
      grpcAnswerBytes({ model_name: 'm', outputs: [{ name: 'o', shape: [data.length], datatype, data }] });
    assert.match(String(one('INT64', [1.5])), /not an integer/);
    assert.match(String(one('INT32', [2 ** 31])), /not an integer/);
    assert.match(String(one('UINT32', [-1])), /not an integer/);
    assert.match(String(one('BOOL', [1])), /not a boolean/);
    assert.match(String(one('FP64', ['0.5'])), /not a number/);
    assert.match(String(one('FP16', [1])), /no typed contents field/);
  });

  it('reads typed FP64 probabilities and raw ones alike', () => {
    const typed = framedMessage('ModelInferResponse', {
      outputs: [
        { name: 'predict_proba', datatype: 'FP64', shape: [1, 3], contents: { fp64_contents: [0.1, 0.7, 0.2] } },
      ],
    });
    const raw = Buffer.alloc(24);
    [0.1, 0.7, 0.2].forEach((v, i) => raw.writeDoubleLE(v, i * 8));
    const rawAnswer = framedMessage('ModelInferResponse', {
      outputs: [{ name: 'predict_proba', datatype: 'FP64', shape: [1, 3] }],
      raw_output_contents: [raw],
    });
    const want = { outputs: [{ name: 'predict_proba', datatype: 'FP64', shape: [1, 3], data: [0.1, 0.7, 0.2] }] };
    assert.deepEqual(grpcAnswerDoc(typed), want);
    assert.deepEqual(grpcAnswerDoc(rawAnswer), want);
  });

  it('refuses an answer whose output carries its contents twice (its client would merge them)', () => {
    const out = field(
      5,
      Buffer.concat([
        str(1, 'p'),
        str(2, 'FP64'),
        shape(1, 2),
        contents(field(7, Buffer.alloc(8))),
        contents(field(7, Buffer.alloc(8))),
      ]),
    );
    assert.match(answerProblem(framed(out)), /carries its contents 2 times/);
  });

  it('refuses an answer that is not a protobuf message', () => {
    assert.match(
      answerProblem(framed(Buffer.from([0x2a, 50, 1]))),
      /ModelInfer response is not a valid protobuf message/,
    );
  });
});
