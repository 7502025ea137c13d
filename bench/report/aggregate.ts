// Rounds of the same (scenario, target, generator) folded into one row: medians for rates and
// latencies (robust to one disturbed round), the spread of req/s across rounds (drift shows as
// a wide spread), and CPU per request pooled over all rounds (total CPU / total requests).
import type { LoadResult } from '../load/bench-call.js';

export type ScenarioId = 'c50' | 'c1' | 'rows256' | 'half-rate';

export interface Sample {
  readonly scenario: ScenarioId;
  readonly targetId: string;
  readonly round: number;
  readonly result: LoadResult;
  /** CPU microseconds the target process used during the load. */
  readonly cpuMicros: number;
}

export interface Row {
  readonly scenario: ScenarioId;
  readonly targetId: string;
  readonly generator: string;
  readonly rounds: number;
  readonly rps: number;
  readonly rpsMin: number;
  readonly rpsMax: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpuMicrosPerRequest: number;
  readonly requests: number;
  readonly non2xx: number;
  readonly errors: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function aggregate(samples: readonly Sample[]): Row[] {
  const groups = new Map<string, Sample[]>();
  for (const s of samples) {
    const key = `${s.scenario}\u0000${s.targetId}\u0000${s.result.generator}`;
    const g = groups.get(key);
    if (g) g.push(s);
    else groups.set(key, [s]);
  }
  return [...groups.values()].map((g) => {
    const first = g[0]!;
    const rps = g.map((s) => s.result.rps);
    const requests = g.reduce((a, s) => a + s.result.requests, 0);
    return {
      scenario: first.scenario,
      targetId: first.targetId,
      generator: first.result.generator,
      rounds: g.length,
      rps: median(rps),
      rpsMin: Math.min(...rps),
      rpsMax: Math.max(...rps),
      p50: median(g.map((s) => s.result.p50)),
      p99: median(g.map((s) => s.result.p99)),
      cpuMicrosPerRequest: requests > 0 ? g.reduce((a, s) => a + s.cpuMicros, 0) / requests : Number.NaN,
      requests,
      non2xx: g.reduce((a, s) => a + s.result.non2xx, 0),
      errors: g.reduce((a, s) => a + s.result.errors, 0),
    };
  });
}

export function findRow(
  rows: readonly Row[],
  scenario: ScenarioId,
  targetId: string,
  generator?: string,
): Row | undefined {
  return rows.find(
    (r) => r.scenario === scenario && r.targetId === targetId && (generator === undefined || r.generator === generator),
  );
}
