// The memory phase again with the gateway inside a memory cgroup of a pod's size, created and
// removed here. When the group cannot be made (no root, no memory controller), the run says why
// in its table and goal row instead of leaving the row out.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createMemoryCgroup, type MemoryCgroup } from './memory-cgroup.js';
import type { MemoryPhaseResult } from './memory-phase.js';

export interface LimitedMemoryRun {
  readonly result?: MemoryPhaseResult;
  /** Why there is no result: the group could not be created, or the run failed (e.g. OOM-killed). */
  readonly missing?: string;
  /** Set when the run itself failed (a measurement failure, not a missing capability). */
  readonly failed?: string;
}

export async function limitedMemoryPhase(
  limitBytes: number,
  run: (cgroup: MemoryCgroup) => Promise<MemoryPhaseResult>,
): Promise<LimitedMemoryRun> {
  const attempt = createMemoryCgroup(`igw-bench-pod-${process.pid}`, limitBytes);
  if ('unavailable' in attempt) return { missing: attempt.unavailable };
  try {
    return { result: await run(attempt.cgroup) };
  } catch (e) {
    const message = (e as Error).message;
    return { missing: `run failed: ${message}`, failed: message };
  } finally {
    try {
      attempt.cgroup.remove();
    } catch {
      // A process still in the group (it is removed by the next run's createMemoryCgroup).
    }
  }
}

const DOCKERFILE = fileURLToPath(new URL('../../Dockerfile', import.meta.url));

/** The Node flags the container image starts the gateway with (its `ENV NODE_OPTIONS=` line), so the pod run measures what a pod runs. */
export function imageNodeFlags(dockerfile = DOCKERFILE): string[] {
  const m = /^ENV NODE_OPTIONS=(.*)$/m.exec(readFileSync(dockerfile, 'utf8'));
  return m ? m[1]!.replace(/^"|"$/g, '').trim().split(/\s+/).filter(Boolean) : [];
}
