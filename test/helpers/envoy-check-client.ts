import { credentials, Client, Metadata, type ServiceError } from '@grpc/grpc-js';
import protobuf from 'protobufjs';

// The client side speaks Envoy's own layout (packages envoy.config.core.v3, envoy.type.v3,
// google.rpc, nested AttributeContext messages), written independently of the gateway's subset,
// so a field-number or wire-type slip on either side shows up as a failing test.
const FILES = [
  `syntax = "proto3"; package google.protobuf;
   message Timestamp { int64 seconds = 1; int32 nanos = 2; }
   message BoolValue { bool value = 1; }
   message Struct { map<string, Value> fields = 1; }
   message Value { oneof kind { int32 null_value = 1; double number_value = 2; string string_value = 3; bool bool_value = 4; Struct struct_value = 5; ListValue list_value = 6; } }
   message ListValue { repeated Value values = 1; }`,
  `syntax = "proto3"; package google.rpc;
   message Status { int32 code = 1; string message = 2; }`,
  `syntax = "proto3"; package envoy.type.v3;
   enum StatusCode { Empty = 0; OK = 200; BadRequest = 400; Unauthorized = 401; Forbidden = 403; NotFound = 404;
     MethodNotAllowed = 405; PayloadTooLarge = 413; TooManyRequests = 429; InternalServerError = 500; ServiceUnavailable = 503; }
   message HttpStatus { StatusCode code = 1; }`,
  `syntax = "proto3"; package envoy.config.core.v3;
   message SocketAddress { enum Protocol { TCP = 0; UDP = 1; } Protocol protocol = 1; string address = 2; uint32 port_value = 3; }
   message Address { SocketAddress socket_address = 1; }
   message HeaderValue { string key = 1; string value = 2; bytes raw_value = 3; }
   message HeaderMap { repeated HeaderValue headers = 1; }
   message HeaderValueOption {
     enum HeaderAppendAction { APPEND_IF_EXISTS_OR_ADD = 0; ADD_IF_ABSENT = 1; OVERWRITE_IF_EXISTS_OR_ADD = 2; OVERWRITE_IF_EXISTS = 3; }
     HeaderValue header = 1; .google.protobuf.BoolValue append = 2; HeaderAppendAction append_action = 3; bool keep_empty_value = 4;
   }`,
  `syntax = "proto3"; package envoy.service.auth.v3;
   message AttributeContext {
     message Peer { .envoy.config.core.v3.Address address = 1; string service = 2; map<string, string> labels = 3; string principal = 4; }
     message HttpRequest {
       string id = 1; string method = 2; map<string, string> headers = 3; string path = 4; string host = 5; string scheme = 6;
       string query = 7; string fragment = 8; int64 size = 9; string protocol = 10; string body = 11; bytes raw_body = 12;
       .envoy.config.core.v3.HeaderMap header_map = 13;
     }
     message Request { .google.protobuf.Timestamp time = 1; HttpRequest http = 2; }
     Peer source = 1; Peer destination = 2; Request request = 4; map<string, string> context_extensions = 10;
   }
   message CheckRequest { AttributeContext attributes = 1; }
   message DeniedHttpResponse { .envoy.type.v3.HttpStatus status = 1; repeated .envoy.config.core.v3.HeaderValueOption headers = 2; string body = 3; }
   message OkHttpResponse {
     repeated .envoy.config.core.v3.HeaderValueOption headers = 2; repeated string headers_to_remove = 5;
     repeated .envoy.config.core.v3.HeaderValueOption response_headers_to_add = 6;
   }
   message CheckResponse {
     .google.rpc.Status status = 1;
     oneof http_response { DeniedHttpResponse denied_response = 2; OkHttpResponse ok_response = 3; }
     .google.protobuf.Struct dynamic_metadata = 4;
   }`,
];

const root = new protobuf.Root();
for (const f of FILES) protobuf.parse(f, root, { keepCase: true });
root.resolveAll();
const CheckRequest = root.lookupType('envoy.service.auth.v3.CheckRequest');
const CheckResponse = root.lookupType('envoy.service.auth.v3.CheckResponse');

export interface EnvoyHttpRequest {
  readonly method: string;
  /** Original path with its query, as Envoy sends it. */
  readonly path: string;
  readonly headers?: Record<string, string>;
  /** Sent in `body` (UTF-8) unless `packAsBytes`, then in `raw_body`. */
  readonly body?: string | Buffer;
  readonly packAsBytes?: boolean;
  readonly partial?: boolean;
  /**
   * Envoy's `encode_raw_headers`: every header line (pseudo-headers included) goes to
   * `header_map` as key + raw_value bytes, repeated lines kept apart, and `headers` stays empty.
   */
  readonly encodeRawHeaders?: boolean;
  /** With encodeRawHeaders: further header lines, sent as separate entries (a repeated header). */
  readonly rawLines?: ReadonlyArray<readonly [string, string]>;
}

export interface HeaderOpt {
  header: { key: string; value: string };
  append?: { value: boolean };
  append_action?: number;
}

/** The decoded answer with enums as names and defaults filled, so assertions read like the proto. */
export interface CheckAnswer {
  status?: { code: number; message: string };
  denied_response?: { status?: { code: number }; headers: HeaderOpt[]; body: string };
  ok_response?: { headers: HeaderOpt[]; headers_to_remove: string[]; response_headers_to_add: HeaderOpt[] };
  dynamic_metadata?: { fields: Record<string, { string_value?: string; number_value?: number }> };
}

/** What Envoy builds for one client request (https://www.envoyproxy.io/docs/envoy/latest/api-v3/service/auth/v3/attribute_context.proto): pseudo-headers in `headers`, query inside `path`. */
export function envoyCheckRequest(r: EnvoyHttpRequest, streamId = '13869142855783664817'): Record<string, unknown> {
  const headers: Record<string, string> = {
    ':authority': 'iris.models.example',
    ':method': r.method,
    ':path': r.path,
    ':scheme': 'http',
    ...r.headers,
  };
  const http: Record<string, unknown> = {
    id: streamId,
    method: r.method,
    headers,
    path: r.path,
    host: 'iris.models.example',
    scheme: 'http',
    size: -1,
    protocol: 'HTTP/1.1',
  };
  if (r.body !== undefined) {
    headers['x-envoy-auth-partial-body'] = r.partial ? 'true' : 'false';
    if (r.packAsBytes) http['raw_body'] = Buffer.from(r.body);
    else http['body'] = Buffer.from(r.body).toString('utf8');
  }
  if (r.encodeRawHeaders) {
    const lines: Array<{ key: string; raw_value: Buffer }> = [];
    for (const [key, value] of [...Object.entries(headers), ...(r.rawLines ?? [])])
      lines.push({ key, raw_value: Buffer.from(value, 'latin1') });
    delete http['headers'];
    http['header_map'] = { headers: lines };
  }
  return {
    attributes: {
      source: {
        address: { socket_address: { address: '10.1.2.3', port_value: 43210 } },
        principal: 'spiffe://cluster.local/ns/istio-system/sa/ingress',
      },
      destination: { address: { socket_address: { address: '10.1.2.4', port_value: 8080 } } },
      request: { time: { seconds: 1700000000, nanos: 0 }, http },
    },
  };
}

export class EnvoyCheckClient {
  private readonly client: Client;

  constructor(address: string) {
    this.client = new Client(address, credentials.createInsecure());
  }

  /** Sends a raw CheckRequest object (Envoy's field names). */
  checkMessage(message: Record<string, unknown>): Promise<CheckAnswer> {
    const err = CheckRequest.verify(message);
    if (err) throw new Error(`bad test CheckRequest: ${err}`);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        '/envoy.service.auth.v3.Authorization/Check',
        (m: Record<string, unknown>) => Buffer.from(CheckRequest.encode(CheckRequest.fromObject(m)).finish()),
        (b: Buffer) =>
          CheckResponse.toObject(CheckResponse.decode(b), {
            enums: Number,
            defaults: false,
            arrays: true,
          }) as CheckAnswer,
        message,
        new Metadata(),
        { deadline: Date.now() + 5000 },
        (e: ServiceError | null, res?: CheckAnswer) => (e ? reject(e) : resolve(res!)),
      );
    });
  }

  check(r: EnvoyHttpRequest): Promise<CheckAnswer> {
    return this.checkMessage(envoyCheckRequest(r));
  }

  close(): void {
    this.client.close();
  }
}

/** Headers of a HeaderValueOption list as a plain object (lower-case keys). */
export function headerMap(list: readonly HeaderOpt[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of list ?? []) out[h.header.key.toLowerCase()] = h.header.value;
  return out;
}
