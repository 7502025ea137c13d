// The Open Inference Protocol's gRPC messages (KServe grpc_predict_v2.proto) as the gateway reads
// them (wire names, int64 as decimal strings, absent fields undefined): shapes only, so the
// request description can carry a decoded message without importing the codec.

export type Int64 = string;

export interface InferParameterMessage {
  bool_param?: boolean;
  int64_param?: Int64;
  string_param?: string;
}

export interface TensorContentsMessage {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: Int64[];
  uint_contents?: number[];
  uint64_contents?: Int64[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Buffer[];
}

export interface TensorMessage {
  name?: string;
  datatype?: string;
  shape?: Int64[];
  parameters?: Record<string, InferParameterMessage>;
  contents?: TensorContentsMessage;
}

export interface RequestedOutputMessage {
  name?: string;
  parameters?: Record<string, InferParameterMessage>;
}

export interface ModelInferRequestMessage {
  model_name?: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, InferParameterMessage>;
  inputs?: TensorMessage[];
  outputs?: RequestedOutputMessage[];
  raw_input_contents?: Buffer[];
}

export interface ModelInferResponseMessage {
  model_name?: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, InferParameterMessage>;
  outputs?: TensorMessage[];
  raw_output_contents?: Buffer[];
}

/** ModelReady and ModelMetadata requests: the model they are about. */
export interface ModelNameMessage {
  name?: string;
  version?: string;
}
