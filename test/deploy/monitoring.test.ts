// The operator's kit checked against the real tools and the real gateway: the PrometheusRule's
// rules pass `promtool check rules` and fire as meant (`promtool test rules`), the dashboard's
// queries parse, and every metric they name is exported by a gateway running the deploy config.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildConfig, parseConfigText } from '../../src/config/load-config.js';
import { ERROR_CODES } from '../../src/decision/error-codes.js';
import { Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { startDemoPredictor, type DemoPredictor } from '../../src/quickstart/demo-predictor.js';
import { DEPLOY_DIR, one, render } from '../helpers/deploy-manifests.js';
import { startJwksIssuer, type JwksIssuer } from '../helpers/jwks-issuer.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleGroup {
  name: string;
  rules: Rule[];
}

const rules = (): RuleGroup[] => one(render('base'), 'PrometheusRule', 'inference-gateway').spec.groups as RuleGroup[];
const alerts = (): Rule[] => rules().flatMap((g) => g.rules);

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
}
const dashboard = (): { panels: Panel[] } => JSON.parse(readFileSync(join(DEPLOY_DIR, 'components/monitoring/inference-gateway-dashboard.json'), 'utf8')) as { panels: Panel[] };
// Grafana's interval variable is not PromQL: the checks read it as a plain range.
const dashboardExprs = (): Array<{ title: string; expr: string }> =>
  dashboard().panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr.replaceAll('$__rate_interval', '5m') })));

function promtool(args: string[]): { code: number; out: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8' });
  const failure: NodeJS.ErrnoException | undefined = r.error;
  if (failure?.code === 'ENOENT') throw new Error("promtool is not installed: these tests check the alerts with Prometheus' own tool (apt-get install prometheus; .ci/run does it)");
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

const tmp = mkdtempSync(join(tmpdir(), 'igw-monitoring-'));
const writeYaml = (name: string, value: unknown): string => {
  const file = join(tmp, name);
  writeFileSync(file, stringify(value));
  return file;
};

describe('the PrometheusRule', () => {
  it('passes promtool check rules', () => {
    const r = promtool(['check', 'rules', writeYaml('rules.yaml', { groups: rules() })]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`SUCCESS: ${alerts().length} rules found`));
  });

  it('alerts on stale keys, missing keys, store fallbacks, upstream errors and timeouts, 5xx, ext-authz faults, model verification and extraction', () => {
    const names = alerts().map((a) => a.alert);
    for (const n of ['InferenceGatewayStaleSigningKeys', 'InferenceGatewayKeysUnavailable', 'InferenceGatewayRateLimitStoreFallback', 'InferenceGatewayUpstreamErrors', 'InferenceGatewayUpstreamTimeouts', 'InferenceGateway5xxRate', 'InferenceGatewayExtAuthzFaults', 'InferenceGatewayModelVerificationFailed', 'InferenceGatewayExtractionEscalated', 'InferenceGatewayExtractionBreakerOpen']) {
      assert.ok(names.includes(n), n);
    }
  });

  it('counts as 5xx exactly the codes the gateway answers with a 5xx status', () => {
    const expr = alerts().find((a) => a.alert === 'InferenceGateway5xxRate')!.expr;
    const listed = /outcome=~"([^"]+)"/.exec(expr)![1]!.split('|').sort();
    const fiveHundreds = Object.entries(ERROR_CODES).filter(([, info]) => info.http >= 500).map(([code]) => code).sort();
    assert.deepEqual(listed, fiveHundreds);
  });

  it('gives every alert a severity, a summary and a runbook section in deploy/README.md', () => {
    const readme = readFileSync(join(DEPLOY_DIR, 'README.md'), 'utf8');
    for (const a of alerts()) {
      assert.match(a.labels?.['severity'] ?? '', /^(warning|critical)$/, `${a.alert} severity`);
      assert.ok(a.annotations?.['summary'], `${a.alert} summary`);
      assert.ok(readme.includes(`\`${a.alert}\``), `deploy/README.md names ${a.alert}`);
    }
  });

  it('fires as meant on synthetic series (promtool test rules)', () => {
    const rulesFile = writeYaml('rules-under-test.yaml', { groups: rules() });
    const series = (metric: string, values: string) => ({ series: metric, values });
    // promtool compares annotations too: the rule's own, with {{ $labels.x }} filled in.
    const firing = (alertname: string, labels: Record<string, string>) => {
      const rule = alerts().find((a) => a.alert === alertname)!;
      const fill = (t: string) => t.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, k: string) => labels[k] ?? '');
      return [{ exp_labels: { ...rule.labels, ...labels }, exp_annotations: Object.fromEntries(Object.entries(rule.annotations ?? {}).map(([k, v]) => [k, fill(v)])) }];
    };
    const tests = {
      rule_files: [rulesFile],
      evaluation_interval: '1m',
      tests: [
        {
          // 10% of requests answered 502 by the gateway: 5xx fires; 1% would not.
          interval: '1m',
          input_series: [
            series('inference_gateway_requests_total{namespace="ml-serving",door="proxy",route_class="predict",outcome="allowed"}', '0+90x20'),
            series('inference_gateway_requests_total{namespace="ml-serving",door="proxy",route_class="predict",outcome="upstream_unreachable"}', '0+10x20'),
            series('inference_gateway_upstream_errors_total{namespace="ml-serving",code="upstream_unreachable"}', '0+10x20'),
          ],
          alert_rule_test: [
            { eval_time: '15m', alertname: 'InferenceGateway5xxRate', exp_alerts: firing('InferenceGateway5xxRate', { namespace: 'ml-serving' }) },
            { eval_time: '15m', alertname: 'InferenceGatewayUpstreamErrors', exp_alerts: firing('InferenceGatewayUpstreamErrors', { namespace: 'ml-serving' }) },
            { eval_time: '15m', alertname: 'InferenceGatewayUpstreamTimeouts', exp_alerts: [] },
            { eval_time: '3m', alertname: 'InferenceGateway5xxRate', exp_alerts: [] },
          ],
        },
        {
          interval: '1m',
          input_series: [
            series('inference_gateway_requests_total{namespace="ml-serving",door="proxy",route_class="predict",outcome="allowed"}', '0+1000x20'),
            series('inference_gateway_requests_total{namespace="ml-serving",door="proxy",route_class="predict",outcome="internal_error"}', '0+5x20'),
          ],
          alert_rule_test: [{ eval_time: '15m', alertname: 'InferenceGateway5xxRate', exp_alerts: [] }],
        },
        {
          interval: '1m',
          input_series: [
            series('inference_gateway_model_verification_state{namespace="ml-serving",pod="iris-predictor-0",state="failed"}', '0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1'),
            series('inference_gateway_model_verification_state{namespace="ml-serving",pod="iris-predictor-1",state="verifying"}', '1+0x40'),
            series('inference_gateway_model_verification_state{namespace="ml-serving",pod="iris-predictor-2",state="verifying"}', '1 1 1 1 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0'),
            series('inference_gateway_auth_stale_key_uses_total{namespace="ml-serving",issuer="https://id.example.com/realms/ml"}', '0+3x30'),
            series('inference_gateway_requests_total{namespace="ml-serving",door="ext-authz-grpc",route_class="predict",outcome="keys_unavailable"}', '0+2x10'),
          ],
          alert_rule_test: [
            { eval_time: '5m', alertname: 'InferenceGatewayModelVerificationFailed', exp_alerts: firing('InferenceGatewayModelVerificationFailed', { namespace: 'ml-serving', pod: 'iris-predictor-0' }) },
            // Still failing 40 minutes later: the alert holds for as long as the pod is refused.
            { eval_time: '40m', alertname: 'InferenceGatewayModelVerificationFailed', exp_alerts: firing('InferenceGatewayModelVerificationFailed', { namespace: 'ml-serving', pod: 'iris-predictor-0' }) },
            { eval_time: '35m', alertname: 'InferenceGatewayModelVerificationStuck', exp_alerts: firing('InferenceGatewayModelVerificationStuck', { namespace: 'ml-serving', pod: 'iris-predictor-1' }) },
            { eval_time: '15m', alertname: 'InferenceGatewayStaleSigningKeys', exp_alerts: firing('InferenceGatewayStaleSigningKeys', { namespace: 'ml-serving', issuer: 'https://id.example.com/realms/ml' }) },
            { eval_time: '5m', alertname: 'InferenceGatewayStaleSigningKeys', exp_alerts: [] },
            { eval_time: '5m', alertname: 'InferenceGatewayKeysUnavailable', exp_alerts: firing('InferenceGatewayKeysUnavailable', { namespace: 'ml-serving' }) },
          ],
        },
        {
          // Every JWKS fetch from one issuer fails, another's succeed: only the first alerts.
          interval: '1m',
          input_series: [
            series('inference_gateway_auth_key_fetches_total{namespace="ml-serving",issuer="https://down.example.com",outcome="timeout"}', '0+1x40'),
            series('inference_gateway_auth_key_fetches_total{namespace="ml-serving",issuer="https://flaky.example.com",outcome="timeout"}', '0+1x40'),
            series('inference_gateway_auth_key_fetches_total{namespace="ml-serving",issuer="https://flaky.example.com",outcome="ok"}', '0+1x40'),
            series('inference_gateway_limits_store_fallbacks_total{namespace="ml-serving",policy="insurance"}', '0+20x20'),
            series('inference_gateway_ext_authz_faults_total{namespace="ml-serving",door="ext-authz-grpc"}', '0+1x20'),
            series('inference_gateway_contract_answers_total{namespace="ml-serving",model="iris",outcome="refused"}', '0+1x20'),
            // Exported at 0 from start-up; one account reaches block at minute 3. A flag-level rise does not page.
            series('inference_gateway_extraction_level_changes_total{namespace="ml-serving",model="iris",mode="enforce",level="block",direction="up"}', '0 0 0 1 1 1 1 1 1 1 1'),
            series('inference_gateway_extraction_level_changes_total{namespace="ml-serving",model="iris",mode="enforce",level="flag",direction="up"}', '0 0 1 2 3 4 5 6 7 8 9'),
            // The margin detector's breaker opens at minute 2; the others stay closed.
            series('inference_gateway_extraction_breaker_open{namespace="ml-serving",pod="iris-0",model="iris",detector="margin"}', '0 0 1 1 1 1 1 1 1 1 1'),
            series('inference_gateway_extraction_breaker_open{namespace="ml-serving",pod="iris-0",model="iris",detector="prada"}', '0+0x10'),
          ],
          alert_rule_test: [
            { eval_time: '35m', alertname: 'InferenceGatewayKeyFetchFailing', exp_alerts: firing('InferenceGatewayKeyFetchFailing', { namespace: 'ml-serving', issuer: 'https://down.example.com' }) },
            { eval_time: '10m', alertname: 'InferenceGatewayRateLimitStoreFallback', exp_alerts: firing('InferenceGatewayRateLimitStoreFallback', { namespace: 'ml-serving', policy: 'insurance' }) },
            { eval_time: '10m', alertname: 'InferenceGatewayExtAuthzFaults', exp_alerts: firing('InferenceGatewayExtAuthzFaults', { namespace: 'ml-serving', door: 'ext-authz-grpc' }) },
            { eval_time: '15m', alertname: 'InferenceGatewayAnswersRefused', exp_alerts: firing('InferenceGatewayAnswersRefused', { namespace: 'ml-serving', model: 'iris' }) },
            { eval_time: '5m', alertname: 'InferenceGatewayExtractionEscalated', exp_alerts: firing('InferenceGatewayExtractionEscalated', { namespace: 'ml-serving', model: 'iris', mode: 'enforce', level: 'block' }) },
            { eval_time: '1m', alertname: 'InferenceGatewayExtractionBreakerOpen', exp_alerts: [] },
            { eval_time: '5m', alertname: 'InferenceGatewayExtractionBreakerOpen', exp_alerts: firing('InferenceGatewayExtractionBreakerOpen', { namespace: 'ml-serving', model: 'iris', detector: 'margin' }) },
          ],
        },
        {
          // Timeouts: 2% of forwarded requests.
          interval: '1m',
          input_series: [
            series('inference_gateway_requests_total{namespace="ml-serving",door="proxy",route_class="predict",outcome="allowed"}', '0+100x20'),
            series('inference_gateway_upstream_errors_total{namespace="ml-serving",code="upstream_timeout"}', '0+2x20'),
          ],
          alert_rule_test: [
            { eval_time: '15m', alertname: 'InferenceGatewayUpstreamTimeouts', exp_alerts: firing('InferenceGatewayUpstreamTimeouts', { namespace: 'ml-serving' }) },
            { eval_time: '15m', alertname: 'InferenceGatewayUpstreamErrors', exp_alerts: [] },
          ],
        },
      ],
    };
    // Every alert is exercised firing at least once.
    const exercised = new Set(tests.tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
    assert.deepEqual(alerts().map((a) => a.alert).filter((n) => !exercised.has(n!)), []);
    const r = promtool(['test', 'rules', writeYaml('rules.test.yaml', tests)]);
    assert.equal(r.code, 0, r.out);
  });
});

describe('the Grafana dashboard', () => {
  it('has the panels an operator looks for', () => {
    const titles = dashboard().panels.map((p) => p.title.toLowerCase());
    for (const want of ['requests by door and outcome', 'decision latency', 'upstream latency', 'limit decisions', 'key freshness', 'contract answers']) {
      assert.ok(titles.some((t) => t.includes(want)), want);
    }
  });

  it("lays its panels out on Grafana's 24-column grid without overlap, with unique ids and the datasource variable", () => {
    const panels = (dashboard() as unknown as { panels: Array<Panel & { id: number; gridPos: { x: number; y: number; w: number; h: number }; datasource?: { uid: string } }> }).panels;
    assert.equal(new Set(panels.map((p) => p.id)).size, panels.length);
    const cells = new Set<string>();
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      assert.ok(x >= 0 && w > 0 && x + w <= 24, `${p.title} fits the grid`);
      for (let i = x; i < x + w; i++) for (let j = y; j < y + h; j++) {
        assert.ok(!cells.has(`${i},${j}`), `${p.title} overlaps another panel`);
        cells.add(`${i},${j}`);
      }
      if (p.type !== 'row') assert.equal(p.datasource?.uid, '${datasource}', `${p.title} uses the datasource variable`);
    }
  });

  it('asks only valid PromQL (every query checked by promtool as a recording rule)', () => {
    const exprs = dashboardExprs();
    assert.ok(exprs.length >= 10);
    const file = writeYaml('dashboard-as-rules.yaml', { groups: [{ name: 'dashboard', rules: exprs.map((e, i) => ({ record: `dashboard:query:${i}`, expr: e.expr })) }] });
    const r = promtool(['check', 'rules', file]);
    assert.equal(r.code, 0, r.out);
  });
});

describe('every metric the alerts and the dashboard name', () => {
  let redis: RedisServer;
  let issuer: JwksIssuer;
  let predictor: DemoPredictor;
  let gateway: Gateway;
  let exported: Set<string>;

  before(async () => {
    redis = await startRedis();
    issuer = await startJwksIssuer('ml-inference-api');
    predictor = await startDemoPredictor({});
    // The deploy config itself, every feature on, pointed at real servers on loopback.
    const file = join(DEPLOY_DIR, 'components/gateway-config/gateway.yaml');
    const raw = parseConfigText(readFileSync(file, 'utf8'), file) as Record<string, Record<string, unknown>>;
    const model = join(tmp, 'models');
    mkdirSync(model);
    writeFileSync(join(model, 'model.joblib'), 'iris\n');
    writeFileSync(join(tmp, 'MANIFEST.sha256'), execFileSync('sha256sum', ['model.joblib'], { cwd: model }));
    const config = buildConfig({
      ...raw,
      server: { ...raw['server'], host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      extAuthz: { http: { enabled: true, host: '127.0.0.1', port: 0, pathPrefix: '/authz' }, grpc: { enabled: true, host: '127.0.0.1', port: 0 } },
      upstream: { ...raw['upstream'], url: predictor.url },
      auth: { ...raw['auth'], issuers: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audiences: ['ml-inference-api'] }] },
      limits: { ...raw['limits'], store: { ...(raw['limits']!['store'] as object), kind: 'redis', redisUrl: redis.url } },
      modelVerification: { enabled: true, dir: model, manifest: join(tmp, 'MANIFEST.sha256') },
      log: { level: 'silent' },
    });
    gateway = await Gateway.create(config, { log: createLogger('silent'), defaultMetrics: false });
    const at = await gateway.listen();
    const token = await issuer.token({ aud: 'ml-inference-api', scope: 'predict' });
    await fetch(`${at.url}/v1/models/iris:predict`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"instances": [[6.8, 2.8, 4.8, 1.4]]}' });
    const text = await (await fetch(`${at.adminUrl}/metrics`)).text();
    exported = new Set([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap((m) => (m[2] === 'histogram' ? [m[1]!, `${m[1]}_bucket`, `${m[1]}_sum`, `${m[1]}_count`] : [m[1]!])));
  });

  after(async () => {
    await gateway?.close();
    await predictor?.close();
    await issuer?.close();
    await redis?.stop();
  });

  const named = (expr: string): string[] => [...new Set(expr.match(/\binference_gateway_[a-z0-9_]+/g) ?? [])];

  it('is exported by a running gateway: the alerts', () => {
    for (const a of alerts()) {
      assert.ok(named(a.expr).length > 0, `${a.alert} names a gateway metric`);
      for (const m of named(a.expr)) assert.ok(exported.has(m), `${a.alert}: ${m} is not exported`);
    }
  });

  it('is exported by a running gateway: the dashboard', () => {
    for (const { title, expr } of dashboardExprs()) {
      assert.ok(named(expr).length > 0, `${title} names a gateway metric`);
      for (const m of named(expr)) assert.ok(exported.has(m), `${title}: ${m} is not exported`);
    }
  });
});
