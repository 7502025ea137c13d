import type { Logger } from '../observability/logger.js';
import type { DecisionContext, UpstreamAnswer } from './decision-context.js';

/**
 * Runs the decision's answer observers once the answer has left: on the next turn of the event
 * loop, so they never delay the client, and with their faults logged rather than thrown (an
 * observer must not be able to break serving).
 */
export function observeAnswer(ctx: DecisionContext, answer: UpstreamAnswer, log: Logger): void {
  if (ctx.observers.length === 0) return;
  setImmediate(() => {
    for (const o of ctx.observers) {
      try {
        const r = o.observe(answer, ctx);
        if (r) r.catch((err: unknown) => log.error({ err, requestId: ctx.view.requestId }, 'answer observer fault'));
      } catch (err) {
        log.error({ err, requestId: ctx.view.requestId }, 'answer observer fault');
      }
    }
  });
}
