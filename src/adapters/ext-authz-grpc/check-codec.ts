import protobuf from 'protobufjs';
import { EXTERNAL_AUTH_PROTO } from './external-auth-proto.js';

/** The decoded request fields the door reads (proto3 defaults: '' / empty map / empty bytes). */
export interface CheckRequestMessage {
  readonly attributes?: {
    readonly source?: { readonly address?: { readonly socket_address?: { readonly address?: string } }; readonly principal?: string };
    readonly request?: {
      readonly http?: {
        readonly id?: string;
        readonly method?: string;
        readonly headers?: Record<string, string>;
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

export interface CheckResponseMessage {
  readonly status: { readonly code: number; readonly message?: string };
  readonly denied_response?: { readonly status: { readonly code: number }; readonly headers: HeaderOption[]; readonly body: string };
  readonly ok_response?: { readonly headers: HeaderOption[]; readonly headers_to_remove: string[]; readonly response_headers_to_add: HeaderOption[] };
}

export interface CheckCodec {
  decodeRequest(bytes: Buffer): CheckRequestMessage;
  encodeRequest(message: unknown): Buffer;
  decodeResponse(bytes: Buffer): CheckResponseMessage;
  encodeResponse(message: CheckResponseMessage): Buffer;
}

// In Node protobufjs writes into a Buffer already; copy only if it did not.
const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u));

/** Parsed once at start-up; keepCase keeps the wire names (raw_body, ok_response, ...). */
export function createCheckCodec(): CheckCodec {
  const root = protobuf.parse(EXTERNAL_AUTH_PROTO, { keepCase: true }).root;
  const req = root.lookupType('envoy.service.auth.v3.CheckRequest');
  const res = root.lookupType('envoy.service.auth.v3.CheckResponse');
  return {
    decodeRequest: (bytes) => req.decode(bytes) as unknown as CheckRequestMessage,
    encodeRequest: (message) => asBuffer(req.encode(req.fromObject(message as Record<string, unknown>)).finish()),
    decodeResponse: (bytes) => res.decode(bytes) as unknown as CheckResponseMessage,
    // Plain objects are accepted by encode(); no Message instance per answer.
    encodeResponse: (message) => asBuffer(res.encode(message).finish()),
  };
}
