import { guardUnderTest, type GuardUnderTest } from './guard-under-test.js';
import { buildPopulation, PATTERNS, type Pattern, type Population, type Request } from './population.js';
import { realAttackStream, surrogateAgreement, type RealAttack } from './real-attacks.js';
import { buildRealWorld, type RealWorld } from './victims.js';

const LEVEL_FLAG = 1;
const LEVEL_DEGRADE = 2;

const worlds = new Map<string, RealWorld>();
/** A population with the victim's answers to each of its requests, computed once per worker. */
interface AnsweredPopulation extends Population {
  readonly classes: readonly number[][];
  readonly margins: readonly number[][];
}
const populations = new Map<string, AnsweredPopulation>();

/** The data set's world (victim trained once per worker and seed). */
export function worldOf(name: string, seed: number): RealWorld {
  const key = `${name}|${seed}`;
  let w = worlds.get(key);
  if (!w) worlds.set(key, (w = buildRealWorld(name, seed)));
  return w;
}

function populationOf(w: RealWorld, users: number, seed: number): AnsweredPopulation {
  const key = `${w.data.name}|${w.seed}|${users}|${seed}`;
  let p = populations.get(key);
  if (!p) {
    const pop = buildPopulation(w, users, seed);
    const classes: number[][] = [];
    const margins: number[][] = [];
    for (const r of pop.requests) {
      classes.push(r.rows.map((x) => w.victim.answer(x)));
      margins.push(r.rows.map((x) => (w.victim.answer(x), w.victim.margin)));
    }
    populations.set(key, (p = { ...pop, classes, margins }));
  }
  return p;
}

function newGuard(w: RealWorld): GuardUnderTest {
  return guardUnderTest(w.data.name, w.features, w.victim.kind === 'regression' ? undefined : w.victim.labels, {
    now: 0,
  });
}

const classes: number[] = [];
const margins: number[] = [];

/** Sends one request through the victim (the answers the gateway sees) and the guard. */
function send(
  g: GuardUnderTest,
  w: RealWorld,
  user: string,
  rows: readonly Float64Array[],
  now: number,
  timings?: number[],
): void {
  classes.length = rows.length;
  margins.length = rows.length;
  for (let i = 0; i < rows.length; i++) {
    classes[i] = w.victim.answer(rows[i]!);
    margins[i] = w.victim.margin;
  }
  g.request(user, rows, classes, margins, now, timings);
}

export interface RealBenignOutcome {
  readonly dataset: string;
  readonly users: number;
  readonly queries: number;
  /** Users the detector ever flagged (or worse), acted on or not. */
  readonly flagged: number;
  /** Users flagged (or worse) while the calibration was in force. */
  readonly flaggedCalibrated: number;
  /** Users ever degraded or worse as enforce mode applied it (nothing while uncalibrated; breaker caps applied). */
  readonly degraded: number;
  /** Users whose reached level was ever degrade or worse, acted on or not. */
  readonly degradedReached: number;
  readonly breakerTrips: number | undefined;
  readonly breakerDetectors: readonly string[];
  /** When the calibration came into force (hours after the population went live); NaN: never. */
  readonly enforcingAfterHours: number;
  /** Flagged users by the detector that first alarmed on them. */
  readonly byDetector: Record<string, number>;
  /** Users ever flagged, per pattern: [flagged, users]. */
  readonly byPattern: Record<string, [number, number]>;
  /** Per-query cost of the guard (µs), sampled. */
  readonly p50us: number;
  readonly p99us: number;
}

/**
 * The whole benign population of one model through one guard, interleaved in time: who was ever
 * flagged or degraded, how often the breaker tripped, what a query costs.
 */
export function runRealBenign(name: string, seed: number, users: number): RealBenignOutcome {
  const w = worldOf(name, seed);
  const pop = populationOf(w, users, seed);
  const g = newGuard(w);
  const maxLevel = new Uint8Array(users);
  const maxEnforced = new Uint8Array(users);
  const maxCalibrated = new Uint8Array(users);
  const took: number[] = [];
  let enforcingAt = Number.NaN;
  let k = 0;
  for (let i = 0; i < pop.requests.length; i++) {
    const r = pop.requests[i]!;
    const user = `user-${r.user}`;
    // Every row of one request in eight timed (the scoring of the row alone): enough for a p99.
    g.request(user, r.rows, pop.classes[i]!, pop.margins[i]!, r.t, (k++ & 7) === 0 ? took : undefined);
    const level = g.level(user, r.t);
    if (level > maxLevel[r.user]!) maxLevel[r.user] = level;
    if (g.enforcing() && level > maxCalibrated[r.user]!) maxCalibrated[r.user] = level;
    const enforced = g.enforced(user, r.t);
    if (enforced > maxEnforced[r.user]!) maxEnforced[r.user] = enforced;
    if (Number.isNaN(enforcingAt) && g.enforcing()) enforcingAt = r.t;
  }
  const breaker = g.breakerTrips();
  const byDetector: Record<string, number> = {};
  maxLevel.forEach((l, u) => {
    if (l < LEVEL_FLAG) return;
    const d = g.firstAlarm(`user-${u}`, pop.requests[pop.requests.length - 1]!.t) ?? 'unknown';
    byDetector[d] = (byDetector[d] ?? 0) + 1;
  });
  took.sort((a, b) => a - b);
  const byPattern: Record<string, [number, number]> = Object.fromEntries(PATTERNS.map((p) => [p, [0, 0]]));
  pop.patterns.forEach((p: Pattern, u) => {
    byPattern[p]![1]++;
    if (maxLevel[u]! >= LEVEL_FLAG) byPattern[p]![0]++;
  });
  return {
    dataset: name,
    users,
    queries: pop.queries,
    flagged: maxLevel.filter((l) => l >= LEVEL_FLAG).length,
    flaggedCalibrated: maxCalibrated.filter((l) => l >= LEVEL_FLAG).length,
    degraded: maxEnforced.filter((l) => l >= LEVEL_DEGRADE).length,
    degradedReached: maxLevel.filter((l) => l >= LEVEL_DEGRADE).length,
    breakerTrips: breaker?.trips,
    breakerDetectors: breaker?.detectors ?? [],
    enforcingAfterHours: enforcingAt / 3_600_000,
    byPattern,
    byDetector,
    p50us: took[Math.floor(took.length * 0.5)] ?? Number.NaN,
    p99us: took[Math.floor(took.length * 0.99)] ?? Number.NaN,
  };
}

export interface RealAttackVariant {
  readonly dataset: string;
  readonly attack: RealAttack;
  /** Share of the attacker's queries that are exact real rows. */
  readonly mix: number;
  readonly budget: number;
  /** Benign users live beside the attacker. */
  readonly users: number;
  /**
   * When the attacker arrives: `live`, six hours after the population went live (every benign
   * user has started, the calibration is in force); `early`, ten minutes after (a handful of
   * accounts, no calibration: the model runs in shadow).
   */
  readonly arrival: 'live' | 'early';
}

export interface RealAttackOutcome {
  /** Attack queries sent when the account was first flagged (0: never within the budget). */
  readonly flaggedAt: number;
  /** … when enforce mode first degraded it (0: never). */
  readonly degradedAt: number;
  /** The detector that first alarmed on the attacker ('' when none did). */
  readonly firstAlarm: string;
  /** Whether the model's calibration was in force when the attacker joined. */
  readonly enforcingAtJoin: boolean;
  /** Surrogate agreement with the victim on held-out rows when flagged (or at the budget's end if never). */
  readonly agreement: number;
  /** … when first degraded (NaN: never). */
  readonly agreementDegraded: number;
  /** Benign users flagged while the attacker was live (the population's own false alarms). */
  readonly benignFlagged: number;
}

/** An early attacker's arrival after the population went live. */
const EARLY_JOIN_MS = 10 * 60_000;

/** Attacker requests: ten rows every two seconds. */
const ATTACK_BATCH = 10;
const ATTACK_GAP_MS = 2000;

/**
 * One attacker account joins a model whose benign population has been live for a while
 * (`population.horizon`: every benign user has started), and sends its queries interleaved with
 * the population's, until its account is degraded or its budget is spent. `attackStream` replaces
 * the named attack's rows (probes of attacks outside the bench's table, bench/extraction/adaptive-probe.ts).
 */
export function runRealAttack(
  v: RealAttackVariant,
  seed: number,
  worldSeed: number,
  attackStream?: (w: RealWorld) => Iterator<Float64Array>,
): RealAttackOutcome {
  const w = worldOf(v.dataset, worldSeed);
  const pop = populationOf(w, v.users, worldSeed);
  const g = newGuard(w);
  const requests = pop.requests;
  const join = v.arrival === 'early' ? EARLY_JOIN_MS : pop.horizon;
  const flaggedUsers = new Set<number>();
  let next = 0;
  const replayUntil = (t: number) => {
    for (; next < requests.length && requests[next]!.t <= t; next++) {
      const r: Request = requests[next]!;
      g.request(`user-${r.user}`, r.rows, pop.classes[next]!, pop.margins[next]!, r.t);
      if (r.t >= join && g.level(`user-${r.user}`, r.t) >= LEVEL_FLAG) flaggedUsers.add(r.user);
    }
  };
  replayUntil(join);
  const enforcingAtJoin = g.enforcing();
  const stream = attackStream ? attackStream(w) : realAttackStream(v.attack, w, seed, v.mix);
  const sent: Float64Array[] = [];
  let flaggedAt = 0;
  let degradedAt = 0;
  let agreement = Number.NaN;
  let agreementDegraded = Number.NaN;
  let last = join;
  for (let t = join; sent.length < v.budget; t += ATTACK_GAP_MS) {
    last = t;
    replayUntil(t);
    const batch: Float64Array[] = [];
    for (let i = 0; i < ATTACK_BATCH && sent.length < v.budget; i++) {
      const x = stream.next().value as Float64Array;
      batch.push(x);
      sent.push(x);
    }
    send(g, w, 'attacker', batch, t);
    if (flaggedAt === 0 && g.level('attacker', t) >= LEVEL_FLAG) {
      flaggedAt = sent.length;
      agreement = surrogateAgreement(w, sent);
    }
    if (g.enforced('attacker', t) >= LEVEL_DEGRADE) {
      degradedAt = sent.length;
      agreementDegraded = surrogateAgreement(w, sent);
      break;
    }
  }
  if (flaggedAt === 0) agreement = surrogateAgreement(w, sent);
  return {
    flaggedAt,
    degradedAt,
    firstAlarm: g.firstAlarm('attacker', last) ?? '',
    enforcingAtJoin,
    agreement,
    agreementDegraded,
    benignFlagged: flaggedUsers.size,
  };
}
