import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadSync, type MethodDefinition } from '@grpc/proto-loader';

// The Open Inference Protocol's gRPC messages (KServe grpc_predict_v2.proto, vendored under
// proto/inference/), read with @grpc/proto-loader: keepCase keeps the wire names, int64 values
// arrive as decimal strings (so no precision is lost before the gateway decides what to do with
// them), defaults are not filled in (an absent field reads as undefined) and a set oneof member is
// kept even when it holds its default (`bool_param: false`).

export const GRPC_INFERENCE_SERVICE = 'inference.GRPCInferenceService';
/** The path prefix of every RPC of the service (gRPC over HTTP/2: `/<package>.<service>/<method>`). */
export const GRPC_INFERENCE_PREFIX = `/${GRPC_INFERENCE_SERVICE}/`;

import type {
  Int64,
  InferParameterMessage,
  TensorContentsMessage,
  TensorMessage,
  RequestedOutputMessage,
  ModelInferRequestMessage,
  ModelInferResponseMessage,
  ModelNameMessage,
} from '../protocol/grpc-messages.js';
export type {
  Int64,
  InferParameterMessage,
  TensorContentsMessage,
  TensorMessage,
  RequestedOutputMessage,
  ModelInferRequestMessage,
  ModelInferResponseMessage,
  ModelNameMessage,
};

export type InferenceRpc =
  'ServerLive' | 'ServerReady' | 'ModelReady' | 'ServerMetadata' | 'ModelMetadata' | 'ModelInfer';
// The messages differ per RPC; callers narrow them through the typed helpers below.
export type InferenceMethods = Readonly<Record<InferenceRpc, MethodDefinition<object, object>>>;

// proto/ at the repository root: three levels up from src/inference in the sources, four from dist/src/inference.
function protoRoot(): string {
  for (const up of ['../../../proto/', '../../proto/']) {
    const dir = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(`${dir}inference/grpc_predict_v2.proto`)) return dir;
  }
  throw new Error('the vendored Open Inference Protocol proto (proto/inference/grpc_predict_v2.proto) is missing');
}

/** The vendored .proto file's absolute path (printed in the quickstart's client line). */
export const inferenceProtoPath = (): string => `${protoRoot()}inference/grpc_predict_v2.proto`;

let cached: InferenceMethods | undefined;

/** The service's method definitions (path, serializers), loaded once per process. */
export function inferenceMethods(): InferenceMethods {
  if (cached) return cached;
  const definition = loadSync('inference/grpc_predict_v2.proto', {
    includeDirs: [protoRoot()],
    keepCase: true,
    longs: String,
    enums: Number,
    defaults: false,
    oneofs: false,
  });
  const service = definition[GRPC_INFERENCE_SERVICE] as InferenceMethods | undefined;
  if (!service?.ModelInfer || service.ModelInfer.path !== `${GRPC_INFERENCE_PREFIX}ModelInfer`)
    throw new Error('the vendored grpc_predict_v2.proto has no ModelInfer');
  cached = service;
  return service;
}

export function encodeMessage(rpc: InferenceRpc, side: 'request' | 'response', message: object): Buffer {
  const m = inferenceMethods()[rpc];
  return side === 'request' ? m.requestSerialize(message) : m.responseSerialize(message);
}

/**
 * A length-prefixed gRPC message (gRPC over HTTP/2, "Length-Prefixed-Message": a compressed flag
 * byte, a 4-byte big-endian length, the message).
 */
export function grpcFrame(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

/**
 * The one message of a unary call's body. A compressed message, a cut one, or more than one
 * (a client streaming into a unary method) cannot be read as the server would, so it is refused.
 */
export function grpcUnframe(body: Buffer): Buffer | string {
  if (body.length < 5) return 'the gRPC body holds no length-prefixed message';
  if (body[0] !== 0) return 'the gRPC message is compressed; only identity encoding is accepted';
  const length = body.readUInt32BE(1);
  if (5 + length > body.length) return 'the gRPC message is cut short';
  if (5 + length < body.length) return 'the gRPC body holds more than one message for a unary method';
  return body.subarray(5);
}
