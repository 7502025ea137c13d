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
  /** For the RateLimit header: the window with the least left at the last grant, and what the others had left of it then. */
  window: number;
  othersLeft: number;
  /** The slice size asked for last (what a top-up fills it back to): the low-water mark is half of it. */
  target: number;
  /** Since when (ms) `spent` counts: the identity's rate sizes the next slice. */
  since: number;
  spent: number;
}

/** A first slice, before the identity's rate is known, and the least a slice holds (within the bounds). */
export const FIRST_SLICE = 100;
/** A slice is sized to hold this much of the identity's own traffic at its recent rate. */
export const SLICE_SECONDS = 1;

/**
 * Quota leasing, as global rate-limit services do it: a replica reserves a slice of a window's
 * budget atomically in Redis (charge-script.ts) and admits from it without a round trip, going
 * back only when the slice is spent or expires. Redis counts a slice as used when it is granted,
 * so the sum admitted over every replica never exceeds the limit; what is approximate is the
 * refusal side: a replica may refuse while others still hold unspent slices, at most
 * `maxPredictions` each, and at most half of their share of what was left when granted.
 *
 * One acquisition at a time per (identity, window group), asking at most `maxPredictions` minus
 * what is held, so one replica never holds more than `maxPredictions`. A slice below half is
 * topped up in the background, so a busy identity rarely finds it empty; requests that find it
 * empty while an acquisition is in flight wait for its answer (they would wait as long for their
 * own) and are charged per request, exactly, only when it brings nothing for them. When it
 * granted a slice that the requests waiting for it spent before all were served (Redis answered
 * late, so more piled up than one slice holds), the rest wait for the next acquisition, which the
 * first of them starts, instead of each sending a script of its own: one round trip per slice
 * keeps a slow Redis from receiving a burst of scripts just when it is behind, which made each
 * later answer slower still. Each request waits for at most `MAX_WAITS` acquisitions.
 *
 * A first slice, and that of an identity spending fewer than `FIRST_SLICE` per second, holds
 * `FIRST_SLICE` (never more than `maxPredictions`); a busier identity's slice holds about
 * `SLICE_SECONDS` of its own traffic at the rate it spent the last one, up to `maxPredictions`.
 * Topped up at half, it rides out a Redis that answers late by up to half of what it holds (125
 * ms at 4,000 req/s under a maximum of 1000; a CFS-throttled or descheduled Redis stalls for tens
 * of ms: https://docs.kernel.org/scheduler/sched-bwc.html); a fixed slice of 100 covered 12 ms of
 * a 4,000 req/s identity, so every such stall made its requests wait for Redis. Quiet identities
 * hold no more than before, so other replicas refuse early by no more on their account.
 */
export class Leases {
  private readonly table: LRUCache<string, Lease>;
  private readonly acquiring = new Map<string, Acquisition>();
  /** Until when an identity's budget had too little left to lease (ms): its requests do not wait for acquisitions. */
  private readonly barren: LRUCache<string, number>;
  /** Evicted or expired with something left, waiting to be returned. */
  private readonly toReturn: Lease[] = [];
  private heldTotal = 0;

  constructor(readonly o: LeaseOptions) {
    this.barren = new LRUCache<string, number>({ max: o.maxKeys });
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
    lease.spent += cost;
    this.heldTotal -= cost;
    if (lease.left * 2 < lease.target && !this.acquiring.has(key)) this.lowWater?.(lease, key);
    return {
      kind: 'allowed',
      window: lease.window,
      remaining: Math.max(0, lease.othersLeft + lease.left),
      resetMs: Math.max(0, lease.resetAt[lease.window]! - now),
    };
  }

  /** Called when a slice falls below half and nothing is being acquired for it: the store tops it up. */
  lowWater: ((lease: Lease, key: string) => void) | undefined;

  /**
   * The outcome of the identity's acquisition in flight, for a request of `cost` its slice does
   * not cover; undefined when none, or when no slice could ever cover the cost (it is charged on
   * its own at once).
   */
  inFlight(key: string, now: number, cost = 1): Promise<AcquisitionOutcome> | undefined {
    if (cost > this.o.maxPredictions) return undefined;
    const a = this.acquiring.get(key);
    if (!a || a.released) return undefined;
    const barren = this.barren.get(key);
    if (barren !== undefined && now < barren) return undefined;
    return a.answered;
  }

  /**
   * Starts the identity's acquisition: false when one is already in flight (charge this request
   * alone), otherwise the current slice, taken out to be returned by the acquiring script, and the
   * size of the new slice to ask for.
   */
  begin(key: string, now: number): { returned: Lease | undefined; ask: number } | false {
    if (this.acquiring.has(key)) return false;
    const current = this.table.get(key, { updateAgeOnGet: false });
    const ask = this.sliceFor(current, now);
    this.acquiring.set(key, acquisition(ask));
    if (current) this.table.delete(key);
    return { returned: current && current.left > 0 ? current : undefined, ask };
  }

  /** Starts a top-up of the identity's slice: what to ask for (its new size minus what it holds), or 0 when busy or full. */
  beginTopUp(key: string, now: number): number {
    if (this.acquiring.has(key)) return 0;
    const lease = this.table.get(key, { updateAgeOnGet: false });
    const size = this.sliceFor(lease, now);
    const ask = size - (lease?.left ?? 0);
    if (ask < this.o.minPredictions) return 0;
    this.acquiring.set(key, acquisition(size));
    return ask;
  }

  /** The slice an identity needs: `SLICE_SECONDS` of what it spent since its last grant, at least a first slice, at most the bound. */
  private sliceFor(lease: Lease | undefined, now: number): number {
    const first = Math.min(this.o.maxPredictions, Math.max(this.o.minPredictions, FIRST_SLICE));
    if (!lease) return first;
    const perSecond = (lease.spent * 1000) / Math.max(1, now - lease.since);
    return Math.min(this.o.maxPredictions, Math.max(first, Math.ceil(perSecond * SLICE_SECONDS)));
  }

  /**
   * Requests waiting for the acquisition go on: its answer came, or (`timedOut`) the wait for it
   * did, and then they answer from the failure policy at once instead of waiting again. The
   * acquisition itself may still end later.
   */
  release(key: string, timedOut = false): void {
    this.acquiring.get(key)?.release(timedOut ? 'timeout' : 'nothing');
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
    const target = this.acquiring.get(key)?.size ?? this.o.maxPredictions;
    this.finish(key, granted > 0 ? 'granted' : 'nothing');
    const n = group.limits.length;
    let expiresAt = sentNow + this.o.seconds * 1000;
    if (granted <= 0) {
      // Too little left to lease (or refused): requests of this identity go on in parallel, each
      // charged in Redis, until its first window ends or a lease period passes.
      for (let i = 0; i < n; i++) expiresAt = Math.min(expiresAt, sentNow + resetMs[i]!);
      this.barren.set(key, expiresAt);
      return;
    }
    this.barren.delete(key);
    const resetAt = new Array<number>(n);
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
    const current = this.table.get(key, { updateAgeOnGet: false });
    if (current && current.resetAt.every((r, i) => r === resetAt[i])) {
      // A top-up of the same windows: one slice (what the header reports is Redis' newer answer).
      current.left += granted;
      current.window = window;
      current.othersLeft = least;
      current.target = target;
      current.since = sentNow;
      current.spent = 0;
      this.heldTotal += granted;
      return;
    }
    this.table.set(key, {
      user,
      group,
      left: granted,
      resetAt,
      expiresAt,
      window,
      othersLeft: least,
      target,
      since: sentNow,
      spent: 0,
    });
    this.heldTotal += granted;
  }

  /** The acquisition failed or its answer was lost: nothing was granted that this replica knows of. */
  abandon(key: string): void {
    this.finish(key, 'nothing');
  }

  private finish(key: string, outcome: AcquisitionOutcome): void {
    this.acquiring.get(key)?.release(outcome);
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

/** Most acquisitions one request waits for before it is charged on its own (each is a round trip). */
export const MAX_WAITS = 2;

/**
 * How an acquisition ended for the requests waiting on it: it granted a slice (they spend from it,
 * or wait for the next), brought nothing (each is charged on its own), or the wait for Redis timed
 * out (the failure policy answers).
 */
export type AcquisitionOutcome = 'granted' | 'nothing' | 'timeout';

interface Acquisition {
  /** The slice size asked for. */
  readonly size: number;
  released: boolean;
  readonly answered: Promise<AcquisitionOutcome>;
  release(outcome: AcquisitionOutcome): void;
}

function acquisition(size: number): Acquisition {
  let resolve!: (outcome: AcquisitionOutcome) => void;
  const a: Acquisition = {
    size,
    released: false,
    answered: new Promise<AcquisitionOutcome>((r) => (resolve = r)),
    release(outcome) {
      if (a.released) return;
      a.released = true;
      resolve(outcome);
    },
  };
  return a;
}
