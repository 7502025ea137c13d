import type { Cluster, Redis } from 'ioredis';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { RedisDeadlines } from '../stores/redis-health.js';
import { CHARGE_SCRIPT } from './charge-script.js';
import type { DebtLedger, Handover } from './debt-ledger.js';
import { leaseKey, MAX_WAITS, type Lease, type Leases } from './leases.js';
import type { LocalWindows } from './local-windows.js';
import { chargeOutcome, type Charge, type CounterStore, type StoreFailure, type WindowGroup } from './window-group.js';

export interface RedisWindowsOptions {
  readonly client: Redis | Cluster;
  readonly keyPrefix: string;
  /** Longest wait for the script's answer. */
  readonly timeoutMs: number;
  /** Commands waiting for a silent Redis beyond this are not sent: the failure policy answers at once. */
  readonly maxInFlight: number;
  readonly deadlines: RedisDeadlines;
  /** Window time: the gateway's clock (injected in tests), so windows move with it. */
  readonly now: () => number;
  /** What answers when Redis does not: under `fail-open` a failed charge is served, so Redis must count it later. */
  readonly onFailure: 'insurance' | 'fail-open' | 'fail-closed';
  /** Under the `insurance` policy: answers while Redis does not, seeded with what Redis said. */
  readonly insurance: LocalWindows | undefined;
  /** What was decided while Redis did not answer, to hand over once it does (bounded like the insurance limiter). */
  readonly ledger: DebtLedger;
  /** Quota leasing (leases.ts): undefined charges every request in Redis. */
  readonly leases?: Leases | undefined;
  readonly metrics: GatewayMetrics;
}

/** What an acquiring script asks for and gives back. */
interface LeaseAsk {
  readonly key: string;
  readonly returned: Lease | undefined;
  /** Most predictions to ask for (maxPredictions when none is held). */
  readonly ask?: number;
}

type ChargeCommand = (numKeys: number, ...args: Array<string | number>) => Promise<number[]>;
const TIMED_OUT = Symbol('timed out');
const COMMAND = 'igwChargeWindows';
/** Debts handed over at once by the flush that follows an outage. */
const FLUSH_BATCH = 64;

/**
 * Windows shared by every replica through one Redis script per request (see charge-script.ts).
 *
 * The script's deadline is the command timeout: a script that starts later charges nothing (the
 * gateway has answered from its failure policy by then), and one that ran in time but whose
 * answer came too late is refunded (below), so Redis' count never depends on how long the answer
 * took on the way back. When the timer fires, the
 * decision waits for one more turn of the event loop (setImmediate runs after the poll phase), so
 * an answer already received while the process was busy is read before the request is declared
 * timed out: a loaded pod's late timers are not Redis failures.
 *
 * Whatever the failure policy answers is reconciled with Redis exactly once. A request served
 * without Redis' count (insurance, fail-open) is owed; when the answer of a timed-out script
 * arrives after all and says it charged, its cost is refunded instead (the failure policy had
 * already decided: a 503 or a 429 must cost nothing, a served request must not count twice). The
 * ledger hands what is owed to Redis with a token Redis deduplicates, with the identity's next
 * script or right after Redis answers a probe again.
 */
export class RedisWindows implements CounterStore {
  readonly kind = 'redis' as const;
  private readonly command: ChargeCommand;
  private readonly argTails = new WeakMap<WindowGroup, ReadonlyArray<number>>();
  private inFlight = 0;
  /** Costs of timed-out scripts whose answer has not arrived: Redis may still report them charged. */
  private unresolved = 0;
  private flushing = false;
  private readonly sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly o: RedisWindowsOptions) {
    const client = o.client as unknown as Record<string, unknown> & {
      defineCommand(name: string, d: { lua: string }): void;
    };
    if (typeof client[COMMAND] !== 'function') client.defineCommand(COMMAND, { lua: CHARGE_SCRIPT });
    this.command = (client[COMMAND] as ChargeCommand).bind(client);
    o.deadlines.onAnswer(() => void this.flush());
    if (o.leases) {
      o.leases.lowWater = (lease, key) => this.topUp(lease.user, lease.group, key);
      // Slices left unspent by identities that went quiet go back at most one lease period after they expire.
      this.sweeper = setInterval(() => this.returnLeases(o.leases!.takeExpired(o.now())), o.leases.o.seconds * 1000);
      this.sweeper.unref();
    }
  }

  /** Predictions whose count in Redis is not settled yet: owed, being handed over, or awaiting a late answer. */
  get unsettled(): number {
    return this.o.ledger.uncounted + this.unresolved;
  }

  /** Predictions Redis counts as used that this replica holds in leases and has not spent. */
  get leased(): number {
    return this.o.leases?.held ?? 0;
  }

  /** Stops the sweep and returns every unspent lease (shutdown): waits for Redis at most the command timeout. */
  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    if (!this.o.leases) return;
    await Promise.all(this.returnLeases(this.o.leases.takeAll(this.o.now())));
  }

  /**
   * Spends the identity's lease when it covers the cost (no round trip, synchronous like the
   * memory store); otherwise asks Redis, for this request and, when no other request of the
   * identity is asking already, for a new lease.
   */
  charge(user: string, group: WindowGroup, cost: number): Charge | Promise<Charge> {
    const leases = this.o.leases;
    if (!leases) return this.ask(user, group, cost, undefined);
    return this.chargeLeased(user, group, cost, leaseKey(user, group), 0);
  }

  /** From the identity's slice, or after the acquisition in flight (at most MAX_WAITS of them), or on its own. */
  private chargeLeased(
    user: string,
    group: WindowGroup,
    cost: number,
    key: string,
    waited: number,
  ): Charge | Promise<Charge> {
    const leases = this.o.leases!;
    const local = leases.spend(key, cost, this.o.now());
    if (local) return local;
    const answer = waited < MAX_WAITS ? leases.inFlight(key, this.o.now(), cost) : undefined;
    if (!answer) return this.ask(user, group, cost, key);
    return answer.then((outcome) => {
      if (outcome === 'granted') return this.chargeLeased(user, group, cost, key, waited + 1);
      return (
        leases.spend(key, cost, this.o.now()) ??
        (outcome === 'timeout' ? this.fallback(user, group, cost, 'timeout') : this.ask(user, group, cost, key))
      );
    });
  }

  /** Asks Redis for more of a slice that fell below half, in the background (no request waits on it unless the slice runs dry). */
  private topUp(user: string, group: WindowGroup, key: string): void {
    const leases = this.o.leases!;
    if (this.inFlight >= this.o.maxInFlight) return;
    const deadline = this.o.deadlines.deadline(this.o.timeoutMs);
    if (deadline === undefined) return;
    const ask = leases.beginTopUp(key, this.o.now());
    if (ask === 0) return;
    const now = Math.floor(this.o.now());
    const lease: LeaseAsk = { key, returned: undefined, ask };
    const sent = this.send(user, group, 0, deadline, undefined, now, lease);
    settleWithin(sent, this.o.timeoutMs).then(
      (reply) => {
        if (reply === TIMED_OUT) {
          leases.release(key, true);
          return this.settleLate(sent, user, group, 0, undefined, now, lease);
        }
        this.inFlight--;
        if (reply[0] === -1) return leases.abandon(key);
        this.endLease(reply, user, group, now, lease, true);
      },
      () => {
        this.inFlight--;
        leases.abandon(key);
      },
    );
  }

  /** Installs what an acquiring script granted. */
  private endLease(
    reply: number[],
    user: string,
    group: WindowGroup,
    now: number,
    lease: LeaseAsk,
    observe = false,
  ): number {
    const n = group.windows.length;
    const used = new Float64Array(n);
    const resetMs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      used[i] = Number(reply[1 + 2 * i]);
      resetMs[i] = Number(reply[2 + 2 * i]);
    }
    // Insurance starts from a count with the new slice in it (the slice is spent first if Redis fails).
    if (observe) this.o.insurance?.observe(user, group, used, resetMs, this.o.ledger.outstanding(user, group));
    const granted = Number(reply[1 + 2 * n] ?? 0);
    this.o.leases!.end(lease.key, user, group, granted, now, used, resetMs);
    return granted;
  }

  private async ask(user: string, group: WindowGroup, cost: number, key: string | undefined): Promise<Charge> {
    if (this.inFlight >= this.o.maxInFlight) return this.fallback(user, group, cost, 'overloaded');
    const deadline = this.o.deadlines.deadline(this.o.timeoutMs);
    if (deadline === undefined) return this.fallback(user, group, cost, 'unprobed');
    const handover = this.o.ledger.handoverFor(user, group);
    const begun = key !== undefined ? this.o.leases!.begin(key, this.o.now()) : false;
    const lease: LeaseAsk | undefined = begun ? { key: key!, returned: begun.returned, ask: begun.ask } : undefined;
    const now = Math.floor(this.o.now());
    const sent = this.send(user, group, cost, deadline, handover, now, lease);

    let reply: number[] | typeof TIMED_OUT;
    try {
      reply = await settleWithin(sent, this.o.timeoutMs);
    } catch {
      // Refused by the client (not connected) or by Redis before the script ran: nothing charged
      // (and a returned lease not returned: Redis keeps counting it, the safe side, until its windows end).
      this.inFlight--;
      if (lease) this.o.leases!.abandon(lease.key);
      return this.fallback(user, group, cost, 'error');
    }
    if (reply === TIMED_OUT) {
      // Requests waiting for this acquisition go on; a late answer may still grant.
      if (lease) this.o.leases!.release(lease.key, true);
      this.settleLate(sent, user, group, cost, handover, now, lease);
      return this.fallback(user, group, cost, 'timeout');
    }
    this.inFlight--;
    if (reply[0] === -1) {
      if (lease) this.o.leases!.abandon(lease.key);
      return this.fallback(user, group, cost, 'stale');
    }
    if (handover) this.o.ledger.confirm(user, group, handover);

    const n = group.windows.length;
    const used = new Float64Array(n);
    const resetMs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      used[i] = Number(reply[1 + 2 * i]);
      resetMs[i] = Number(reply[2 + 2 * i]);
    }
    // Insurance starts from Redis' count with this replica's new lease in it: were Redis to fail
    // now, the lease is spent first and the insurance share must not hand it out again.
    this.o.insurance?.observe(user, group, used, resetMs, this.o.ledger.outstanding(user, group));
    const granted = Number(reply[1 + 2 * n] ?? 0);
    if (lease) this.o.leases!.end(lease.key, user, group, granted, now, used, resetMs);
    // The answer describes what this replica can still admit: its own fresh lease counts as left.
    if (granted > 0) for (let i = 0; i < n; i++) used[i] = used[i]! - granted;
    return chargeOutcome(group, reply[0] === 1, cost, used, resetMs);
  }

  private send(
    user: string,
    group: WindowGroup,
    cost: number,
    deadline: number,
    handover: Handover | undefined,
    now: number,
    lease?: LeaseAsk,
    returned: Lease | undefined = lease?.returned,
  ): Promise<number[]> {
    const n = group.windows.length;
    const tag = tagOf(user);
    const keys = handover ? n + 1 : n;
    const leases = this.o.leases;
    const args = new Array<string | number>(keys + 9);
    for (let i = 0; i < n; i++) args[i] = `${this.o.keyPrefix}{${tag}}:${group.id}:${group.windows[i]!.name}`;
    if (handover) args[n] = `${this.o.keyPrefix}{${tag}}:handover:${handover.token}`;
    args[keys] = now;
    args[keys + 1] = deadline;
    args[keys + 2] = cost;
    args[keys + 3] = handover?.amount ?? 0;
    args[keys + 4] = this.tokenLifetimeMs(group);
    args[keys + 5] = lease && leases ? (lease.ask ?? leases.o.maxPredictions) : 0;
    args[keys + 6] = leases?.divisor ?? 2;
    args[keys + 7] = leases?.o.minPredictions ?? 1;
    args[keys + 8] = returned?.left ?? 0;
    if (returned) for (let i = 0; i < n; i++) args.push(group.limits[i]!, group.durationsMs[i]!, returned.resetAt[i]!);
    else args.push(...this.tail(group));
    // Counted until Redis answers, not until the gateway stops waiting: what waits on a frozen Redis is bounded.
    this.inFlight++;
    return this.command(keys, ...args);
  }

  /**
   * The answer of a script that timed out: when it ran in time after all, the debt it carried is
   * counted, and so is its cost, which the failure policy already decided on: refunded.
   */
  private settleLate(
    sent: Promise<number[]>,
    user: string,
    group: WindowGroup,
    cost: number,
    handover: Handover | undefined,
    now = 0,
    lease?: LeaseAsk,
  ): void {
    this.unresolved += cost;
    sent.then(
      (reply) => {
        this.inFlight--;
        this.unresolved -= cost;
        if (reply[0] === -1) {
          if (lease) this.o.leases!.abandon(lease.key);
          return;
        }
        if (handover) this.o.ledger.confirm(user, group, handover);
        if (reply[0] === 1) this.o.ledger.owe(user, group, -cost);
        // A lease granted late is still reserved in Redis: this replica spends it (or returns it).
        if (lease) this.endLease(reply, user, group, now, lease);
      },
      // No answer: the connection closed, or the client's backstop timeout (redis-client.ts) fired
      // long after the deadline. Taken as not charged, which is wrong only for a script that ran
      // and whose answer was lost with its connection (a lease it granted stays counted, unspent).
      () => {
        this.inFlight--;
        this.unresolved -= cost;
        if (lease) this.o.leases!.abandon(lease.key);
      },
    );
  }

  /**
   * Gives unspent leases back, each once: a return whose answer is lost or late is not resent (it
   * may have been applied), so at worst Redis keeps counting a slice nobody spends until its
   * windows end: fewer admitted, never more. Without a probed Redis they wait for the next sweep.
   */
  private returnLeases(leases: readonly Lease[]): Array<Promise<void>> {
    const out: Array<Promise<void>> = [];
    for (const lease of leases) {
      const deadline = this.inFlight < this.o.maxInFlight ? this.o.deadlines.deadline(this.o.timeoutMs) : undefined;
      if (deadline === undefined) {
        this.o.leases!.keep(lease);
        continue;
      }
      const sent = this.send(
        lease.user,
        lease.group,
        0,
        deadline,
        undefined,
        Math.floor(this.o.now()),
        undefined,
        lease,
      );
      out.push(
        settleWithin(sent, this.o.timeoutMs).then(
          () => undefined,
          () => undefined,
        ),
      );
      sent.then(
        () => this.inFlight--,
        () => this.inFlight--,
      );
    }
    return out;
  }

  private fallback(user: string, group: WindowGroup, cost: number, reason: StoreFailure): Charge {
    this.o.metrics.limitsStoreFailures.inc({ reason });
    const insurance = this.o.insurance;
    if (!insurance) {
      if (this.o.onFailure === 'fail-open') this.o.ledger.owe(user, group, cost);
      return { kind: 'unavailable', reason };
    }
    this.o.metrics.limitsStoreFallbacks.inc({ policy: 'insurance' });
    const charged = insurance.charge(user, group, cost);
    if (charged.kind === 'allowed') this.o.ledger.owe(user, group, cost);
    return charged;
  }

  /**
   * Hands every debt to Redis after it answered a probe, so what an outage left is counted even for
   * identities that send nothing more. One flush at a time; a debt whose script fails stays owed.
   */
  private async flush(): Promise<void> {
    if (this.flushing || this.o.ledger.size === 0) return;
    this.flushing = true;
    try {
      const pending = this.o.ledger.pending();
      for (let at = 0; at < pending.length; at += FLUSH_BATCH) {
        await Promise.all(pending.slice(at, at + FLUSH_BATCH).map(({ user, group }) => this.handOver(user, group)));
      }
    } finally {
      this.flushing = false;
    }
  }

  private async handOver(user: string, group: WindowGroup): Promise<void> {
    const deadline = this.o.deadlines.deadline(this.o.timeoutMs);
    const handover = this.o.ledger.handoverFor(user, group);
    if (deadline === undefined || !handover) return;
    const sent = this.send(user, group, 0, deadline, handover, Math.floor(this.o.now()));
    try {
      const reply = await settleWithin(sent, this.o.timeoutMs);
      if (reply === TIMED_OUT) return this.settleLate(sent, user, group, 0, handover);
      this.inFlight--;
      if (reply[0] !== -1) this.o.ledger.confirm(user, group, handover);
    } catch {
      // Stays owed: handed over by the next script of the identity or the next flush.
      this.inFlight--;
    }
  }

  /** A token must outlive every copy of its script that may still run: the longest window is more than enough. */
  private tokenLifetimeMs(group: WindowGroup): number {
    return Math.max(...group.durationsMs);
  }

  private tail(group: WindowGroup): ReadonlyArray<number> {
    let t = this.argTails.get(group);
    if (!t) {
      t = group.limits.flatMap((limit, i) => [limit, group.durationsMs[i]!, 0]);
      this.argTails.set(group, t);
    }
    return t;
  }
}

/**
 * The hash tag of a user's keys. Redis Cluster hashes only the part between the first `{` and
 * the next `}` (https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags),
 * so braces inside the user are escaped to keep every key of one user in one slot. `%` is escaped
 * too whenever anything is, so two different users never share a tag.
 */
export function tagOf(user: string): string {
  return /[{}%]/.test(user) ? user.replaceAll('%', '%25').replaceAll('{', '%7B').replaceAll('}', '%7D') : user;
}

function settleWithin<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      setImmediate(() => {
        if (settled) return;
        settled = true;
        resolve(TIMED_OUT);
      });
    }, ms);
    p.then(
      (v) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
