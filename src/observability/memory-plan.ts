// What this process may hold, logged once at start-up: the container's memory limit as Node reads
// it (process.constrainedMemory(): the cgroup v1 or v2 limit, through libuv), V8's heap limit —
// which Node derives from that limit when no --max-old-space-size is given — and the byte bounds
// of the gateway's per-user state (the extraction states live outside the heap). An operator then sees at once
// whether the heap and those bounds fit the pod, and the log says so when they cannot: a process
// that outgrows its cgroup is killed by the kernel (SIGKILL, no log line of its own), while a heap
// that reaches its limit is collected harder first.
import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import type { GatewayConfig } from '../config/schema.js';

export interface MemoryRuntime {
  /** process.constrainedMemory(): the cgroup limit, or 0 / a huge value when there is none. */
  readonly constrainedBytes: number;
  readonly totalBytes: number;
  /** V8's heap_size_limit (old space plus the young generation's reservation). */
  readonly heapLimitBytes: number;
  /** NODE_OPTIONS as the process was started with, for the log only. */
  readonly nodeOptions: string | undefined;
}

export interface MemoryPlan {
  /** The container's memory limit, undefined when the process runs without one. */
  readonly containerLimitBytes: number | undefined;
  readonly heapLimitBytes: number;
  /** Extraction account states of every model that scores: typed arrays, outside the V8 heap. */
  readonly extractionStateBoundBytes: number;
  /** Inside the heap: the verified-token cache's byte bound and the in-memory limit counters (about 300 bytes each). */
  readonly tokenCacheBoundBytes: number;
  readonly limitsMaxKeys: number;
  readonly nodeOptions: string | undefined;
  /** Why the plan may not fit the container; empty when it does (or when there is no limit). */
  readonly warnings: readonly string[];
}

export function currentMemoryRuntime(): MemoryRuntime {
  return {
    constrainedBytes: process.constrainedMemory(),
    totalBytes: totalmem(),
    heapLimitBytes: getHeapStatistics().heap_size_limit,
    nodeOptions: process.env['NODE_OPTIONS'],
  };
}

const mib = (b: number) => `${Math.round(b / 1048576)} MiB`;

export function memoryPlan(config: GatewayConfig, runtime: MemoryRuntime = currentMemoryRuntime()): MemoryPlan {
  // libuv reports "no limit" as 0 or as the cgroup's maximum (a value near 2^63 or 2^64).
  const limited = runtime.constrainedBytes > 0 && runtime.constrainedBytes < runtime.totalBytes;
  const containerLimitBytes = limited ? runtime.constrainedBytes : undefined;
  const cache = config.auth.cache;
  const tokenCache = cache.maxEntries > 0 ? cache.maxBytes : 0;
  let extraction = 0;
  for (const model of Object.values(config.models)) {
    const x = model.extraction;
    if ((x.mode ?? (x.features ? 'shadow' : 'off')) !== 'off') extraction += x.maxStateBytes;
  }
  const warnings: string[] = [];
  if (containerLimitBytes !== undefined) {
    if (runtime.heapLimitBytes >= containerLimitBytes)
      warnings.push(
        `V8's heap limit (${mib(runtime.heapLimitBytes)}) is not below the container limit (${mib(containerLimitBytes)}): the kernel would kill the process before V8 collects harder; lower --max-old-space-size or leave it unset (Node then sizes the heap from the limit)`,
      );
    // Both can be full at once only if the per-user bounds are: then V8 must be the one to say so.
    const planned = runtime.heapLimitBytes + extraction;
    if (planned > containerLimitBytes)
      warnings.push(
        `the heap limit (${mib(runtime.heapLimitBytes)}) plus the extraction states outside it (${mib(extraction)}) reach ${mib(planned)}, more than the container limit (${mib(containerLimitBytes)}): raise the limit, or lower models.*.extraction.maxStateBytes or the heap flags (--max-old-space-size-percentage, --max-semi-space-size)`,
      );
  }
  return {
    containerLimitBytes,
    heapLimitBytes: runtime.heapLimitBytes,
    extractionStateBoundBytes: extraction,
    tokenCacheBoundBytes: tokenCache,
    limitsMaxKeys: config.limits.store.memoryMaxKeys,
    nodeOptions: runtime.nodeOptions,
    warnings,
  };
}
