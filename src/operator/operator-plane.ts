import type { GatewayConfig } from '../config/schema.js';
import type { AdminHandler, AdminRoutes, OperatorGate } from '../observability/admin-server.js';
import type { Logger } from '../observability/logger.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { Stores } from '../stores/stores.js';
import { AccountIndex } from './account-index.js';
import { AccountOverrides, type AccountOverride } from './account-overrides.js';
import { AuditLog } from './audit-log.js';
import { loadConsoleAssets } from './console-assets.js';
import { OperatorAuth } from './operator-identity.js';

/** What a guarded model exposes to the operator plane's index. */
interface WatchedGuard {
  readonly capacity: number;
  readonly accounts: { has(user: string): boolean };
  /** Escalated accounts the guard remembers after evicting them (they come back on their next request). */
  readonly records?: { has(user: string): boolean };
}

/** What the extraction stage asks of the operator plane on its hot path. */
export interface OperatorHooks {
  /** The operator's override for the account on the model, if one is in force. */
  override(model: string, user: string): AccountOverride | undefined;
  /** The extraction stage scored the account (the listings' index learns new accounts). */
  seen(model: string, user: string): void;
}

/**
 * The operator plane: who operators are (OperatorAuth), what they did (AuditLog), the overrides
 * they set (AccountOverrides) and the sorted account index the listings page through. Built once
 * by the composition root; capabilities reach it through StageDeps.
 */
export class OperatorPlane implements OperatorHooks {
  readonly auth: OperatorAuth;
  readonly audit: AuditLog;
  readonly overrides: AccountOverrides;
  readonly index: AccountIndex;
  private guards: ReadonlyMap<string, WatchedGuard> = new Map();

  constructor(
    private readonly config: GatewayConfig,
    stores: Stores,
    private readonly deps: { readonly now: () => number; readonly metrics: GatewayMetrics; readonly log: Logger },
  ) {
    this.auth = new OperatorAuth(config, deps.now, deps.metrics, deps.log);
    this.audit = new AuditLog(config.operator.auditEntries, deps.log, deps.now);
    this.overrides = new AccountOverrides(stores.redis, `${config.limits.store.keyPrefix}operator:overrides`, deps.now);
    this.index = new AccountIndex(
      (m, u) => {
        const g = this.guards.get(m);
        return g !== undefined && (g.accounts.has(u) || g.records?.has(u) === true);
      },
      (m) => this.guards.get(m)?.capacity ?? 0,
    );
  }

  /** The extraction capability hands over its guards (the index checks accounts against them). */
  watch(guards: ReadonlyMap<string, WatchedGuard>): void {
    this.guards = guards;
  }

  override(model: string, user: string): AccountOverride | undefined {
    return this.overrides.of(model, user);
  }

  seen(model: string, user: string): void {
    this.index.seen(model, user);
  }

  start(): void {
    this.auth.start();
    this.overrides.start(this.config.operator.overrideSyncSeconds * 1000, () =>
      this.deps.metrics.extractionStoreFallbacks.inc({ operation: 'overrides' }),
    );
    if (!this.auth.enabled)
      this.deps.log.warn(
        'operator endpoints are off: no operator identity is configured (operator.jwt or operator.spiffe)',
      );
  }

  close(): void {
    this.auth.close();
    this.overrides.close();
  }

  /** The admin router's gate, with the console's files. */
  gate(): OperatorGate {
    return {
      auth: this.auth,
      maxConcurrentRequests: this.config.operator.maxConcurrentRequests,
      console: loadConsoleAssets(),
    };
  }

  /** The plane's own endpoints: who am I, and the audit log. */
  register(routes: AdminRoutes): void {
    const whoami: AdminHandler = ({ operator }) => ({ status: 200, body: { operator } });
    const audit: AdminHandler = ({ method, query }) => {
      if (method !== 'GET' && method !== 'HEAD')
        return { status: 405, body: { error: 'GET only', code: 'method_not_allowed' } };
      const limit = Number(query.get('limit') ?? 50);
      const before = query.get('cursor');
      if (!Number.isInteger(limit) || limit < 1 || limit > this.config.operator.pageLimit)
        return {
          status: 400,
          body: {
            error: `limit must be an integer from 1 to ${this.config.operator.pageLimit}`,
            code: 'invalid_input',
          },
        };
      if (before !== null && !/^[1-9][0-9]{0,15}$/.test(before))
        return { status: 400, body: { error: 'cursor is not one this gateway returned', code: 'invalid_input' } };
      return { status: 200, body: this.audit.page(limit, before === null ? undefined : Number(before)) };
    };
    routes.add('/operator/whoami', whoami);
    routes.add('/operator/audit', audit);
  }
}
