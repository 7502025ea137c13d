// Offline schema validation of Kubernetes and Istio objects (kubernetes-models); KServe's
// InferenceService has no model package, so its pod parts are validated as a Pod and the rest
// checked against the documented v1beta1 shape.
import { Pod } from 'kubernetes-models/v1';
import type { K8sObject } from '../helpers/deploy-manifests.js';

const MODULES: Record<string, string> = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'policy/v1': 'kubernetes-models/policy/v1',
  'autoscaling/v2': 'kubernetes-models/autoscaling/v2',
  'rbac.authorization.k8s.io/v1': 'kubernetes-models/rbac.authorization.k8s.io/v1',
  'networking.k8s.io/v1': 'kubernetes-models/networking.k8s.io/v1',
  'security.istio.io/v1': '@kubernetes-models/istio/security.istio.io/v1',
  'networking.istio.io/v1': '@kubernetes-models/istio/networking.istio.io/v1',
  'install.istio.io/v1alpha1': '@kubernetes-models/istio/install.istio.io/v1alpha1',
};

const PREDICTOR_FIELDS = new Set(['serviceAccountName', 'terminationGracePeriodSeconds', 'timeout', 'labels', 'annotations', 'minReplicas', 'maxReplicas', 'model', 'containers', 'volumes']);
const MODEL_FIELDS = new Set(['modelFormat', 'storageUri', 'args', 'env', 'resources', 'runtime', 'protocolVersion']);

function inferenceServiceProblems(o: K8sObject): string[] {
  const out: string[] = [];
  const p = o.spec?.predictor;
  if (!p || typeof p !== 'object') return ['spec.predictor is required'];
  for (const k of Object.keys(p)) if (!PREDICTOR_FIELDS.has(k)) out.push(`spec.predictor.${k} is not a field this check knows`);
  const model = p.model;
  if (model) {
    for (const k of Object.keys(model)) if (!MODEL_FIELDS.has(k)) out.push(`spec.predictor.model.${k} is not a field this check knows`);
    if (typeof model.modelFormat?.name !== 'string') out.push('spec.predictor.model.modelFormat.name must be a string');
  }
  const mode = o.metadata.annotations?.['serving.kserve.io/deploymentMode'];
  if (mode !== undefined && !['Standard', 'Knative', 'RawDeployment', 'Serverless'].includes(mode)) out.push(`unknown deploymentMode ${mode}`);
  try {
    // The predictor's extra containers and volumes are an embedded PodSpec.
    new Pod({ metadata: { name: o.metadata.name }, spec: { containers: p.containers ?? [], volumes: p.volumes, serviceAccountName: p.serviceAccountName, terminationGracePeriodSeconds: p.terminationGracePeriodSeconds } }).validate();
  } catch (err) {
    out.push((err as Error).message);
  }
  return out;
}

// Prometheus Operator objects (monitoring.coreos.com/v1) have no model package either: the fields
// used here are checked against the operator's API reference (ServiceMonitor, PodMonitor,
// PrometheusRule), unknown ones refused, required ones and their types checked.
type Shape = { readonly [field: string]: 'string' | 'number' | 'object' | 'array' | Shape | readonly [Shape] };
const SELECTOR: Shape = { matchLabels: 'object', matchExpressions: 'array' };
const RELABEL: Shape = { sourceLabels: 'array', separator: 'string', targetLabel: 'string', regex: 'string', modulus: 'number', replacement: 'string', action: 'string' };
const ENDPOINT_COMMON: Shape = { path: 'string', interval: 'string', scrapeTimeout: 'string', scheme: 'string', honorLabels: 'string', relabelings: [RELABEL], metricRelabelings: [RELABEL] };
const MONITORING_SPECS: Record<string, { shape: Shape; required: string[] }> = {
  ServiceMonitor: { shape: { selector: SELECTOR, namespaceSelector: { any: 'string', matchNames: 'array' }, jobLabel: 'string', endpoints: [{ port: 'string', targetPort: 'string', ...ENDPOINT_COMMON }] }, required: ['selector', 'endpoints'] },
  PodMonitor: { shape: { selector: SELECTOR, namespaceSelector: { any: 'string', matchNames: 'array' }, jobLabel: 'string', podMetricsEndpoints: [{ port: 'string', portNumber: 'number', ...ENDPOINT_COMMON }] }, required: ['selector', 'podMetricsEndpoints'] },
  PrometheusRule: { shape: { groups: [{ name: 'string', interval: 'string', limit: 'number', rules: [{ alert: 'string', record: 'string', expr: 'string', for: 'string', keep_firing_for: 'string', labels: 'object', annotations: 'object' }] }] }, required: ['groups'] },
};

function shapeProblems(value: unknown, shape: Shape | readonly [Shape] | string, path: string): string[] {
  if (typeof shape === 'string') {
    const actual = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
    const ok = shape === 'string' ? actual === 'string' || actual === 'boolean' : actual === shape;
    return ok ? [] : [`${path} must be ${shape === 'object' ? 'an' : 'a'} ${shape}, not ${actual}`];
  }
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return [`${path} must be an array`];
    return value.flatMap((v, i) => shapeProblems(v, shape[0] as Shape, `${path}[${i}]`));
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${path} must be an object`];
  const fields = shape as Shape;
  return Object.entries(value).flatMap(([k, v]) => (k in fields ? shapeProblems(v, fields[k]!, `${path}.${k}`) : [`${path}.${k} is not a field this check knows`]));
}

function monitoringProblems(o: K8sObject): string[] {
  const spec = MONITORING_SPECS[o.kind];
  if (!spec) return [`no schema for ${o.apiVersion} ${o.kind}`];
  const missing = spec.required.filter((f) => o.spec?.[f] === undefined).map((f) => `spec.${f} is required`);
  const problems = [...missing, ...shapeProblems(o.spec, spec.shape, 'spec')];
  if (o.kind === 'PrometheusRule') {
    for (const [g, group] of (o.spec.groups as Array<{ rules: Array<Record<string, unknown>> }>).entries()) {
      for (const [r, rule] of group.rules.entries()) {
        if ((rule['alert'] === undefined) === (rule['record'] === undefined)) problems.push(`spec.groups[${g}].rules[${r}] needs exactly one of alert, record`);
        if (typeof rule['expr'] !== 'string') problems.push(`spec.groups[${g}].rules[${r}].expr is required`);
      }
    }
  }
  return problems;
}

/** Problems with one object against its schema; empty when it validates. */
export async function schemaProblems(o: K8sObject): Promise<string[]> {
  if (o.apiVersion === 'serving.kserve.io/v1beta1' && o.kind === 'InferenceService') return inferenceServiceProblems(o);
  if (o.apiVersion === 'monitoring.coreos.com/v1') return monitoringProblems(o);
  const mod = MODULES[o.apiVersion];
  if (!mod) return [`no schema for ${o.apiVersion}`];
  const classes = (await import(mod)) as Record<string, new (x: unknown) => { validate(): void }>;
  const Model = classes[o.kind];
  if (!Model) return [`no schema for ${o.apiVersion} ${o.kind}`];
  try {
    new Model(o).validate();
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}
