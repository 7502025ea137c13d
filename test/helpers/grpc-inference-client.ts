import { credentials, Client, Metadata, type CallOptions, type ServiceError } from '@grpc/grpc-js';
import protobuf from 'protobufjs';

// A gRPC client of `inference.GRPCInferenceService` declaring its own copy of the messages it
// sends (written from KServe's grpc_predict_v2.proto independently of the gateway's loader), so a
// field-number slip on either side shows up as a failing test.
const PROTO = `syntax = "proto3"; package inference;
message InferParameter { oneof parameter_choice { bool bool_param = 1; int64 int64_param = 2; string string_param = 3; } }
message InferTensorContents {
  repeated bool bool_contents = 1; repeated int32 int_contents = 2; repeated int64 int64_contents = 3; repeated uint32 uint_contents = 4;
  repeated uint64 uint64_contents = 5; repeated float fp32_contents = 6; repeated double fp64_contents = 7; repeated bytes bytes_contents = 8;
}
message ModelInferRequest {
  message InferInputTensor { string name = 1; string datatype = 2; repeated int64 shape = 3; map<string, InferParameter> parameters = 4; InferTensorContents contents = 5; }
  message InferRequestedOutputTensor { string name = 1; map<string, InferParameter> parameters = 2; }
  string model_name = 1; string model_version = 2; string id = 3; map<string, InferParameter> parameters = 4;
  repeated InferInputTensor inputs = 5; repeated InferRequestedOutputTensor outputs = 6; repeated bytes raw_input_contents = 7;
}
message ModelInferResponse {
  message InferOutputTensor { string name = 1; string datatype = 2; repeated int64 shape = 3; map<string, InferParameter> parameters = 4; InferTensorContents contents = 5; }
  string model_name = 1; string model_version = 2; string id = 3; map<string, InferParameter> parameters = 4;
  repeated InferOutputTensor outputs = 5; repeated bytes raw_output_contents = 6;
}
message ModelReadyRequest { string name = 1; string version = 2; }
message ModelReadyResponse { bool ready = 1; }
message ServerLiveRequest {}
message ServerLiveResponse { bool live = 1; }
message ServerMetadataRequest {}
message ServerMetadataResponse { string name = 1; string version = 2; repeated string extensions = 3; }`;

const root = protobuf.parse(PROTO, { keepCase: true }).root;
const type = (name: string) => root.lookupType(`inference.${name}`);
const TO_OBJECT = { longs: Number, bytes: Buffer, defaults: false } as const;

export interface InferTensor {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Record<string, { bool_param?: boolean; int64_param?: number; string_param?: string }>;
  contents?: Record<string, unknown[]>;
}

export interface InferRequest {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, { bool_param?: boolean; int64_param?: number; string_param?: string }>;
  inputs: InferTensor[];
  outputs?: Array<{
    name: string;
    parameters?: Record<string, { bool_param?: boolean; int64_param?: number; string_param?: string }>;
  }>;
  raw_input_contents?: Buffer[];
}

export interface InferResponse {
  model_name?: string;
  model_version?: string;
  id?: string;
  outputs?: Array<{ name: string; datatype: string; shape: number[]; contents?: Record<string, unknown[]> }>;
  raw_output_contents?: Buffer[];
}

export interface CallResult<T> {
  readonly error: ServiceError | undefined;
  readonly value: T | undefined;
  /** Initial metadata (headers) the client saw. */
  readonly headers: Metadata | undefined;
}

const codec = (name: string) => ({
  serialize: (v: object) => Buffer.from(type(name).encode(type(name).fromObject(v)).finish()),
  deserialize: (b: Buffer) => type(name).toObject(type(name).decode(b), TO_OBJECT),
});

/** A real @grpc/grpc-js client; every call resolves with the error or the value (never rejects). */
export class InferenceClient {
  private readonly client: Client;

  constructor(address: string) {
    this.client = new Client(address, credentials.createInsecure());
  }

  call<T>(
    method: string,
    request: string,
    response: string,
    value: object,
    metadata: Record<string, string> = {},
    options: CallOptions = {},
    onCall?: (call: { cancel(): void }) => void,
  ): Promise<CallResult<T>> {
    const md = new Metadata();
    for (const [k, v] of Object.entries(metadata)) md.set(k, v);
    const req = codec(request);
    const res = codec(response);
    return new Promise((resolve) => {
      let headers: Metadata | undefined;
      const call = this.client.makeUnaryRequest(
        `/inference.GRPCInferenceService/${method}`,
        req.serialize,
        res.deserialize,
        value,
        md,
        options,
        (error, v) => resolve({ error: error ?? undefined, value: v as T | undefined, headers }),
      );
      call.on('metadata', (m: Metadata) => (headers = m));
      onCall?.(call);
    });
  }

  infer(
    request: InferRequest,
    metadata: Record<string, string> = {},
    options: CallOptions = {},
    onCall?: (call: { cancel(): void }) => void,
  ): Promise<CallResult<InferResponse>> {
    return this.call<InferResponse>(
      'ModelInfer',
      'ModelInferRequest',
      'ModelInferResponse',
      request,
      metadata,
      options,
      onCall,
    );
  }

  modelReady(name: string, metadata: Record<string, string> = {}): Promise<CallResult<{ ready?: boolean }>> {
    return this.call('ModelReady', 'ModelReadyRequest', 'ModelReadyResponse', { name }, metadata);
  }

  serverLive(metadata: Record<string, string> = {}): Promise<CallResult<{ live?: boolean }>> {
    return this.call('ServerLive', 'ServerLiveRequest', 'ServerLiveResponse', {}, metadata);
  }

  close(): void {
    this.client.close();
  }
}

/** The bytes of a ModelInferRequest as this client encodes it, framed as gRPC sends it (for the ext-authz checks). */
export function framedInferRequest(request: InferRequest): Buffer {
  return framedMessage('ModelInferRequest', request);
}

/** Any message of the service, encoded by this client and framed as gRPC sends it. */
export function framedMessage(type: string, value: object): Buffer {
  const message = codec(type).serialize(value);
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

/** FP32 rows as raw_input_contents bytes (little-endian, row-major). */
export function fp32Raw(rows: readonly (readonly number[])[]): Buffer {
  const flat = rows.flat();
  const b = Buffer.alloc(flat.length * 4);
  flat.forEach((v, i) => b.writeFloatLE(v, i * 4));
  return b;
}

/** An iris request of `rows` rows in typed FP32 contents. */
export function irisInfer(
  rows: readonly (readonly number[])[] = [[6.8, 2.8, 4.8, 1.4]],
  extra: Partial<InferRequest> = {},
): InferRequest {
  return {
    model_name: 'iris',
    inputs: [{ name: 'input-0', datatype: 'FP32', shape: [rows.length, 4], contents: { fp32_contents: rows.flat() } }],
    ...extra,
  };
}

/** A framed message of the service decoded by this client (int64 as numbers, bytes as Buffers, absent fields absent). */
export function unframedMessage(type: string, framed: Buffer): Record<string, unknown> {
  assertFramed(framed);
  return codec(type).deserialize(framed.subarray(5));
}

function assertFramed(framed: Buffer): void {
  if (framed.length < 5 || framed[0] !== 0 || framed.readUInt32BE(1) !== framed.length - 5)
    throw new Error('not one uncompressed length-prefixed gRPC message');
}
