import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// Every metric of the gateway, in one place. Labels are bounded: door, route class, outcome
// code, stage — never a user id, model input or token.

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class GatewayMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'inference_gateway_requests_total',
    help: 'Requests by front door, route class and outcome (allowed, or the stable error code).',
    labelNames: ['door', 'route_class', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly decisionSeconds = new Histogram({
    name: 'inference_gateway_decision_duration_seconds',
    help: 'Time spent deciding (all pipeline stages), by front door.',
    labelNames: ['door'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly upstreamSeconds = new Histogram({
    name: 'inference_gateway_upstream_duration_seconds',
    help: 'Time from forwarding a request to the predictor until its answer headers arrive.',
    labelNames: ['route_class'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly upstreamErrors = new Counter({
    name: 'inference_gateway_upstream_errors_total',
    help: 'Predictor calls that failed, by stable error code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  // --- authentication ---

  readonly authVerifications = new Counter({
    name: 'inference_gateway_auth_verifications_total',
    help: 'Token checks by outcome (allowed, or the stable error code) and whether the verified-token cache answered.',
    labelNames: ['outcome', 'cache'] as const,
    registers: [this.registry],
  });

  readonly authKeyFetches = new Counter({
    name: 'inference_gateway_auth_key_fetches_total',
    help: 'JWKS (and discovery) fetches by configured issuer and outcome (ok, timeout, unreachable, http_status, too_large, bad_json).',
    labelNames: ['issuer', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly authStaleKeyUses = new Counter({
    name: 'inference_gateway_auth_stale_key_uses_total',
    help: 'Verifications done with keys older than the refresh interval because the issuer could not be reached.',
    labelNames: ['issuer'] as const,
    registers: [this.registry],
  });

  // --- model contracts ---

  readonly contractAnswers = new Counter({
    name: 'inference_gateway_contract_answers_total',
    help: 'Classifier answers by configured model and outcome: reduced (to labels or top-k), refused (could not be reduced: 502, fail closed), full (allowed unreduced for a fullAccess identity; counted when decided).',
    labelNames: ['model', 'outcome'] as const,
    registers: [this.registry],
  });

  // --- rate limits ---

  readonly limitsDecisions = new Counter({
    name: 'inference_gateway_limits_decisions_total',
    help: 'Rate-limit checks by store and outcome (allowed, rate_limited, store_error).',
    labelNames: ['store', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly limitsPredictions = new Counter({
    name: 'inference_gateway_limits_predictions_total',
    help: 'Predictions counted against limits (the cost of allowed requests).',
    registers: [this.registry],
  });

  readonly limitsStoreFallbacks = new Counter({
    name: 'inference_gateway_limits_store_fallbacks_total',
    help: 'Window checks answered by a fallback because Redis failed: insurance (in-memory share), fail-open, fail-closed.',
    labelNames: ['policy'] as const,
    registers: [this.registry],
  });

  readonly limitsCostUnknown = new Counter({
    name: 'inference_gateway_limits_cost_unknown_total',
    help: 'Prediction requests counted as cost 1 because the door had no (complete) body to count.',
    labelNames: ['door'] as const,
    registers: [this.registry],
  });

  // --- ext-authz doors ---

  readonly extAuthzPartialBodies = new Counter({
    name: 'inference_gateway_ext_authz_partial_bodies_total',
    help: 'Checks whose body Envoy truncated (x-envoy-auth-partial-body: true): it cannot be parsed, counted or scored, so stages fall back to their no-body policy.',
    labelNames: ['door'] as const,
    registers: [this.registry],
  });

  readonly extAuthzFaults = new Counter({
    name: 'inference_gateway_ext_authz_faults_total',
    help: 'Checks answered with an error (HTTP 5xx / gRPC status) instead of a decision; Envoy then applies failOpen / statusOnError.',
    labelNames: ['door'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }
}
