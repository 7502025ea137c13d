import { Counter, Gauge, Registry, collectDefaultMetrics, type MetricValueWithName } from 'prom-client';

// Every metric of the gateway, in one place. Labels are bounded: door, route class, outcome
// code, stage — never a user id, model input or token.

const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

interface HistogramChild {
  readonly labels: Record<string, string>;
  /** Per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

interface CounterChild {
  readonly labels: Record<string, string>;
  value: number;
}

/**
 * The metrics updated on every request. prom-client re-validates and re-hashes the label values
 * on each update, even through a child; these keep one child per label set, found once and kept
 * by the caller, so an update is a few additions. Exposition is prom-client's, through the same
 * registry: it asks a registered metric only for `name`, `help`, `type`, `aggregator` and `get()`.
 * prom-client does not document that contract (its public custom-metric hook, `collect`, cannot
 * set a histogram's buckets), so the version is pinned exactly in package.json and
 * test/unit/metrics.test.ts checks the exposition against prom-client's own metrics; raise
 * the pin only with that test green.
 */
abstract class HotMetric<L extends string, C extends { readonly labels: Record<string, string> }> {
  readonly aggregator = 'sum';
  protected readonly children = new Map<string, C>();

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
  ) {
    registry.registerMetric(this as never);
  }

  /** The child of these label values; the key is built without an intermediate array, as callers that do not bind children pay it per update. */
  protected child(values: Record<L, string> | undefined): C {
    let key = '';
    for (const n of this.labelNames) key += (values as Record<L, string>)[n] + '\0';
    let c = this.children.get(key);
    if (!c) this.children.set(key, (c = this.create({ ...values })));
    return c;
  }

  protected abstract create(labels: Record<string, string>): C;

  reset(): void {
    this.children.clear();
  }
}

/** A histogram over fixed buckets (upper bounds, ascending), LATENCY_BUCKETS seconds unless given. */
export class BucketHistogram<L extends string> extends HotMetric<L, HistogramChild> {
  readonly type = 'histogram';
  private readonly buckets: readonly number[];

  constructor(
    registry: Registry,
    o: { name: string; help: string; labelNames: readonly L[]; buckets?: readonly number[] },
  ) {
    super(registry, o.name, o.help, o.labelNames);
    this.buckets = o.buckets ?? LATENCY_BUCKETS;
  }

  protected create(labels: Record<string, string>): HistogramChild {
    return { labels, counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 };
  }

  /** A child bound to these label values: take it once, observe on it per request. */
  labels(values: Record<L, string>): { observe(value: number): void } {
    const c = this.child(values);
    const buckets = this.buckets;
    return {
      observe(value: number) {
        record(c, buckets, value);
      },
    };
  }

  observe(values: Record<L, string>, value: number): void {
    record(this.child(values), this.buckets, value);
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValueWithName<string>[] } {
    const values: MetricValueWithName<string>[] = [];
    const buckets = this.buckets;
    for (const c of this.children.values()) {
      let cumulative = 0;
      for (let i = 0; i <= buckets.length; i++) {
        cumulative += c.counts[i] as number;
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { le: i < buckets.length ? buckets[i] : '+Inf', ...c.labels },
          value: cumulative,
        });
      }
      values.push({ metricName: `${this.name}_sum`, labels: c.labels, value: c.sum });
      values.push({ metricName: `${this.name}_count`, labels: c.labels, value: c.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

function record(c: HistogramChild, buckets: readonly number[], value: number): void {
  // prom-client refuses (throws on) a value that is not finite; here it is dropped, so one bad
  // observation can neither break the caller nor turn the sum into NaN for good.
  if (!Number.isFinite(value)) return;
  // The first bucket whose bound is >= the value (`le`), as prom-client counts it.
  let i = 0;
  while (i < buckets.length && value > (buckets[i] as number)) i++;
  c.counts[i]! += 1;
  c.sum += value;
  c.count += 1;
}

/** A counter; children are bound once and incremented per request (or found per update by their labels). */
export class LabelledCounter<L extends string> extends HotMetric<L, CounterChild> {
  readonly type = 'counter';

  constructor(registry: Registry, o: { name: string; help: string; labelNames: readonly L[] }) {
    super(registry, o.name, o.help, o.labelNames);
  }

  protected create(labels: Record<string, string>): CounterChild {
    return { labels, value: 0 };
  }

  labels(values: Record<L, string>): { inc(by?: number): void } {
    const c = this.child(values);
    return {
      inc(by = 1) {
        c.value += by;
      },
    };
  }

  inc(values: Record<L, string>, by = 1): void {
    this.child(values).value += by;
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: CounterChild[] } {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: [...this.children.values()],
    };
  }
}

/** A counter without labels, exposed as prom-client exposes one (a 0 sample before any update). */
export class PlainCounter extends HotMetric<never, CounterChild> {
  readonly type = 'counter';
  private readonly only: CounterChild;

  constructor(registry: Registry, o: { name: string; help: string }) {
    super(registry, o.name, o.help, []);
    this.only = this.child(undefined);
  }

  protected create(labels: Record<string, string>): CounterChild {
    return { labels, value: 0 };
  }

  inc(by = 1): void {
    this.only.value += by;
  }

  override reset(): void {
    this.only.value = 0;
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: CounterChild[] } {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [this.only] };
  }
}

export class GatewayMetrics {
  readonly registry = new Registry();

  readonly requests = new LabelledCounter(this.registry, {
    name: 'inference_gateway_requests_total',
    help: 'Requests by front door, route class and outcome (allowed, or the stable error code).',
    labelNames: ['door', 'route_class', 'outcome'] as const,
  });

  readonly decisionSeconds = new BucketHistogram(this.registry, {
    name: 'inference_gateway_decision_duration_seconds',
    help: 'Time spent deciding (all pipeline stages), by front door.',
    labelNames: ['door'] as const,
  });

  readonly upstreamSeconds = new BucketHistogram(this.registry, {
    name: 'inference_gateway_upstream_duration_seconds',
    help: 'Time from forwarding a request to the predictor until its answer headers arrive.',
    labelNames: ['route_class'] as const,
  });

  readonly upstreamErrors = this.counter(
    'inference_gateway_upstream_errors_total',
    'Predictor calls that failed, by stable error code.',
    ['code'],
  );

  readonly upstreamRetries = this.counter(
    'inference_gateway_upstream_retries_total',
    'Predictor calls retried once because the predictor provably never read them (not yet written, or the connection was reset before any answer byte).',
  );

  readonly clientAborts = this.counter(
    'inference_gateway_client_aborts_total',
    'Requests whose client went away before the answer was complete; their predictor call was cancelled.',
  );

  // --- authentication ---

  readonly authVerifications = new LabelledCounter(this.registry, {
    name: 'inference_gateway_auth_verifications_total',
    help: 'Token checks by outcome (allowed, or the stable error code) and whether the verified-token cache answered.',
    labelNames: ['outcome', 'cache'] as const,
  });

  readonly authKeyFetches = this.counter(
    'inference_gateway_auth_key_fetches_total',
    'JWKS (and discovery) fetches by configured issuer and outcome (ok, timeout, unreachable, http_status, too_large, bad_json).',
    ['issuer', 'outcome'],
  );

  readonly authStaleKeyUses = this.counter(
    'inference_gateway_auth_stale_key_uses_total',
    'Verifications done with keys older than the refresh interval because the issuer could not be reached.',
    ['issuer'],
  );

  // --- model contracts ---

  readonly contractAnswers = new LabelledCounter(this.registry, {
    name: 'inference_gateway_contract_answers_total',
    help: 'Classifier answers by configured model and outcome: reduced (to labels or top-k), refused (could not be reduced: 502, fail closed), full (allowed unreduced for a fullAccess identity; counted when decided).',
    labelNames: ['model', 'outcome'] as const,
  });

  // --- rate limits ---

  readonly limitsDecisions = new LabelledCounter(this.registry, {
    name: 'inference_gateway_limits_decisions_total',
    help: 'Rate-limit checks by store and outcome (allowed, rate_limited, store_error).',
    labelNames: ['store', 'outcome'] as const,
  });

  readonly limitsPredictions = new PlainCounter(this.registry, {
    name: 'inference_gateway_limits_predictions_total',
    help: 'Predictions counted against limits (the cost of allowed requests).',
  });

  readonly limitsStoreFallbacks = this.counter(
    'inference_gateway_limits_store_fallbacks_total',
    'Window checks answered by a fallback because Redis failed: insurance (in-memory share), fail-open, fail-closed.',
    ['policy'],
  );

  readonly limitsStoreFailures = this.counter(
    'inference_gateway_limits_store_failures_total',
    'Rate-limit charges the shared store did not decide, by reason: timeout, stale (Redis ran the script after its deadline and charged nothing), overloaded (too many commands waiting), unprobed (clocks not compared yet: nothing sent), error.',
    ['reason'],
  );

  /** Names where `inference_gateway_limits_unsettled_predictions` is read at each scrape (the Redis limits store). */
  readonly reportLimitsUnsettled = this.polledGauge(
    'inference_gateway_limits_unsettled_predictions',
    'Predictions decided while Redis did not answer (served by a failure policy, or charged by a late script for a refused request) that Redis has not counted or uncounted yet; handed over exactly once when it answers.',
  );

  /** Names where `inference_gateway_limits_leased_predictions` is read at each scrape (the Redis limits store). */
  readonly reportLimitsLeased = this.polledGauge(
    'inference_gateway_limits_leased_predictions',
    'Predictions Redis counts as used that this replica holds in quota leases and has not admitted yet (returned when a lease expires and at shutdown).',
  );

  readonly dependencyUp = this.gauge(
    'inference_gateway_dependency_up',
    'Whether a dependency answered its last health probe (1) or not (0), e.g. dependency="redis". Under a degrading failure policy this is reported here and in /readyz, without failing readiness.',
    ['dependency'],
  );

  readonly limitsCostUnknown = this.counter(
    'inference_gateway_limits_cost_unknown_total',
    'Prediction requests counted as cost 1 because the door had no (complete) body to count.',
    ['door'],
  );

  // --- ext-authz doors ---

  readonly extAuthzPartialBodies = this.counter(
    'inference_gateway_ext_authz_partial_bodies_total',
    'Checks whose body Envoy truncated (x-envoy-auth-partial-body: true): it cannot be parsed, counted or scored, so stages fall back to their no-body policy.',
    ['door'],
  );

  readonly extAuthzFaults = this.counter(
    'inference_gateway_ext_authz_faults_total',
    'Checks answered with an error (HTTP 5xx / gRPC status) instead of a decision; Envoy then applies failOpen / statusOnError.',
    ['door'],
  );

  // --- model-extraction detection; never a user id as a label ---

  readonly extractionQueries = new LabelledCounter(this.registry, {
    name: 'inference_gateway_extraction_queries_scored_total',
    help: 'Rows scored by the extraction detectors, by model, mode (shadow, enforce) and what they saw (answer: with the predicted class, behind the proxy; inputs: ext-authz doors; opaque: non-numeric rows, counted only).',
    labelNames: ['model', 'mode', 'seen'] as const,
  });

  readonly extractionScores = new BucketHistogram(this.registry, {
    name: 'inference_gateway_extraction_score',
    help: 'Detector scores after each scored request (1 is the alarm threshold), by model and detector.',
    labelNames: ['model', 'detector'] as const,
    buckets: [0.1, 0.25, 0.5, 0.75, 0.9, 1, 1.5, 2, 4],
  });

  readonly extractionLevelChanges = this.counter(
    'inference_gateway_extraction_level_changes_total',
    'Accounts moved on the action ladder, by model, mode, the level reached (none, flag, degrade, throttle, block) and direction (up, down).',
    ['model', 'mode', 'level', 'direction'],
  );

  readonly extractionActions = this.counter(
    'inference_gateway_extraction_actions_total',
    'Requests acted on by the extraction gate (enforce mode), by model and action (degrade, throttle, block).',
    ['model', 'action'],
  );

  readonly extractionStoreFallbacks = this.counter(
    'inference_gateway_extraction_store_fallbacks_total',
    "Extraction state updates that Redis could not take: detection went on with this replica's own memory.",
    ['operation'],
  );

  readonly extractionCalibrated = this.gauge(
    'inference_gateway_extraction_calibrated',
    "1 when the model's extraction calibration is in force (learned, pinned, or floors only); 0 while it runs in shadow until calibrated.",
    ['model'],
  );

  readonly extractionCalibrationAccounts = this.gauge(
    'inference_gateway_extraction_calibration_accounts',
    "Accounts the model's extraction calibration rests on (each counted once).",
    ['model'],
  );

  readonly extractionBreakerOpen = this.gauge(
    'inference_gateway_extraction_breaker_open',
    "1 while a detector's circuit breaker is open on a model: it escalated more than the configured share of the active accounts and no longer escalates anyone.",
    ['model', 'detector'],
  );

  readonly extractionBreakerTrips = this.counter(
    'inference_gateway_extraction_breaker_trips_total',
    "Times a detector's circuit breaker opened on a model.",
    ['model', 'detector'],
  );

  readonly extractionEvictions = this.counter(
    'inference_gateway_extraction_evictions_total',
    'Accounts pushed out of the extraction table for room, by model and kind (account: any; escalated: flagged or above, kept as a compact record; escalated-record: a record dropped because the record table was full).',
    ['model', 'kind'],
  );

  // --- model artifacts (layer 4) ---

  readonly modelVerifications = this.counter(
    'inference_gateway_model_verifications_total',
    'Start-up checks of the model directory against its manifest, by outcome (verified, failed).',
    ['outcome'],
  );

  readonly modelVerificationState = this.gauge(
    'inference_gateway_model_verification_state',
    'Where the start-up model check stands: 1 for the current state (verifying, verified, failed), 0 for the others. Absent when the check is off.',
    ['state'],
  );

  readonly modelVerificationProblems = this.counter(
    'inference_gateway_model_verification_problems_total',
    'Problems found by the start-up model check, by kind (mismatch, missing, extra, unsafe_path, unreadable, signature_mismatch, bad_signature_encoding, bad_key, manifest_invalid).',
    ['kind'],
  );

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  // prom-client's own metrics, for those updated a few times per request at most (the hot ones
  // are the classes above); registered with this gateway's registry, never the global one.
  private counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  /**
   * A gauge read at each scrape from a source named later (the part that knows the value is made
   * after the metrics); 0 until then. Returns the function that names the source.
   */
  private polledGauge(name: string, help: string): (source: () => number) => void {
    let source = (): number => 0;
    const gauge: Gauge = new Gauge({ name, help, registers: [this.registry], collect: () => gauge.set(source()) });
    return (s) => {
      source = s;
    };
  }
}
