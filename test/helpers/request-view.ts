import { DecisionContext } from '../../src/decision/decision-context.js';
import type { Door, RequestView } from '../../src/decision/request-view.js';
import { parseModelRoute } from '../../src/inference/kserve-route.js';

export interface ViewOptions {
  readonly door?: Door;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly bodyPartial?: boolean;
}

/** A POST RequestView as a door builds it; a non-Buffer body is sent as JSON. */
export function postView(body: unknown, o: ViewOptions = {}): RequestView {
  return {
    door: o.door ?? 'proxy',
    forwardsAnswer: (o.door ?? 'proxy') === 'proxy',
    method: 'POST',
    path: o.path ?? '/v1/models/m:predict',
    query: '',
    headers: o.headers ?? {},
    authorization: [],
    hosts: ['iris.models.example'],
    body:
      body === undefined
        ? undefined
        : Buffer.isBuffer(body)
          ? body
          : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    bodyPartial: o.bodyPartial ?? false,
    peer: '127.0.0.1',
    requestId: 't',
  };
}

/** A decision context already routed to the view's model route, as the pipeline leaves it for the stages. */
export function routedContext(body: unknown, o: ViewOptions = {}): DecisionContext {
  const view = postView(body, o);
  const ctx = new DecisionContext(view, []);
  ctx.route = { kind: 'model', route: parseModelRoute(view.path)! };
  return ctx;
}
