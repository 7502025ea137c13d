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

const PREDICTOR_FIELDS = new Set(['serviceAccountName', 'labels', 'annotations', 'minReplicas', 'maxReplicas', 'model', 'containers', 'volumes']);
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
    new Pod({ metadata: { name: o.metadata.name }, spec: { containers: p.containers ?? [], volumes: p.volumes, serviceAccountName: p.serviceAccountName } }).validate();
  } catch (err) {
    out.push((err as Error).message);
  }
  return out;
}

/** Problems with one object against its schema; empty when it validates. */
export async function schemaProblems(o: K8sObject): Promise<string[]> {
  if (o.apiVersion === 'serving.kserve.io/v1beta1' && o.kind === 'InferenceService') return inferenceServiceProblems(o);
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
