import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DecisionContext } from '../../src/decision/decision-context.js';
import { compileContract } from '../../src/inference/model-contract.js';
import { grpcUnframe, inferenceMethods, type ModelInferRequestMessage } from '../../src/inference/grpc-codec.js';
import { grpcRequestBytes, readGrpcInferBody } from '../../src/inference/grpc-infer-request.js';
import { grpcCallOf } from '../../src/inference/grpc-route.js';
import { inferenceRequestOf, inferenceRowsOf, inputValuesOf } from '../../src/inference/inference-request.js';
import { inputViolation } from '../../src/inference/input-contract.js';
import { rewrittenForPolicy, scoreRequestReason } from '../../src/inference/score-requests.js';
import { buildConfig } from '../../src/config/load-config.js';
import { fp32Raw, framedInferRequest, irisInfer, type InferRequest } from '../helpers/grpc-inference-client.js';
import { postView } from '../helpers/request-view.js';

const INFER = '/inference.GRPCInferenceService/ModelInfer';
const ROWS = [
  [1, 2, 3, 4],
  [5, 6, 7, 8],
];

/** A context routed as the pipeline routes a gRPC call. */
function grpcContext(body: Buffer): DecisionContext {
  const view = postView(body, { path: INFER });
  const call = grpcCallOf(view);
  assert.ok(call?.ok && call.route, 'routed');
  const ctx = new DecisionContext(view, []);
  ctx.route = { kind: 'model', route: call.route };
  return ctx;
}

const read = (r: InferRequest) => readGrpcInferBody(framedInferRequest(r));
const reason = (r: InferRequest) => {
  const g = read(r);
  return g.ok ? undefined : g.reason;
};
const contract = (models: Record<string, unknown> = { m: {} }) =>
  compileContract(buildConfig({ auth: { enabled: false }, models }, 'test').models['m']!);

describe('reading a ModelInferRequest as the model server reads it', () => {
  it('counts predictions by shape[0] and reads typed contents as the REST body’s data', () => {
    const ctx = grpcContext(framedInferRequest(irisInfer(ROWS)));
    const r = inferenceRequestOf(ctx);
    assert.ok(r?.ok, 'read');
    assert.equal(ctx.cost, 2);
    assert.deepEqual(inferenceRowsOf(r.request), ROWS);
    assert.deepEqual(r.request.doc['inputs'], [
      { name: 'input-0', datatype: 'FP32', shape: [2, 4], data: ROWS.flat() },
    ]);
  });

  it('reads raw_input_contents little-endian, per input in input order', () => {
    const ctx = grpcContext(
      framedInferRequest({
        model_name: 'iris',
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [2, 2] },
          { name: 'b', datatype: 'INT32', shape: [2, 1] },
        ],
        raw_input_contents: [
          fp32Raw([
            [1, 2],
            [5, 6],
          ]),
          Buffer.from(new Int32Array([9, -3]).buffer),
        ],
      }),
    );
    const r = inferenceRequestOf(ctx);
    assert.ok(r?.ok);
    assert.deepEqual(inputValuesOf(r.request, 1), [9, -3]);
    assert.deepEqual(inferenceRowsOf(r.request), [
      [1, 2, 9],
      [5, 6, -3],
    ]);
  });

  it('refuses raw contents mixed with typed contents in one request', () => {
    assert.match(
      reason({ ...irisInfer(ROWS), raw_input_contents: [fp32Raw(ROWS)] }) ?? '',
      /both contents and raw_input_contents/,
    );
  });

  it('refuses a raw entry count that differs from the input count', () => {
    const r: InferRequest = {
      model_name: 'iris',
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [1, 4] },
        { name: 'b', datatype: 'FP32', shape: [1, 4] },
      ],
      raw_input_contents: [fp32Raw([ROWS[0]!])],
    };
    assert.match(reason(r) ?? '', /raw_input_contents has 1 entries for 2 inputs/);
  });

  it('refuses raw bytes that are not shape × datatype bytes long', () => {
    const r: InferRequest = {
      model_name: 'iris',
      inputs: [{ name: 'a', datatype: 'FP64', shape: [2, 4] }],
      raw_input_contents: [fp32Raw(ROWS)],
    };
    assert.match(reason(r) ?? '', /holds 32 bytes; shape \[2, 4\] of FP64 needs 64/);
  });

  it('refuses raw BYTES whose element count differs from the shape', () => {
    const one = Buffer.concat([Buffer.from([3, 0, 0, 0]), Buffer.from('abc')]);
    assert.match(
      reason({
        model_name: 'iris',
        inputs: [{ name: 's', datatype: 'BYTES', shape: [2] }],
        raw_input_contents: [one],
      }) ?? '',
      /holds 1 BYTES elements; shape \[2\] needs 2/,
    );
  });

  it('refuses typed contents whose element count differs from the shape', () => {
    assert.match(
      reason({
        model_name: 'iris',
        inputs: [{ name: 'a', datatype: 'FP32', shape: [3, 4], contents: { fp32_contents: ROWS.flat() } }],
      }) ?? '',
      /holds 8 elements; shape \[3, 4\] needs 12/,
    );
  });

  it('refuses FP16 in typed contents (the protocol carries it raw only) and reads it raw', () => {
    assert.match(
      reason({
        model_name: 'iris',
        inputs: [{ name: 'h', datatype: 'FP16', shape: [1], contents: { fp32_contents: [1] } }],
      }) ?? '',
      /send it in raw_input_contents/,
    );
    const g = read({
      model_name: 'iris',
      inputs: [{ name: 'h', datatype: 'FP16', shape: [1] }],
      raw_input_contents: [Buffer.from([0x00, 0x3c])],
    });
    assert.ok(g.ok);
  });

  it('refuses two inputs of one name, and one output requested twice', () => {
    assert.match(
      reason({ model_name: 'iris', inputs: [irisInfer(ROWS).inputs[0]!, irisInfer(ROWS).inputs[0]!] }) ?? '',
      /two inputs are named "input-0"/,
    );
    assert.match(reason({ ...irisInfer(ROWS), outputs: [{ name: 'p' }, { name: 'p' }] }) ?? '', /requested twice/);
  });

  it('refuses a negative dimension', () => {
    assert.match(
      reason({
        model_name: 'iris',
        inputs: [{ name: 'a', datatype: 'FP32', shape: [-1, 4], contents: { fp32_contents: [] } }],
      }) ?? '',
      /shape: -1 is not a non-negative integer/,
    );
  });

  it('refuses a compressed message, a cut one, and two messages in a unary body', () => {
    const framed = framedInferRequest(irisInfer(ROWS));
    const compressed = Buffer.from(framed);
    compressed[0] = 1;
    assert.match(
      readGrpcInferBody(compressed).ok ? '' : (readGrpcInferBody(compressed) as { reason: string }).reason,
      /compressed/,
    );
    assert.equal(readGrpcInferBody(framed.subarray(0, framed.length - 1)).ok, false);
    const two = Buffer.concat([framed, framed]);
    assert.match((readGrpcInferBody(two) as { reason: string }).reason, /more than one message/);
  });

  it('refuses an input whose contents appear twice on the wire (servers merge them, protobufjs would keep the last)', () => {
    const one = grpcUnframe(framedInferRequest(irisInfer([ROWS[0]!]))) as Buffer;
    // The input (field 5) is the message's last field: its payload ends the message. A second
    // contents (field 5 of the input, tag 0x2a) holding four more fp32 values is appended to it.
    const extra = Buffer.from([0x2a, 18, 0x32, 16, ...fp32Raw([ROWS[1]!])]);
    const inputAt = one.indexOf(0x2a); // the first top-level inputs tag
    const inputLength = one[inputAt + 1]!;
    assert.equal(inputAt + 2 + inputLength, one.length, 'the input is the last field');
    const message = Buffer.concat([
      one.subarray(0, inputAt),
      Buffer.from([0x2a, inputLength + extra.length]),
      one.subarray(inputAt + 2),
      extra,
    ]);
    const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), message]);
    framed.writeUInt32BE(message.length, 1);
    assert.match((readGrpcInferBody(framed) as { reason: string }).reason ?? '', /contents appear 2 times/);
  });

  it('routes by the last model_name on the wire, as protobuf parsers read a repeated singular field', () => {
    const message = Buffer.concat([
      grpcUnframe(framedInferRequest(irisInfer(ROWS, { model_name: 'public' }))) as Buffer,
      Buffer.from([0x0a, 4, ...Buffer.from('iris')]),
    ]);
    const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), message]);
    framed.writeUInt32BE(message.length, 1);
    const call = grpcCallOf(postView(framed, { path: INFER }));
    assert.ok(call?.ok);
    assert.equal(call.route?.model, 'iris');
  });

  it('hands the model contract the same description as REST (a row of 3 features refused)', () => {
    const ctx = grpcContext(
      framedInferRequest({
        model_name: 'iris',
        inputs: [{ name: 'a', datatype: 'FP32', shape: [1, 3], contents: { fp32_contents: [1, 2, 3] } }],
      }),
    );
    const r = inferenceRequestOf(ctx);
    assert.ok(r?.ok);
    assert.match(
      inputViolation(r.request, contract({ m: { input: { shape: [4] } } }).input) ?? '',
      /rows must have shape \[4\], got \[3\]/,
    );
  });

  it('reads classification and binary-output switches as the REST body’s parameters', () => {
    const g = read({ ...irisInfer(ROWS), parameters: { binary_data_output: { bool_param: true } } });
    assert.ok(g.ok);
    const ctx = grpcContext(
      framedInferRequest({
        ...irisInfer(ROWS),
        outputs: [{ name: 'predict_proba', parameters: { classification: { int64_param: 3 } } }],
      }),
    );
    const r = inferenceRequestOf(ctx);
    assert.ok(r?.ok);
    assert.match(scoreRequestReason(r.request, contract()) ?? '', /predict_proba/);
    assert.deepEqual(r.request.doc['outputs'], [{ name: 'predict_proba', parameters: { classification: 3 } }]);
  });

  it('rewrites a classification request for the proxy and keeps the inputs and raw bytes as sent', () => {
    const raw = fp32Raw(ROWS);
    const ctx = grpcContext(
      framedInferRequest({
        model_name: 'iris',
        inputs: [{ name: 'a', datatype: 'FP32', shape: [2, 4] }],
        raw_input_contents: [raw],
        outputs: [
          { name: 'out', parameters: { classification: { int64_param: 3 }, binary_data: { bool_param: true } } },
        ],
      }),
    );
    const r = inferenceRequestOf(ctx);
    assert.ok(r?.ok && r.request.grpc);
    const doc = rewrittenForPolicy(r.request, contract());
    assert.ok(doc);
    // Read back by protobufjs (the loader's own decoder), independently of the gateway's wire reader.
    const sent = inferenceMethods().ModelInfer.requestDeserialize(
      grpcUnframe(grpcRequestBytes(r.request.grpc, doc)) as Buffer,
    ) as ModelInferRequestMessage;
    assert.deepEqual(sent.outputs, [{ name: 'out', parameters: { classification: { int64_param: '1' } } }]);
    assert.deepEqual(sent.raw_input_contents, [raw]);
    assert.equal(sent.inputs?.[0]?.name, 'a');
  });
});
