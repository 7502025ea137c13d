// The start-up memory plan: what the container allows beside what the heap and the extraction
// states may take, with a warning whenever the kernel would kill the process before V8 collects.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig } from '../../src/config/load-config.js';
import { memoryPlan, type MemoryRuntime } from '../../src/observability/memory-plan.js';

const MiB = 1048576;
const extractionModel = (maxStateBytes: number) => ({
  labels: ['setosa', 'versicolor', 'virginica'],
  input: { features: 4 },
  extraction: {
    mode: 'shadow',
    features: { centre: [5.8, 3.1, 3.8, 1.2], scale: [0.8, 0.4, 1.8, 0.8] },
    maxStateBytes,
  },
});
const config = (models: Record<string, unknown>) => buildConfig({ auth: { enabled: false }, models }, 'test');
const runtime = (constrainedBytes: number, heapLimitBytes: number): MemoryRuntime => ({
  constrainedBytes,
  totalBytes: 16384 * MiB,
  heapLimitBytes,
  nodeOptions: undefined,
});

describe('memory plan', () => {
  it('reports the container limit, the heap limit and the extraction states of scoring models only', () => {
    const plan = memoryPlan(
      config({ a: extractionModel(64 * MiB), b: { ...extractionModel(32 * MiB), extraction: { mode: 'off' } } }),
      runtime(512 * MiB, 428 * MiB),
    );
    assert.equal(plan.containerLimitBytes, 512 * MiB);
    assert.equal(plan.heapLimitBytes, 428 * MiB);
    assert.equal(plan.extractionStateBoundBytes, 64 * MiB);
    assert.deepEqual(plan.warnings, []);
  });

  it('warns when the heap limit plus the extraction states pass the container limit', () => {
    const plan = memoryPlan(
      config({ a: extractionModel(64 * MiB), b: extractionModel(64 * MiB) }),
      runtime(512 * MiB, 428 * MiB),
    );
    assert.equal(plan.warnings.length, 1);
    assert.match(plan.warnings[0]!, /reach 556 MiB, more than the container limit \(512 MiB\)/);
  });

  it('warns when V8 may grow its heap past the container limit (a --max-old-space-size set too high)', () => {
    const plan = memoryPlan(config({}), runtime(512 * MiB, 2048 * MiB));
    assert.match(plan.warnings[0]!, /heap limit \(2048 MiB\) is not below the container limit \(512 MiB\)/);
  });

  it("reads libuv's 'no limit' (0, or a cgroup maximum beyond the machine's memory) as no container limit", () => {
    for (const none of [0, 2 ** 63]) {
      const plan = memoryPlan(config({ a: extractionModel(512 * MiB) }), runtime(none, 4096 * MiB));
      assert.equal(plan.containerLimitBytes, undefined);
      assert.deepEqual(plan.warnings, []);
    }
  });
});
