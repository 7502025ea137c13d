// `.ci/run` installs Debian 12's kubernetes-client when kubectl is missing: kubectl 1.20, whose
// built-in kustomize (v2.0.3) refuses directories under `resources:` and the newer `patches:`,
// `components:`, `replacements:` and `labels:` fields. The kubectl on a developer's machine is
// usually newer and renders them anyway, so these rules are checked statically here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEPLOY_DIR, manifestFiles } from '../helpers/deploy-manifests.js';

// The Kustomization fields kustomize v2.0.3 reads.
const KUSTOMIZE_2_0_FIELDS = new Set([
  'apiVersion', 'kind', 'namespace', 'namePrefix', 'nameSuffix', 'commonLabels', 'commonAnnotations',
  'resources', 'bases', 'crds', 'patchesStrategicMerge', 'patchesJson6902', 'configMapGenerator',
  'secretGenerator', 'generatorOptions', 'images', 'vars', 'configurations', 'generators', 'transformers',
]);

const kustomizations = (): Array<{ path: string; doc: Record<string, unknown> }> =>
  manifestFiles()
    .filter((f) => f.path.endsWith('kustomization.yaml'))
    .map((f) => ({ path: f.path, doc: f.docs[0] as Record<string, unknown> }));

const isDirectory = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

describe('deploy/ kustomizations render with the kustomize of kubectl 1.20 (Debian 12)', () => {
  it('finds the kustomizations', () => {
    assert.ok(kustomizations().length >= 8);
  });

  it('use only fields kustomize v2.0.3 knows', () => {
    const unknown = kustomizations().flatMap(({ path, doc }) => Object.keys(doc).filter((k) => !KUSTOMIZE_2_0_FIELDS.has(k)).map((k) => `${path}: ${k}`));
    assert.deepEqual(unknown, []);
  });

  it('list directories under bases and files under resources', () => {
    const misplaced: string[] = [];
    for (const { path, doc } of kustomizations()) {
      const here = join(DEPLOY_DIR, dirname(path));
      for (const r of (doc['resources'] as string[] | undefined) ?? []) if (isDirectory(join(here, r))) misplaced.push(`${path}: resources lists the directory ${r}`);
      for (const b of (doc['bases'] as string[] | undefined) ?? []) if (!isDirectory(join(here, b))) misplaced.push(`${path}: bases lists ${b}, not a directory`);
    }
    assert.deepEqual(misplaced, []);
  });
});
