import { ActionLadder, DEFAULT_LADDER, LEVEL_DEGRADE, LEVEL_FLAG } from '../../src/extraction/action-ladder.js';
import { AccountGuard, type AccountState } from '../../src/extraction/account-state.js';
import { DEFAULT_DETECTOR_SETTINGS } from '../../src/extraction/detector-settings.js';
import { FeatureNormaliser } from '../../src/extraction/feature-normaliser.js';
import { DETECTORS, QueryScorer } from '../../src/extraction/query-scorer.js';
import { attackStream, type AttackName } from './attacks.js';
import { benignUser } from './benign-users.js';
import type { World } from './world.js';

/** proxy: the guard sees predicted classes and margins; ext-authz: inputs only (one group). */
export type Mode = 'proxy' | 'ext-authz';

export function guardFor(world: World, seed: number): AccountGuard {
  const { centre, scale } = world.features;
  const normaliser = new FeatureNormaliser({
    scaling: { kind: 'standard', centre, scale },
    projectAbove: 256,
    projectTo: 64,
    seed,
  });
  return new AccountGuard(
    new QueryScorer(normaliser, DEFAULT_DETECTOR_SETTINGS, seed),
    new ActionLadder(DEFAULT_LADDER),
  );
}

function observe(
  guard: AccountGuard,
  world: World,
  acc: AccountState,
  row: Float64Array,
  mode: Mode,
  now: number,
): void {
  if (mode === 'proxy') {
    const c = world.victim.answer(row);
    guard.observe(acc, row, c, world.victim.margin(), now);
  } else {
    guard.observe(acc, row, 0, Number.NaN, now);
  }
}

export interface AttackVariant {
  readonly attack: AttackName;
  readonly noise: number;
  /** Accounts the stream is split over (round robin). */
  readonly accounts: number;
  /** Seconds between queries. */
  readonly interval: number;
  readonly budget: number;
  readonly mode: Mode;
}

export interface AttackOutcome {
  /** Attack queries sent when the first account was flagged (0: never within budget). */
  readonly flaggedAt: number;
  /** ... when the first account reached the degrade rung (0: never). */
  readonly degradedAt: number;
  /** Per detector, when it first alarmed on any account (0: never). */
  readonly detectorAt: Record<string, number>;
  /** Share of the accounts flagged by the end of the budget. */
  readonly accountsFlagged: number;
}

export function runAttack(world: World, v: AttackVariant, seed: number): AttackOutcome {
  const guard = guardFor(world, seed);
  const accounts = Array.from({ length: v.accounts }, (_, i) => guard.open(`attacker-${i}`, 'm', 0));
  const flagged = new Uint8Array(v.accounts);
  const detectorAt: Record<string, number> = Object.fromEntries(DETECTORS.map((d) => [d, 0]));
  let flaggedAt = 0;
  let degradedAt = 0;
  let n = 0;
  for (const row of attackStream(v.attack, world, seed, v.noise)) {
    if (n >= v.budget) break;
    const i = n % v.accounts;
    const acc = accounts[i]!;
    n++;
    observe(guard, world, acc, row, v.mode, n * v.interval * 1000);
    for (let d = 0; d < DETECTORS.length; d++)
      if (acc.stream.scores[d]! >= 1 && detectorAt[DETECTORS[d]!] === 0) detectorAt[DETECTORS[d]!] = n;
    if (acc.level >= LEVEL_FLAG && !flagged[i]) {
      flagged[i] = 1;
      if (flaggedAt === 0) flaggedAt = n;
    }
    if (acc.level >= LEVEL_DEGRADE && degradedAt === 0) degradedAt = n;
    // One account is enough to answer every question once it is degraded.
    if (v.accounts === 1 && degradedAt > 0) break;
  }
  return { flaggedAt, degradedAt, detectorAt, accountsFlagged: flagged.reduce((a, b) => a + b, 0) / v.accounts };
}

export interface BenignOutcome {
  readonly users: number;
  readonly flaggedUsers: number;
  readonly queries: number;
  readonly alarmedQueries: number;
  /** Detectors behind the flags, by name. */
  readonly flaggedBy: Record<string, number>;
}

export function runBenign(world: World, seeds: readonly number[], queries: number, mode: Mode): BenignOutcome {
  const guard = guardFor(world, seeds[0] ?? 1);
  let flaggedUsers = 0;
  let total = 0;
  let alarmed = 0;
  const flaggedBy: Record<string, number> = {};
  for (const seed of seeds) {
    const acc = guard.open(`user-${seed}`, 'm', 0);
    let flagged = false;
    for (const { row, t } of benignUser(world, seed, queries)) {
      observe(guard, world, acc, row, mode, t * 1000);
      total++;
      const s = acc.stream.strongest();
      if (s.score >= 1) {
        alarmed++;
        if (!flagged) {
          flagged = true;
          flaggedBy[s.detector] = (flaggedBy[s.detector] ?? 0) + 1;
        }
      }
    }
    if (flagged) flaggedUsers++;
  }
  return { users: seeds.length, flaggedUsers, queries: total, alarmedQueries: alarmed, flaggedBy };
}
