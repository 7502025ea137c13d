import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { GatewayConfig } from './config/schema.js';
import { DecisionPipeline } from './decision/pipeline.js';
import type { Stage } from './decision/stage.js';
import type { Closeable, StageDeps, StageFactory } from './decision/stage-deps.js';
import { authStages } from './auth/auth-stages.js';
import { contractStages } from './inference/contract-stages.js';
import { limitStages } from './limits/limit-stages.js';
import { createProxyServer } from './adapters/proxy/proxy-server.js';
import { createAdminServer } from './observability/admin-server.js';
import { createLogger, type Logger } from './observability/logger.js';
import { GatewayMetrics } from './observability/metrics.js';
import { Readiness } from './observability/readiness.js';
import { upstreamReadiness } from './observability/upstream-readiness.js';

/** Capabilities, each contributing its stages; the pipeline orders them (STAGE_ORDER). */
const STAGE_FACTORIES: readonly StageFactory[] = [authStages, contractStages, limitStages];

export interface GatewayOptions {
  readonly log?: Logger;
  /** Clock for stages (tests move time instead of sleeping). */
  readonly now?: () => number;
  /** Process metrics are global to the process; tests that start several gateways turn them off. */
  readonly defaultMetrics?: boolean;
}

export interface Listening {
  readonly url: string;
  readonly adminUrl: string;
}

/**
 * The composition root: builds every part once from the validated config.
 * Stages are created here and nowhere else; adapters only receive the pipeline.
 */
export class Gateway {
  readonly metrics: GatewayMetrics;
  readonly readiness = new Readiness();
  readonly log: Logger;
  readonly pipeline: DecisionPipeline;
  private proxy: FastifyInstance | undefined;
  private admin: Server | undefined;
  private readonly closeables: Closeable[] = [];
  private closing: Promise<void> | undefined;

  private constructor(
    readonly config: GatewayConfig,
    options: GatewayOptions,
  ) {
    this.log = options.log ?? createLogger(config.log.level);
    this.metrics = new GatewayMetrics({ defaultMetrics: options.defaultMetrics ?? true });
    this.readiness.add(upstreamReadiness(config));
    this.pipeline = new DecisionPipeline(config, this.buildStages(options.now ?? Date.now), this.log);
  }

  static async create(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
    const gw = new Gateway(config, options);
    gw.proxy = await createProxyServer({ config, pipeline: gw.pipeline, metrics: gw.metrics, log: gw.log });
    gw.admin = createAdminServer(gw.metrics, gw.readiness);
    return gw;
  }

  private buildStages(now: () => number): Stage[] {
    const deps: StageDeps = {
      config: this.config,
      metrics: this.metrics,
      readiness: this.readiness,
      log: this.log,
      onClose: (c: Closeable) => this.closeables.push(c),
      now,
    };
    return STAGE_FACTORIES.flatMap((factory) => factory(deps));
  }

  async listen(): Promise<Listening> {
    const { server, admin } = this.config;
    await this.proxy!.listen({ host: server.host, port: server.port });
    await new Promise<void>((resolve, reject) => {
      this.admin!.once('error', reject);
      this.admin!.listen(admin.port, admin.host, () => resolve());
    });
    const p = this.proxy!.server.address() as AddressInfo;
    const a = this.admin!.address() as AddressInfo;
    const host = (h: string) => (h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h);
    return { url: `http://${host(server.host)}:${p.port}`, adminUrl: `http://${host(admin.host)}:${a.port}` };
  }

  /**
   * Graceful shutdown: readiness fails at once, the listener stops accepting, in-flight
   * requests get `shutdownGraceSeconds` to finish, then remaining connections are cut.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.readiness.startDraining();
    const graceMs = this.config.server.shutdownGraceSeconds * 1000;
    const proxy = this.proxy;
    if (proxy) {
      let timer: NodeJS.Timeout | undefined;
      const forced = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.log.warn({ graceMs }, 'grace period over: closing remaining connections');
          proxy.server.closeAllConnections();
          resolve();
        }, graceMs);
        timer.unref();
      });
      await Promise.race([proxy.close(), forced]);
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => {
      if (!this.admin?.listening) return resolve();
      this.admin.close(() => resolve());
      this.admin.closeAllConnections();
    });
    for (const c of this.closeables.reverse()) await c.close();
  }
}
