// Preloaded into a bench target (`node --import <this file>`, through NODE_OPTIONS so the Node
// floor and the gateways get the same one): on SIGUSR2 it starts counting, on the next SIGUSR2 it
// writes what the process allocated in between to `$ALLOC_PROBE_DIR/<pid>.json`.
//
// Bytes come from V8's sampling heap profiler with the objects that scavenges and full collections
// freed kept in the profile (`includeObjectsCollectedByMinorGC` / `...MajorGC`): each sample stands
// for `samplingInterval` bytes on average, so the sum of the profile's self sizes estimates all
// bytes allocated, short-lived garbage included, not only what survived
// (https://chromedevtools.github.io/devtools-protocol/tot/HeapProfiler/#method-startSampling).
// Scavenges are counted by a `gc` PerformanceObserver in a separate phase (`mode: 'gc'`): the
// profiler's own bookkeeping allocates, so the two are not measured over the same requests.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';

interface SampleNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SampleNode[];
}

const dir = process.env['ALLOC_PROBE_DIR'];
const mode = process.env['ALLOC_PROBE_MODE'] === 'gc' ? 'gc' : 'heap';
const SAMPLING_INTERVAL = 1024;
const CALLERS = Math.min(8, Math.max(0, Number(process.env['ALLOC_PROBE_CALLERS'] ?? 0) || 0));

if (dir) {
  let session: Session | undefined;
  let observer: PerformanceObserver | undefined;
  let scavenges = 0;
  let marks = 0;
  let pauseMs = 0;
  let running = false;

  const start = async () => {
    if (mode === 'gc') {
      scavenges = marks = pauseMs = 0;
      observer = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
          if (kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
          else marks++;
          pauseMs += e.duration;
        }
      });
      observer.observe({ entryTypes: ['gc'] });
      return;
    }
    session = new Session();
    session.connect();
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: SAMPLING_INTERVAL,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  };

  const stop = async () => {
    if (mode === 'gc') {
      observer?.disconnect();
      writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify({ scavenges, marks, pauseMs }));
      return;
    }
    const { profile } = (await session!.post('HeapProfiler.stopSampling')) as { profile: { head: SampleNode } };
    session!.disconnect();
    // Self bytes by function (name and file:line), and by the nearest gateway function on the
    // stack (`dist/src/...`: what the gateway's own code made Node, undici or V8 allocate), the
    // whole tree walked once.
    const bySite = new Map<string, number>();
    const byOwner = new Map<string, number>();
    let total = 0;
    const frame = (n: SampleNode) =>
      `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
    const walk = (n: SampleNode, callers: string[], owner: string) => {
      const here = [frame(n), ...callers];
      const own = n.callFrame.url.includes('/dist/src/') ? here[0]! : owner;
      if (n.selfSize > 0) {
        // With ALLOC_PROBE_CALLERS=k a site is named with its k nearest callers (who made the allocator allocate).
        const site = here.slice(0, 1 + CALLERS).join(' < ');
        bySite.set(site, (bySite.get(site) ?? 0) + n.selfSize);
        byOwner.set(own, (byOwner.get(own) ?? 0) + n.selfSize);
        total += n.selfSize;
      }
      for (const c of n.children) walk(c, here.slice(0, 1 + CALLERS), own);
    };
    walk(profile.head, [], '(no gateway function on the stack)');
    const sites = [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 40);
    const owners = [...byOwner].sort((a, b) => b[1] - a[1]).slice(0, 40);
    writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify({ total, sites, owners }));
  };

  process.on('SIGUSR2', () => {
    running = !running;
    void (running ? start() : stop()).catch((e: unknown) => process.stderr.write(`alloc-probe: ${String(e)}\n`));
  });
}
