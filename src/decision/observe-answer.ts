import type { Logger } from '../observability/logger.js';
import type { DecisionContext, UpstreamAnswer } from './decision-context.js';

// Observations started and not yet finished, in this process: what `observationsSettled` waits on.
let inFlight = 0;
let waiting: Array<() => void> = [];

function finished(): void {
  if (--inFlight > 0) return;
  const wake = waiting;
  waiting = [];
  for (const w of wake) w();
}

/**
 * Resolves once every answer observation started so far has finished, its asynchronous part
 * (a shared store's round trip) included: tests wait on this event instead of a guessed sleep.
 */
export function observationsSettled(): Promise<void> {
  return inFlight === 0 ? Promise.resolve() : new Promise((resolve) => waiting.push(resolve));
}

/**
 * Runs the decision's answer observers once the answer has left: on the next turn of the event
 * loop, so they never delay the client, and with their faults logged rather than thrown (an
 * observer must not be able to break serving).
 */
export function observeAnswer(ctx: DecisionContext, answer: UpstreamAnswer, log: Logger): void {
  if (ctx.observers.length === 0) return;
  inFlight++;
  setImmediate(() => {
    let pending: Array<Promise<void>> | undefined;
    for (const o of ctx.observers) {
      try {
        const r = o.observe(answer, ctx);
        if (r)
          (pending ??= []).push(
            r.catch((err: unknown) => log.error({ err, requestId: ctx.view.requestId }, 'answer observer fault')),
          );
      } catch (err) {
        log.error({ err, requestId: ctx.view.requestId }, 'answer observer fault');
      }
    }
    if (pending) void Promise.all(pending).then(finished);
    else finished();
  });
}
