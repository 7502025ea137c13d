// Pieces of the tests that drive the extraction guard's shared-evidence store against a real Redis.
import type { Redis } from 'ioredis';
import { AccountState } from '../../src/extraction/account-state.js';
import { DEFAULT_DETECTOR_SETTINGS } from '../../src/extraction/detector-settings.js';
import { QueryScorer } from '../../src/extraction/query-scorer.js';
import type { SharedEvidenceSink } from '../../src/extraction/shared-evidence.js';

/** A fresh account of model `m`. */
export const account = (user: string): AccountState =>
  new AccountState(user, 'm', new QueryScorer(undefined, DEFAULT_DETECTOR_SETTINGS, 1).createState(), 0);

/** A sink that keeps what the flushes answered. */
export function recorder(): {
  sink: SharedEvidenceSink;
  seen: Array<{ acc: AccountState; evidence: number; at: number }>;
  failed: number[];
} {
  const seen: Array<{ acc: AccountState; evidence: number; at: number }> = [];
  const failed: number[] = [];
  const sink: SharedEvidenceSink = {
    shared: (acc, evidence, at) => void seen.push({ acc, evidence, at }),
    failed: (n) => void failed.push(n),
  };
  return { sink, seen, failed };
}

/** Scripts a Redis node ran since its last CONFIG RESETSTAT (EVALSHA, or EVAL when the script was not loaded). */
export async function scriptCalls(node: Redis): Promise<number> {
  const stats = await node.info('commandstats');
  return ['evalsha', 'eval'].reduce(
    (n, c) => n + Number(new RegExp(`cmdstat_${c}:calls=(\\d+)`).exec(stats)?.[1] ?? 0),
    0,
  );
}
