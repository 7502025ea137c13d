import { deny, type Denial } from '../decision/denial.js';
import type { RequestView } from '../decision/request-view.js';
import { grpcUnframe, GRPC_INFERENCE_PREFIX } from './grpc-codec.js';
import { modelInferMessageOf } from './grpc-infer-request.js';
import { readModelName } from './grpc-infer-wire.js';
import type { ModelRoute, Verb } from './kserve-route.js';

// gRPC calls of `inference.GRPCInferenceService` routed as their REST twins: the method names the
// verb, the message names the model (so a model call cannot be routed without its body).

/** Where a gRPC call goes: its REST twin's path (for the public-route rules), its model route, or a refusal. */
export type GrpcCall =
  | { readonly ok: true; readonly restPath: string | undefined; readonly route: ModelRoute | undefined }
  | { readonly ok: false; readonly denial: Denial };

// Same rule as the REST grammar (kserve-route.ts): a name is one path segment, so the REST twin's
// path cannot be stretched onto another route.
const NAME = /^[^/:]+$/;
const SERVER_RPCS: Readonly<Record<string, string>> = {
  ServerLive: '/v2/health/live',
  ServerReady: '/v2/health/ready',
  ServerMetadata: '/v2',
};
const MODEL_RPCS: Readonly<Record<string, Verb>> = {
  ModelReady: 'ready',
  ModelMetadata: 'metadata',
  ModelInfer: 'predict',
};

const NO_BODY = deny(
  'body_incomplete',
  'a gRPC model call names its model in the message: the request carries no message (include the request body in the check)',
);
const PARTIAL = deny(
  'body_incomplete',
  'a gRPC model call names its model in the message: the request carries a truncated message',
);

export const isGrpcInferencePath = (path: string): boolean => path.startsWith(GRPC_INFERENCE_PREFIX);

/** Whether the client made a gRPC call (its answer is a gRPC status, not an HTTP body): `application/grpc…`, or a path of the inference service. */
export function isGrpcCall(view: RequestView): boolean {
  return isGrpcContentType(view.headers['content-type']) || isGrpcInferencePath(view.path);
}

/** `application/grpc`, with or without a `+proto`-style suffix (gRPC over HTTP/2, Content-Type). */
export const isGrpcContentType = (type: unknown): boolean =>
  typeof type === 'string' && type.startsWith('application/grpc');

/** The gRPC call this view makes, or undefined when its path is not one of the service's. */
export function grpcCallOf(view: RequestView): GrpcCall | undefined {
  if (!isGrpcInferencePath(view.path)) return undefined;
  const rpc = view.path.slice(GRPC_INFERENCE_PREFIX.length);
  const server = SERVER_RPCS[rpc];
  if (server !== undefined && Object.hasOwn(SERVER_RPCS, rpc)) return { ok: true, restPath: server, route: undefined };
  const verb = Object.hasOwn(MODEL_RPCS, rpc) ? MODEL_RPCS[rpc] : undefined;
  if (!verb)
    return {
      ok: false,
      denial: deny(
        'rpc_not_supported',
        `${GRPC_INFERENCE_PREFIX.slice(1)}${rpc} is not served through the gateway (streaming and repository RPCs are refused)`,
      ),
    };
  if (view.body === undefined) return { ok: false, denial: NO_BODY };
  if (view.bodyPartial) return { ok: false, denial: PARTIAL };
  let model: string;
  let version: string;
  if (verb === 'predict') {
    const m = modelInferMessageOf(view.body);
    if (typeof m === 'string') return { ok: false, denial: deny('invalid_body', m) };
    model = m.model_name;
    version = m.model_version;
  } else {
    const bytes = grpcUnframe(view.body);
    if (typeof bytes === 'string') return { ok: false, denial: deny('invalid_body', bytes) };
    const m = readModelName(bytes, rpc);
    if (typeof m === 'string') return { ok: false, denial: deny('invalid_body', m) };
    model = m.name;
    version = m.version;
  }
  if (model === '') return { ok: false, denial: deny('invalid_body', `the ${rpc} request names no model`) };
  if (!NAME.test(model) || (version !== '' && !NAME.test(version)))
    return { ok: false, denial: deny('model_not_found', 'the model name or version is not one this gateway serves') };
  const base = `/v2/models/${model}${version ? `/versions/${version}` : ''}`;
  const route: ModelRoute = {
    protocol: 'v2',
    model,
    version: version || undefined,
    verb,
    method: 'POST',
    transport: 'grpc',
  };
  // Only the probes' twins can be public: a ModelInfer call is a prediction, whatever a pattern says.
  return { ok: true, restPath: verb === 'predict' ? undefined : verb === 'ready' ? `${base}/ready` : base, route };
}
