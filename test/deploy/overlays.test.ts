// Each overlay rendered by kubectl's kustomize, then checked against the gateway itself: the
// ConfigMap's config passes check-config, ports, probes, labels and selectors agree with it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { buildConfig, parseConfigText } from '../../src/config/load-config.js';
import type { GatewayConfig } from '../../src/config/schema.js';
import { DEPLOY_DIR, OVERLAYS, byKind, manifestFiles, one, render, type K8sObject } from '../helpers/deploy-manifests.js';
import { MeshMtls, matches, type PeerAuthentication } from '../helpers/network-policy-evaluator.js';
import { loadPublicKey } from '../../src/artifacts/signature.js';
import { schemaProblems } from './schema-validation.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

interface Container {
  name: string;
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: Array<{ name: string; value?: string }>;
  args?: string[];
  readinessProbe?: { httpGet?: { path: string; port: number | string }; exec?: { command: string[] } };
  livenessProbe?: { httpGet?: { path: string; port: number | string } };
  securityContext?: Record<string, unknown>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
}

/** The gateway container of an overlay: the Deployment's, or the InferenceService's transformer-container. */
function gatewayPod(objects: K8sObject[]): { container: Container; volumes: Array<{ name: string; configMap?: { name: string } }>; labels: Record<string, string>; owner: K8sObject } {
  const dep = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'inference-gateway');
  if (dep) {
    const spec = dep.spec.template.spec;
    return { container: spec.containers.find((c: Container) => c.name === 'inference-gateway'), volumes: spec.volumes, labels: dep.spec.template.metadata.labels, owner: dep };
  }
  const isvc = one(objects, 'InferenceService');
  const p = isvc.spec.predictor;
  return { container: p.containers.find((c: Container) => c.name === 'transformer-container'), volumes: p.volumes, labels: p.labels, owner: isvc };
}

const envOf = (c: Container): Record<string, string> => Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));

/** The config the gateway container would load: the mounted ConfigMap's file with the container's environment. */
function gatewayConfig(objects: K8sObject[]): { config: GatewayConfig; file: string; env: Record<string, string> } {
  const { container, volumes } = gatewayPod(objects);
  const configArg = container.args?.[(container.args?.indexOf('--config') ?? -2) + 1];
  assert.ok(configArg, 'the container runs serve --config <file>');
  const mount = container.volumeMounts?.find((m) => configArg.startsWith(`${m.mountPath}/`));
  assert.ok(mount, `a volume is mounted where ${configArg} lives`);
  const cmName = volumes.find((v) => v.name === mount.name)?.configMap?.name;
  const cm = one(objects, 'ConfigMap', cmName);
  const key = configArg.slice(mount.mountPath.length + 1);
  const text = cm.data?.[key];
  assert.ok(text, `ConfigMap ${cmName} has ${key}`);
  const dir = mkdtempSync(join(tmpdir(), 'igw-deploy-'));
  const file = join(dir, key);
  writeFileSync(file, text);
  const env = envOf(container);
  return { config: buildConfig(parseConfigText(text, file), file, env), file, env };
}

const portNumber = (c: Container, port: number | string): number => (typeof port === 'number' ? port : (c.ports?.find((p) => p.name === port)?.containerPort ?? -1));

for (const overlay of OVERLAYS) {
  describe(`deploy/${overlay}`, () => {
    let objects: K8sObject[] = [];
    it('renders with kubectl kustomize without a warning, and every rendered object validates', async () => {
      objects = render(overlay);
      assert.ok(objects.length > 5);
      const problems: string[] = [];
      for (const o of objects) for (const p of await schemaProblems(o)) problems.push(`${o.kind}/${o.metadata.name}: ${p}`);
      assert.deepEqual(problems, []);
    });

    it("mounts a gateway config that passes check-config with the container's environment", () => {
      const { file, env } = gatewayConfig(objects);
      const out = execFileSync(process.execPath, [MAIN, 'check-config', '--config', file], { encoding: 'utf8', env: { PATH: process.env['PATH'], ...env } });
      assert.match(out, /: ok/);
      assert.match(out, /operator endpoints: on \(bearer JWT .*; peer identity/, 'the operator endpoints have an identity');
    });

    it('runs the gateway as a hardened, resource-bounded container', () => {
      const { container } = gatewayPod(objects);
      const sc = container.securityContext ?? {};
      assert.equal(sc['allowPrivilegeEscalation'], false);
      assert.equal(sc['readOnlyRootFilesystem'], true);
      assert.deepEqual((sc['capabilities'] as { drop?: string[] } | undefined)?.drop, ['ALL']);
      assert.ok(container.resources?.requests?.['cpu'] && container.resources.limits?.['memory']);
    });

    it('declares the serving port of the config and probes health and readiness', () => {
      const { container, owner } = gatewayPod(objects);
      const { config } = gatewayConfig(objects);
      const ports = (container.ports ?? []).map((p) => p.containerPort);
      assert.ok(ports.includes(config.server.port), `serving port ${config.server.port} declared`);
      const knative = owner.metadata.annotations?.['serving.kserve.io/deploymentMode'] === 'Knative';
      const live = container.livenessProbe?.httpGet;
      assert.ok(live);
      if (knative) {
        // Knative moves HTTP readiness probes to queue-proxy on the serving port: readiness is an
        // exec probe asking the admin port's /readyz (run against a real gateway below).
        const exec = container.readinessProbe?.exec?.command;
        assert.ok(exec, 'an exec readiness probe');
        assert.ok(exec.join(' ').includes(`http://127.0.0.1:${config.admin.port}/readyz`), exec.join(' '));
        assert.equal(portNumber(container, live.port), config.server.port);
        assert.ok(config.routes.public.includes(`GET ${live.path}`), `${live.path} is a public route`);
      } else {
        const ready = container.readinessProbe?.httpGet;
        assert.ok(ready);
        assert.deepEqual([portNumber(container, ready.port), ready.path], [config.admin.port, '/readyz']);
        assert.deepEqual([portNumber(container, live.port), live.path], [config.admin.port, '/healthz']);
      }
    });

    it('grants only namespace-scoped, read-only rights by name', () => {
      assert.deepEqual(objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding'), []);
      for (const role of byKind(objects, 'Role')) {
        for (const rule of role['rules'] as Array<{ verbs: string[]; resourceNames?: string[] }>) {
          assert.ok(rule.verbs.every((v) => ['get', 'list', 'watch'].includes(v)), rule.verbs.join(','));
          assert.ok((rule.resourceNames ?? []).length > 0, 'rules name their objects');
        }
      }
      for (const sa of byKind(objects, 'ServiceAccount')) assert.equal(sa['automountServiceAccountToken'], false);
    });

    it('selects its own pods with every Service, PodDisruptionBudget and HorizontalPodAutoscaler', () => {
      const pods = byKind(objects, 'Deployment').map((d) => ({ name: d.metadata.name, labels: d.spec.template.metadata.labels as Record<string, string>, containers: d.spec.template.spec.containers as Container[] }));
      for (const svc of byKind(objects, 'Service')) {
        const target = pods.find((p) => matches({ matchLabels: svc.spec.selector }, p.labels));
        assert.ok(target, `Service ${svc.metadata.name} selects a Deployment's pods`);
        for (const port of svc.spec.ports as Array<{ name: string; targetPort: string | number; appProtocol?: string }>) {
          const named = target.containers.some((c) => (c.ports ?? []).some((p) => p.name === port.targetPort || p.containerPort === port.targetPort));
          assert.ok(named, `Service ${svc.metadata.name} port ${port.name} targets a container port`);
          if (port.name.startsWith('grpc')) assert.equal(port.appProtocol, 'grpc');
        }
      }
      for (const pdb of byKind(objects, 'PodDisruptionBudget')) assert.ok(pods.some((p) => matches(pdb.spec.selector, p.labels)));
      for (const hpa of byKind(objects, 'HorizontalPodAutoscaler')) assert.ok(pods.some((p) => p.name === hpa.spec.scaleTargetRef.name));
    });

    it('mounts the one gateway config, byte for byte', () => {
      const { file } = gatewayConfig(objects);
      assert.equal(readFileSync(file, 'utf8'), readFileSync(join(DEPLOY_DIR, ONE_CONFIG), 'utf8'));
    });

    it('keeps probes and the scrape working under the mesh mTLS it sets', () => {
      const peerAuth = byKind(objects, 'PeerAuthentication') as unknown as PeerAuthentication[];
      const { container, labels, owner } = gatewayPod(objects);
      const podAnnotations = owner.kind === 'Deployment' ? owner.spec.template.metadata.annotations : owner.metadata.annotations;
      // Istio rewrites HTTP probes to its agent, so kubelet (outside the mesh) still reaches them.
      assert.equal(podAnnotations?.['sidecar.istio.io/rewriteAppHTTPProbers'], 'true');
      // HTTP probes come from the kubelet, outside the mesh (Istio rewrites them); an exec probe runs inside the container.
      assert.ok((container.readinessProbe?.httpGet || container.readinessProbe?.exec) && container.livenessProbe?.httpGet, 'HTTP probes Istio rewrites, or exec probes');
      const { config } = gatewayConfig(objects);
      const mode = new MeshMtls(peerAuth).modeFor({ namespace: 'ml-serving', labels, mesh: true }, config.admin.port);
      // A Prometheus outside the mesh scrapes in plain text: the admin port must not be STRICT.
      assert.notEqual(mode, 'STRICT');
    });

    it('is scraped on the admin port by its ServiceMonitor or PodMonitor', () => {
      const { container, labels } = gatewayPod(objects);
      const { config } = gatewayConfig(objects);
      const monitors = [...byKind(objects, 'ServiceMonitor'), ...byKind(objects, 'PodMonitor')];
      assert.equal(monitors.length, 1, 'one monitor');
      const m = monitors[0]!;
      if (m.kind === 'ServiceMonitor') {
        const svc = byKind(objects, 'Service').find((x) => matches(m.spec.selector, x.metadata.labels ?? {}))!;
        assert.ok(svc, 'the ServiceMonitor selects the gateway Service');
        assert.ok(matches({ matchLabels: svc.spec.selector }, labels), 'whose pods are the gateway pods');
        const port = (svc.spec.ports as Array<{ name: string; targetPort: string }>).find((p) => p.name === m.spec.endpoints[0].port)!;
        assert.equal(portNumber(container, port.targetPort), config.admin.port);
        assert.equal(m.spec.endpoints[0].path, '/metrics');
      } else {
        assert.ok(matches(m.spec.selector, { ...labels, component: 'predictor' }), 'the PodMonitor selects the predictor pods');
        const ep = m.spec.podMetricsEndpoints[0];
        assert.equal(ep.path, '/metrics');
        if (ep.port === 'user-port') {
          // Knative names the one declared port user-port; the relabelling moves the target to the admin port.
          const relabel = (ep.relabelings as Array<{ sourceLabels: string[]; targetLabel: string; replacement: string }>).find((r) => r.targetLabel === '__address__')!;
          assert.deepEqual([relabel.sourceLabels, relabel.replacement], [['__meta_kubernetes_pod_ip'], `$1:${config.admin.port}`]);
        } else assert.equal(portNumber(container, ep.port), config.admin.port);
      }
    });

    it('keeps a standalone or Standard-mode gateway serving while its endpoint is removed (preStop sleep)', () => {
      const { container, owner } = gatewayPod(objects);
      // Knative's queue-proxy drains the pod itself (its own preStop); the others sleep before SIGTERM.
      if (owner.metadata.annotations?.['serving.kserve.io/deploymentMode'] === 'Knative') return;
      assert.deepEqual(container.lifecycle?.preStop?.exec?.command, ['sleep', '5']);
    });

    it('gives the pod longer to stop than the gateway takes to drain', () => {
      const { owner } = gatewayPod(objects);
      const { config } = gatewayConfig(objects);
      // Set explicitly: Kubernetes' default of 30 s leaves the mesh sidecar little room after a 25 s drain.
      // Knative sets a revision pod's grace period to the revision timeout (KServe's predictor.timeout).
      const knative = owner.metadata.annotations?.['serving.kserve.io/deploymentMode'] === 'Knative';
      const grace = owner.kind === 'Deployment' ? owner.spec.template.spec.terminationGracePeriodSeconds : knative ? owner.spec.predictor.timeout : owner.spec.predictor.terminationGracePeriodSeconds;
      assert.equal(typeof grace, 'number', 'terminationGracePeriodSeconds is set');
      // On SIGTERM the gateway keeps accepting for the drain delay (when the config has one), then gives in-flight requests the grace.
      const drain = (config.server as { drainDelaySeconds?: number }).drainDelaySeconds ?? 0;
      // A preStop sleep runs before SIGTERM and counts against the same grace period.
      const { container } = gatewayPod(objects);
      const pre = container.lifecycle?.preStop;
      const sleep = pre?.sleep?.seconds ?? (pre?.exec?.command[0] === 'sleep' ? Number(pre.exec.command[1]) : 0);
      assert.ok(grace > sleep + drain + config.server.shutdownGraceSeconds, `${grace} s > ${sleep} s + ${drain} s + ${config.server.shutdownGraceSeconds} s`);
    });
  });
}

describe('deploy/overlays/istio-ext-authz agrees with the gateway and Istio', () => {
  const objects = (() => {
    try {
      return render('overlays/istio-ext-authz');
    } catch {
      return [] as K8sObject[]; // the render test above reports why
    }
  })();
  const operator = parse(execFileSync('cat', [join(DEPLOY_DIR, 'overlays/istio-ext-authz/mesh/istio-operator.yaml')], { encoding: 'utf8' })) as {
    spec: { meshConfig: { extensionProviders: Array<{ name: string; envoyExtAuthzGrpc?: { service: string; port: number }; envoyExtAuthzHttp?: { service: string; port: number; pathPrefix?: string } }> } };
  };
  const providers = operator.spec.meshConfig.extensionProviders;

  it('turns both ext-authz doors on, on the ports the providers name', () => {
    const { config } = gatewayConfig(objects);
    assert.equal(config.extAuthz.http.enabled, true);
    assert.equal(config.extAuthz.grpc.enabled, true);
    const svc = one(objects, 'Service', 'inference-gateway');
    const host = `${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local`;
    const grpc = providers.find((p) => p.name === 'inference-gateway-grpc')!.envoyExtAuthzGrpc!;
    const http = providers.find((p) => p.name === 'inference-gateway-http')!.envoyExtAuthzHttp!;
    assert.deepEqual([grpc.service, grpc.port], [host, config.extAuthz.grpc.port]);
    assert.deepEqual([http.service, http.port, http.pathPrefix], [host, config.extAuthz.http.port, config.extAuthz.http.pathPrefix]);
    const ports = svc.spec.ports as Array<{ name: string; port: number; appProtocol?: string }>;
    assert.equal(ports.find((p) => p.port === config.extAuthz.grpc.port)?.appProtocol, 'grpc');
  });

  it('points the same-pod provider at loopback through its ServiceEntry', () => {
    const local = providers.find((p) => p.name === 'inference-gateway-local')!.envoyExtAuthzGrpc!;
    const se = one(objects, 'ServiceEntry', 'inference-gateway-local');
    assert.ok((se.spec.hosts as string[]).includes(local.service));
    assert.deepEqual(se.spec.endpoints, [{ address: '127.0.0.1' }]);
    assert.equal((se.spec.ports as Array<{ number: number; protocol: string }>).find((p) => p.number === local.port)?.protocol, 'GRPC');
  });

  it('sends model calls to a registered provider and leaves probe paths out', () => {
    const policy = one(objects, 'AuthorizationPolicy', 'inference-gateway-ext-authz');
    assert.equal(policy.spec.action, 'CUSTOM');
    assert.ok(providers.some((p) => p.name === policy.spec.provider.name));
    // Istio path matching: exact, `prefix*` or `*suffix`.
    const pathMatch = (pattern: string, path: string) => (pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : pattern.startsWith('*') ? path.endsWith(pattern.slice(1)) : path === pattern);
    const rules = policy.spec.rules as Array<{ to: Array<{ operation: { methods?: string[]; paths?: string[]; notPaths?: string[] } }> }>;
    const checked = (method: string, path: string) =>
      rules.some((r) => r.to.some(({ operation: op }) => (!op.methods || op.methods.includes(method)) && (op.paths ?? ['*']).some((p) => pathMatch(p, path)) && !(op.notPaths ?? []).some((p) => pathMatch(p, path))));
    assert.equal(checked('POST', '/v1/models/iris:predict'), true);
    assert.equal(checked('POST', '/v2/models/iris/infer'), true);
    assert.equal(checked('GET', '/v2/models/iris'), true);
    assert.equal(checked('GET', '/v1/models/iris'), false);
    assert.equal(checked('GET', '/v2/models/iris/ready'), false);
    assert.equal(checked('GET', '/v2/health/ready'), false);
    assert.equal(checked('GET', '/'), false);
  });
});

describe('deploy/overlays/kserve-sidecar puts the gateway in front of the model server', () => {
  for (const mode of ['standard', 'knative'] as const) {
    it(`${mode}: the gateway takes 8080 and reaches the model server on the port it was moved to`, () => {
      const objects = render(`overlays/kserve-sidecar/${mode}`);
      const isvc = one(objects, 'InferenceService');
      const { config } = gatewayConfig(objects);
      const p = isvc.spec.predictor;
      const moved = (p.model.args as string[]).find((a) => a.startsWith('--http_port='))?.split('=')[1];
      assert.equal(new URL(config.upstream.url).port, moved);
      assert.equal(new URL(config.upstream.url).hostname, '127.0.0.1');
      assert.equal(config.server.port, 8080);
      assert.equal(isvc.metadata.annotations?.['serving.kserve.io/deploymentMode'], mode === 'standard' ? 'Standard' : 'Knative');
      const portOwners = (p.containers as Container[]).filter((c) => (c.ports ?? []).length > 0).map((c) => c.name);
      assert.deepEqual(portOwners, ['transformer-container']);
    });
  }
});

describe('deploy/overlays/redis shares the limits', () => {
  it('points every replica at the Redis Service, with the insurance share of the minimum replicas', () => {
    const objects = render('overlays/redis');
    const { config } = gatewayConfig(objects);
    assert.equal(config.limits.store.kind, 'redis');
    const svc = one(objects, 'Service', 'redis');
    const url = new URL(config.limits.store.redisUrl!);
    assert.equal(url.hostname, `${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local`);
    assert.equal(Number(url.port), (svc.spec.ports as Array<{ port: number }>)[0]!.port);
    assert.equal(config.limits.store.replicas, one(objects, 'HorizontalPodAutoscaler').spec.minReplicas);
  });
});

// The one gateway config: overlays differ through the container environment, never a copy.
const ONE_CONFIG = 'components/gateway-config/gateway.yaml';

describe('deploy/ keeps one gateway config', () => {
  const configs = manifestFiles().filter((f) => f.docs.some((d) => typeof d === 'object' && d !== null && 'auth' in d && 'upstream' in d));

  it('has exactly one gateway config file, so the issuer and audience are written once', () => {
    assert.deepEqual(configs.map((f) => f.path), [ONE_CONFIG]);
  });

  it("starts it with a yaml-language-server line pointing at the repository's gateway.schema.json", () => {
    for (const f of configs) {
      const first = readFileSync(join(DEPLOY_DIR, f.path), 'utf8').split('\n')[0]!;
      const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
      assert.ok(m, `${f.path} starts with the schema line`);
      assert.equal(resolve(dirname(join(DEPLOY_DIR, f.path)), m[1]!), resolve(DEPLOY_DIR, '..', 'gateway.schema.json'));
    }
  });

  it("lets Istio's own JWT check (istio-mesh-jwt) name the same issuer and audience", () => {
    const objects = render('overlays/istio-mesh-jwt');
    const { config } = gatewayConfig(objects);
    const issuer = config.auth.issuers[0]!;
    const rule = one(objects, 'RequestAuthentication').spec.jwtRules[0];
    assert.equal(rule.issuer, issuer.issuer);
    assert.deepEqual(rule.audiences, issuer.audiences);
    const allow = one(objects, 'AuthorizationPolicy', 'inference-allow').spec.rules as Array<{ from?: Array<{ source: { requestPrincipals: string[] } }>; when?: Array<{ values: string[] }> }>;
    const withPrincipal = allow.find((r) => r.from)!;
    assert.deepEqual(withPrincipal.from![0]!.source.requestPrincipals, [`${issuer.issuer}/*`]);
    assert.deepEqual(withPrincipal.when![0]!.values, issuer.audiences);
  });

  it('uses only current kustomize: no bases, patchesStrategicMerge, patchesJson6902, commonLabels or vars; components are Components', () => {
    const deprecated = ['bases', 'patchesStrategicMerge', 'patchesJson6902', 'commonLabels', 'vars'];
    for (const f of manifestFiles().filter((x) => x.path.endsWith('kustomization.yaml'))) {
      const doc = f.docs[0] as Record<string, unknown>;
      assert.deepEqual(deprecated.filter((k) => k in doc), [], f.path);
      const isComponent = f.path.startsWith('components/');
      assert.equal(doc['kind'], isComponent ? 'Component' : 'Kustomization', f.path);
      assert.equal(doc['apiVersion'], isComponent ? 'kustomize.config.k8s.io/v1alpha1' : 'kustomize.config.k8s.io/v1beta1', f.path);
    }
  });
});

describe('deploy/overlays/istio-ext-authz buffers bodies as the gateway limits them', () => {
  it('has Envoy answer 413 itself past the gateway body limit (allowPartialMessage false, maxRequestBytes = server.bodyLimitBytes)', () => {
    const { config } = gatewayConfig(render('overlays/istio-ext-authz'));
    const operator = parse(readFileSync(join(DEPLOY_DIR, 'overlays/istio-ext-authz/mesh/istio-operator.yaml'), 'utf8')) as {
      spec: { meshConfig: { extensionProviders: Array<Record<string, { includeRequestBodyInCheck?: { maxRequestBytes: number; allowPartialMessage: boolean } }>> } };
    };
    const providers = operator.spec.meshConfig.extensionProviders;
    assert.equal(providers.length, 3);
    for (const p of providers) {
      const body = (p['envoyExtAuthzGrpc'] ?? p['envoyExtAuthzHttp'])!.includeRequestBodyInCheck!;
      assert.deepEqual([body.allowPartialMessage, body.maxRequestBytes], [false, config.server.bodyLimitBytes], JSON.stringify(p['name']));
    }
  });
});

describe('deploy/overlays/kserve-sidecar verifies the model before it is ready (layer 4)', () => {
  for (const mode of ['standard', 'knative'] as const) {
    it(`${mode}: model verification is on, over KServe's /mnt/models, with the public key from a ConfigMap`, () => {
      const objects = render(`overlays/kserve-sidecar/${mode}`);
      const { config } = gatewayConfig(objects);
      const mv = config.modelVerification;
      assert.equal(mv.enabled, true);
      // KServe's storage initializer downloads into /mnt/models and mounts it (read-only by default) into transformer-container too.
      assert.equal(mv.dir, '/mnt/models');
      const { container, volumes } = gatewayPod(objects);
      const mount = container.volumeMounts!.find((m) => mv.publicKey!.startsWith(`${m.mountPath}/`))!;
      assert.ok(mount, 'the public key is mounted');
      const cm = one(objects, 'ConfigMap', volumes.find((v) => v.name === mount.name)!.configMap!.name);
      const pem = cm.data![mv.publicKey!.slice(mount.mountPath.length + 1)]!;
      assert.doesNotThrow(() => loadPublicKey(Buffer.from(pem), 'model-signing.pub'));
      assert.ok(!mv.publicKey!.startsWith(`${mv.dir}/`), 'the key does not come from the bucket it vouches for');
    });
  }
});

describe('rendering refuses what current kustomize only warns about', () => {
  it("fails on a kustomization that still lists a directory under the deprecated 'bases'", () => {
    const dir = mkdtempSync(join(tmpdir(), 'igw-kustomize-'));
    mkdirSync(join(dir, 'inner'));
    writeFileSync(join(dir, 'inner', 'config-map.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n');
    writeFileSync(join(dir, 'inner', 'kustomization.yaml'), 'resources: [config-map.yaml]\n');
    writeFileSync(join(dir, 'kustomization.yaml'), 'bases: [inner]\n');
    assert.throws(() => render(dir), /warned: .*'bases' is deprecated/);
  });
});

describe('deploy/overlays/istio-ext-authz-grpc checks gRPC calls as the REST ones', () => {
  const objects = (() => {
    try {
      return render('overlays/istio-ext-authz-grpc');
    } catch {
      return [] as K8sObject[];
    }
  })();
  const operator = parse(execFileSync('cat', [join(DEPLOY_DIR, 'overlays/istio-ext-authz/mesh/istio-operator.yaml')], { encoding: 'utf8' })) as {
    spec: { meshConfig: { extensionProviders: Array<{ name: string; envoyExtAuthzGrpc?: { includeRequestBodyInCheck?: { packAsBytes?: boolean } } }> } };
  };
  const pathMatch = (pattern: string, path: string) => (pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : pattern.startsWith('*') ? path.endsWith(pattern.slice(1)) : path === pattern);
  const checked = (method: string, path: string) =>
    objects
      .filter((o) => o.kind === 'AuthorizationPolicy' && o.spec.action === 'CUSTOM')
      .some((policy) =>
        (policy.spec.rules as Array<{ to: Array<{ operation: { methods?: string[]; paths?: string[]; notPaths?: string[] } }> }>).some((r) =>
          r.to.some(({ operation: op }) => (!op.methods || op.methods.includes(method)) && (op.paths ?? ['*']).some((p) => pathMatch(p, path)) && !(op.notPaths ?? []).some((p) => pathMatch(p, path))),
        ),
      );

  it('checks ModelInfer and ModelMetadata, leaves the probes’ twins out, and still checks REST', () => {
    const rpc = (m: string) => `/inference.GRPCInferenceService/${m}`;
    assert.equal(checked('POST', rpc('ModelInfer')), true);
    assert.equal(checked('POST', rpc('ModelMetadata')), true);
    assert.equal(checked('POST', rpc('ModelStreamInfer')), true, 'the gateway refuses it');
    for (const probe of ['ServerLive', 'ServerReady', 'ModelReady']) assert.equal(checked('POST', rpc(probe)), false, probe);
    assert.equal(checked('POST', '/v2/models/iris/infer'), true);
  });

  it('uses one CUSTOM provider for the workload, one that attaches the message as bytes', () => {
    const names = new Set(objects.filter((o) => o.kind === 'AuthorizationPolicy' && o.spec.action === 'CUSTOM').map((p) => (p.spec.provider as { name: string }).name));
    assert.equal(names.size, 1, 'Istio allows one CUSTOM provider per workload');
    const provider = operator.spec.meshConfig.extensionProviders.find((p) => names.has(p.name));
    assert.equal(provider?.envoyExtAuthzGrpc?.includeRequestBodyInCheck?.packAsBytes, true);
  });
});
