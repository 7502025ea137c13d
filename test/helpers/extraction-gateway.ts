import { buildConfig } from '../../src/config/load-config.js';
import { Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observability/logger.js';
import { DEMO_LABELS } from '../../src/quickstart/demo-model.js';
import { startDemoPredictor, type DemoPredictor } from '../../src/quickstart/demo-predictor.js';
import { send, type Answer, type SendOptions } from './http.js';
import { startJwksIssuer, type JwksIssuer } from './jwks-issuer.js';
import { observationsSettled } from '../../src/decision/observe-answer.js';

/** Iris feature description (the training set's per-feature mean and standard deviation). */
export const IRIS_FEATURES = { centre: [5.84, 3.06, 3.76, 1.2], scale: [0.83, 0.44, 1.77, 0.76] };

/** A one-feature-at-a-time sweep over iris inputs: the textbook partial-dependence probe. */
export function* irisSweep(): Generator<number[]> {
  const base = [5.8, 3.0, 4.3, 1.3];
  for (;;) {
    for (let j = 0; j < 4; j++) {
      for (let g = 0; g < 40; g++) {
        const row = base.slice();
        row[j] = IRIS_FEATURES.centre[j]! + IRIS_FEATURES.scale[j]! * (-2 + (4 * g) / 39);
        yield row.map((v) => Math.round(v * 1000) / 1000);
      }
    }
  }
}

export interface ExtractionGateway {
  readonly gateway: Gateway;
  readonly url: string;
  readonly adminUrl: string;
  /** Set when `extra` enables the HTTP ext-authz door. */
  readonly extAuthzHttpUrl: string | undefined;
  readonly issuer: JwksIssuer;
  readonly predictor: DemoPredictor;
  /** Moves the stages' clock (the ladder's decay) forward. */
  advance(ms: number): void;
  /** A predict call as `sub`, holding the model-owner role (full answers unless degraded). */
  predictAs(sub: string, rows: number[][]): Promise<Answer>;
  /** The same request as an Envoy ext-authz HTTP check carrying the body (door path prefix `/authz`). */
  checkAs(sub: string, rows: number[][]): Promise<Answer>;
  /** A bearer token of the issuer carrying the operator role the gateway is configured with. */
  operatorToken(sub?: string): Promise<string>;
  /** A request to an operator endpoint of the admin listener (`/extraction/users...`), as an operator. */
  admin(path: string, o?: SendOptions): Promise<Answer>;
  close(): Promise<void>;
}

/** The role operator tokens carry in the gateways these helpers start. */
export const OPERATOR_ROLE = 'gateway-operator';

/** A real JWKS issuer, the demo predictor and a gateway with extraction on the iris model. */
export interface SharedParts {
  readonly redisUrl?: string;
  /** Replaces the iris model's response policy (default: labels, full answers for model owners). */
  readonly response?: Record<string, unknown>;
  /** Where the gateway's JSON log lines go (default: nowhere). */
  readonly logTo?: NodeJS.WritableStream;
  /** Reuse another gateway's issuer and predictor (replicas of one deployment); the owner closes them. */
  readonly with?: ExtractionGateway;
}

export async function startExtractionGateway(
  extraction: Record<string, unknown>,
  extra: Record<string, unknown> = {},
  parts: SharedParts = {},
): Promise<ExtractionGateway> {
  const { redisUrl } = parts;
  const issuer = parts.with?.issuer ?? (await startJwksIssuer('inference'));
  const predictor = parts.with?.predictor ?? (await startDemoPredictor({ modelName: 'iris' }));
  const owns = parts.with === undefined;
  let clock = Date.now();
  const cfg = buildConfig(
    {
      server: { host: '127.0.0.1', port: 0, shutdownGraceSeconds: 1, drainDelaySeconds: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      upstream: { url: predictor.url },
      log: { level: 'silent' },
      auth: { enabled: true, issuers: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audiences: ['inference'] }] },
      operator: { jwt: { claim: 'roles', values: [OPERATOR_ROLE] } },
      ...(redisUrl ? { limits: { store: { kind: 'redis', redisUrl, onFailure: 'fail-open' } } } : {}),
      ...extra,
      // The ladder tests drive one account: enforce the published thresholds unless a test calibrates.
      models: {
        iris: {
          labels: [...DEMO_LABELS],
          response: parts.response ?? { fullAccess: { claim: 'realm_access.roles', values: ['model-owner'] } },
          extraction: { calibration: { minAccounts: 0 }, ...extraction },
        },
      },
    },
    'test',
  );
  const gateway = await Gateway.create(cfg, {
    log: parts.logTo ? createLogger('info', parts.logTo) : createLogger('silent'),
    defaultMetrics: false,
    now: () => clock,
  });
  const at = await gateway.listen();
  const tokens = new Map<string, string>();
  const tokenFor = async (sub: string) => {
    let token = tokens.get(sub);
    if (!token)
      tokens.set(sub, (token = await issuer.token({ sub, claims: { realm_access: { roles: ['model-owner'] } } })));
    return token;
  };
  return {
    gateway,
    url: at.url,
    adminUrl: at.adminUrl,
    extAuthzHttpUrl: at.extAuthzHttpUrl,
    issuer,
    predictor,
    advance: (ms) => void (clock += ms),
    async predictAs(sub, rows) {
      return send(`${at.url}/v1/models/iris:predict`, {
        body: { instances: rows },
        headers: { authorization: `Bearer ${await tokenFor(sub)}` },
      });
    },
    async checkAs(sub, rows) {
      return send(`${at.extAuthzHttpUrl}/authz/v1/models/iris:predict`, {
        body: { instances: rows },
        headers: { authorization: `Bearer ${await tokenFor(sub)}` },
      });
    },
    operatorToken: (sub = 'oscar') => issuer.token({ sub, claims: { roles: [OPERATOR_ROLE] } }),
    async admin(path, o = {}) {
      const token = await issuer.token({ sub: 'oscar', claims: { roles: [OPERATOR_ROLE] } });
      return send(`${at.adminUrl}${path}`, { ...o, headers: { authorization: `Bearer ${token}`, ...o.headers } });
    },
    async close() {
      await gateway.close();
      if (!owns) return;
      await predictor.close();
      await issuer.close();
    },
  };
}

/** Whether an iris answer carries probabilities (a full answer) rather than labels. */
export function hasScores(a: Answer): boolean {
  const p = a.json<{ predictions: unknown[] }>().predictions;
  return Array.isArray(p[0]);
}

/** Waits until the answer observers (run after the answer left) have finished, Redis round trips included. */
export const settle = (): Promise<void> => observationsSettled();

/** Two replicas of one deployment on the Redis at `redisUrl` (the second shares the first's issuer and predictor), closed after `run`. */
export async function withReplicas(
  extraction: Record<string, unknown>,
  redisUrl: string,
  run: (a: ExtractionGateway, b: ExtractionGateway) => Promise<void>,
): Promise<void> {
  const a = await startExtractionGateway(extraction, {}, { redisUrl });
  try {
    const b = await startExtractionGateway(extraction, {}, { redisUrl, with: a });
    try {
      await run(a, b);
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
}

/** The sum of the samples of metric `name` on the gateway's /metrics whose labels include `labels` (e.g. `kind="account"`). */
export async function metricTotal(g: ExtractionGateway, name: string, labels = ''): Promise<number> {
  const text = (await send(`${g.adminUrl}/metrics`)).text;
  let total = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm')))
    if ((m[1] ?? '').includes(labels)) total += Number(m[2]);
  return total;
}
