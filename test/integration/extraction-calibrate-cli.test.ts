// `inference-gateway calibrate` turns recorded requests into the config block that pins a
// model's calibration; the printed block loads as config and puts that calibration in force.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { buildConfig } from '../../src/config/load-config.js';
import { ModelGuard } from '../../src/extraction/model-guard.js';
import { modelView } from '../../src/extraction/model-view.js';
import { Xoshiro128 } from '../../src/extraction/prng.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const FEATURES = { centre: [5.84, 3.06, 3.76, 1.2], scale: [0.83, 0.44, 1.77, 0.76] };
const EXTRACTION = { mode: 'enforce', features: FEATURES, calibration: { minAccounts: 20, minQueries: 30 } };

function setUp(users: number): { config: string; requests: string } {
  const dir = mkdtempSync(join(tmpdir(), 'igw-calibrate-'));
  const config = join(dir, 'gateway.yaml');
  writeFileSync(
    config,
    JSON.stringify({
      upstream: { url: 'http://127.0.0.1:8085' },
      auth: { enabled: false },
      models: { iris: { extraction: EXTRACTION } },
    }),
  );
  const rng = new Xoshiro128(3);
  const lines: string[] = [];
  for (let i = 0; i < 40; i++)
    for (let u = 0; u < users; u++) {
      const row = FEATURES.centre.map((c, j) => Math.round((c + FEATURES.scale[j]! * rng.normal()) * 100) / 100);
      const p = rng.next();
      lines.push(
        JSON.stringify({
          user: `https://id.example|user-${u}`,
          instances: [row],
          predictions: [[p, (1 - p) / 2, (1 - p) / 2]],
        }),
      );
    }
  const requests = join(dir, 'requests.jsonl');
  writeFileSync(requests, `${lines.join('\n')}\n`);
  return { config, requests };
}

describe('inference-gateway calibrate', () => {
  it('prints a pinned calibration that loads as config and is in force from start-up', () => {
    const { config, requests } = setUp(25);
    const r = spawnSync(
      process.execPath,
      [MAIN, 'calibrate', '--config', config, '--model', 'iris', '--requests', requests],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^# inference-gateway calibrate: 25 accounts, \d+ scored queries, 1000 requests/);
    const pinned = (
      parse(r.stdout) as {
        models: {
          iris: { extraction: { calibration: { pinned: { accounts: number; thresholds: Record<string, number> } } } };
        };
      }
    ).models.iris.extraction.calibration.pinned;
    assert.equal(pinned.accounts, 25);
    const loaded = buildConfig({
      auth: { enabled: false },
      models: { iris: { extraction: { ...EXTRACTION, calibration: { pinned } } } },
    });
    const view = modelView(new ModelGuard('iris', 'enforce', loaded.models['iris']!));
    assert.equal(view.effectiveMode, 'enforce');
    assert.equal(view.calibration.state, 'pinned');
    assert.equal(view.calibration.thresholds['margin'], Math.max(pinned.thresholds['margin']!, 36));
  });

  it('refuses, naming what is missing, when the recording has too few accounts', () => {
    const { config, requests } = setUp(5);
    const r = spawnSync(
      process.execPath,
      [MAIN, 'calibrate', '--config', config, '--model', 'iris', '--requests', requests],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /5 accounts with at least 30 scored queries; calibration needs 20/);
    assert.equal(r.stdout, '');
  });
});
