import type { DecisionContext } from './decision-context.js';
import type { Denial } from './denial.js';

export type StageName =
  'verification' | 'authenticate' | 'authorize' | 'extraction-gate' | 'contract' | 'rate-limit' | 'extraction';

/** A stage returns a Denial to stop the pipeline, or undefined to go on. */
export type StageResult = Denial | undefined;

/**
 * One step of the decision pipeline. Stages run in the fixed order of STAGE_ORDER, only on
 * model routes; a stage that is not configured is simply not in the list (no per-request check).
 */
export interface Stage {
  readonly name: StageName;
  /** Headers this stage injects upstream: client-sent copies are always stripped (Envoy sanitizes the same way). */
  readonly injectedHeaders?: readonly string[];
  run(ctx: DecisionContext): StageResult | Promise<StageResult>;
}

export const STAGE_ORDER: readonly StageName[] = [
  'verification',
  'authenticate',
  'authorize',
  'extraction-gate',
  'contract',
  'rate-limit',
  'extraction',
];

/**
 * Stages that decide from the headers alone. They run before a door reads the body, so an
 * unauthenticated client never gets to make the gateway hold its upload.
 */
export const HEAD_STAGES: ReadonlySet<StageName> = new Set([
  'verification',
  'authenticate',
  'authorize',
  'extraction-gate',
]);

/** Whether a stage (or a store) answered later: the synchronous answers of the hot path skip the microtask turn an await costs. */
export function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | undefined)?.then === 'function';
}
