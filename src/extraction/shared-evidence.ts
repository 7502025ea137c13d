import type { Closeable } from '../decision/closeable.js';
import type { Clock, Timer } from '../decision/clock.js';
import type { RedisConnection } from '../stores/stores.js';
import type { AccountState } from './account-state.js';

/** What a replica does with the answers of a flush. */
export interface SharedEvidenceSink {
  /**
   * The account's evidence summed over every replica (this one's not yet sent increments
   * included), decayed to `at`, the clock's time when the answer came.
   */
  shared(acc: AccountState, evidence: number, at: number): void;
  /** A flush failed: `updates` updates of the account stayed in this replica's memory only. */
  failed(updates: number): void;
}

export interface SharedEvidenceOptions {
  /** How long updates gather in memory before they go to Redis in one round trip. */
  readonly flushMs: number;
  /** Accounts one flush carries at most: a batch that reaches it is sent at once (bounded memory). */
  readonly maxPending?: number;
  readonly clock: Clock;
}

/** About 200 bytes per pending account: a full batch holds well under a megabyte. */
export const DEFAULT_MAX_PENDING = 2048;

/**
 * Evidence shared by the replicas through Redis, with commutative updates only, so replicas need
 * no coordination: per account one hash (key hash-tagged on model and user, so a cluster keeps
 * it on one slot) holding the query count (HINCRBY), the first-seen time (HSETNX) and the
 * evidence as forward-decayed sums (HINCRBYFLOAT; Cormode, Shkapenyuk, Srivastava, Xu,
 * "Forward Decay: A Practical Time Decay Model for Streaming Systems", ICDE 2009): an increment
 * a at time t adds a·2^((t − b·B)/h) to the field of its bucket b = ⌊t/B⌋ (B = 32 half-lives h,
 * so the factors stay below 2³²); the value at time T is Σ_b S_b·2^((b·B − T)/h). Every key
 * has a TTL (the idle time), refreshed on write.
 *
 * Because the updates commute, a replica sums them in memory per account for `flushMs` and then
 * sends every pending account in one script that both writes this replica's increments and reads
 * back each account's sum over all replicas: one round trip per window, however many requests
 * and accounts it saw (at one request at a time, one script per request was most of the cost of
 * sharing). At most one flush is in flight: a window that ends meanwhile is sent when it settles.
 * A batch that reaches `maxPending` accounts is sent at once (or right after the one in flight);
 * while one is in flight and the next is full, updates of further accounts stay in this
 * replica's memory and are reported as failed, so memory stays bounded when Redis is slow.
 *
 * Redis Cluster refuses a script whose keys lie in several slots, and the keys are hash-tagged
 * per account: on a cluster each account goes as its own script, all issued in one turn of the
 * event loop, each routed to the node of its slot (redis-client.ts).
 */
export class SharedEvidence implements Closeable {
  private readonly bucketMs: number;
  private readonly maxPending: number;
  private pending = new Map<AccountState, Pending>();
  private timer: Timer | undefined;
  private inFlight: Promise<void> | undefined;
  /** The window ended (or the batch filled, or the store closes) while a flush was in flight. */
  private due = false;
  private closed = false;
  private readonly command: EvidenceCommand;
  private readonly cluster: boolean;

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly halfLifeMs: number,
    private readonly idleMs: number,
    private readonly sink: SharedEvidenceSink,
    private readonly options: SharedEvidenceOptions,
  ) {
    this.bucketMs = 32 * halfLifeMs;
    this.maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
    this.cluster = redis.isCluster;
    const client = redis as unknown as Record<string, unknown> & {
      defineCommand(name: string, d: { lua: string }): void;
    };
    if (typeof client[COMMAND] !== 'function') client.defineCommand(COMMAND, { lua: ADD_SCRIPT });
    this.command = (client[COMMAND] as EvidenceCommand).bind(client);
  }

  key(model: string, user: string): string {
    // Braces are the cluster hash tag; user ids may contain braces, so they are escaped.
    return `${this.prefix}extraction:{${encodeURIComponent(model)}|${encodeURIComponent(user)}}`;
  }

  /** Adds `queries` and `evidence` for the account to the next flush; its answer goes to the sink. */
  add(acc: AccountState, queries: number, evidence: number, now: number): void {
    let p = this.pending.get(acc);
    if (!p) {
      if (this.pending.size >= this.maxPending) {
        // Full while the previous flush is in flight: this update stays local.
        this.sink.failed(1);
        return;
      }
      p = { updates: 0, queries: 0, since: acc.since, increments: new Map() };
      this.pending.set(acc, p);
      this.timer ??= this.options.clock.setTimer(this.options.flushMs, () => {
        this.timer = undefined;
        this.flushWhenFree();
      });
    }
    p.updates++;
    p.queries += queries;
    if (evidence > 0) {
      const b = Math.floor(now / this.bucketMs);
      const field = `e:${b}`;
      const inc = evidence * Math.pow(2, (now - b * this.bucketMs) / this.halfLifeMs);
      p.increments.set(field, (p.increments.get(field) ?? 0) + inc);
    }
    if (this.closed || this.pending.size >= this.maxPending) this.flushWhenFree();
  }

  /** Sends what is pending now (after the flush in flight) and resolves once Redis has answered it. */
  async flush(): Promise<void> {
    if (this.inFlight) await this.inFlight;
    // Settling may have sent it already (a window that ended meanwhile).
    if (!this.inFlight && this.pending.size > 0) this.send();
    await this.settled();
  }

  private async settled(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  /** Shutdown: what is pending goes to Redis before the connection closes. */
  async close(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
    await this.flush();
  }

  async remove(model: string, user: string): Promise<void> {
    await this.redis.del(this.key(model, user));
  }

  private flushWhenFree(): void {
    if (this.inFlight) this.due = true;
    else if (this.pending.size > 0) this.send();
  }

  private send(): void {
    const batch = this.pending;
    this.pending = new Map();
    this.due = false;
    this.timer?.cancel();
    this.timer = undefined;
    const accounts = [...batch.keys()];
    const keys = accounts.map((a) => this.key(a.model, a.user));
    const argsOf = (p: Pending, out: Array<string | number>) => {
      out.push(p.queries, p.since, p.increments.size);
      for (const [field, inc] of p.increments) out.push(field, inc);
    };
    let answer: Promise<string[][]>;
    if (this.cluster)
      answer = Promise.all(
        accounts.map((a, i) => {
          const args: Array<string | number> = [1, keys[i]!, this.idleMs];
          argsOf(batch.get(a)!, args);
          return this.command(...args).then((r) => r[0]!);
        }),
      );
    else {
      const args: Array<string | number> = [keys.length, ...keys, this.idleMs];
      for (const p of batch.values()) argsOf(p, args);
      answer = this.command(...args);
    }
    this.inFlight = answer
      .then(
        (hashes) => {
          const at = this.options.clock.now();
          for (let i = 0; i < accounts.length; i++) {
            const acc = accounts[i]!;
            const later = this.pending.get(acc);
            const evidence =
              this.valueOf(hashes[i] ?? [], at) + (later ? this.valueOf(flatten(later.increments), at) : 0);
            this.sink.shared(acc, evidence, at);
          }
        },
        () => {
          let updates = 0;
          for (const p of batch.values()) updates += p.updates;
          this.sink.failed(updates);
        },
      )
      .finally(() => {
        this.inFlight = undefined;
        if (this.due || this.closed || this.pending.size >= this.maxPending) this.flushWhenFree();
      });
  }

  /** The decayed value at `now` of flattened field/value pairs (an HGETALL answer). */
  private valueOf(flat: ReadonlyArray<string | number>, now: number): number {
    let v = 0;
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const name = String(flat[i]);
      if (!name.startsWith('e:')) continue;
      const b = Number(name.slice(2));
      v += Number(flat[i + 1]) * Math.pow(2, (b * this.bucketMs - now) / this.halfLifeMs);
    }
    return v;
  }
}

const flatten = (m: ReadonlyMap<string, number>): Array<string | number> => [...m].flat();

interface Pending {
  /** add() calls summed here: what a failed flush counts. */
  updates: number;
  queries: number;
  readonly since: number;
  /** Forward-decayed evidence by bucket field. */
  readonly increments: Map<string, number>;
}

type EvidenceCommand = (...args: Array<string | number>) => Promise<string[][]>;
const COMMAND = 'igwAddEvidenceBatch';

/**
 * KEYS: one hash per account. ARGV: idle TTL (ms), then per key: queries, first-seen time, the
 * number of increments, and that many field and increment pairs. Answers each key's hash.
 */
const ADD_SCRIPT = `
local out = {}
local a = 2
for k = 1, #KEYS do
  local key = KEYS[k]
  redis.call('HINCRBY', key, 'q', ARGV[a])
  redis.call('HSETNX', key, 'since', ARGV[a + 1])
  local n = tonumber(ARGV[a + 2])
  a = a + 3
  for i = 1, n do
    redis.call('HINCRBYFLOAT', key, ARGV[a], ARGV[a + 1])
    a = a + 2
  end
  redis.call('PEXPIRE', key, ARGV[1])
  out[k] = redis.call('HGETALL', key)
end
return out
`;
