// Where a server's tail latency comes from, measured inside its process: the event-loop delay
// histogram (how late the loop came back to a timer: time spent in synchronous work, which every
// request queued behind it waits out) and V8's garbage-collection pauses, per kind, from the
// `gc` performance entries (https://nodejs.org/api/perf_hooks.html#class-performancegc).
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

export interface Stalls {
  /** Event-loop delay in ms (the histogram samples every `resolution` ms). */
  readonly loopP50: number;
  readonly loopP99: number;
  readonly loopMax: number;
  /** GC pauses: count, total ms and longest ms, per kind (scavenge, mark-sweep, incremental, weak callbacks). */
  readonly gc: Record<string, { count: number; totalMs: number; maxMs: number }>;
}

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-sweep',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-callbacks',
};

/** Starts both monitors; `take()` returns what they saw since the last `take()` and starts over. */
export function stallMonitor(resolution = 1): { take(): Stalls } {
  const loop = monitorEventLoopDelay({ resolution });
  loop.enable();
  let gc: Stalls['gc'] = {};
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = GC_KINDS[(e as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
      const k = (gc[kind] ??= { count: 0, totalMs: 0, maxMs: 0 });
      k.count++;
      k.totalMs += e.duration;
      k.maxMs = Math.max(k.maxMs, e.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    take() {
      const ms = (ns: number) => ns / 1e6;
      const out: Stalls = {
        loopP50: ms(loop.percentile(50)),
        loopP99: ms(loop.percentile(99)),
        loopMax: ms(loop.max),
        gc,
      };
      loop.reset();
      gc = {};
      return out;
    },
  };
}
