// A hand-written, wire-compatible subset of Envoy's ext_authz v3 API (https://www.envoyproxy.io/docs/envoy/latest/api-v3/service/auth/v3/external_auth.proto).
// Only the package and service names travel on the wire (`/envoy.service.auth.v3.Authorization/Check`);
// messages are matched by field number and wire type, so helper messages (Timestamp, BoolValue,
// google.rpc.Status, HttpStatus) are declared here under local names, enums as int32, and the
// fields the gateway never reads are left out (unknown fields are skipped by the decoder).
// Kept as a TypeScript string so it ships inside dist/ with no build step of its own.
export const EXTERNAL_AUTH_PROTO = `
syntax = "proto3";
package envoy.service.auth.v3;

service Authorization {
  rpc Check(CheckRequest) returns (CheckResponse);
}

message Timestamp { int64 seconds = 1; int32 nanos = 2; }
message BoolValue { bool value = 1; }

message SocketAddress {
  int32 protocol = 1;
  string address = 2;
  uint32 port_value = 3;
  string named_port = 4;
}
message Address { SocketAddress socket_address = 1; }

message Peer {
  Address address = 1;
  string service = 2;
  map<string, string> labels = 3;
  string principal = 4;
  string certificate = 5;
}

message HttpRequest {
  string id = 1;
  string method = 2;
  map<string, string> headers = 3;
  string path = 4;
  string host = 5;
  string scheme = 6;
  string query = 7;
  string fragment = 8;
  int64 size = 9;
  string protocol = 10;
  string body = 11;
  bytes raw_body = 12;
}

message Request {
  Timestamp time = 1;
  HttpRequest http = 2;
}

message AttributeContext {
  Peer source = 1;
  Peer destination = 2;
  Request request = 4;
  map<string, string> context_extensions = 10;
}

message CheckRequest { AttributeContext attributes = 1; }

message RpcStatus { int32 code = 1; string message = 2; }
message HttpStatus { int32 code = 1; }

message HeaderValue { string key = 1; string value = 2; bytes raw_value = 3; }
message HeaderValueOption {
  HeaderValue header = 1;
  BoolValue append = 2;
  int32 append_action = 3;
  bool keep_empty_value = 4;
}

message DeniedHttpResponse {
  HttpStatus status = 1;
  repeated HeaderValueOption headers = 2;
  string body = 3;
}

message OkHttpResponse {
  repeated HeaderValueOption headers = 2;
  repeated string headers_to_remove = 5;
  repeated HeaderValueOption response_headers_to_add = 6;
}

message CheckResponse {
  RpcStatus status = 1;
  oneof http_response {
    DeniedHttpResponse denied_response = 2;
    OkHttpResponse ok_response = 3;
  }
}
`;

export const CHECK_METHOD_PATH = '/envoy.service.auth.v3.Authorization/Check';
