// Distributed tracing: spans for the decision and for the upstream call, exported over OTLP/HTTP
// (https://opentelemetry.io/docs/specs/otlp/#otlphttp) when `tracing.enabled` is set.
//
// Trace context arrives in W3C Trace Context headers (https://www.w3.org/TR/trace-context/:
// `traceparent`, `tracestate`) or B3 headers (https://github.com/openzipkin/b3-propagation, which
// Envoy and Istio send). With tracing off the gateway makes no span and forwards those headers
// unchanged, so the predictor's spans join the caller's trace; with tracing on it replaces them
// with its own upstream span's context, in both formats, so the predictor's spans nest under it.
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
} from '@opentelemetry/api';
import { CompositePropagator, ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { createHmac, randomBytes } from 'node:crypto';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type ReadableSpan,
  type Sampler,
  type SamplingResult,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import type { GatewayConfig } from '../config/schema.js';
import type { Decision } from '../decision/decision.js';
import type { RequestView } from '../decision/request-view.js';
import { parseModelRoute } from '../protocol/kserve-route.js';
import type { Logger } from './logger.js';

/** Every header that carries trace context to the predictor, in either format. */
export const TRACE_HEADERS: readonly string[] = [
  'traceparent',
  'tracestate',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
];

/** The span of one decision phase; ended with the decision it made. */
export interface DecisionSpan {
  end(decision: Decision): void;
}

/** The span of one call to the predictor. */
export interface UpstreamSpan {
  /**
   * Trace headers to send to the predictor instead of the client's (undefined: send the client's
   * unchanged).
   */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** Ends the span with the predictor's status, or with the failure that kept it from answering. */
  end(outcome: { readonly status?: number; readonly error?: string }): void;
}

export interface Tracing {
  readonly enabled: boolean;
  /** A span around one phase of the decision (`head`: route, authentication, authorization; `body`: contract, limits). */
  decisionSpan(view: RequestView, phase: 'head' | 'body'): DecisionSpan;
  /** A span around the upstream call of an allowed request, to `url` (the predictor's URL, without the query). */
  upstreamSpan(view: RequestView, url: string): UpstreamSpan;
  /** Exports what is left and stops. */
  close(): Promise<void>;
}

const NO_DECISION_SPAN: DecisionSpan = { end: () => undefined };
/** The upstream span when tracing is off: the client's trace headers pass unchanged. */
export const NO_UPSTREAM_SPAN: UpstreamSpan = { headers: undefined, end: () => undefined };

/** Tracing off: constant no-op spans, so the hot path pays one call and no allocation. */
export const TRACING_OFF: Tracing = {
  enabled: false,
  decisionSpan: () => NO_DECISION_SPAN,
  upstreamSpan: () => NO_UPSTREAM_SPAN,
  close: () => Promise.resolve(),
};

const viewGetter: TextMapGetter<RequestView['headers']> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const v = carrier[key.toLowerCase()];
    return typeof v === 'string' || v === undefined ? v : [...v];
  },
};

const recordSetter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key.toLowerCase()] = value;
  },
};

/**
 * Sampling of traces a caller asked for. Any client, authenticated or not, can send
 * `traceparent: …-01`; following it would let it force the gateway to record and export every
 * request it sends. So a sampled remote parent is sampled at `sampleRatio`, by a keyed hash of its
 * trace id: the same decision for every span of one trace, and a ratio a client cannot steer by
 * choosing trace ids (the key is random per process). A parent that asks for no sampling is
 * followed (it can only make the gateway record less).
 */
class KeyedRatioSampler implements Sampler {
  private readonly key = randomBytes(32);
  private readonly bound: number;

  constructor(private readonly ratio: number) {
    this.bound = Math.floor(ratio * 2 ** 32);
  }

  shouldSample(_context: Context, traceId: string): SamplingResult {
    if (this.ratio >= 1) return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    if (this.ratio <= 0) return { decision: SamplingDecision.NOT_RECORD };
    const h = createHmac('sha256', this.key).update(traceId).digest().readUInt32BE(0);
    return { decision: h < this.bound ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
  }

  toString(): string {
    return `KeyedRatioSampler{${this.ratio}}`;
  }
}

// Span attributes hold at most this much of a path: a client chooses its path, up to the header limit.
const MAX_PATH_ATTRIBUTE = 128;

function boundedPath(path: string): string {
  return path.length <= MAX_PATH_ATTRIBUTE ? path : `${path.slice(0, MAX_PATH_ATTRIBUTE)}…`;
}

/** The KServe route template (`/v2/models/{model}/infer`), or undefined for any other path. */
function routeTemplate(path: string): string | undefined {
  const r = parseModelRoute(path);
  if (!r) return undefined;
  if (r.protocol === 'v1') return r.verb === 'ready' ? '/v1/models/{model}' : `/v1/models/{model}:${r.verb}`;
  const base = r.version === undefined ? '/v2/models/{model}' : '/v2/models/{model}/versions/{version}';
  return r.verb === 'metadata' ? base : `${base}/${r.verb === 'predict' ? 'infer' : r.verb}`;
}

/** The exporter, with failures logged: a collector that is down costs spans, never requests. */
function loggingExporter(inner: SpanExporter, log: Logger): SpanExporter {
  return {
    export(spans: ReadableSpan[], done) {
      inner.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS)
          log.warn({ spans: spans.length, reason: result.error?.message }, 'trace export failed; spans dropped');
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

class OtelTracing implements Tracing {
  readonly enabled = true;
  private readonly provider: TracerProvider;
  private readonly tracer: Tracer;
  // B3 first: on extraction the last propagator that finds a context wins, and W3C is preferred.
  private readonly propagator = new CompositePropagator({
    propagators: [new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }), new W3CTraceContextPropagator()],
  });

  constructor(config: GatewayConfig['tracing'], log: Logger) {
    const exporter = new OTLPTraceExporter({ url: config.endpoint, timeoutMillis: config.exportTimeoutMs });
    this.provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': config.serviceName }),
      sampler: new ParentBasedSampler({
        root: new TraceIdRatioBasedSampler(config.sampleRatio),
        remoteParentSampled: new KeyedRatioSampler(config.sampleRatio),
      }),
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: loggingExporter(exporter, log),
          exportTimeoutMillis: config.exportTimeoutMs,
        }),
      ],
    });
    this.tracer = this.provider.getTracer('inference-gateway');
  }

  private parent(view: RequestView): Context {
    return this.propagator.extract(ROOT_CONTEXT, view.headers, viewGetter);
  }

  decisionSpan(view: RequestView, phase: 'head' | 'body'): DecisionSpan {
    const attributes: Record<string, string> = {
      'gateway.door': view.door,
      'gateway.phase': phase,
      'http.request.method': view.method,
      'url.path': boundedPath(view.path),
    };
    const route = routeTemplate(view.path);
    if (route !== undefined) attributes['http.route'] = route;
    const span = this.tracer.startSpan(`decide ${phase}`, { kind: SpanKind.INTERNAL, attributes }, this.parent(view));
    return { end: (decision) => endDecision(span, decision) };
  }

  upstreamSpan(view: RequestView, url: string): UpstreamSpan {
    const span = this.tracer.startSpan(
      `${view.method} upstream`,
      { kind: SpanKind.CLIENT, attributes: { 'http.request.method': view.method, 'url.full': boundedPath(url) } },
      this.parent(view),
    );
    const headers: Record<string, string> = {};
    this.propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, recordSetter);
    return {
      headers,
      end: (outcome) => {
        if (outcome.status !== undefined) span.setAttribute('http.response.status_code', outcome.status);
        // OpenTelemetry HTTP client spans: a 5xx answer or no answer is an error (4xx is the caller's).
        if (outcome.error !== undefined || (outcome.status ?? 0) >= 500) {
          span.setStatus({
            code: SpanStatusCode.ERROR,
            ...(outcome.error !== undefined ? { message: outcome.error } : {}),
          });
        }
        span.end();
      },
    };
  }

  close(): Promise<void> {
    return this.provider.shutdown();
  }
}

function endDecision(span: Span, decision: Decision): void {
  const route = decision.ctx.route;
  if (route.kind === 'model') span.setAttribute('gateway.model', route.route.model);
  span.setAttribute('gateway.decision', decision.allowed ? 'allow' : 'deny');
  if (!decision.allowed) {
    span.setAttribute('gateway.denial.code', decision.denial.code);
    // A refusal is the gateway doing its job; only a fault of its own is an error.
    if (decision.denial.code === 'internal_error') span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/** Tracing as configured: the exporting implementation, or the constant no-op. */
export function createTracing(config: GatewayConfig['tracing'], log: Logger): Tracing {
  return config.enabled ? new OtelTracing(config, log) : TRACING_OFF;
}
