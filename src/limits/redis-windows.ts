import type { Cluster, Redis } from 'ioredis';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { RedisDeadlines } from '../stores/redis-health.js';
import { CHARGE_SCRIPT } from './charge-script.js';
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
  /** Under the `insurance` policy: answers while Redis does not, seeded with what Redis said. */
  readonly insurance: LocalWindows | undefined;
  readonly metrics: GatewayMetrics;
}

type ChargeCommand = (numKeys: number, ...args: Array<string | number>) => Promise<number[]>;
const TIMED_OUT = Symbol('timed out');
const COMMAND = 'igwChargeWindows';

/**
 * Windows shared by every replica through one Redis script per request (see charge-script.ts).
 *
 * The script's deadline is half the command timeout after sending: a script that starts later
 * charges nothing, and the other half covers the answer's way back, so an answer that misses the
 * timeout comes from a script that did not charge, except when the answer itself took longer
 * than half the timeout on the wire. When the timer fires, the decision waits for one more turn
 * of the event loop (setImmediate runs after the poll phase), so an answer already received while
 * the process was busy is read before the request is declared timed out: a loaded pod's late
 * timers are not Redis failures.
 */
export class RedisWindows implements CounterStore {
  readonly kind = 'redis' as const;
  private readonly command: ChargeCommand;
  private readonly argTails = new WeakMap<WindowGroup, ReadonlyArray<number>>();
  private inFlight = 0;

  constructor(private readonly o: RedisWindowsOptions) {
    const client = o.client as unknown as Record<string, unknown> & { defineCommand(name: string, d: { lua: string }): void };
    if (typeof client[COMMAND] !== 'function') client.defineCommand(COMMAND, { lua: CHARGE_SCRIPT });
    this.command = (client[COMMAND] as ChargeCommand).bind(client);
  }

  async charge(user: string, group: WindowGroup, cost: number): Promise<Charge> {
    if (this.inFlight >= this.o.maxInFlight) return this.fallback(user, group, cost, 'overloaded');
    const debt = this.o.insurance?.debt(user, group) ?? 0;
    const n = group.windows.length;
    const tag = tagOf(user);
    const args = new Array<string | number>(n + 4);
    for (let i = 0; i < n; i++) args[i] = `${this.o.keyPrefix}{${tag}}:${group.id}:${group.windows[i]!.name}`;
    args[n] = Math.floor(this.o.now());
    args[n + 1] = this.o.deadlines.deadline(this.o.timeoutMs / 2);
    args[n + 2] = cost;
    args[n + 3] = debt;
    args.push(...this.tail(group));

    let reply: number[] | typeof TIMED_OUT;
    this.inFlight++;
    try {
      reply = await settleWithin(this.command(n, ...args), this.o.timeoutMs);
    } catch {
      return this.fallback(user, group, cost, 'error');
    } finally {
      this.inFlight--;
    }
    if (reply === TIMED_OUT) return this.fallback(user, group, cost, 'timeout');
    if (reply[0] === -1) return this.fallback(user, group, cost, 'stale');

    const used = new Float64Array(n);
    const resetMs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      used[i] = Number(reply[1 + 2 * i]);
      resetMs[i] = Number(reply[2 + 2 * i]);
    }
    this.o.insurance?.observe(user, group, used, resetMs, debt);
    return chargeOutcome(group, reply[0] === 1, cost, used, resetMs);
  }

  private fallback(user: string, group: WindowGroup, cost: number, reason: StoreFailure): Charge {
    this.o.metrics.limitsStoreFailures.inc({ reason });
    if (!this.o.insurance) return { kind: 'unavailable', reason };
    this.o.metrics.limitsStoreFallbacks.inc({ policy: 'insurance' });
    return this.o.insurance.charge(user, group, cost);
  }

  private tail(group: WindowGroup): ReadonlyArray<number> {
    let t = this.argTails.get(group);
    if (!t) {
      t = group.limits.flatMap((limit, i) => [limit, group.durationsMs[i]!]);
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
