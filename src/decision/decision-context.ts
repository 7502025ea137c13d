import type { ModelConfig } from '../config/schema.js';
import type { Denial } from './denial.js';
import type { Identity } from './identity.js';
import type { RequestView } from './request-view.js';
import type { RouteMatch } from './route-match.js';

/** The predictor's answer, buffered, as a response handler sees it. */
export interface UpstreamAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

export type HandledAnswer =
  | { readonly ok: true; readonly body: Buffer; readonly contentType?: string }
  | { readonly ok: false; readonly denial: Denial };

/**
 * What the proxy does with a successful predictor answer before it leaves (labels-only
 * rewriting, feeding predicted classes back to the extraction guard). Set by a stage; the
 * ext-authz doors cannot rewrite answers and refuse requests whose policy would need it.
 */
export interface ResponseHandler {
  handle(answer: UpstreamAnswer, ctx: DecisionContext): HandledAnswer;
}

const NO_ROUTE: RouteMatch = { kind: 'unknown' };

/** Mutable state of one decision, filled stage by stage. One object per request. */
export class DecisionContext {
  route: RouteMatch = NO_ROUTE;
  model: ModelConfig | undefined;
  identity: Identity | undefined;
  /** Predictions this request costs (rate limits count these). */
  cost = 1;
  /** Headers set on the upstream request (identity, limits). */
  readonly upstreamHeaders: Record<string, string> = {};
  /** Headers removed from the upstream request (client copies of what we inject, the token). */
  readonly removeUpstreamHeaders: string[];
  /** Headers for the client on allow (RateLimit). */
  readonly responseHeaders: Record<string, string> = {};
  /** Replacement request body (e.g. binary_data parameters removed); undefined keeps the original bytes. */
  upstreamBody: Buffer | undefined;
  response: ResponseHandler | undefined;
  /** Per-stage data other stages read (the parsed inference body, ...); keys are declared by the owners. */
  readonly shared = new Map<string, unknown>();

  constructor(
    readonly view: RequestView,
    sanitize: readonly string[],
  ) {
    this.removeUpstreamHeaders = sanitize.slice();
  }
}
