import {
  runAttack,
  runBenign,
  type AttackOutcome,
  type AttackVariant,
  type BenignOutcome,
  type Mode,
} from './evaluate.js';
import { runRealAttack, runRealBenign } from './real/evaluate-real.js';
import type { RealTask, RealTaskResult } from './real/real-report.js';
import { buildWorld, type World } from './world.js';

/** A unit of work, small enough to spread over worker threads. */
export type Task =
  | {
      readonly kind: 'benign';
      readonly worldSeed: number;
      readonly seeds: number[];
      readonly queries: number;
      readonly mode: Mode;
    }
  | {
      readonly kind: 'attack';
      readonly worldSeed: number;
      readonly variant: AttackVariant;
      readonly seeds: number[];
      readonly key: string;
    }
  | RealTask;

export type TaskResult =
  | { readonly kind: 'benign'; readonly mode: Mode; readonly outcome: BenignOutcome }
  | {
      readonly kind: 'attack';
      readonly key: string;
      readonly variant: AttackVariant;
      readonly outcomes: AttackOutcome[];
    }
  | RealTaskResult;

const worlds = new Map<number, World>();

export function runTask(t: Task): TaskResult {
  if (t.kind === 'real-benign') return { kind: 'real-benign', outcome: runRealBenign(t.dataset, t.worldSeed, t.users) };
  if (t.kind === 'real-attack')
    return {
      kind: 'real-attack',
      key: t.key,
      variant: t.variant,
      outcomes: t.seeds.map((s) => runRealAttack(t.variant, s, t.worldSeed)),
    };
  let world = worlds.get(t.worldSeed);
  if (!world) worlds.set(t.worldSeed, (world = buildWorld(t.worldSeed)));
  if (t.kind === 'benign')
    return { kind: 'benign', mode: t.mode, outcome: runBenign(world, t.seeds, t.queries, t.mode) };
  return {
    kind: 'attack',
    key: t.key,
    variant: t.variant,
    outcomes: t.seeds.map((s) => runAttack(world, t.variant, s)),
  };
}
