import { LRUCache } from 'lru-cache';
import type { ModelConfig } from '../config/schema.js';
import { ActionLadder, LEVELS } from './action-ladder.js';
import { AccountGuard, AccountState, LEVEL_CHANGES_KEPT, TIMELINE_BUCKETS } from './account-state.js';
import { DEFAULT_DETECTOR_SETTINGS, type DetectorSettings } from './detector-settings.js';
import { EscalationBreaker } from './escalation-breaker.js';
import { FeatureNormaliser } from './feature-normaliser.js';
import { OBJECT_OVERHEAD } from './heap-cost.js';
import { DETECTORS, PopulationCalibration, type DetectorName } from './population-calibration.js';
import { QueryScorer } from './query-scorer.js';
import { inlineSlices, type SliceScheduler } from './novelty-detector.js';

export type ExtractionMode = 'off' | 'shadow' | 'enforce';
/** What the guard really does: `enforce` only once the model is calibrated. */
export type EffectiveMode = 'shadow' | 'enforce' | 'shadow-uncalibrated';

// An account key (`issuer|subject`) as a V8 string, counted generously.
const ACCOUNT_KEY_BYTES = 256;
/** lru-cache's cost per entry: a slot in its key map and in five parallel arrays. */
const LRU_ENTRY_BYTES = 120;
/** One record of an evicted escalated account: the record, its map entry and its key. */
const RECORD_BYTES = 2 * OBJECT_OVERHEAD + 64 + ACCOUNT_KEY_BYTES;

/** What is kept of an escalated account evicted from the account table, so churn cannot launder it. */
interface EscalatedRecord {
  readonly value: number;
  readonly at: number;
  readonly level: number;
  readonly lastDetector: DetectorName | undefined;
  readonly firstFlaggedAt: number;
  /** The highest alarm score: whether the breaker counts the account as far beyond the threshold when it comes back. */
  readonly peakScore: number;
  readonly firstAlarm: readonly [number, number, number];
}

export type EvictionKind = 'account' | 'escalated' | 'escalated-record';

/** One model's extraction guard, built once at start-up from `models.<model>.extraction`. */
export class ModelGuard {
  readonly guard: AccountGuard;
  readonly accounts: LRUCache<string, AccountState>;
  readonly calibration: PopulationCalibration;
  readonly breaker: EscalationBreaker;
  readonly throttleFactor: number;
  /** Accounts kept: `maxAccounts`, or fewer when `maxStateBytes` holds fewer at their largest. */
  readonly capacity: number;
  /** Bytes one account can reach, its table entry and key included. */
  readonly accountBytes: number;
  /** Escalated accounts remembered after eviction (bounded; counted in `maxStateBytes`). */
  readonly records = new Map<string, EscalatedRecord>();
  readonly recordCapacity: number;
  readonly timelineBucketMs: number;
  /** Called when an account leaves the table for lack of room (not for idleness or an operator's clear). */
  onEvict: ((kind: EvictionKind) => void) | undefined;
  /** Configured label names → class index, for answers that name their class. */
  private readonly labelIndex: Map<string, number>;
  private evicting = 0;

  constructor(
    readonly model: string,
    readonly mode: ExtractionMode,
    cfg: ModelConfig,
    private readonly clock: () => number = Date.now,
    /** Runs the novelty reference's rebuilds (the gateway: between requests; offline tools and benches: at once). */
    slices: SliceScheduler = inlineSlices,
  ) {
    const x = cfg.extraction;
    const f = x.features;
    const normaliser = f
      ? new FeatureNormaliser({
          scaling:
            f.centre && f.scale
              ? { kind: 'standard', centre: f.centre, scale: f.scale }
              : { kind: 'minmax', min: f.min!, max: f.max! },
          projectAbove: f.projectAbove,
          projectTo: f.projectTo,
          seed: f.seed,
        })
      : undefined;
    const d = x.detectors;
    const settings: DetectorSettings = { ...DEFAULT_DETECTOR_SETTINGS, ...d, envelopeRate: d.envelopeRate };
    const a = x.actions;
    const scorer = new QueryScorer(normaliser, settings, f?.seed ?? 1, slices);
    const c = x.calibration;
    this.calibration = new PopulationCalibration(
      {
        minAccounts: c.minAccounts,
        minQueries: c.minQueries,
        falseAlarmRate: c.falseAlarmRate,
        tailAllowance: c.tailAllowance,
        deltaCeiling: c.deltaCeiling,
        window: settings.window,
        pinned: c.pinned,
      },
      scorer.floors(),
    );
    scorer.calibration = this.calibration;
    this.breaker = new EscalationBreaker(x.breaker);
    this.guard = new AccountGuard(
      scorer,
      new ActionLadder({
        flagAt: a.flagAt,
        degradeAt: a.degradeAt,
        throttleAt: a.throttleAt,
        blockAt: a.blockAt,
        hysteresis: a.hysteresis,
        halfLifeMs: a.halfLifeSeconds * 1000,
      }),
      this.breaker,
      c.uncalibratedDetectors,
    );
    this.guard.active = () => this.accounts.size;
    this.throttleFactor = a.throttleFactor;
    this.timelineBucketMs = x.timelineBucketSeconds * 1000;
    // Bounded by the worst case, so the budget holds however many classes each account has seen.
    this.accountBytes =
      scorer.maxStateBytes(cfg.labels?.length ?? Number.POSITIVE_INFINITY) +
      AccountState.fixedBytes(ACCOUNT_KEY_BYTES / 2) +
      LRU_ENTRY_BYTES;
    // One record slot per eight accounts: a flood evicts ordinary accounts, not the evidence.
    this.capacity = Math.max(
      1,
      Math.min(x.maxAccounts, Math.floor((x.maxStateBytes - this.modelBytes) / this.perAccountBytes)),
    );
    this.recordCapacity = Math.max(8, Math.ceil(this.capacity / 8));
    this.accounts = new LRUCache<string, AccountState>({
      max: this.capacity,
      ttl: x.idleSeconds * 1000,
      updateAgeOnGet: true,
      dispose: (acc, user, reason) => this.disposed(acc, user, reason),
    });
    this.labelIndex = new Map((cfg.labels ?? []).map((l, i) => [l, i]));
  }

  /** Bytes the model holds whatever its accounts: the calibration histograms, the novelty reference, the feature grain and traffic support. */
  get modelBytes(): number {
    return (
      this.calibration.bytes +
      (this.guard.scorer.novelty?.bytes ?? 0) +
      (this.guard.scorer.grain?.bytes ?? 0) +
      (this.guard.scorer.geometry?.support.bytes ?? 0) +
      (this.guard.scorer.known?.bytes ?? 0)
    );
  }

  /** Bytes one more account costs: its state at its largest, its table entry, its share of the escalation records. */
  get perAccountBytes(): number {
    return this.accountBytes + RECORD_BYTES / 8;
  }

  /** The `maxStateBytes` that holds `accounts` accounts of this model at their largest. */
  budgetFor(accounts: number): number {
    return this.modelBytes + Math.ceil(accounts * this.perAccountBytes);
  }

  /** What the guard really does now. */
  get effectiveMode(): EffectiveMode {
    if (this.mode !== 'enforce') return 'shadow';
    return this.calibration.inForce ? 'enforce' : 'shadow-uncalibrated';
  }

  /** The account, created on first use (or brought back from its escalation record). */
  account(user: string, now: number): AccountState {
    return this.find(user, now) ?? this.create(user, now);
  }

  /** The account if it is tracked or was escalated when evicted; never creates one otherwise. */
  find(user: string, now: number): AccountState | undefined {
    const acc = this.accounts.get(user);
    if (acc) return acc;
    const rec = this.records.get(user);
    if (!rec) return undefined;
    this.records.delete(user);
    const back = this.create(user, now);
    back.value = rec.value;
    back.at = rec.at;
    back.level = rec.level;
    back.lastDetector = rec.lastDetector;
    back.firstFlaggedAt = rec.firstFlaggedAt;
    back.peakScore = rec.peakScore;
    back.stream.clean = false;
    [back.firstAlarmDetector, back.firstAlarmScore, back.firstAlarmThreshold] = rec.firstAlarm;
    this.guard.track(back, now);
    return back;
  }

  /** Forgets an account and its escalation record (an operator's clear). */
  clear(user: string): boolean {
    const had = this.records.delete(user);
    return this.accounts.delete(user) || had;
  }

  /** The class id of a predicted label: its index (configured labels, or the index itself), else a stable hash. */
  classIdOf(label: string | number): number {
    if (typeof label === 'number') return label;
    const i = this.labelIndex.get(label);
    if (i !== undefined) return i;
    let h = 0;
    for (let k = 0; k < label.length; k++) h = (Math.imul(h, 31) + label.charCodeAt(k)) | 0;
    return h >>> 0;
  }

  private create(user: string, now: number): AccountState {
    const acc = this.guard.open(user, this.model, now);
    this.accounts.set(user, acc);
    this.guard.count(acc);
    return acc;
  }

  private disposed(acc: AccountState, user: string, reason: LRUCache.DisposeReason): void {
    const now = this.clock();
    this.guard.forget(acc, now);
    if (reason === 'delete') {
      this.records.delete(user);
      return;
    }
    if (reason !== 'evict') return;
    this.onEvict?.('account');
    if (acc.level === 0 && acc.firstFlaggedAt === 0) return;
    this.onEvict?.('escalated');
    if (this.records.size >= this.recordCapacity) this.dropWeakestRecord(now);
    this.records.set(user, {
      value: acc.value,
      at: acc.at,
      level: acc.level,
      lastDetector: acc.lastDetector,
      firstFlaggedAt: acc.firstFlaggedAt,
      peakScore: acc.peakScore,
      firstAlarm: [acc.firstAlarmDetector, acc.firstAlarmScore, acc.firstAlarmThreshold],
    });
  }

  /** The record with the least evidence left goes (rare: the table is full of escalated accounts). */
  private dropWeakestRecord(now: number): void {
    let weakest: string | undefined;
    let least = Infinity;
    for (const [user, r] of this.records) {
      const v = this.guard.ladder.decayed(r, now);
      if (v < least) {
        least = v;
        weakest = user;
      }
    }
    if (weakest !== undefined) this.records.delete(weakest);
    this.onEvict?.('escalated-record');
  }

  /** Adds the scored rows to the account's timeline. */
  recordTimeline(acc: AccountState, now: number, queries: number): void {
    let max = 0;
    // Indexed: a for-of over the scores allocated an iterator per request (about 40 bytes a row).
    const scores = acc.stream.scores;
    for (let i = 0; i < scores.length; i++) if (scores[i]! > max) max = scores[i]!;
    acc.recordTimeline(now, this.timelineBucketMs, queries, max);
  }
}

/** What the admin endpoints show for one account (no raw queries, no prototypes). */
export interface AccountView {
  readonly user: string;
  readonly model: string;
  readonly level: (typeof LEVELS)[number];
  readonly evidence: number;
  readonly scores: Readonly<Record<string, number>>;
  readonly queries: number;
  /** Queries this replica scored while a detector was in alarm (the evidence it added itself). */
  readonly alarmedQueries: number;
  readonly exactDuplicates: number;
  readonly since: string;
  readonly lastDetector: string | null;
  /** When a detector first alarmed on the account (epoch ms). */
  readonly firstFlaggedAt: number | null;
  /** That first alarm: the detector, its score and the threshold in force (δ for PRADA, a window count otherwise). */
  readonly firstAlarm: {
    readonly detector: DetectorName;
    readonly score: number;
    readonly threshold: number | null;
  } | null;
  /** The last level changes, oldest first. */
  readonly levelChanges: readonly {
    readonly at: number;
    readonly from: string;
    readonly to: string;
    readonly detector: DetectorName | null;
  }[];
  /** Per bucket (`timelineBucketSeconds` wide), oldest first: queries scored, the level after them and the highest score. */
  readonly timeline: readonly {
    readonly at: number;
    readonly queries: number;
    readonly level: string;
    readonly maxScore: number;
  }[];
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;
const f32 = new Float32Array(1);
const f32bits = new Uint32Array(f32.buffer);

export function viewOf(m: ModelGuard, acc: AccountState, now: number): AccountView {
  const level = m.guard.levelAt(acc, now);
  const levelChanges: { at: number; from: string; to: string; detector: DetectorName | null }[] = [];
  const c = acc.changes;
  if (c) {
    const n = Math.min(acc.changeCount, LEVEL_CHANGES_KEPT);
    for (let k = acc.changeCount - n; k < acc.changeCount; k++) {
      const i = 2 * (k % LEVEL_CHANGES_KEPT);
      const packed = c[i + 1]!;
      const d = ((packed >>> 16) & 0xff) - 1;
      levelChanges.push({
        at: c[i]!,
        from: LEVELS[packed & 0xff]!,
        to: LEVELS[(packed >>> 8) & 0xff]!,
        detector: d >= 0 ? DETECTORS[d]! : null,
      });
    }
  }
  const timeline: { at: number; queries: number; level: string; maxScore: number }[] = [];
  if (acc.timelineHead >= 0) {
    const t = acc.timeline;
    for (let k = 1; k <= TIMELINE_BUCKETS; k++) {
      const i = (acc.timelineHead + k) % TIMELINE_BUCKETS;
      const packed = t[3 * i + 1]!;
      if (t[3 * i] === 0 && packed === 0) continue;
      f32bits[0] = t[3 * i + 2]!;
      timeline.push({
        at: t[3 * i]! * m.timelineBucketMs,
        queries: packed & 0x1fffffff,
        level: LEVELS[packed >>> 29]!,
        maxScore: round3(f32[0]!),
      });
    }
  }
  const fd = acc.firstAlarmDetector;
  return {
    user: acc.user,
    model: acc.model,
    level: LEVELS[level]!,
    evidence: round3(acc.value),
    scores: Object.fromEntries(DETECTORS.map((d, i) => [d, round3(acc.stream.scores[i]!)])),
    queries: acc.stream.queries,
    alarmedQueries: acc.alarmed,
    exactDuplicates: acc.stream.exactDuplicates,
    since: new Date(acc.since).toISOString(),
    lastDetector: acc.lastDetector ?? null,
    firstFlaggedAt: acc.firstFlaggedAt || null,
    firstAlarm:
      fd >= 0
        ? {
            detector: DETECTORS[fd]!,
            score: round3(acc.firstAlarmScore),
            threshold: Number.isFinite(acc.firstAlarmThreshold) ? round3(acc.firstAlarmThreshold) : null,
          }
        : null,
    levelChanges,
    timeline,
  };
}
