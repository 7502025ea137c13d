import { LRUCache } from 'lru-cache';
import type { Charge, WindowGroup } from './window-group.js';

export interface LeaseOptions {
  /** Most predictions one replica holds for one (identity, window group); 0 turns leasing off. */
  readonly maxPredictions: number;
  /** Smallest lease worth granting: budgets too small to spare one are charged per request. */
  readonly minPredictions: number;
  /** Longest time a lease is spent before its rest goes back to Redis. */
  readonly seconds: number;
  /** Replicas sharing the limit: a lease is at most what is left / (2 × replicas). */
  readonly replicas: number;
  /** Most leases kept (LRU); an evicted one goes back to Redis like an expired one. */
  readonly maxKeys: number;
}

/**
 * A slice of every window of one group that Redis counts as used and this replica spends on its
 * own. It is spent only within the windows it was taken from: it expires at the first window end.
 */
export interface Lease {
  readonly user: string;
  readonly group: WindowGroup;
  left: number;
  /** Each window's end (gateway clock, ms), as Redis named it: a return applies only to the same windows. */
  readonly resetAt: readonly number[];
  readonly expiresAt: number;
  /** For the RateLimit header: the window with the least left when granted, and what the others had left of it then. */
  readonly window: number;
  readonly othersLeft: number;
}

/**
 * Quota leasing, as global rate-limit services do it: a replica reserves a slice of a window's
 * budget atomically in Redis (charge-script.ts) and admits from it without a round trip, going
 * back only when the slice is spent or expires. Redis counts a slice as used when it is granted,
 * so the sum admitted over every replica never exceeds the limit; what is approximate is the
 * refusal side: a replica may refuse while others still hold unspent slices, at most
 * `maxPredictions` each, and at most half of their share of what was left when granted.
 *
 * One acquisition at a time per (identity, window group): requests that arrive while one is in
 * flight are charged per request, exactly, so one replica never holds more than one slice.
 */
export class Leases {
  private readonly table: LRUCache<string, Lease>;
  private readonly acquiring = new Set<string>();
  /** Evicted or expired with something left, waiting to be returned. */
  private readonly toReturn: Lease[] = [];
  private heldTotal = 0;

  constructor(readonly o: LeaseOptions) {
    this.table = new LRUCache<string, Lease>({
      max: o.maxKeys,
      dispose: (lease, _key, reason) => {
        this.heldTotal -= lease.left;
        if (reason !== 'delete' && lease.left > 0) this.toReturn.push(lease);
      },
    });
  }

  /** Predictions reserved in Redis by this replica and not spent yet. */
  get held(): number {
    return this.heldTotal + this.toReturn.reduce((s, l) => s + l.left, 0);
  }

  /** The divisor the script applies to what is left: 2 × replicas. */
  get divisor(): number {
    return 2 * this.o.replicas;
  }

  /** An admission from the identity's slice, or undefined when it has none that covers `cost`. */
  spend(key: string, cost: number, now: number): Charge | undefined {
    const lease = this.table.get(key);
    if (!lease || lease.left < cost || now >= lease.expiresAt) return undefined;
    lease.left -= cost;
    this.heldTotal -= cost;
    return {
      kind: 'allowed',
      window: lease.window,
      remaining: Math.max(0, lease.othersLeft + lease.left),
      resetMs: Math.max(0, lease.resetAt[lease.window]! - now),
    };
  }

  /**
   * Starts the identity's acquisition: false when one is already in flight (charge this request
   * alone), otherwise the current slice, taken out to be returned by the acquiring script.
   */
  begin(key: string): { returned: Lease | undefined } | false {
    if (this.acquiring.has(key)) return false;
    this.acquiring.add(key);
    const returned = this.table.get(key, { updateAgeOnGet: false });
    if (returned) this.table.delete(key);
    return { returned: returned && returned.left > 0 ? returned : undefined };
  }

  /** The acquisition's answer: `granted` predictions (0: none) within the windows the reply names. */
  end(
    key: string,
    user: string,
    group: WindowGroup,
    granted: number,
    sentNow: number,
    used: ArrayLike<number>,
    resetMs: ArrayLike<number>,
  ): void {
    this.acquiring.delete(key);
    if (granted <= 0) return;
    const n = group.limits.length;
    const resetAt = new Array<number>(n);
    let expiresAt = sentNow + this.o.seconds * 1000;
    let window = 0;
    let least = Infinity;
    for (let i = 0; i < n; i++) {
      resetAt[i] = sentNow + resetMs[i]!;
      expiresAt = Math.min(expiresAt, resetAt[i]!);
      const left = group.limits[i]! - used[i]!;
      if (left < least) {
        least = left;
        window = i;
      }
    }
    this.table.set(key, { user, group, left: granted, resetAt, expiresAt, window, othersLeft: least });
    this.heldTotal += granted;
  }

  /** The acquisition failed or its answer was lost: nothing was granted that this replica knows of. */
  abandon(key: string): void {
    this.acquiring.delete(key);
  }

  /** Expired and evicted slices with something left, taken out to be returned (a window that has ended owes nothing). */
  takeExpired(now: number): Lease[] {
    for (const [key, lease] of [...this.table.entries()]) {
      if (now < lease.expiresAt || this.acquiring.has(key)) continue;
      this.table.delete(key);
      if (lease.left > 0) this.toReturn.push(lease);
    }
    return this.drainReturns(now);
  }

  /** Every slice, for shutdown. */
  takeAll(now: number): Lease[] {
    for (const [key, lease] of [...this.table.entries()]) {
      this.table.delete(key);
      if (lease.left > 0) this.toReturn.push(lease);
    }
    return this.drainReturns(now);
  }

  /** A return that could not be sent (Redis down): kept for the next sweep while its windows last. */
  keep(lease: Lease): void {
    this.toReturn.push(lease);
  }

  private drainReturns(now: number): Lease[] {
    return this.toReturn.splice(0).filter((l) => l.resetAt.some((r) => r > now));
  }
}

export const leaseKey = (user: string, group: WindowGroup): string => `${group.id}\u0000${user}`;
