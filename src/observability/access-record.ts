import type { GatewayConfig } from '../config/schema.js';
import type { DecisionContext } from '../decision/decision-context.js';
import type { Door } from '../decision/request-view.js';
import { routeClass } from '../decision/route-match.js';
import { accessOutputOf, type Logger } from './logger.js';
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

// pino's numeric level for info: the access line is written in pino's own JSON shape.
const INFO = 30;

// The timestamp string changes once a millisecond; under load many lines share it.
let isoMs = 0;
let isoText = '';
function isoNow(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

/** JSON string literal for a value that may come from a client or a token (quotes, controls escaped). */
const str = (s: string) => JSON.stringify(s);

/**
 * The one place every door counts a request and writes its access-log line, so the three doors
 * report the same fields and labels (never a user id as a label; the subject only in the log).
 * The line is built by hand in pino's format instead of through pino's per-call serialisation and
 * redaction: its fields are fixed and none can hold a credential (a token is never a field).
 */
export function accessRecorder(
  door: Door,
  config: GatewayConfig,
  metrics: GatewayMetrics,
  log: Logger,
): (e: AccessEntry) => void {
  const write = config.log.accessLog && log.isLevelEnabled('info') ? accessOutputOf(log) : undefined;
  // The two forwarding doors serve requests; the ext-authz doors answer checks.
  const message = door === 'proxy' || door === 'grpc' ? 'request' : 'check';
  // Children by route class, then outcome: found without building a key per request.
  const counters = new Map<string, Map<string, { inc(): void }>>();
  const counter = (rc: string, outcome: string) => {
    let byOutcome = counters.get(rc);
    if (!byOutcome) counters.set(rc, (byOutcome = new Map<string, { inc(): void }>()));
    let c = byOutcome.get(outcome);
    if (!c) byOutcome.set(outcome, (c = metrics.requests.labels({ door, route_class: rc, outcome })));
    return c;
  };
  const head = `{"level":${INFO},"time":"`;
  const service = `","service":"inference-gateway","door":"${door}"`;
  const tail = `,"msg":"${message}"}\n`;
  return (e) => {
    const route = e.ctx?.route;
    const rc = routeClass(route);
    counter(rc, e.outcome).inc();
    if (!write) return;
    let line = head + isoNow() + service;
    if (e.requestId !== undefined) line += `,"requestId":${str(e.requestId)}`;
    if (e.method !== undefined) line += `,"method":${str(e.method)}`;
    line += `,"routeClass":"${rc}"`;
    if (route?.kind === 'model') line += `,"model":${str(route.route.model)}`;
    const subject = e.ctx?.identity?.subject;
    if (subject !== undefined) line += `,"subject":${str(subject)}`;
    if (e.status !== undefined) line += `,"status":${e.status}`;
    // Outcomes are the gateway's own codes: nothing to escape.
    line += `,"outcome":"${e.outcome}","ms":${Math.round(e.ms * 100) / 100}` + tail;
    write.write(line);
  };
}

/** Writes out access lines still gathered (at shutdown). */
export function flushAccessLog(log: Logger): void {
  accessOutputOf(log)?.flush();
}
