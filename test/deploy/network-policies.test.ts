// The rendered NetworkPolicies let exactly the documented flows through.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { byKind, render, type K8sObject } from '../helpers/deploy-manifests.js';
import { MeshMtls, NetworkPolicies, type Flow, type MeshPod, type NetworkPolicy, type PeerAuthentication, type Pod } from '../helpers/network-policy-evaluator.js';

const NAMESPACES = {
  'ml-serving': { 'app.kubernetes.io/part-of': 'ml-platform' },
  'ml-training': { 'app.kubernetes.io/part-of': 'ml-platform' },
  'ml-sensitive': { 'app.kubernetes.io/part-of': 'ml-platform' },
  'web': { 'app.kubernetes.io/part-of': 'ml-platform' },
  'istio-system': {},
  'monitoring': {},
  'ml-ops': {},
  'kube-system': {},
  'knative-serving': {},
  'other': {},
};

const pod = (namespace: string, labels: Record<string, string>, ip?: string): Pod => ({ namespace, labels, ...(ip ? { ip } : {}) });
const gateway = pod('ml-serving', { 'app.kubernetes.io/name': 'inference-gateway', app: 'inference-service' });
const predictor = pod('ml-serving', { component: 'predictor', 'serving.kserve.io/inferenceservice': 'iris' });
const sidecarPod = pod('ml-serving', { component: 'predictor', app: 'inference-service', 'app.kubernetes.io/name': 'inference-gateway' });
const ingress = pod('istio-system', { istio: 'ingressgateway' });
const frontend = pod('web', { role: 'frontend' });
const strangerSameNs = pod('ml-serving', { app: 'notebook' });
const strangerOtherNs = pod('other', { role: 'frontend' });
const prometheus = pod('monitoring', { app: 'prometheus' });
const operatorTool = pod('ml-ops', { app: 'inference-gateway-operator' });
const dns = pod('kube-system', { 'k8s-app': 'kube-dns' });
const redis = pod('ml-serving', { 'app.kubernetes.io/name': 'redis' });
const activator = pod('knative-serving', { app: 'activator' });
const INTERNET = { ip: '203.0.113.10' };
const CLUSTER_IP = { ip: '10.4.2.1' };

function policiesOf(objects: K8sObject[]): NetworkPolicies {
  return new NetworkPolicies(byKind(objects, 'NetworkPolicy') as unknown as NetworkPolicy[], NAMESPACES);
}

type Case = readonly [string, Flow, boolean];

function table(overlay: string, cases: readonly Case[]): void {
  describe(`network policies of deploy/${overlay}`, () => {
    const policies = policiesOf(render(overlay));
    for (const [name, flow, allowed] of cases) {
      it(`${allowed ? 'lets through' : 'stops'}: ${name}`, () => assert.equal(policies.allows(flow), allowed));
    }
  });
}

table('base', [
  ['Istio ingress gateway → gateway 8080', { from: ingress, to: { pod: gateway }, port: 8080 }, true],
  ['labelled frontend in a platform namespace → gateway 8080', { from: frontend, to: { pod: gateway }, port: 8080 }, true],
  ['frontend-labelled pod in an unlabelled namespace → gateway 8080', { from: strangerOtherNs, to: { pod: gateway }, port: 8080 }, false],
  ['unlabelled pod in the serving namespace → gateway 8080', { from: strangerSameNs, to: { pod: gateway }, port: 8080 }, false],
  ['Prometheus → gateway admin 8082', { from: prometheus, to: { pod: gateway }, port: 8082 }, true],
  ['Prometheus → gateway 8080', { from: prometheus, to: { pod: gateway }, port: 8080 }, false],
  ['frontend → gateway admin 8082', { from: frontend, to: { pod: gateway }, port: 8082 }, false],
  ['operator tool → gateway admin 8082 (operator endpoints, identity checked by the gateway)', { from: operatorTool, to: { pod: gateway }, port: 8082 }, true],
  ['operator tool → gateway 8080', { from: operatorTool, to: { pod: gateway }, port: 8080 }, false],
  ['gateway → DNS over UDP', { from: gateway, to: { pod: dns }, port: 53, protocol: 'UDP' }, true],
  ['gateway → predictor 8080', { from: gateway, to: { pod: predictor }, port: 8080 }, true],
  ['Istio ingress gateway → predictor 8080 (around the gateway)', { from: ingress, to: { pod: predictor }, port: 8080 }, false],
  ['unlabelled pod → predictor 8080', { from: strangerSameNs, to: { pod: predictor }, port: 8080 }, false],
  ["gateway → the issuer's JWKS on the internet, 443", { from: gateway, to: INTERNET, port: 443 }, true],
  ['gateway → the internet on 80', { from: gateway, to: INTERNET, port: 80 }, false],
  ['gateway → a private address on 443', { from: gateway, to: CLUSTER_IP, port: 443 }, false],
  ['predictor → model storage on the internet, 443', { from: predictor, to: INTERNET, port: 443 }, true],
  ['predictor → gateway 8080', { from: predictor, to: { pod: gateway }, port: 8080 }, false],
  ['unlabelled pod → the internet', { from: strangerSameNs, to: INTERNET, port: 443 }, false],
]);

table('overlays/redis', [
  ['gateway → Redis 6379', { from: gateway, to: { pod: redis }, port: 6379 }, true],
  ['unlabelled pod → Redis 6379', { from: strangerSameNs, to: { pod: redis }, port: 6379 }, false],
  ['predictor → Redis 6379', { from: predictor, to: { pod: redis }, port: 6379 }, false],
  ['Redis → the internet', { from: redis, to: INTERNET, port: 443 }, false],
  ['Redis → DNS', { from: redis, to: { pod: dns }, port: 53, protocol: 'UDP' }, true],
]);

table('overlays/istio-ext-authz', [
  ['Istio ingress gateway → predictor 8080 (the checked entry)', { from: ingress, to: { pod: predictor }, port: 8080 }, true],
  ['predictor istio-proxy → gateway gRPC check 9000', { from: predictor, to: { pod: gateway }, port: 9000 }, true],
  ['predictor istio-proxy → gateway HTTP check 8000', { from: predictor, to: { pod: gateway }, port: 8000 }, true],
  ['unlabelled pod → gateway check 9000', { from: strangerSameNs, to: { pod: gateway }, port: 9000 }, false],
  ['frontend → gateway check 9000', { from: frontend, to: { pod: gateway }, port: 9000 }, false],
  ['unlabelled pod → predictor 8080', { from: strangerSameNs, to: { pod: predictor }, port: 8080 }, false],
]);

table('overlays/kserve-sidecar/knative', [
  ['Istio ingress gateway → queue-proxy 8012', { from: ingress, to: { pod: sidecarPod }, port: 8012 }, true],
  ['activator → queue-proxy 8012', { from: activator, to: { pod: sidecarPod }, port: 8012 }, true],
  ['unlabelled pod → queue-proxy 8012', { from: strangerSameNs, to: { pod: sidecarPod }, port: 8012 }, false],
  ['Prometheus → gateway admin 8082', { from: prometheus, to: { pod: sidecarPod }, port: 8082 }, true],
  ['frontend → model server 8085 (around the gateway)', { from: frontend, to: { pod: sidecarPod }, port: 8085 }, false],
]);

const trainer = pod('ml-training', { 'workload-type': 'training' });
const pipelines = pod('kubeflow', { app: 'kubeflow-pipelines' });
const mlflow = pod('ml-training', { app: 'mlflow' });
const pii = pod('ml-sensitive', { 'data-classification': 'pii' });
const cleared = pod('web', { 'pii-access': 'true' });
const downloader = pod('ml-serving', { 'needs-model-access': 'true' });

table('overlays/platform-policies', [
  ['pipeline controller → training job 2222', { from: pipelines, to: { pod: trainer }, port: 2222 }, true],
  ['another pod → training job 2222', { from: strangerOtherNs, to: { pod: trainer }, port: 2222 }, false],
  ['training job → training job, NCCL 29501', { from: trainer, to: { pod: trainer }, port: 29501 }, true],
  ['training job → training job 22', { from: trainer, to: { pod: trainer }, port: 22 }, false],
  ['training job → NFS in 10.0.0.0/8', { from: trainer, to: CLUSTER_IP, port: 2049 }, true],
  ['training job → object storage in 10.0.0.0/8', { from: trainer, to: CLUSTER_IP, port: 443 }, true],
  ['training job → the internet', { from: trainer, to: INTERNET, port: 443 }, false],
  ['training job → MLflow 5000', { from: trainer, to: { pod: mlflow }, port: 5000 }, true],
  ['cleared pod → PII workload 8080', { from: cleared, to: { pod: pii }, port: 8080 }, true],
  ['uncleared pod → PII workload 8080', { from: frontend, to: { pod: pii }, port: 8080 }, false],
  ['PII workload → the internet', { from: pii, to: INTERNET, port: 443 }, false],
  ['PII workload → a service in its own namespace', { from: pii, to: { pod: pod('ml-sensitive', { app: 'db' }) }, port: 5432 }, true],
  ['a pod elsewhere → a service in the PII namespace', { from: frontend, to: { pod: pod('ml-sensitive', { app: 'db' }) }, port: 5432 }, false],
  ['another pod in the training namespace → MLflow 5000', { from: pod('ml-training', { app: 'notebook' }), to: { pod: mlflow }, port: 5000 }, false],
  ['model downloader → HTTPS', { from: downloader, to: INTERNET, port: 443 }, true],
  ['model downloader → plain HTTP', { from: downloader, to: INTERNET, port: 80 }, false],
]);

// Mesh mTLS on top of layer 1: a flow gets through when the NetworkPolicies let it and the
// destination's sidecar accepts the caller (STRICT: only callers with a mesh certificate).
const inMesh = (p: Pod): MeshPod => ({ ...p, mesh: true });
const plain = (p: Pod): MeshPod => ({ ...p, mesh: false });

function meshTable(overlay: string, cases: ReadonlyArray<readonly [string, MeshPod, MeshPod, number, boolean]>): void {
  describe(`network policies and mesh mTLS of deploy/${overlay}`, () => {
    const objects = render(overlay);
    const policies = policiesOf(objects);
    const mtls = new MeshMtls(byKind(objects, 'PeerAuthentication') as unknown as PeerAuthentication[]);
    for (const [name, from, to, port, allowed] of cases) {
      it(`${allowed ? 'lets through' : 'stops'}: ${name}`, () => assert.equal(policies.allows({ from, to: { pod: to }, port }) && mtls.accepts(from, to, port), allowed));
    }
  });
}

const meshCases = [
  ['Istio ingress gateway (mesh) → gateway 8080', inMesh(ingress), inMesh(gateway), 8080, true],
  ['labelled frontend with a sidecar → gateway 8080', inMesh(frontend), inMesh(gateway), 8080, true],
  ['labelled frontend without a sidecar → gateway 8080 (plain text under STRICT)', plain(frontend), inMesh(gateway), 8080, false],
  ['Prometheus outside the mesh → gateway admin 8082 (the PERMISSIVE port)', plain(prometheus), inMesh(gateway), 8082, true],
  ['Prometheus outside the mesh → gateway 8080', plain(prometheus), inMesh(gateway), 8080, false],
  ['a plain-text pod that NetworkPolicy lets reach 8082 would still need Prometheus labels', plain(frontend), inMesh(gateway), 8082, false],
  ['predictor istio-proxy → gateway gRPC check 9000', inMesh(predictor), inMesh(gateway), 9000, true],
  ['predictor without a sidecar → gateway gRPC check 9000', plain(predictor), inMesh(gateway), 9000, false],
  ['Istio ingress gateway (mesh) → predictor 8080', inMesh(ingress), inMesh(predictor), 8080, true],
] as const;

meshTable('overlays/istio-ext-authz', meshCases);
meshTable('overlays/istio-mesh-jwt', meshCases);

describe('mesh mTLS is an Istio overlay matter', () => {
  it('base (no mesh policies) accepts a labelled frontend without a sidecar on 8080', () => {
    const objects = render('base');
    const mtls = new MeshMtls(byKind(objects, 'PeerAuthentication') as unknown as PeerAuthentication[]);
    assert.equal(policiesOf(objects).allows({ from: frontend, to: { pod: gateway }, port: 8080 }) && mtls.accepts(plain(frontend), inMesh(gateway), 8080), true);
  });

  it('the istio overlays make the whole serving namespace STRICT, the gateway admin port aside', () => {
    const mtls = new MeshMtls(byKind(render('overlays/istio-ext-authz'), 'PeerAuthentication') as unknown as PeerAuthentication[]);
    assert.equal(mtls.modeFor(inMesh(strangerSameNs), 8082), 'STRICT');
    assert.equal(mtls.modeFor(inMesh(predictor), 8082), 'STRICT');
    assert.equal(mtls.modeFor(inMesh(gateway), 8082), 'PERMISSIVE');
    assert.equal(mtls.modeFor(inMesh(gateway), 9000), 'STRICT');
  });
});
