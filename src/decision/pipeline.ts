import type { GatewayConfig } from '../config/schema.js';
import type { Decision } from './decision.js';
import { grpcCallOf } from '../inference/grpc-route.js';
import { isSafePath, parseModelRoute } from '../protocol/kserve-route.js';
import type { Logger } from '../observability/logger.js';
import { TRACING_OFF, type Tracing } from '../observability/tracing.js';
import { DecisionContext } from './decision-context.js';
import { deny, type Denial } from './denial.js';
import { compilePublicRoutes, type PublicRoutes } from '../protocol/public-routes.js';
import type { RequestView } from './request-view.js';
import { HEAD_STAGES, STAGE_ORDER, isPromise, type Stage } from './stage.js';

export type { Decision } from './decision.js';

// RFC 9112 §3.2: a request with more than one Host header field line must be answered 400; two
// hops reading different hosts would route and authorize one request as two.
const HOST_AMBIGUOUS = deny('host_ambiguous', 'the request has more than one Host header');
const INVALID_PATH = deny('invalid_path', 'path has dot segments, empty segments or encoded separators');
const NOT_A_ROUTE = deny('route_not_allowed', 'this path is neither a public route nor a KServe model route');
const NEEDS_REWRITE = deny(
  'scores_not_allowed',
  "this request's answer would have to be rewritten (labels-only policy), which an ext-authz check cannot do; ask for labels, or send it through the gateway's proxy",
);

/**
 * decide(view) → Decision: the same for every front door.
 * route → authenticate → authorize → extraction gate | model contract → rate limit → extraction.
 */
const decisionOf = (ctx: DecisionContext, denial: Denial | undefined): Decision =>
  denial ? { allowed: false, denial, ctx } : { allowed: true, ctx };

/**
 * An allowed decision whose answer must be rewritten, for a request whose answer never passes
 * back through the gateway (an ext-authz check), would let the scores out unrewritten: refused,
 * fail closed, whatever stage set the rewriter. Observers need no answer and are simply not called.
 */
const concluded = (ctx: DecisionContext, denial: Denial | undefined): Decision =>
  decisionOf(ctx, denial ?? (ctx.rewrite !== undefined && !ctx.view.forwardsAnswer ? NEEDS_REWRITE : undefined));

const promised = (d: Decision | Promise<Decision>): Promise<Decision> => (isPromise(d) ? d : Promise.resolve(d));

export class DecisionPipeline {
  private readonly publicRoutes: PublicRoutes;
  private readonly headStages: readonly Stage[];
  private readonly bodyStages: readonly Stage[];
  private readonly sanitize: readonly string[];
  private readonly models: GatewayConfig['models'];

  constructor(
    config: GatewayConfig,
    stages: readonly Stage[],
    private readonly log: Logger,
    private readonly tracing: Tracing = TRACING_OFF,
  ) {
    this.publicRoutes = compilePublicRoutes(config.routes.public);
    this.models = config.models;
    const ordered = [...stages].sort((a, b) => STAGE_ORDER.indexOf(a.name) - STAGE_ORDER.indexOf(b.name));
    this.headStages = ordered.filter((s) => HEAD_STAGES.has(s.name));
    this.bodyStages = ordered.filter((s) => !HEAD_STAGES.has(s.name));
    this.sanitize = [...new Set(stages.flatMap((s) => s.injectedHeaders ?? []).map((h) => h.toLowerCase()))];
  }

  /** Header names the gateway injects, so doors can strip client copies. */
  get injectedHeaders(): readonly string[] {
    return this.sanitize;
  }

  /** Both phases at once, for doors that have the whole request (the ext-authz checks). */
  async decide(view: RequestView): Promise<Decision> {
    const head = await this.decideHead(view);
    return head.allowed ? this.decideBody(head.ctx) : head;
  }

  /**
   * The head phase: route, authenticate, authorize, extraction gate. Needs no body, so a door
   * reads the body only after this allows (an unauthenticated upload is never buffered).
   */
  decideHead(view: RequestView): Promise<Decision> {
    return promised(this.run(new DecisionContext(view, this.sanitize), true));
  }

  /** The body phase (contract, rate limit, extraction) on a context the head phase allowed. */
  decideBody(ctx: DecisionContext, body?: Buffer, partial = false): Promise<Decision> {
    return promised(this.decideBodyAtOnce(ctx, body, partial));
  }

  /**
   * The body phase, answered without a promise when every stage answered at once (the memory
   * limiter, a lease that covers the charge): a door on the hot path saves the promise and the
   * turn of the microtask queue an `await` of a resolved promise costs.
   */
  decideBodyAtOnce(ctx: DecisionContext, body?: Buffer, partial = false): Decision | Promise<Decision> {
    if (body !== undefined || partial) ctx.attachBody(body, partial);
    return this.run(ctx, false);
  }

  /** Whether this route's body phase reads the body: other routes stream theirs untouched. */
  needsBody(ctx: DecisionContext): boolean {
    if (ctx.route.kind !== 'model' || this.bodyStages.length === 0) return false;
    const verb = ctx.route.route.verb;
    return verb === 'predict' || verb === 'explain';
  }

  private run(ctx: DecisionContext, head: boolean): Decision | Promise<Decision> {
    const span = this.tracing.decisionSpan(ctx.view, head ? 'head' : 'body');
    const decision = this.runPhase(ctx, head);
    if (isPromise(decision)) {
      return decision.then((d) => {
        span.end(d);
        return d;
      });
    }
    span.end(decision);
    return decision;
  }

  /** Decided at once when every stage answered at once (a cached token, the memory limiter): no promise per stage. */
  private runPhase(ctx: DecisionContext, head: boolean): Decision | Promise<Decision> {
    try {
      const denial = head
        ? (this.route(ctx) ?? this.runStages(ctx, this.headStages, 0))
        : this.runStages(ctx, this.bodyStages, 0);
      return isPromise(denial)
        ? denial.then(
            (d) => concluded(ctx, d),
            (err: unknown) => this.fault(ctx, err),
          )
        : concluded(ctx, denial);
    } catch (err) {
      return this.fault(ctx, err);
    }
  }

  private fault(ctx: DecisionContext, err: unknown): Decision {
    // A thrown error is a bug or a dependency fault, never a decision to allow.
    this.log.error({ err, requestId: ctx.view.requestId }, 'decision pipeline fault');
    return { allowed: false, denial: deny('internal_error', 'internal error while deciding'), ctx };
  }

  private route(ctx: DecisionContext): Denial | undefined {
    const { method, path } = ctx.view;
    if (ctx.view.hosts !== undefined && ctx.view.hosts.length > 1) return HOST_AMBIGUOUS;
    if (!isSafePath(path)) return INVALID_PATH;
    // A gRPC call follows the rules of its REST twin (grpc-route.ts).
    const grpc = grpcCallOf(ctx.view);
    if (grpc && !grpc.ok) return grpc.denial;
    const publicPath = grpc ? grpc.restPath : path;
    if (publicPath !== undefined && this.publicRoutes.matches(grpc ? 'GET' : method, publicPath)) {
      ctx.route = { kind: 'public' };
      return undefined;
    }
    const route = grpc ? grpc.route : parseModelRoute(path);
    if (!route) return NOT_A_ROUTE;
    ctx.route = { kind: 'model', route };
    if (method !== route.method && !(method === 'HEAD' && route.method === 'GET')) {
      return deny('method_not_allowed', `${route.verb} on ${route.protocol} takes ${route.method}, not ${method}`);
    }
    const model = this.models[route.model];
    if (!model) return deny('model_not_found', `model "${route.model}" is not served here`);
    if (model.protocol !== 'any' && model.protocol !== route.protocol) {
      return deny(
        'protocol_not_allowed',
        `model "${route.model}" is served over ${model.protocol}, not ${route.protocol}`,
      );
    }
    ctx.model = model;
    return undefined;
  }

  /** Stages from `from` on, in order, until one denies; continues after a stage that answers later. */
  private runStages(
    ctx: DecisionContext,
    stages: readonly Stage[],
    from: number,
  ): Denial | undefined | Promise<Denial | undefined> {
    if (ctx.route.kind !== 'model') return undefined;
    for (let i = from; i < stages.length; i++) {
      const r = (stages[i] as Stage).run(ctx);
      if (isPromise(r)) return r.then((denial) => denial ?? this.runStages(ctx, stages, i + 1));
      if (r) return r;
    }
    return undefined;
  }
}
