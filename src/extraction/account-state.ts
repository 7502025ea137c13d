import { ActionLadder, LEVEL_DEGRADE, LEVEL_FLAG, LEVELS, type Evidence } from './action-ladder.js';
import { EscalationBreaker, type BreakerChange } from './escalation-breaker.js';
import { OBJECT_OVERHEAD, TYPED_ARRAY_OVERHEAD } from './heap-cost.js';
import { DETECTORS, type DetectorName } from './population-calibration.js';
import { QueryScorer, type QueryStreamState } from './query-scorer.js';
import { warmStream } from './state-warmup.js';

/** Level changes kept per account for the admin view. */
export const LEVEL_CHANGES_KEPT = 20;
/** Timeline buckets kept per account for the admin view's chart. */
export const TIMELINE_BUCKETS = 60;

const f32 = new Float32Array(1);
const f32bits = new Uint32Array(f32.buffer);

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
  /** When a detector first alarmed on this account (epoch ms), or 0. */
  firstFlaggedAt = 0;
  /** The first alarm: detector index, score and the threshold in force (in the detector's unit). */
  firstAlarmDetector = -1;
  firstAlarmScore = 0;
  firstAlarmThreshold = 0;
  /** The detector whose alarms took the account to degrade or above (counted by the breaker), or −1. */
  escalatedBy = -1;
  /** The highest score of an alarm that added evidence; whether the escalation counts as far beyond the threshold. */
  peakScore = 0;
  escalatedFar = false;
  /** The level this account is counted at in its guard's `levelCounts`, or −1 while it is not in the account table. */
  countedLevel = -1;
  /** Ring of the last level changes: [at, from | to << 8 | detector << 16] pairs, made on the first change. */
  changes: Float64Array | undefined;
  changeCount = 0;
  /** Ring of timeline buckets: [bucket, queries | level << 29, maxScore's float32 bits] triples. */
  readonly timeline = new Uint32Array(3 * TIMELINE_BUCKETS);
  timelineHead = -1;

  constructor(
    readonly user: string,
    readonly model: string,
    readonly stream: QueryStreamState,
    readonly since: number,
  ) {
    this.at = since;
  }

  /** Bytes this account holds, its stream state and key included (the model guard adds its map entry). */
  get bytes(): number {
    return AccountState.fixedBytes(this.user.length) + this.stream.bytes;
  }

  /** The account object, its timeline, level-change ring (counted as if made) and key string. */
  static fixedBytes(keyLength: number): number {
    return (
      3 * OBJECT_OVERHEAD +
      this.TIMELINE_BYTES +
      2 * TYPED_ARRAY_OVERHEAD +
      16 * LEVEL_CHANGES_KEPT +
      24 +
      2 * keyLength
    );
  }

  private static readonly TIMELINE_BYTES = 12 * TIMELINE_BUCKETS;

  recordChange(at: number, from: number, to: number, detector: number): void {
    const c = (this.changes ??= new Float64Array(2 * LEVEL_CHANGES_KEPT));
    const i = 2 * (this.changeCount % LEVEL_CHANGES_KEPT);
    c[i] = at;
    c[i + 1] = from | (to << 8) | ((detector + 1) << 16);
    this.changeCount++;
  }

  /** Adds `queries` to the timeline bucket of `now` (`bucketMs` wide), with the level and score after them. */
  recordTimeline(now: number, bucketMs: number, queries: number, score: number): void {
    const b = Math.floor(now / bucketMs) >>> 0;
    const t = this.timeline;
    let i = this.timelineHead;
    if (i < 0 || t[3 * i] !== b) {
      i = this.timelineHead = (i + 1) % TIMELINE_BUCKETS;
      t[3 * i] = b;
      t[3 * i + 1] = 0;
      t[3 * i + 2] = 0;
    }
    const q = (t[3 * i + 1]! & 0x1fffffff) + queries;
    t[3 * i + 1] = (Math.min(q, 0x1fffffff) | (this.level << 29)) >>> 0;
    f32bits[0] = t[3 * i + 2]!;
    if (score > f32[0]!) {
      f32[0] = score;
      t[3 * i + 2] = f32bits[0]!;
    }
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
 * some detector is in alarm adds one unit of evidence, except alarms of a detector whose breaker
 * is open.
 */
export class AccountGuard {
  /** Called when a breaker opens or closes. */
  onBreaker: ((c: BreakerChange, now: number) => void) | undefined;
  /** The model's active accounts, for the breaker's share. */
  active: () => number = () => 1;
  /**
   * Accounts in the model's table by level, kept as levels change and accounts come and go, so a
   * view of the model reads them without a pass over its accounts.
   */
  readonly levelCounts: number[] = LEVELS.map(() => 0);

  /** An integer made from the warm-up's reads, kept so the compiler cannot drop them as unused. */
  warmth = 0;
  private readonly dims: number;

  /** Per detector, 1 when its published threshold flags while the model has no calibration yet. */
  private readonly trustedUncalibrated = new Uint8Array(DETECTORS.length);

  constructor(
    readonly scorer: QueryScorer,
    readonly ladder: ActionLadder,
    readonly breaker: EscalationBreaker = new EscalationBreaker({
      share: 1,
      minAccounts: Number.MAX_SAFE_INTEGER,
      farBeyond: Number.POSITIVE_INFINITY,
      farMultiple: 1,
    }),
    uncalibratedDetectors: readonly DetectorName[] = [],
  ) {
    this.dims = scorer.normaliser?.dims ?? 0;
    for (const name of uncalibratedDetectors) this.trustedUncalibrated[DETECTORS.indexOf(name)] = 1;
  }

  open(user: string, model: string, now: number): AccountState {
    return new AccountState(user, model, this.scorer.createState(), now);
  }

  /** Scores one row; returns the level change it caused, if any. */
  observe(
    acc: AccountState,
    row: ArrayLike<number>,
    classId: number,
    margin: number,
    now: number,
  ): LevelChange | undefined {
    const scored = acc.stream.distinct;
    this.warmth = warmStream(acc.stream, classId, this.dims);
    this.scorer.observe(acc.stream, row, classId, margin);
    // Exact re-sends are not queries the detectors judged (their scores are the last row's).
    if (acc.stream.distinct === scored) return this.settle(acc, 0, -1, now);
    // Until the model has a provisional calibration its base rates are not known, so only the
    // detectors whose published thresholds hold on any model count (at their floors, flag only:
    // the cap below); an attacker who arrives before the population is not unseen.
    const cal = this.scorer.calibration;
    const d = cal && !cal.judging ? this.strongestTrusted(acc.stream) : this.strongestLive(acc.stream);
    const score = d < 0 ? 0 : acc.stream.scores[d]!;
    if (score >= 1 && acc.firstFlaggedAt === 0) {
      acc.stream.clean = false;
      acc.firstFlaggedAt = now;
      acc.firstAlarmDetector = d;
      acc.firstAlarmScore = score;
      acc.firstAlarmThreshold = cal ? cal.effective(d) : Number.NaN;
    }
    // A provisional calibration flags and keeps the evidence, but escalates no further than flag:
    // the thresholds rest on few accounts, and the gate does not act on them yet.
    const capped =
      score >= 1 && cal !== undefined && !cal.inForce && this.ladder.decayed(acc, now) >= this.ladder.o.flagAt;
    const adds = score >= 1 && !capped;
    if (adds && score > acc.peakScore) {
      acc.peakScore = score;
      if (acc.escalatedBy >= 0 && !acc.escalatedFar && score >= this.breaker.o.farBeyond) {
        acc.escalatedFar = true;
        this.report(this.breaker.promote(acc.escalatedBy, this.active(), now), now);
      }
    }
    return this.settle(acc, adds ? 1 : 0, d, now);
  }

  /** Counts rows the detectors cannot read (non-numeric inputs). */
  observeOpaque(acc: AccountState, hash: number, rows: number, now: number): LevelChange | undefined {
    this.scorer.observeOpaque(acc.stream, hash, rows);
    return this.settle(acc, 0, -1, now);
  }

  /** The account's level now (evidence decays while it sends nothing). */
  levelAt(acc: AccountState, now: number): number {
    const before = acc.level;
    const after = this.ladder.refresh(acc, now);
    if (after !== before) {
      acc.lastScore = acc.stream.strongest().score;
      acc.recordChange(now, before, after, DETECTORS.indexOf(acc.lastDetector ?? 'prada'));
      this.track(acc, now);
    }
    return after;
  }

  /** The level the gate acts on: an account the open breaker of its escalating detector holds stays at flag. */
  enforcedLevel(acc: AccountState): number {
    return acc.escalatedBy >= 0 && acc.level > LEVEL_FLAG && this.breaker.holds(acc.escalatedBy, acc.escalatedFar)
      ? LEVEL_FLAG
      : acc.level;
  }

  /** Counts an account that entered the model's account table, at its level. */
  count(acc: AccountState): void {
    if (acc.countedLevel >= 0) return;
    acc.countedLevel = acc.level;
    this.levelCounts[acc.level]!++;
  }

  /** Keeps the level counts and the breaker's count of escalated accounts in step with the account's level. */
  track(acc: AccountState, now: number): void {
    if (acc.countedLevel >= 0 && acc.countedLevel !== acc.level) {
      this.levelCounts[acc.countedLevel]!--;
      this.levelCounts[acc.level]!++;
      acc.countedLevel = acc.level;
    }
    const up = acc.level >= LEVEL_DEGRADE;
    if (up && acc.escalatedBy < 0) {
      acc.escalatedBy = Math.max(0, DETECTORS.indexOf(acc.lastDetector ?? 'prada'));
      acc.escalatedFar = acc.peakScore >= this.breaker.o.farBeyond;
      this.report(this.breaker.count(acc.escalatedBy, 1, acc.escalatedFar, this.active(), now), now);
    } else if (!up) this.release(acc, now);
  }

  /** An account leaves memory: neither its level nor its escalation counts any more. */
  forget(acc: AccountState, now: number): void {
    if (acc.countedLevel >= 0) {
      this.levelCounts[acc.countedLevel]!--;
      acc.countedLevel = -1;
    }
    this.release(acc, now);
  }

  /** The account no longer counts towards the breaker of the detector that escalated it. */
  private release(acc: AccountState, now: number): void {
    if (acc.escalatedBy < 0) return;
    const d = acc.escalatedBy;
    acc.escalatedBy = -1;
    this.report(this.breaker.count(d, -1, acc.escalatedFar, this.active(), now), now);
  }

  private report(c: BreakerChange | undefined, now: number): void {
    if (c) this.onBreaker?.(c, now);
  }

  /** The strongest of the detectors trusted without a calibration, or −1 when none scored. */
  private strongestTrusted(st: QueryStreamState): number {
    let best = -1;
    for (let i = 0; i < st.scores.length; i++)
      if (this.trustedUncalibrated[i] === 1 && (best < 0 || st.scores[i]! > st.scores[best]!)) best = i;
    return best;
  }

  /** The strongest detector whose alarm at its score the breaker lets add evidence, or −1 when none scored. */
  private strongestLive(st: QueryStreamState): number {
    const b = this.breaker;
    let best = -1;
    for (let i = 0; i < st.scores.length; i++)
      if (b.live(i, st.scores[i]!) && (best < 0 || st.scores[i]! > st.scores[best]!)) best = i;
    return best;
  }

  private settle(acc: AccountState, evidence: number, detector: number, now: number): LevelChange | undefined {
    acc.alarmed += evidence;
    const from = acc.level;
    const to = evidence > 0 ? this.ladder.add(acc, evidence, now) : this.ladder.refresh(acc, now);
    if (to === from) return undefined;
    const d = detector >= 0 ? detector : Math.max(0, DETECTORS.indexOf(acc.stream.strongest().detector));
    acc.lastDetector = DETECTORS[d]!;
    acc.lastScore = acc.stream.scores[d]!;
    acc.recordChange(now, from, to, d);
    this.track(acc, now);
    return { from, to, detector: acc.lastDetector, score: acc.lastScore };
  }
}
