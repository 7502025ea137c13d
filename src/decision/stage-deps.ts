import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { AdminRoutes } from '../observability/admin-server.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { Readiness } from '../observability/readiness.js';
import type { OperatorPlane } from '../operator/operator-plane.js';
import type { Stores } from '../stores/stores.js';
import type { Clock } from './clock.js';
import type { Closeable } from './closeable.js';
import type { Stage } from './stage.js';

export type { Closeable } from './closeable.js';

/** What a capability gets to build its stages at start-up. Time and I/O are injectable for tests. */
export interface StageDeps {
  readonly config: GatewayConfig;
  readonly metrics: GatewayMetrics;
  readonly readiness: Readiness;
  readonly log: Logger;
  /** Register resources to release on close (in reverse order). */
  onClose(c: Closeable): void;
  /** Stores built once for every capability (one Redis connection, one failure policy). */
  readonly stores: Stores;
  /** Operator endpoints on the admin port (absent where no admin server is built, e.g. unit tests). */
  readonly admin?: AdminRoutes;
  /** The operator plane (identity, audit log, overrides, account index), when an admin server is built. */
  readonly operator?: OperatorPlane;
  /** Milliseconds since the epoch; tests move it instead of sleeping. The same as clock.now. */
  readonly now: () => number;
  /** The reading and the timers together: what schedules work in time takes this. */
  readonly clock: Clock;
}

/** Each capability exports one of these; an unconfigured capability returns no stage. */
export type StageFactory = (deps: StageDeps) => Stage[];
