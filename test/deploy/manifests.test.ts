import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { manifestFiles, type K8sObject } from '../helpers/deploy-manifests.js';
import { schemaProblems } from './schema-validation.js';

const files = manifestFiles();
const isConfig = (path: string) => /(^|\/)gateway\.yaml$/.test(path);
// Kustomize's own files: kustomizations and components, and transformer configurations.
const isKustomization = (path: string) => /(^|\/)kustomization\.yaml$/.test(path) || /kustomizeconfig\.yaml$/.test(path);
// Strategic-merge patches are partial objects: they are validated once rendered (overlays test).
const isPatch = (path: string) => path.endsWith('.patch.yaml');

describe('deploy/ manifests', () => {
  it('are all YAML that parses, each document an object with apiVersion, kind and a name', () => {
    assert.ok(files.length > 15, `found ${files.length} files`);
    for (const f of files.filter((x) => !isConfig(x.path) && !/kustomizeconfig\.yaml$/.test(x.path))) {
      for (const d of f.docs) {
        const o = d as Partial<K8sObject>;
        assert.equal(typeof o.apiVersion, 'string', `${f.path}: apiVersion`);
        assert.equal(typeof o.kind, 'string', `${f.path}: kind`);
        if (!isKustomization(f.path)) assert.equal(typeof o.metadata?.name, 'string', `${f.path}: metadata.name`);
      }
    }
  });

  it('validate against their Kubernetes, Istio and KServe schemas', async () => {
    const problems: string[] = [];
    for (const f of files.filter((x) => !isConfig(x.path) && !isKustomization(x.path) && !isPatch(x.path))) {
      for (const d of f.docs) for (const p of await schemaProblems(d as K8sObject)) problems.push(`${f.path} ${(d as K8sObject).kind}: ${p}`);
    }
    assert.deepEqual(problems, []);
  });

  it('name no container registry host in an image', () => {
    for (const f of files) {
      for (const m of JSON.stringify(f.docs).matchAll(/"image":"([^"]+)"/g)) {
        const first = m[1]!.split('/')[0]!;
        assert.ok(!m[1]!.includes('/') || !/[.:]/.test(first), `${f.path}: ${m[1]} names a registry host`);
      }
    }
  });
});
