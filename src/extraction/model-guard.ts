import { LRUCache } from 'lru-cache';
import type { ModelConfig } from '../config/schema.js';
import { ActionLadder, LEVELS } from './action-ladder.js';
import { AccountGuard, type AccountState } from './account-state.js';
import { DEFAULT_DETECTOR_SETTINGS, type DetectorSettings } from './detector-settings.js';
import { FeatureNormaliser } from './feature-normaliser.js';
import { DETECTORS, QueryScorer } from './query-scorer.js';

export type ExtractionMode = 'off' | 'shadow' | 'enforce';

// An account key (`issuer|subject`) as a V8 string, counted generously.
const ACCOUNT_KEY_BYTES = 256;

/** One model's extraction guard, built once at start-up from `models.<model>.extraction`. */
export class ModelGuard {
  readonly guard: AccountGuard;
  readonly accounts: LRUCache<string, AccountState>;
  readonly throttleFactor: number;
  /** Accounts kept: `maxAccounts`, or fewer when `maxStateBytes` holds fewer at their largest. */
  readonly capacity: number;
  /** Configured label names → class index, for answers that name their class. */
  private readonly labelIndex: Map<string, number>;

  constructor(
    readonly model: string,
    readonly mode: ExtractionMode,
    cfg: ModelConfig,
  ) {
    const x = cfg.extraction;
    const f = x.features;
    const normaliser = f
      ? new FeatureNormaliser({
          scaling: f.centre && f.scale ? { kind: 'standard', centre: f.centre, scale: f.scale } : { kind: 'minmax', min: f.min!, max: f.max! },
          projectAbove: f.projectAbove,
          projectTo: f.projectTo,
          seed: f.seed,
        })
      : undefined;
    const d = x.detectors;
    const settings: DetectorSettings = { ...DEFAULT_DETECTOR_SETTINGS, ...d, envelopeRate: d.envelopeRate };
    const a = x.actions;
    this.guard = new AccountGuard(
      new QueryScorer(normaliser, settings, f?.seed ?? 1),
      new ActionLadder({ flagAt: a.flagAt, degradeAt: a.degradeAt, throttleAt: a.throttleAt, blockAt: a.blockAt, hysteresis: a.hysteresis, halfLifeMs: a.halfLifeSeconds * 1000 }),
    );
    this.throttleFactor = a.throttleFactor;
    // Bounded by the worst case, so the budget holds however many classes each account has seen.
    const perAccount = this.guard.scorer.maxStateBytes(cfg.labels?.length ?? Number.POSITIVE_INFINITY) + 64 + ACCOUNT_KEY_BYTES;
    this.capacity = Math.max(1, Math.min(x.maxAccounts, Math.floor(x.maxStateBytes / perAccount)));
    this.accounts = new LRUCache<string, AccountState>({ max: this.capacity, ttl: x.idleSeconds * 1000, updateAgeOnGet: true });
    this.labelIndex = new Map((cfg.labels ?? []).map((l, i) => [l, i]));
  }

  /** The account, created on first use. */
  account(user: string, now: number): AccountState {
    let acc = this.accounts.get(user);
    if (!acc) {
      acc = this.guard.open(user, this.model, now);
      this.accounts.set(user, acc);
    }
    return acc;
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
}

export function viewOf(m: ModelGuard, acc: AccountState, now: number): AccountView {
  const level = m.guard.levelAt(acc, now);
  return {
    user: acc.user,
    model: acc.model,
    level: LEVELS[level]!,
    evidence: Math.round(acc.value * 1000) / 1000,
    scores: Object.fromEntries(DETECTORS.map((d, i) => [d, Math.round(acc.stream.scores[i]! * 1000) / 1000])),
    queries: acc.stream.queries,
    alarmedQueries: acc.alarmed,
    exactDuplicates: acc.stream.exactDuplicates,
    since: new Date(acc.since).toISOString(),
    lastDetector: acc.lastDetector ?? null,
  };
}
