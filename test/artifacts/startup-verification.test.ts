// The layer-4 check as a start-up condition of a real gateway: /readyz waits for it, a failure
// keeps the gateway out of rotation, is logged with the paths and counted in /metrics.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { until } from '../helpers/wait.js';
import { buildConfig, ConfigError } from '../../src/config/load-config.js';
import { startDemoPredictor, type DemoPredictor } from '../../src/quickstart/demo-predictor.js';
import { startVerifyingGateway, type VerifyingGateway } from '../helpers/verifying-gateway.js';
import { EnvoyCheckClient } from '../helpers/envoy-check-client.js';
import { send, v1Body } from '../helpers/http.js';

interface Model {
  dir: string;
  manifest: string;
  signature: string;
  publicKey: string;
}

/** A model directory whose signed manifest lives inside it (as a training pipeline uploads it), the key outside. */
function signedModel(weightsBytes: number): Model {
  const root = mkdtempSync(join(tmpdir(), 'igw-startup-'));
  const dir = join(root, 'models');
  mkdirSync(dir);
  writeFileSync(join(dir, 'model.joblib'), 'iris weights\n');
  writeFileSync(join(dir, 'weights.bin'), 'w');
  truncateSync(join(dir, 'weights.bin'), weightsBytes);
  const key = join(root, 'signing.pem');
  const publicKey = join(root, 'signing.pub');
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  execFileSync('openssl', ['pkey', '-in', key, '-pubout', '-out', publicKey]);
  const manifest = join(dir, 'MANIFEST.sha256');
  const signature = join(dir, 'MANIFEST.sha256.sig');
  writeFileSync(manifest, execFileSync('sha256sum', ['model.joblib', 'weights.bin'], { cwd: dir }));
  execFileSync('openssl', ['dgst', '-sha256', '-sign', key, '-out', signature, manifest]);
  return { dir, manifest, signature, publicKey };
}

interface Running extends VerifyingGateway {
  logs: string[];
}

const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of closers) await c();
});

let predictor: DemoPredictor | undefined;
async function startGateway(model: Model): Promise<Running> {
  if (!predictor) {
    const p = (predictor = await startDemoPredictor({}));
    closers.push(() => p.close());
  }
  const logs: string[] = [];
  const sink = new PassThrough();
  sink.on('data', (chunk: Buffer) => logs.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const running = await startVerifyingGateway(
    predictor.url,
    { dir: model.dir, manifest: model.manifest, publicKey: model.publicKey, signature: model.signature },
    sink,
  );
  closers.unshift(() => running.gateway.close());
  return { ...running, logs };
}

async function readyz(
  adminUrl: string,
): Promise<{ status: number; checks: Record<string, { ready: boolean; detail?: string }> }> {
  const res = await fetch(`${adminUrl}/readyz`);
  return {
    status: res.status,
    checks: ((await res.json()) as { checks: Record<string, { ready: boolean; detail?: string }> }).checks,
  };
}

/** Waits until the model check has an outcome (hashing 512 MiB on a loaded machine can take a minute). */
async function settled(adminUrl: string): Promise<Awaited<ReturnType<typeof readyz>>> {
  let r = await readyz(adminUrl);
  await until(
    'the model check finished',
    async () => !/^verifying /.test((r = await readyz(adminUrl)).checks['model-artifacts']?.detail ?? ''),
    180_000,
  );
  return r;
}

describe('start-up model verification', () => {
  it('keeps /readyz at 503 while the model directory is being verified, then turns ready', async () => {
    // 512 MiB (sparse): hashing takes long enough (about a second here) to observe the verifying state.
    const model = signedModel(512 * 1024 * 1024);
    const gw = await startGateway(model);
    const during = await readyz(gw.adminUrl);
    assert.equal(during.status, 503);
    assert.equal(during.checks['model-artifacts']?.ready, false);
    assert.match(during.checks['model-artifacts']?.detail ?? '', /^verifying /);
    assert.match(
      await (await fetch(`${gw.adminUrl}/metrics`)).text(),
      /^inference_gateway_model_verification_state\{state="verifying"\} 1$/m,
    );
    const after = await settled(gw.adminUrl);
    assert.deepEqual(after.checks['model-artifacts'], { ready: true, detail: '2 files verified' });
    assert.equal(after.status, 200);
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    assert.match(metrics, /^inference_gateway_model_verifications_total\{outcome="verified"\} 1$/m);
    assert.match(metrics, /^inference_gateway_model_verification_state\{state="verified"\} 1$/m);
  });

  it('stays not ready on a tampered model, logs every path and counts the problems', async () => {
    const model = signedModel(1024);
    writeFileSync(join(model.dir, 'model.joblib'), 'poisoned weights\n');
    writeFileSync(join(model.dir, 'extra.pkl'), 'x');
    const gw = await startGateway(model);
    const r = await settled(gw.adminUrl);
    assert.equal(r.status, 503);
    assert.deepEqual(r.checks['model-artifacts'], {
      ready: false,
      detail: 'model verification failed: 2 problems (see the log)',
    });
    const failure = gw.logs
      .map((l) => JSON.parse(l) as { msg: string; problems?: Array<{ kind: string; path: string }> })
      .find((l) => l.msg.startsWith('model verification FAILED'));
    assert.deepEqual(
      failure?.problems?.map((p) => [p.kind, p.path]),
      [
        ['mismatch', 'model.joblib'],
        ['extra', 'extra.pkl'],
      ],
    );
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    assert.match(metrics, /^inference_gateway_model_verifications_total\{outcome="failed"\} 1$/m);
    assert.match(metrics, /^inference_gateway_model_verification_problems_total\{kind="mismatch"\} 1$/m);
    assert.match(metrics, /^inference_gateway_model_verification_problems_total\{kind="extra"\} 1$/m);
    assert.match(metrics, /^inference_gateway_model_verification_state\{state="failed"\} 1$/m);
    assert.match(metrics, /^inference_gateway_model_verification_state\{state="verifying"\} 0$/m);
  });

  it('stays not ready when the manifest was re-written without the signing key', async () => {
    const model = signedModel(1024);
    writeFileSync(join(model.dir, 'model.joblib'), 'poisoned weights\n');
    writeFileSync(model.manifest, execFileSync('sha256sum', ['model.joblib', 'weights.bin'], { cwd: model.dir }));
    const gw = await startGateway(model);
    const r = await settled(gw.adminUrl);
    assert.equal(r.checks['model-artifacts']?.ready, false);
    assert.match(
      await (await fetch(`${gw.adminUrl}/metrics`)).text(),
      /^inference_gateway_model_verification_problems_total\{kind="signature_mismatch"\} 1$/m,
    );
  });
});

/** The status each door answers a V1 predict with: the proxy's, the HTTP check's, the gRPC check's denied (or 200 on allow). */
async function predictEverywhere(gw: Running): Promise<{ statuses: number[]; codes: string[] }> {
  const proxy = await send(`${gw.url}/v1/models/iris:predict`, { body: v1Body() });
  const check = await send(`${gw.extAuthzHttpUrl}/v1/models/iris:predict`, { body: v1Body() });
  const client = new EnvoyCheckClient(gw.extAuthzGrpcAddress);
  try {
    const grpc = await client.check({
      method: 'POST',
      path: '/v1/models/iris:predict',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(v1Body()),
    });
    const grpcStatus = grpc.denied_response?.status?.code ?? 200;
    const codeOf = (status: number, text: string) =>
      status === 200 ? 'allowed' : (JSON.parse(text) as { code: string }).code;
    return {
      statuses: [proxy.status, check.status, grpcStatus],
      codes: [
        codeOf(proxy.status, proxy.text),
        codeOf(check.status, check.text),
        codeOf(grpcStatus, grpc.denied_response?.body ?? ''),
      ],
    };
  } finally {
    client.close();
  }
}

describe('start-up model verification fails closed on every door', () => {
  it('refuses predictions with 503 model_unverified on the serving port and both check doors after a failed verification', async () => {
    const model = signedModel(1024);
    writeFileSync(join(model.dir, 'model.joblib'), 'poisoned weights\n');
    const gw = await startGateway(model);
    await settled(gw.adminUrl);
    const calls = predictor!.calls;
    assert.deepEqual(await predictEverywhere(gw), {
      statuses: [503, 503, 503],
      codes: ['model_unverified', 'model_unverified', 'model_unverified'],
    });
    assert.equal(predictor!.calls, calls, 'the unverified model answered nothing');
  });

  it('refuses predictions while the model is being verified, and serves them once it verified', async () => {
    const model = signedModel(512 * 1024 * 1024);
    const gw = await startGateway(model);
    const during = await predictEverywhere(gw);
    // Verification may finish between two doors on a fast machine; whatever was answered before it did is a refusal.
    if ((await readyz(gw.adminUrl)).checks['model-artifacts']?.ready !== true)
      assert.equal(during.codes[0], 'model_unverified');
    assert.equal((await settled(gw.adminUrl)).status, 200);
    assert.deepEqual((await predictEverywhere(gw)).statuses, [200, 200, 200]);
  });
});

describe('modelVerification config', () => {
  const problems = (mv: Record<string, unknown>): string[] => {
    try {
      buildConfig({ auth: { enabled: false }, modelVerification: mv });
      return [];
    } catch (err) {
      return (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
    }
  };

  it('is off by default and needs nothing then', () => {
    assert.deepEqual(problems({}), []);
  });

  it('needs a manifest once enabled', () => {
    assert.deepEqual(problems({ enabled: true }), ['modelVerification.manifest: is required when enabled']);
  });

  it('refuses an unsigned manifest stored inside the model directory', () => {
    assert.match(
      problems({ enabled: true, manifest: '/mnt/models/MANIFEST.sha256' })[0] ?? '',
      /^modelVerification\.manifest: lies inside the model directory/,
    );
  });

  it('accepts an unsigned manifest mounted from elsewhere', () => {
    assert.deepEqual(problems({ enabled: true, manifest: '/etc/model-manifest/MANIFEST.sha256' }), []);
  });

  it('refuses a public key without a signature', () => {
    assert.deepEqual(
      problems({ enabled: true, manifest: '/etc/m/MANIFEST.sha256', publicKey: '/etc/keys/model.pub' }),
      ['modelVerification.signature: publicKey and signature go together: set both or neither'],
    );
  });

  it('refuses a public key read from the model directory', () => {
    assert.match(
      problems({
        enabled: true,
        manifest: '/mnt/models/M',
        signature: '/mnt/models/M.sig',
        publicKey: '/mnt/models/k.pub',
      }).join('\n'),
      /modelVerification\.publicKey: must not come from the model directory/,
    );
  });

  it('refuses relative paths', () => {
    assert.deepEqual(problems({ enabled: true, dir: 'models', manifest: 'MANIFEST' }), [
      'modelVerification.dir: must be an absolute path',
      'modelVerification.manifest: must be an absolute path',
    ]);
  });
});
