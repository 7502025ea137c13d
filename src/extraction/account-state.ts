import { ActionLadder, type Evidence } from './action-ladder.js';
import { QueryScorer, type DetectorName, type QueryStreamState } from './query-scorer.js';

/** One user's standing on one model: the detectors' stream state and the ladder's evidence. */
export class AccountState implements Evidence {
  value = 0;
  at: number;
  level = 0;
  /** The detector and score behind the latest level change. */
  lastDetector: DetectorName | undefined;
  lastScore = 0;
  /** Queries scored while a detector was in alarm (the evidence before decay). */
  alarmed = 0;

  constructor(
    readonly user: string,
    readonly model: string,
    readonly stream: QueryStreamState,
    readonly since: number,
  ) {
    this.at = since;
  }

  get bytes(): number {
    return this.stream.bytes + 64 + this.user.length * 2;
  }
}

/** A change of an account's level, for the one log line and the metrics. */
export interface LevelChange {
  readonly from: number;
  readonly to: number;
  readonly detector: DetectorName;
  readonly score: number;
}

/**
 * Scores queries for one model and moves accounts along its ladder: every query scored while
 * some detector is in alarm adds one unit of evidence.
 */
export class AccountGuard {
  constructor(
    readonly scorer: QueryScorer,
    readonly ladder: ActionLadder,
  ) {}

  open(user: string, model: string, now: number): AccountState {
    return new AccountState(user, model, this.scorer.createState(), now);
  }

  /** Scores one row; returns the level change it caused, if any. */
  observe(acc: AccountState, row: ArrayLike<number>, classId: number, margin: number, now: number): LevelChange | undefined {
    const score = this.scorer.observe(acc.stream, row, classId, margin);
    return this.settle(acc, score >= 1 ? 1 : 0, now);
  }

  /** Counts rows the detectors cannot read (non-numeric inputs). */
  observeOpaque(acc: AccountState, hash: number, rows: number, now: number): LevelChange | undefined {
    const score = this.scorer.observeOpaque(acc.stream, hash, rows);
    return this.settle(acc, score >= 1 ? rows : 0, now);
  }

  /** The account's level now (evidence decays while it sends nothing). */
  levelAt(acc: AccountState, now: number): number {
    const before = acc.level;
    const after = this.ladder.refresh(acc, now);
    if (after !== before) acc.lastScore = acc.stream.strongest().score;
    return after;
  }

  private settle(acc: AccountState, evidence: number, now: number): LevelChange | undefined {
    acc.alarmed += evidence;
    const from = acc.level;
    const to = evidence > 0 ? this.ladder.add(acc, evidence, now) : this.ladder.refresh(acc, now);
    if (to === from) return undefined;
    const { detector, score } = acc.stream.strongest();
    acc.lastDetector = detector;
    acc.lastScore = score;
    return { from, to, detector, score };
  }
}
