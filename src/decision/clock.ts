/** A timer started on a clock; cancel() keeps it from firing. */
export interface Timer {
  cancel(): void;
}

/**
 * The gateway's time source: the reading and the timers from one place, so a test that moves the
 * clock also fires what falls due, and nothing waits on real time behind its back (the shape of
 * envoyproxy/ratelimit's `utils.TimeSource`).
 */
export interface Clock {
  /** Milliseconds since the epoch (a function property: callers keep it apart from the clock). */
  readonly now: () => number;
  /** Calls fn after ms of this clock's time. A pending timer never keeps the process alive. */
  setTimer(ms: number, fn: () => void): Timer;
}

function realTimer(ms: number, fn: () => void): Timer {
  const t = setTimeout(fn, ms);
  t.unref();
  return { cancel: () => clearTimeout(t) };
}

export const systemClock: Clock = { now: Date.now, setTimer: realTimer };

/** A clock that reads `now` and runs real timers: for callers that inject only a reading. */
export const clockReading = (now: () => number): Clock => ({ now, setTimer: realTimer });
