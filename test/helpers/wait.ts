// Waiting in tests: on a condition (polled), never on a guessed duration. `sleep` is for the few
// tests whose subject is time itself (a client that stalls, a server that must not answer).
import { setTimeout as delay } from 'node:timers/promises';

export const sleep = (ms: number): Promise<void> => delay(ms);

/**
 * Resolves once `condition` holds, polling every 10 ms; rejects naming `what` after `timeoutMs`.
 * The bound is generous on purpose: it only decides how long a broken test hangs, and a loaded
 * machine must not turn a slow pass into a failure.
 */
export async function until(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (performance.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await delay(10);
  }
}
