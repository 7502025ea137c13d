import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { AdminRoutes } from '../observability/admin-server.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { Readiness } from '../observability/readiness.js';
import type { OperatorPlane } from '../operator/operator-plane.js';
import type { Stores } from '../stores/stores.js';
import type { Stage } from './stage.js';

/** Something that holds resources (key refreshers, Redis clients) and is stopped on gateway close. */
export interface Closeable {
  close(): Promise<void> | void;
}

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
  /** Milliseconds since the epoch; tests move it instead of sleeping. */
  readonly now: () => number;
}

/** Each capability exports one of these; an unconfigured capability returns no stage. */
export type StageFactory = (deps: StageDeps) => Stage[];
