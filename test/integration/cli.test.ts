import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDemoPredictor } from '../../src/quickstart/demo-predictor.js';
import { send, v1Body } from '../helpers/http.js';
import { gatewaySchema } from '../../src/config/schema.js';
import { until } from '../helpers/wait.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

function writeConfig(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'igw-cli-'));
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, text);
  return file;
}

describe('inference-gateway command line', () => {
  it('check-config accepts a valid file', () => {
    const file = writeConfig(
      'upstream:\n  url: http://127.0.0.1:8085\nauth:\n  issuers:\n    - issuer: https://id.example\n      jwksUri: https://id.example/jwks.json\n      audiences: [inference-api]\nmodels:\n  iris: {}\n',
    );
    const r = spawnSync(process.execPath, [MAIN, 'check-config', '--config', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /ok/);
  });

  it('check-config names every bad field and exits 1', () => {
    const file = writeConfig(
      'server:\n  port: -1\nupstream:\n  url: ftp://x\nmodels:\n  iris:\n    protocol: v3\nextra: true\n',
    );
    const r = spawnSync(process.execPath, [MAIN, 'check-config', '--config', file], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /5 problems/);
    assert.match(r.stderr, /auth\.issuers: at least one issuer is required/);
    assert.match(r.stderr, /server\.port: must be at least 0, got -1/);
    assert.match(r.stderr, /upstream\.url: expected an http\(s\) URL/);
    assert.match(r.stderr, /models\.iris\.protocol: expected one of "v1", "v2", "any", got "v3"/);
    assert.match(r.stderr, /extra: unknown key/);
  });

  it('config-schema prints the JSON Schema of the config file', () => {
    const r = spawnSync(process.execPath, [MAIN, 'config-schema'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const schema = JSON.parse(r.stdout) as {
      $schema: string;
      additionalProperties: boolean;
      properties: Record<string, unknown>;
    };
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(Object.keys(schema.properties), Object.keys(gatewaySchema.shape));
  });

  it('serve refuses to start on a bad config, naming the field', () => {
    const file = writeConfig('server:\n  port: http\n');
    const r = spawnSync(process.execPath, [MAIN, 'serve', '--config', file], { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /refusing to start/);
    assert.match(r.stderr, /server\.port: expected an integer, got a string/);
  });

  it('lets an in-flight request finish on SIGTERM, then exits 0', async () => {
    const predictor = await startDemoPredictor({ delayMs: 700, remember: 10 });
    const file = writeConfig(
      `server:\n  host: 127.0.0.1\n  port: 0\n  shutdownGraceSeconds: 5\nadmin:\n  host: 127.0.0.1\n  port: 0\nupstream:\n  url: ${predictor.url}\nauth:\n  enabled: false\nmodels:\n  iris: {}\n`,
    );
    const child = spawn(process.execPath, [MAIN, 'serve', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`gateway exited early (${code})`)));
      });
      const inFlight = send(`${url}/v1/models/iris:predict`, { body: v1Body() });
      await until('the request reached the predictor', () => predictor.received.some((r) => r.method === 'POST'));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      const r = await inFlight;
      assert.equal(r.status, 200);
      assert.equal(await exited, 0);
    } finally {
      child.kill('SIGKILL');
      await predictor.close();
    }
  });
});
