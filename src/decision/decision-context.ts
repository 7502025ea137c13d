import type { ModelConfig } from '../config/schema.js';
import type { InferenceRequest, PredictedClass } from '../protocol/inference-data.js';
import type { Denial } from './denial.js';
import type { Identity } from './identity.js';
import type { RequestView } from './request-view.js';
import type { RouteMatch } from './route-match.js';

/** The body read as a predict/explain request once (src/inference reads it), or why it cannot be. */
export type InferenceParse =
  { readonly ok: true; readonly request: InferenceRequest } | { readonly ok: false; readonly denial: Denial };

/** The predictor's answer, buffered (and decoded), as a rewriter or an observer sees it. */
export interface UpstreamAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

/**
 * What leaves for the client after a rewrite. `status` defaults to the upstream status;
 * `headers`, when given, are the only upstream response headers sent (an allowlist applied by
 * the rewriter); without it the door forwards the upstream headers minus hop-by-hop ones.
 */
export type RewrittenAnswer =
  | {
      readonly ok: true;
      /** JSON text is sent as a string: Node then writes it in one write with the head (no Buffer copy). */
      readonly body: Buffer | string;
      readonly contentType?: string;
      readonly status?: number;
      readonly headers?: Readonly<Record<string, string | string[]>>;
    }
  | { readonly ok: false; readonly denial: Denial };

/**
 * Rewrites the predictor's answer before it leaves (labels-only). Set by a stage on routes whose
 * policy reduces answers; a door that forwards answers calls it for EVERY upstream answer of the
 * route, whatever its status, and sends only what it returns. The ext-authz doors cannot rewrite
 * an answer (Envoy's ext_authz sees only the request) and refuse a decision that carries one.
 */
export interface AnswerRewriter {
  rewrite(answer: UpstreamAnswer, ctx: DecisionContext): RewrittenAnswer;
}

/**
 * Watches the predictor's answer after it has been sent (extraction detection). Never on the
 * answer's critical path, never able to change it; doors without an answer (ext-authz) never
 * call observers, which is not a reason to refuse.
 */
export interface AnswerObserver {
  observe(answer: UpstreamAnswer, ctx: DecisionContext): void | Promise<void>;
}

/** Reads the predicted class of each row from an answer that was not rewritten (full access, regression). */
export type AnswerClassifier = (answer: UpstreamAnswer, ctx: DecisionContext) => readonly PredictedClass[] | undefined;

const NO_ROUTE: RouteMatch = { kind: 'unknown' };

/** Mutable state of one decision, filled stage by stage. One object per request. */
export class DecisionContext {
  route: RouteMatch = NO_ROUTE;
  model: ModelConfig | undefined;
  /** The verified caller (authenticate). */
  identity: Identity | undefined;
  /** The parsed predict/explain body; read it through `inferenceRequestOf(ctx)`, which parses at most once. */
  inference: InferenceParse | undefined;
  /** Whether `inference` has been computed (undefined is a valid result: no body to parse). */
  inferenceRead = false;
  /** Predictions this request costs (rate limits count these). */
  cost = 1;
  /** Account-level degrade (extraction): answers are reduced to labels even for full-access identities. */
  degraded = false;
  /** Account-level throttle (extraction): the rate-limit stage charges cost × limitFactor. */
  limitFactor = 1;
  /** Headers set on the upstream request (identity, limits). */
  readonly upstreamHeaders: Record<string, string> = {};
  /** Headers removed from the upstream request (client copies of what we inject, the token). */
  readonly removeUpstreamHeaders: string[];
  /** Headers for the client on allow (RateLimit). */
  readonly responseHeaders: Record<string, string> = {};
  /** Replacement request body (e.g. binary_data parameters removed); undefined keeps the original bytes. */
  upstreamBody: Buffer | undefined;
  rewrite: AnswerRewriter | undefined;
  readonly observers: AnswerObserver[] = [];
  /** Reads classes from an answer that is not rewritten (set by the contract stage for classifiers). */
  answerClassifier: AnswerClassifier | undefined;
  /** Predicted classes of the answer, one per row, once known (set by the rewriter). */
  answerClasses: readonly PredictedClass[] | undefined;

  constructor(
    public view: RequestView,
    sanitize: readonly string[],
  ) {
    this.removeUpstreamHeaders = sanitize.slice();
  }

  /** The body arrives after the head phase (the proxy reads it only once the token is accepted). */
  attachBody(body: Buffer | undefined, partial: boolean): void {
    this.view = { ...this.view, body, bodyPartial: partial };
    this.inference = undefined;
    this.inferenceRead = false;
  }
}

/** Predicted classes of this answer: the rewriter's, or read from the unrewritten answer. */
export function classesOfAnswer(answer: UpstreamAnswer, ctx: DecisionContext): readonly PredictedClass[] | undefined {
  if (ctx.answerClasses === undefined && ctx.answerClassifier) ctx.answerClasses = ctx.answerClassifier(answer, ctx);
  return ctx.answerClasses;
}
