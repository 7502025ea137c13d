// `maxStateBytes` is a bound operators size pods from: what 100,000 accounts really take (V8
// heap plus external memory, measured after full collections in a child process started with
// --expose-gc) stays within 10% of the budget the guard computed for them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PROBE = fileURLToPath(new URL('../helpers/extraction-memory-probe.js', import.meta.url));
// Small per-account state, so 100,000 accounts at their largest take about 1 GB, not 3.
const DETECTORS = {
  prototypes: 4,
  maxClasses: 2,
  ring: 20,
  minSamples: 20,
  tableSize: 64,
  window: 16,
  repeatHorizon: 16,
  stepRecent: 2,
  stepTable: 64,
  lineageHistory: 4,
};

describe('extraction memory', () => {
  it('holds 100,000 accounts at their largest within 10% of maxStateBytes', { timeout: 120_000 }, () => {
    const run = spawnSync(process.execPath, ['--expose-gc', PROBE, '100000', JSON.stringify(DETECTORS)], {
      encoding: 'utf8',
      timeout: 110_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const r = JSON.parse(run.stdout) as { accounts: number; capacity: number; maxStateBytes: number; measured: number };
    assert.equal(r.accounts, 100_000);
    assert.equal(r.capacity, 100_000, 'the budget was computed for exactly this many accounts');
    const ratio = r.measured / r.maxStateBytes;
    assert.ok(
      ratio <= 1.1 && ratio >= 0.9,
      `measured ${r.measured} bytes for a budget of ${r.maxStateBytes} (${ratio.toFixed(3)})`,
    );
  });
});
