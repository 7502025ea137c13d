import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { ServerCredentials, type Server as GrpcServer } from '@grpc/grpc-js';
import type { GatewayConfig } from './config/schema.js';
import { clockReading, systemClock, type Clock } from './decision/clock.js';
import { DecisionPipeline } from './decision/pipeline.js';
import type { Stage } from './decision/stage.js';
import type { Closeable, StageDeps, StageFactory } from './decision/stage-deps.js';
import { authStages } from './auth/auth-stages.js';
import { contractStages } from './inference/contract-stages.js';
import { limitStages } from './limits/limit-stages.js';
import { extractionStages } from './extraction/extraction-stages.js';
import { createProxyServer, type ProxyDoor } from './adapters/proxy/proxy-server.js';
import { createExtAuthzHttpServer } from './adapters/ext-authz-http/ext-authz-http-server.js';
import { BodyBudget } from './adapters/intake/body-budget.js';
import { createExtAuthzGrpcServer } from './adapters/ext-authz-grpc/ext-authz-grpc-server.js';
import { createGrpcProxyServer, type GrpcProxyDoor } from './adapters/grpc-proxy/grpc-proxy-server.js';
import { AdminRoutes, createAdminServer } from './observability/admin-server.js';
import { createLogger, type Logger } from './observability/logger.js';
import { GatewayMetrics } from './observability/metrics.js';
import { Readiness } from './observability/readiness.js';
import { upstreamReadiness } from './observability/upstream-readiness.js';
import { startModelVerification } from './artifacts/startup-verification.js';
import { createStores } from './stores/stores.js';
import { createTracing, type Tracing } from './observability/tracing.js';
import { OperatorPlane } from './operator/operator-plane.js';

/** Capabilities, each contributing its stages; the pipeline orders them (STAGE_ORDER). */
const STAGE_FACTORIES: readonly StageFactory[] = [authStages, contractStages, limitStages, extractionStages];

export interface GatewayOptions {
  readonly log?: Logger;
  /** Time for stages, timers included (tests move it instead of sleeping). */
  readonly clock?: Clock;
  /** A clock reading alone, with real timers: for tests of stages that start no timer. */
  readonly now?: () => number;
  /** Process metrics are global to the process; tests that start several gateways turn them off. */
  readonly defaultMetrics?: boolean;
}

export interface Listening {
  readonly url: string;
  readonly adminUrl: string;
  /** Base URL of the HTTP ext-authz door (its pathPrefix not included), when enabled. */
  readonly extAuthzHttpUrl?: string;
  /** host:port of the gRPC ext-authz door, when enabled. */
  readonly extAuthzGrpcAddress?: string;
  /** host:port of the gRPC door (server.grpcPort), when set. */
  readonly grpcAddress?: string;
}

const displayHost = (h: string) => (h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h);
// grpc-js takes a target string, where an IPv6 literal needs brackets.
const bracketIpv6 = (h: string) => (h.includes(':') && !h.startsWith('[') ? `[${h}]` : h);

/**
 * The composition root: builds every part once from the validated config.
 * Stages are created here and nowhere else; adapters only receive the pipeline.
 */
export class Gateway {
  readonly metrics: GatewayMetrics;
  readonly readiness = new Readiness();
  /** Operator endpoints capabilities add to the admin port. */
  readonly adminRoutes = new AdminRoutes();
  /** Operator identity, audit log and overrides behind the operator endpoints. */
  operator!: OperatorPlane;
  readonly log: Logger;
  readonly pipeline: DecisionPipeline;
  readonly tracing: Tracing;
  private proxy: ProxyDoor | undefined;
  private grpcProxy: GrpcProxyDoor | undefined;
  private admin: Server | undefined;
  private extAuthzHttp: Server | undefined;
  private extAuthzGrpc: GrpcServer | undefined;
  private readonly closeables: Closeable[] = [];
  private closing: Promise<void> | undefined;
  /** Model routes are refused until the model verified (only when verification is configured). */
  private readonly servingGate: Stage[] = [];
  /** One body budget for every HTTP door (server.maxBodyBytesInFlight bounds the process). */
  private readonly bodyBudget: BodyBudget;

  private constructor(
    readonly config: GatewayConfig,
    options: GatewayOptions,
  ) {
    this.log = options.log ?? createLogger(config.log.level);
    this.metrics = new GatewayMetrics({ defaultMetrics: options.defaultMetrics ?? true });
    this.readiness.add(upstreamReadiness(config));
    this.tracing = createTracing(config.tracing, this.log);
    this.closeables.push(this.tracing);
    if (config.modelVerification.enabled) {
      const verification = startModelVerification(config.modelVerification, this.metrics, this.log);
      this.readiness.add(verification.readiness);
      this.servingGate.push(verification.stage);
      this.closeables.push(verification);
    }
    this.bodyBudget = new BodyBudget(config.server.maxBodyBytesInFlight);
    this.pipeline = new DecisionPipeline(
      config,
      [
        ...this.servingGate,
        ...this.buildStages(options.clock ?? (options.now ? clockReading(options.now) : systemClock)),
      ],
      this.log,
      this.tracing,
    );
  }

  static async create(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
    const gw = new Gateway(config, options);
    gw.proxy = createProxyServer({
      config,
      pipeline: gw.pipeline,
      metrics: gw.metrics,
      log: gw.log,
      tracing: gw.tracing,
      budget: gw.bodyBudget,
    });
    if (config.server.grpcPort !== undefined)
      gw.grpcProxy = createGrpcProxyServer({
        config,
        pipeline: gw.pipeline,
        metrics: gw.metrics,
        log: gw.log,
        budget: gw.bodyBudget,
      });
    gw.admin = createAdminServer(gw.metrics, gw.readiness, gw.adminRoutes, gw.operator.gate());
    gw.admin.maxConnections = config.admin.maxConnections;
    const doorDeps = { config, pipeline: gw.pipeline, metrics: gw.metrics, log: gw.log };
    if (config.extAuthz.http.enabled)
      gw.extAuthzHttp = createExtAuthzHttpServer({ ...doorDeps, budget: gw.bodyBudget });
    if (config.extAuthz.grpc.enabled) gw.extAuthzGrpc = createExtAuthzGrpcServer(doorDeps);
    return gw;
  }

  private buildStages(clock: Clock): Stage[] {
    const onClose = (c: Closeable) => this.closeables.push(c);
    const stores = createStores(this.config, { readiness: this.readiness, metrics: this.metrics, onClose });
    this.operator = new OperatorPlane(this.config, stores, { now: clock.now, metrics: this.metrics, log: this.log });
    this.operator.register(this.adminRoutes);
    this.operator.start();
    onClose(this.operator);
    const deps: StageDeps = {
      config: this.config,
      stores,
      metrics: this.metrics,
      readiness: this.readiness,
      log: this.log,
      onClose,
      admin: this.adminRoutes,
      operator: this.operator,
      now: clock.now,
      clock,
    };
    return STAGE_FACTORIES.flatMap((factory) => factory(deps));
  }

  async listen(): Promise<Listening> {
    const { server, admin, extAuthz } = this.config;
    await listenHttp(this.proxy!.server, server.host, server.port);
    await listenHttp(this.admin!, admin.host, admin.port);
    const p = this.proxy!.server.address() as AddressInfo;
    const a = this.admin!.address() as AddressInfo;
    let extAuthzHttpUrl: string | undefined;
    let extAuthzGrpcAddress: string | undefined;
    let grpcAddress: string | undefined;
    if (this.grpcProxy && server.grpcPort !== undefined) {
      await listenHttp(this.grpcProxy.server, server.host, server.grpcPort);
      grpcAddress = `${bracketIpv6(displayHost(server.host))}:${(this.grpcProxy.server.address() as AddressInfo).port}`;
    }
    if (this.extAuthzHttp) {
      await listenHttp(this.extAuthzHttp, extAuthz.http.host, extAuthz.http.port);
      extAuthzHttpUrl = `http://${displayHost(extAuthz.http.host)}:${(this.extAuthzHttp.address() as AddressInfo).port}`;
    }
    if (this.extAuthzGrpc) {
      const grpc = this.extAuthzGrpc;
      const port = await new Promise<number>((resolve, reject) =>
        grpc.bindAsync(
          `${bracketIpv6(extAuthz.grpc.host)}:${extAuthz.grpc.port}`,
          ServerCredentials.createInsecure(),
          (err, bound) => (err ? reject(err) : resolve(bound)),
        ),
      );
      extAuthzGrpcAddress = `${bracketIpv6(displayHost(extAuthz.grpc.host))}:${port}`;
    }
    return {
      url: `http://${displayHost(server.host)}:${p.port}`,
      adminUrl: `http://${displayHost(admin.host)}:${a.port}`,
      ...(extAuthzHttpUrl ? { extAuthzHttpUrl } : {}),
      ...(extAuthzGrpcAddress ? { extAuthzGrpcAddress } : {}),
      ...(grpcAddress ? { grpcAddress } : {}),
    };
  }

  /**
   * Graceful shutdown (RFC 9112 §9.6 lets either side close a persistent connection):
   * 1. readiness fails at once (`draining`), every door keeps accepting for
   *    `server.drainDelaySeconds` while the endpoint removal propagates (Kubernetes keeps routing
   *    to a terminating pod for a while), proxy answers carry `Connection: close`;
   * 2. the listeners stop accepting and idle connections are closed; in-flight requests get
   *    `server.shutdownGraceSeconds` to finish, then remaining connections are cut.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.readiness.startDraining();
    const { drainDelaySeconds, shutdownGraceSeconds } = this.config.server;
    const proxy = this.proxy;
    proxy?.startDraining();
    if (drainDelaySeconds > 0 && proxy?.server.listening) {
      this.log.info({ drainDelaySeconds }, 'draining: still accepting until the endpoint is removed');
      await new Promise((resolve) => setTimeout(resolve, drainDelaySeconds * 1000));
    }
    const graceMs = shutdownGraceSeconds * 1000;
    // Every door drains in parallel: Envoy keeps sending checks until the endpoint is gone.
    await Promise.all([
      proxy?.server.listening
        ? withGrace(proxy.stopAccepting(), graceMs, () => void proxy.destroy(), this.log)
        : undefined,
      this.extAuthzHttp?.listening ? closeHttp(this.extAuthzHttp, graceMs, this.log) : undefined,
      this.extAuthzGrpc ? closeGrpc(this.extAuthzGrpc, graceMs, this.log) : undefined,
      this.grpcProxy?.server.listening
        ? withGrace(this.grpcProxy.stopAccepting(), graceMs, () => this.grpcProxy?.destroy(), this.log)
        : undefined,
    ]);
    this.grpcProxy?.close();
    await proxy?.close();
    await new Promise<void>((resolve) => {
      if (!this.admin?.listening) return resolve();
      this.admin.close(() => resolve());
      this.admin.closeAllConnections();
    });
    for (const c of this.closeables.reverse()) await c.close();
  }
}

function listenHttp(server: Server | import('node:net').Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Waits for `closing`; past the grace period runs `force` (cut the remaining connections). */
async function withGrace(closing: Promise<unknown>, graceMs: number, force: () => void, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const forced = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      log.warn({ graceMs }, 'grace period over: closing remaining connections');
      force();
      resolve();
    }, graceMs);
    timer.unref();
  });
  await Promise.race([closing, forced]);
  clearTimeout(timer);
}

function closeHttp(server: Server, graceMs: number, log: Logger): Promise<void> {
  const closing = new Promise<void>((resolve) => server.close(() => resolve()));
  return withGrace(closing, graceMs, () => server.closeAllConnections(), log);
}

function closeGrpc(server: GrpcServer, graceMs: number, log: Logger): Promise<void> {
  const closing = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  return withGrace(closing, graceMs, () => server.forceShutdown(), log);
}
