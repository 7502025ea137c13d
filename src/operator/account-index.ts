import { setImmediate as nextTurn } from 'node:timers/promises';
import { SortedKeys } from './sorted-keys.js';

// Work done per turn of the event loop by the index's upkeep: about a millisecond, so a serving
// request waiting behind it waits no longer than that.
const INSERTS_PER_TURN = 1000;
const SWEEP_KEYS_PER_TURN = 4000;
// Upkeep starts on its own once this many new accounts wait, so the queue stays small without readers.
const PENDING_TRIGGER = 1000;

/** Whether the account still exists (the extraction guard's LRU may have forgotten it). */
export type Liveness = (model: string, user: string) => boolean;

/**
 * The tracked accounts of every model in a stable order (model, then user id), for paginated
 * listings. Accounts are announced when the extraction stage first scores them; insertion into
 * the sorted index happens in slices of bounded work between turns of the event loop, never in
 * the request that scored the account, and never as one long sort in an operator's request.
 * Forgotten accounts are dropped when a listing meets them or when the index outgrows twice the
 * guards' capacity (a sweep, also in slices).
 */
export class AccountIndex {
  private readonly keys = new Map<string, SortedKeys>();
  private pending: Array<[string, string]> = [];
  private dead: Array<[string, string]> = [];
  private upkeep: Promise<void> | undefined;

  constructor(
    private readonly alive: Liveness,
    private readonly capacity: (model: string) => number,
  ) {}

  /** Called once per scored request: one Set lookup unless the account is new to the index. */
  seen(model: string, user: string): void {
    if (this.keys.get(model)?.has(user)) return;
    this.pending.push([model, user]);
    if (this.pending.length >= PENDING_TRIGGER) void this.catchUp();
  }

  /** Marks a key a reader found forgotten; the upkeep removes it. */
  forget(model: string, user: string): void {
    this.dead.push([model, user]);
  }

  /** Resolves once every account announced so far is in the index (single-flight). */
  catchUp(): Promise<void> {
    this.upkeep ??= this.work().finally(() => (this.upkeep = undefined));
    return this.upkeep;
  }

  /** The model's keys after `after`, in order (synchronous: a page reads them in one turn). */
  after(model: string, after?: string): Iterable<string> {
    return this.keys.get(model)?.after(after) ?? [];
  }

  size(model: string): number {
    return this.keys.get(model)?.size ?? 0;
  }

  private async work(): Promise<void> {
    while (this.pending.length > 0 || this.dead.length > 0) {
      const dead = this.dead;
      this.dead = [];
      for (const [m, u] of dead) this.keys.get(m)?.delete(u);
      const batch = this.pending.splice(0, INSERTS_PER_TURN);
      for (const [m, u] of batch) {
        let k = this.keys.get(m);
        if (!k) this.keys.set(m, (k = new SortedKeys()));
        if (this.alive(m, u)) k.add(u);
      }
      await nextTurn();
    }
    for (const [model, k] of this.keys) if (k.size > 2 * this.capacity(model)) await this.sweep(model, k);
  }

  private async sweep(model: string, k: SortedKeys): Promise<void> {
    // By key, not by position: deletions between slices never make it skip a key.
    let cursor: string | undefined;
    for (;;) {
      const slice: string[] = [];
      for (const u of k.after(cursor)) {
        slice.push(u);
        if (slice.length === SWEEP_KEYS_PER_TURN) break;
      }
      if (slice.length === 0) return;
      cursor = slice[slice.length - 1];
      for (const u of slice) if (!this.alive(model, u)) k.delete(u);
      await nextTurn();
    }
  }
}
