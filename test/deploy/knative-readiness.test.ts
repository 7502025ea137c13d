// The Knative sidecar's readiness probe is an exec command (Knative would move an HTTP probe to
// queue-proxy on the serving port): run that exact command against real gateways.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Gateway } from '../../src/gateway.js';
import { startDemoPredictor, type DemoPredictor } from '../../src/quickstart/demo-predictor.js';
import { startVerifyingGateway } from '../helpers/verifying-gateway.js';
import { one, render } from '../helpers/deploy-manifests.js';

const probe = (): string[] => {
  const isvc = one(render('overlays/kserve-sidecar/knative'), 'InferenceService');
  const c = (isvc.spec.predictor.containers as Array<{ name: string; readinessProbe: { exec: { command: string[] } } }>).find((x) => x.name === 'transformer-container')!;
  return c.readinessProbe.exec.command;
};

/** Runs the probe command with its admin address pointed at `adminUrl`; resolves with the exit code (asynchronously: the gateway answering it runs in this process). */
async function runProbe(command: string[], adminUrl: string): Promise<number> {
  const [bin, ...args] = command;
  assert.equal(bin, 'node');
  const child = spawn(process.execPath, args.map((a) => a.replace('http://127.0.0.1:8082', adminUrl)), { stdio: 'ignore', timeout: 10_000 });
  const [code] = (await once(child, 'exit')) as [number | null];
  return code ?? -1;
}

describe('the Knative readiness probe command', () => {
  let predictor: DemoPredictor;
  const gateways: Gateway[] = [];
  const root = mkdtempSync(join(tmpdir(), 'igw-knative-probe-'));

  async function gatewayOver(modelText: string): Promise<string> {
    const dir = join(root, `models-${gateways.length}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'model.joblib'), 'iris weights\n');
    const manifest = join(root, `MANIFEST-${gateways.length}.sha256`);
    writeFileSync(manifest, execFileSync('sha256sum', ['model.joblib'], { cwd: dir }));
    writeFileSync(join(dir, 'model.joblib'), modelText);
    const { gateway, adminUrl } = await startVerifyingGateway(predictor.url, { dir, manifest });
    gateways.push(gateway);
    // Bounded wait for the (small) model check to finish.
    for (let i = 0; i < 100 && (await (await fetch(`${adminUrl}/readyz`)).json() as { checks: Record<string, { detail?: string }> }).checks['model-artifacts']?.detail?.startsWith('verifying'); i++) await sleep(20);
    return adminUrl;
  }

  before(async () => {
    predictor = await startDemoPredictor({});
  });
  after(async () => {
    for (const g of gateways) await g.close();
    await predictor.close();
  });

  it('exits 0 when the gateway is ready (model verified, predictor ready)', async () => {
    assert.equal(await runProbe(probe(), await gatewayOver('iris weights\n')), 0);
  });

  it('exits 1 when the model directory does not match its manifest', async () => {
    assert.equal(await runProbe(probe(), await gatewayOver('poisoned weights\n')), 1);
  });

  it('exits 1 when nothing answers on the admin port', async () => {
    assert.equal(await runProbe(probe(), 'http://127.0.0.1:9'), 1);
  });
});
