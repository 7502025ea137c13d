import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadSync, type MethodDefinition } from '@grpc/proto-loader';

/** One entry of `HttpRequest.header_map` (Envoy's `encode_raw_headers`): key and raw bytes. */
export interface RawHeader {
  readonly key?: string;
  readonly value?: string;
  readonly raw_value?: Uint8Array;
}

/** The decoded request fields the door reads (proto3 defaults omitted: absent means default). */
export interface CheckRequestMessage {
  readonly attributes?: {
    readonly source?: {
      readonly address?: { readonly socket_address?: { readonly address?: string } };
      readonly principal?: string;
    };
    readonly request?: {
      readonly http?: {
        readonly id?: string;
        readonly method?: string;
        readonly headers?: Record<string, string>;
        readonly header_map?: { readonly headers?: readonly RawHeader[] };
        readonly path?: string;
        readonly host?: string;
        readonly body?: string;
        readonly raw_body?: Uint8Array;
      };
    };
  };
}

export interface HeaderOption {
  readonly header: { readonly key: string; readonly value: string };
  readonly append?: { readonly value: boolean };
  readonly append_action?: number;
}

/**
 * google.protobuf.Struct as protobufjs declares the well-known types (camelCase JSON names, which
 * keepCase does not touch); on the wire these are fields 1-5 of google.protobuf.Value.
 */
export interface StructValue {
  readonly nullValue?: 0;
  readonly numberValue?: number;
  readonly stringValue?: string;
  readonly boolValue?: boolean;
  readonly structValue?: ProtoStruct;
}
export interface ProtoStruct {
  readonly fields: Readonly<Record<string, StructValue>>;
}

export interface CheckResponseMessage {
  readonly status: { readonly code: number; readonly message?: string };
  readonly denied_response?: {
    readonly status: { readonly code: number };
    readonly headers: HeaderOption[];
    readonly body: string;
  };
  readonly ok_response?: {
    readonly headers: HeaderOption[];
    readonly headers_to_remove: string[];
    readonly response_headers_to_add: HeaderOption[];
  };
  readonly dynamic_metadata?: ProtoStruct;
}

export type CheckMethod = MethodDefinition<CheckRequestMessage, CheckResponseMessage>;

export const CHECK_METHOD_PATH = '/envoy.service.auth.v3.Authorization/Check';

// Envoy's own .proto files, vendored under proto/ at the repository root (see proto/README.md):
// three levels up from src/adapters/ext-authz-grpc in the sources, four from dist/src/...
function protoRoot(): string {
  for (const up of ['../../../../proto/', '../../../proto/']) {
    const dir = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(`${dir}envoy/service/auth/v3/external_auth.proto`)) return dir;
  }
  throw new Error('the vendored Envoy protos (proto/envoy/service/auth/v3/external_auth.proto) are missing');
}

let cached: CheckMethod | undefined;

/**
 * `envoy.service.auth.v3.Authorization/Check` with its serializers, built from Envoy's
 * external_auth.proto by @grpc/proto-loader once per process (parsing ~20 files is start-up
 * work, never per check). keepCase keeps the wire names (raw_body, ok_response, header_map);
 * defaults are not filled in, so an absent field reads as undefined.
 */
export function checkMethod(): CheckMethod {
  if (cached) return cached;
  const definition = loadSync('envoy/service/auth/v3/external_auth.proto', {
    includeDirs: [protoRoot()],
    keepCase: true,
    longs: String,
    enums: Number,
    defaults: false,
    oneofs: false,
  });
  const service = definition['envoy.service.auth.v3.Authorization'] as Record<string, CheckMethod> | undefined;
  const check = service?.['Check'];
  if (!check || check.path !== CHECK_METHOD_PATH)
    throw new Error(`the vendored external_auth.proto has no ${CHECK_METHOD_PATH}`);
  cached = check;
  return check;
}
