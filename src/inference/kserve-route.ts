// KServe V1 and Open Inference Protocol (V2) REST routes (https://kserve.github.io/website/docs/concepts/architecture/data-plane/v1-protocol, https://kserve.github.io/website/docs/concepts/architecture/data-plane/v2-protocol).

export type Protocol = 'v1' | 'v2';
/** What the request does to the model: per-verb policies key on this. */
export type Verb = 'predict' | 'explain' | 'metadata' | 'ready';

export interface ModelRoute {
  readonly protocol: Protocol;
  readonly model: string;
  readonly version: string | undefined;
  readonly verb: Verb;
  /** The HTTP method KServe serves this verb on (every gRPC call is a POST). */
  readonly method: 'GET' | 'POST';
  /** Set for a call of the protocol's gRPC service (grpc-route.ts): bodies and answers are protobuf messages. */
  readonly transport?: 'grpc';
}

const V1 = '/v1/models/';
const V2 = '/v2/models/';
// A model name is one path segment; ':' separates the V1 verb.
const NAME = /^[^/:]+$/;

function route(protocol: Protocol, model: string, version: string | undefined, verb: Verb): ModelRoute | undefined {
  if (!NAME.test(model) || (version !== undefined && !NAME.test(version))) return undefined;
  return { protocol, model, version, verb, method: verb === 'predict' || verb === 'explain' ? 'POST' : 'GET' };
}

/** Recognises a model route, or returns undefined for anything else (health, /v2, unknown). */
export function parseModelRoute(path: string): ModelRoute | undefined {
  if (path.startsWith(V1)) {
    const rest = path.slice(V1.length);
    const colon = rest.indexOf(':');
    if (colon < 0) return route('v1', rest, undefined, 'ready');
    const verb = rest.slice(colon + 1);
    if (verb === 'predict' || verb === 'explain') return route('v1', rest.slice(0, colon), undefined, verb);
    return undefined;
  }
  if (path.startsWith(V2)) {
    const parts = path.slice(V2.length).split('/');
    const model = parts[0] ?? '';
    let i = 1;
    let version: string | undefined;
    if (parts[1] === 'versions') {
      version = parts[2];
      if (version === undefined) return undefined;
      i = 3;
    }
    const tail = parts.slice(i);
    if (tail.length === 0) return route('v2', model, version, 'metadata');
    if (tail.length === 1 && tail[0] === 'infer') return route('v2', model, version, 'predict');
    if (tail.length === 1 && tail[0] === 'ready') return route('v2', model, version, 'ready');
    return undefined;
  }
  return undefined;
}

/**
 * Paths an upstream might normalise differently from us are refused outright, so a public
 * probe path can never be stretched onto a model route (`/v2/health/live/../../models/m/infer`).
 */
export function isSafePath(path: string): boolean {
  if (path.length === 0 || path.charCodeAt(0) !== 47 /* / */) return false;
  if (path.includes('//') || path.includes('\\')) return false;
  if (path.includes('%')) {
    const lower = path.toLowerCase();
    if (lower.includes('%2f') || lower.includes('%2e') || lower.includes('%5c') || lower.includes('%00')) return false;
  }
  if (path.includes('/.')) {
    for (const seg of path.split('/')) if (seg === '.' || seg === '..') return false;
  }
  return true;
}
