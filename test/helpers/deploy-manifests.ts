import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const DEPLOY_DIR = fileURLToPath(new URL('../../../deploy/', import.meta.url));

export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
  readonly spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly data?: Record<string, string>;
  readonly [k: string]: unknown;
}

/** Every YAML file under deploy/, relative path → its parsed documents (throws on a parse error). */
export function manifestFiles(): Array<{ path: string; docs: unknown[] }> {
  const out: Array<{ path: string; docs: unknown[] }> = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(name)) {
        const docs = parseAllDocuments(readFileSync(p, 'utf8'));
        for (const d of docs)
          if (d.errors.length > 0) throw new Error(`${relative(DEPLOY_DIR, p)}: ${d.errors[0]!.message}`);
        out.push({ path: relative(DEPLOY_DIR, p), docs: docs.map((d) => d.toJS()).filter((d) => d !== null) });
      }
    }
  };
  walk(DEPLOY_DIR);
  return out;
}

/** The kustomization directories a user applies (render also takes an absolute directory). */
export const OVERLAYS = [
  'base',
  'overlays/istio-ext-authz',
  'overlays/istio-mesh-jwt',
  'overlays/kserve-sidecar/standard',
  'overlays/kserve-sidecar/knative',
  'overlays/redis',
  'overlays/platform-policies',
] as const;

const KUBECTL = process.env['KUBECTL'] ?? 'kubectl';

/**
 * `kubectl kustomize <dir>` parsed; fails with a clear message when kubectl is missing, and on any
 * warning: a deprecated field renders today and breaks in the next kustomize a platform team runs.
 */
export function render(dir: string): K8sObject[] {
  const run = spawnSync(KUBECTL, ['kustomize', resolve(DEPLOY_DIR, dir)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const failure: NodeJS.ErrnoException | undefined = run.error;
  if (failure?.code === 'ENOENT')
    throw new Error(
      `${KUBECTL} is not installed: the deploy tests render overlays with \`kubectl kustomize\` (kubectl 1.27+, kustomize v5; .ci/run installs one)`,
    );
  if (failure) throw new Error(`kubectl kustomize ${dir} failed: ${failure.message}`);
  if (run.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${run.stderr}`);
  if (run.stderr.trim() !== '') throw new Error(`kubectl kustomize ${dir} warned: ${run.stderr.trim()}`);
  const text = run.stdout;
  return parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject)
    .filter((o) => o !== null);
}

export const byKind = (objects: readonly K8sObject[], kind: string): K8sObject[] =>
  objects.filter((o) => o.kind === kind);

export function one(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
}
