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

  // --- authentication (issue 3) ---

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

  // --- model contracts (issue 4) ---

  readonly contractRequests = new Counter({
    name: 'inference_gateway_contract_requests_total',
    help: 'Model-contract checks of requests by outcome (allowed, invalid_input, scores_not_allowed, invalid_body) and effective response policy.',
    labelNames: ['outcome', 'policy'] as const,
    registers: [this.registry],
  });

  readonly contractAnswers = new Counter({
    name: 'inference_gateway_contract_answers_total',
    help: 'Predictor answers read under a labels or top-k policy, by outcome (rewritten, or refused: failed closed with 502).',
    labelNames: ['policy', 'outcome'] as const,
    registers: [this.registry],
  });

  // --- rate limits (issue 5) ---

  // --- ext-authz doors (issue 6) ---

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }
}
