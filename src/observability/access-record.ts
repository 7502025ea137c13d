import type { GatewayConfig } from '../config/schema.js';
import type { DecisionContext } from '../decision/decision-context.js';
import type { Door } from '../decision/request-view.js';
import { routeClass } from '../decision/route-match.js';
import type { Logger } from './logger.js';
import type { GatewayMetrics } from './metrics.js';

export interface AccessEntry {
  readonly requestId: string | undefined;
  readonly method: string | undefined;
  readonly ctx: DecisionContext | undefined;
  readonly outcome: string;
  /** HTTP status answered (the gRPC door answers a CheckResponse instead). */
  readonly status?: number;
  readonly ms: number;
}

/**
 * The one place every door counts a request and writes its access-log line, so the three doors
 * report the same fields and labels (never a user id as a label; the subject only in the log).
 */
export function accessRecorder(door: Door, config: GatewayConfig, metrics: GatewayMetrics, log: Logger): (e: AccessEntry) => void {
  const accessLog = config.log.accessLog;
  const message = door === 'proxy' ? 'request' : 'check';
  return (e) => {
    const route = e.ctx?.route;
    const rc = routeClass(route);
    metrics.requests.inc({ door, route_class: rc, outcome: e.outcome });
    if (!accessLog) return;
    log.info(
      {
        door,
        requestId: e.requestId,
        method: e.method,
        routeClass: rc,
        model: route?.kind === 'model' ? route.route.model : undefined,
        subject: e.ctx?.identity?.subject,
        status: e.status,
        outcome: e.outcome,
        ms: Math.round(e.ms * 100) / 100,
      },
      message,
    );
  };
}
