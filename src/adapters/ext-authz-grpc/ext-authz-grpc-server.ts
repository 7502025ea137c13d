import {
  Server,
  status as GrpcStatus,
  type ServerUnaryCall,
  type sendUnaryData,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import type { GatewayConfig } from '../../config/schema.js';
import type { DecisionContext } from '../../decision/decision-context.js';
import { deny } from '../../decision/denial.js';
import type { DecisionPipeline } from '../../decision/pipeline.js';
import type { RequestView } from '../../decision/request-view.js';
import type { Logger } from '../../observability/logger.js';
import type { GatewayMetrics } from '../../observability/metrics.js';
import { accessRecorder } from '../../observability/access-record.js';
import { checkMethod, type CheckRequestMessage, type CheckResponseMessage } from './check-codec.js';
import { deniedCheckResponse, okCheckResponse } from './check-response.js';
import { requestViewFromCheckRequest } from './request-view-from-check-request.js';
import { BODY_NOT_ALLOWED, BODY_ON_GET, declaresBody, routeTakesBody } from '../intake/intake.js';

export interface ExtAuthzGrpcDeps {
  readonly config: GatewayConfig;
  readonly pipeline: DecisionPipeline;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
}

const DOOR = 'ext-authz-grpc';
// Room for the headers and the attributes around a body.
const ENVELOPE_BYTES = 256 * 1024;
// A body over server.bodyLimitBytes must be answered as a denial (413), which Envoy shows the
// client, not as a transport error (which Envoy turns into failOpen / statusOnError). So the
// gRPC layer accepts messages well past the limit — Envoy's maxRequestBytes may be set higher
// than the gateway's limit — and only beyond this hard cap fails at the transport.
const OVERSIZE_FACTOR = 4;
const MIN_MESSAGE_CAP = 8 * 1024 * 1024;

/**
 * `envoy.service.auth.v3.Authorization/Check` (https://www.envoyproxy.io/docs/envoy/latest/api-v3/service/auth/v3/external_auth.proto). Every decision is a
 * CheckResponse with `status` set; a gRPC error status is returned only for a fault of ours,
 * because Envoy turns it into failOpen / statusOnError rather than a denial.
 */
export function createExtAuthzGrpcServer(deps: ExtAuthzGrpcDeps): Server {
  const { config, pipeline, metrics, log } = deps;
  const realm = config.auth.realm;
  const limit = config.server.bodyLimitBytes;
  const tooLarge = deny('body_too_large', `request body is over the ${limit}-byte limit`);
  const method = checkMethod();

  const access = accessRecorder(DOOR, config, metrics, log);
  const record = (view: RequestView | undefined, ctx: DecisionContext | undefined, outcome: string, started: number) =>
    access({ requestId: view?.requestId, method: view?.method, ctx, outcome, ms: performance.now() - started });

  const fail = (
    callback: sendUnaryData<CheckResponseMessage>,
    err: unknown,
    view: RequestView | undefined,
    ctx: DecisionContext | undefined,
    started: number,
  ) => {
    metrics.extAuthzFaults.inc({ door: DOOR });
    record(view, ctx, 'internal_error', started);
    log.error({ err, requestId: view?.requestId }, 'ext-authz grpc check fault');
    callback({ code: GrpcStatus.INTERNAL, details: 'internal error while checking' });
  };

  const check = async (
    call: ServerUnaryCall<CheckRequestMessage, CheckResponseMessage>,
    callback: sendUnaryData<CheckResponseMessage>,
  ) => {
    const started = performance.now();
    let view: RequestView | undefined;
    try {
      view = requestViewFromCheckRequest(call.request);
      if (view.bodyPartial) metrics.extAuthzPartialBodies.inc({ door: DOOR });
      if (view.body !== undefined && view.body.length > limit) {
        record(view, undefined, tooLarge.code, started);
        callback(null, deniedCheckResponse(tooLarge, realm, undefined, view));
        return;
      }
      // The same body rules as the HTTP doors: a route that takes no body is refused one.
      const carriesBody = (view.body !== undefined && view.body.length > 0) || declaresBody(view.headers);
      if (carriesBody && (view.method === 'GET' || view.method === 'HEAD')) {
        record(view, undefined, BODY_ON_GET.code, started);
        callback(null, deniedCheckResponse(BODY_ON_GET, realm));
        return;
      }
      const head = await pipeline.decideHead(view);
      const decision =
        head.allowed && carriesBody && !routeTakesBody(head.ctx)
          ? { allowed: false as const, denial: BODY_NOT_ALLOWED, ctx: head.ctx }
          : head.allowed
            ? await pipeline.decideBody(head.ctx)
            : head;
      metrics.decisionSeconds.observe({ door: DOOR }, (performance.now() - started) / 1000);
      const denial = decision.allowed ? undefined : decision.denial;
      if (!denial) {
        record(view, decision.ctx, 'allowed', started);
        callback(null, okCheckResponse(decision.ctx));
        return;
      }
      // The pipeline turns its own faults into internal_error: that is an error, not a denial.
      if (denial.code === 'internal_error') return fail(callback, denial.message, view, decision.ctx, started);
      record(view, decision.ctx, denial.code, started);
      callback(null, deniedCheckResponse(denial, realm, decision.ctx));
    } catch (err) {
      fail(callback, err, view, undefined, started);
    }
  };

  const definition: ServiceDefinition = { Check: method };
  const server = new Server({
    'grpc.max_receive_message_length': Math.max(limit * OVERSIZE_FACTOR, MIN_MESSAGE_CAP) + ENVELOPE_BYTES,
  });
  server.addService(definition, {
    Check: (
      call: ServerUnaryCall<CheckRequestMessage, CheckResponseMessage>,
      callback: sendUnaryData<CheckResponseMessage>,
    ) => void check(call, callback),
  });
  return server;
}
