import type { Cluster, Redis } from 'ioredis';

/** Converts this process's clock to Redis' clock, so a script can tell when it runs too late. */
export interface RedisDeadlines {
  /**
   * The Redis time (ms) `budgetMs` from now; undefined until a probe has compared the clocks, and
   * then no script may be sent: without a deadline a script that waited out a freeze would charge.
   */
  deadline(budgetMs: number): number | undefined;
  /** Calls `listener` after every probe Redis answered (the moment to settle what an outage left). */
  onAnswer(listener: () => void): void;
}

export interface RedisHealthOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Wall clock, compared with Redis' `TIME`; never the injected test clock. */
  readonly wallClock?: () => number;
  readonly onChange?: (up: boolean) => void;
}

/** How long ago an offset sample may be before a less precise, newer one replaces it. */
const OFFSET_MAX_AGE_MS = 60_000;

/**
 * Probes Redis in the background with `TIME`, which tells both whether Redis answers and how its
 * clock relates to ours (offset = Redis time - the midpoint of the round trip, within half the
 * round trip; the most precise recent sample is kept, as NTP does). Probes, not requests, decide
 * health, so readiness reads a state instead of sending a command of its own per probe.
 */
export class RedisHealth implements RedisDeadlines {
  private up = false;
  private downSinceMs: number | undefined;
  private lastError = 'not probed yet';
  private offset: { ms: number; error: number; at: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly wall: () => number;
  private readonly answered: Array<() => void> = [];

  constructor(
    private readonly client: Redis | Cluster,
    private readonly o: RedisHealthOptions,
  ) {
    this.wall = o.wallClock ?? Date.now;
    this.downSinceMs = this.wall();
  }

  /**
   * Probes at once, then every `intervalMs`, and again as soon as the connection is ready: a probe
   * sent before that fails (no offline queue), so without this the clocks would stay uncompared,
   * and scripts unsent, until the next interval.
   */
  start(): void {
    this.client.on('ready', this.probeWhenReady);
    const loop = () => {
      void this.probe().finally(() => {
        if (this.timer === undefined) return;
        this.timer = setTimeout(loop, this.o.intervalMs);
        this.timer.unref();
      });
    };
    this.timer = setTimeout(loop, 0);
    this.timer.unref();
  }

  private readonly probeWhenReady = (): void => void this.probe();

  close(): void {
    this.client.off('ready', this.probeWhenReady);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Up, or down since when and why. */
  state(): { up: true } | { up: false; downForMs: number; reason: string } {
    if (this.up) return { up: true };
    return { up: false, downForMs: this.wall() - (this.downSinceMs ?? this.wall()), reason: this.lastError };
  }

  onAnswer(listener: () => void): void {
    this.answered.push(listener);
  }

  deadline(budgetMs: number): number | undefined {
    if (!this.offset) return undefined;
    // The error bound is subtracted: the script must never believe it is earlier than it is.
    return Math.floor(this.wall() + budgetMs + this.offset.ms - this.offset.error);
  }

  async probe(): Promise<void> {
    const sent = this.wall();
    let timer: NodeJS.Timeout | undefined;
    try {
      const time = await Promise.race([
        this.client.time(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.o.timeoutMs} ms`)), this.o.timeoutMs);
        }),
      ]);
      const received = this.wall();
      const redisMs = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
      const sample = { ms: redisMs - (sent + received) / 2, error: (received - sent) / 2 + 1, at: received };
      if (!this.offset || sample.error <= this.offset.error || received - this.offset.at > OFFSET_MAX_AGE_MS)
        this.offset = sample;
      this.mark(true);
      for (const listener of this.answered) listener();
    } catch (err) {
      this.lastError = (err as Error).message;
      this.mark(false);
    } finally {
      clearTimeout(timer);
    }
  }

  private mark(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    this.downSinceMs = up ? undefined : this.wall();
    this.o.onChange?.(up);
  }
}
