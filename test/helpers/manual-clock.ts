// A clock that moves only when the test moves it, and fires the timers that fall due as it goes:
// time-dependent behaviour (backoffs, refreshes, cooldowns) is tested without sleeping and
// without real timers racing the test on a busy machine.
import type { Clock, Timer } from '../../src/decision/clock.js';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

export class ManualClock implements Clock {
  private ms: number;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(startMs = Date.now()) {
    this.ms = startMs;
  }

  readonly now = (): number => this.ms;

  setTimer(ms: number, fn: () => void): Timer {
    const entry: Pending = { at: this.ms + Math.max(0, ms), seq: this.seq++, fn };
    this.pending.push(entry);
    return { cancel: () => void (this.pending = this.pending.filter((p) => p !== entry)) };
  }

  /** Timers not yet fired. */
  get timers(): number {
    return this.pending.length;
  }

  /** Moves time forward by ms, firing every timer that falls due on the way, earliest first. */
  advance(ms: number): void {
    const target = this.ms + ms;
    for (;;) {
      const due = this.pending.filter((p) => p.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.pending = this.pending.filter((p) => p !== due);
      this.ms = Math.max(this.ms, due.at);
      due.fn();
    }
    this.ms = target;
  }
}
