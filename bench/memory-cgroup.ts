// A memory cgroup for one bench child: what a Kubernetes memory limit is to a pod (the kubelet
// writes the container's limit into the same files; see the kernel's cgroup-v2.rst and, for the
// v1 hierarchy still mounted on some hosts, cgroup-v1/memory.txt). The bench creates it, starts
// the gateway inside it (so Node sizes its heap from the limit at start-up, as in a pod), reads
// the peak and the OOM events from it and removes it.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CgroupReading {
  /** Bytes charged now (page cache of the group included). */
  readonly currentBytes: number;
  /** Highest charge since the group was created. */
  readonly peakBytes: number;
  /** Times the group hit its limit (v2 `max` events, v1 `failcnt`): reclaim ran, nothing was killed. */
  readonly limitHits: number;
  /** Processes the kernel's OOM killer ended in this group. */
  readonly oomKills: number;
}

export interface MemoryCgroup {
  readonly version: 1 | 2;
  readonly path: string;
  readonly limitBytes: number;
  /** Write a pid here to move that process (and the children it starts afterwards) into the group. */
  readonly procsFile: string;
  read(): CgroupReading;
  /** Removes the group; its processes must have exited. */
  remove(): void;
}

export type CgroupAttempt = { readonly cgroup: MemoryCgroup } | { readonly unavailable: string };

const readNumber = (file: string) => Number(readFileSync(file, 'utf8').trim());
const field = (text: string, name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);

/** The cgroup2 mount whose root offers the memory controller, if any (the v2-only layout mounts it at /sys/fs/cgroup). */
function v2Root(mounts: string): string | undefined {
  for (const line of mounts.split('\n')) {
    const [, dir, type] = line.split(' ');
    if (type !== 'cgroup2' || !dir) continue;
    try {
      if (readFileSync(join(dir, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('memory')) return dir;
    } catch {
      // unreadable mount: try the next one
    }
  }
  return undefined;
}

function v1Root(mounts: string): string | undefined {
  for (const line of mounts.split('\n')) {
    const [, dir, type, options] = line.split(' ');
    if (type === 'cgroup' && dir && options?.split(',').includes('memory')) return dir;
  }
  return undefined;
}

/** Creates `name` under the machine's memory controller with `limitBytes`, or says why it cannot. */
export function createMemoryCgroup(name: string, limitBytes: number): CgroupAttempt {
  let mounts: string;
  try {
    mounts = readFileSync('/proc/self/mounts', 'utf8');
  } catch (e) {
    return { unavailable: `cannot read /proc/self/mounts: ${(e as Error).message}` };
  }
  const root2 = v2Root(mounts);
  const root1 = root2 ? undefined : v1Root(mounts);
  if (!root2 && !root1)
    return { unavailable: 'no cgroup memory controller is mounted (neither cgroup2 nor v1 memory)' };
  const path = join((root2 ?? root1)!, name);
  try {
    if (existsSync(path)) rmdirSync(path); // left by an interrupted run; fails if processes are still in it
    if (root2) {
      // A child group gets the memory files only when its parent delegates the controller.
      const subtree = join(root2, 'cgroup.subtree_control');
      if (!readFileSync(subtree, 'utf8').split(/\s+/).includes('memory')) writeFileSync(subtree, '+memory');
    }
    mkdirSync(path);
    if (root2) {
      writeFileSync(join(path, 'memory.max'), String(limitBytes));
      // No swap either: a pod on a node without swap has only its memory limit.
      if (existsSync(join(path, 'memory.swap.max'))) writeFileSync(join(path, 'memory.swap.max'), '0');
    } else writeFileSync(join(path, 'memory.limit_in_bytes'), String(limitBytes));
  } catch (e) {
    try {
      if (existsSync(path)) rmdirSync(path);
    } catch {
      // nothing more to undo
    }
    return { unavailable: `cannot create a memory cgroup at ${path}: ${(e as Error).message}` };
  }
  const read = (): CgroupReading => {
    if (root2) {
      const events = readFileSync(join(path, 'memory.events'), 'utf8');
      const current = readNumber(join(path, 'memory.current'));
      // memory.peak exists from Linux 5.19; before it the highest reading is what the bench saw.
      const peak = existsSync(join(path, 'memory.peak')) ? readNumber(join(path, 'memory.peak')) : current;
      return {
        currentBytes: current,
        peakBytes: peak,
        limitHits: field(events, 'max'),
        oomKills: field(events, 'oom_kill'),
      };
    }
    return {
      currentBytes: readNumber(join(path, 'memory.usage_in_bytes')),
      peakBytes: readNumber(join(path, 'memory.max_usage_in_bytes')),
      limitHits: readNumber(join(path, 'memory.failcnt')),
      // `oom_kill` in memory.oom_control from Linux 4.13.
      oomKills: field(readFileSync(join(path, 'memory.oom_control'), 'utf8'), 'oom_kill'),
    };
  };
  return {
    cgroup: {
      version: root2 ? 2 : 1,
      path,
      limitBytes,
      procsFile: join(path, 'cgroup.procs'),
      read,
      remove: () => rmdirSync(path),
    },
  };
}
