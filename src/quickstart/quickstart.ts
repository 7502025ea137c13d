import { buildConfig } from '../config/load-config.js';
import type { GatewayConfig, GatewayConfigInput } from '../config/schema.js';
import { Gateway, type Listening } from '../gateway.js';
import { DEMO_FEATURES, DEMO_LABELS } from './demo-model.js';
import { startDemoPredictor, type DemoPredictor } from './demo-predictor.js';
import { startDemoGrpcPredictor, type DemoGrpcPredictor } from './demo-grpc-predictor.js';
import { inferenceProtoPath } from '../inference/grpc-codec.js';
import { DEV_AUDIENCE, startDevIssuer, type DevIssuer } from './dev-issuer.js';

export interface QuickstartOptions {
  readonly port?: number;
  readonly adminPort?: number;
  readonly stateDir?: string;
  readonly logLevel?: GatewayConfig['log']['level'];
  /** The gateway's gRPC port; 8081 unless `port` is 0 (then a free one too). */
  readonly grpcPort?: number;
}

export interface Quickstart {
  readonly gateway: Gateway;
  readonly predictor: DemoPredictor;
  readonly issuer: DevIssuer;
  readonly listening: Listening;
  readonly token: string;
  /** A token carrying the operator role, for the admin listener's operator endpoints and console. */
  readonly operatorToken: string;
  /** The ready-to-paste command lines. */
  readonly curlLines: readonly string[];
  readonly grpcPredictor: DemoGrpcPredictor;
  /** A one-line Node gRPC client call of ModelInfer through the gateway's gRPC door (run from the repository). */
  readonly grpcLine: string;
  close(): Promise<void>;
}

/** How the quickstart authenticates: its own dev issuer, over loopback. */
function quickstartAuth(issuer: Pick<DevIssuer, 'issuer' | 'jwksUri'>): GatewayConfigInput['auth'] {
  return {
    issuers: [
      {
        issuer: issuer.issuer,
        jwksUri: issuer.jwksUri,
        audiences: [DEV_AUDIENCE],
        algorithms: ['ES256'],
        claimHeaders: { 'x-user-id': 'sub' },
      },
    ],
  };
}

/** The demo model's contract. */
// The demo predictor answers probabilities (like sklearnserver with PREDICT_PROBA); the gateway's
// default response policy turns them into these names.
function quickstartModels(): GatewayConfigInput['models'] {
  return {
    iris: {
      labels: [...DEMO_LABELS],
      input: { features: DEMO_FEATURES, shape: [DEMO_FEATURES], maxBatch: 256 },
      extraction: DEMO_EXTRACTION,
    },
  };
}

/**
 * Extraction detection in enforce mode for the demo model, described by the iris training set's
 * per-feature mean and standard deviation (Fisher 1936, as shipped with scikit-learn). A demo has
 * one or two users, never the population a calibration is learned from, so it enforces the
 * published detectors' own thresholds at once (`calibration.minAccounts: 0`); a real deployment
 * keeps the default and runs in shadow until its own traffic has calibrated the model.
 */
export const DEMO_EXTRACTION: {
  readonly mode: 'enforce';
  readonly features: { readonly centre: number[]; readonly scale: number[] };
  readonly calibration: { readonly minAccounts: number };
} = {
  mode: 'enforce',
  features: { centre: [5.843, 3.057, 3.758, 1.199], scale: [0.825, 0.434, 1.759, 0.76] },
  calibration: { minAccounts: 0 },
};

/** The role an operator token of the dev issuer carries (`token --role gateway-operator`). */
export const QUICKSTART_OPERATOR_ROLE = 'gateway-operator';

/** The quickstart's config document, as a file would say it. */
export function quickstartDocument(
  predictorUrl: string,
  issuer: Pick<DevIssuer, 'issuer' | 'jwksUri'>,
  o: QuickstartOptions,
  grpcPredictorUrl?: string,
): GatewayConfigInput {
  const grpcPort = o.grpcPort ?? (o.port === 0 ? 0 : 8081);
  return {
    server: {
      host: '127.0.0.1',
      port: o.port ?? 8080,
      shutdownGraceSeconds: 5,
      drainDelaySeconds: 0,
      ...(grpcPredictorUrl ? { grpcPort } : {}),
    },
    admin: { host: '127.0.0.1', port: o.adminPort ?? 8082 },
    upstream: { url: predictorUrl, ...(grpcPredictorUrl ? { grpcUrl: grpcPredictorUrl } : {}) },
    log: { level: o.logLevel ?? 'info' },
    auth: quickstartAuth(issuer),
    models: quickstartModels(),
    operator: { jwt: { claim: 'roles', values: [QUICKSTART_OPERATOR_ROLE] } },
  };
}

/** The quickstart's config: the same schema and validation as `serve`, with embedded parts. */
export function quickstartConfig(
  predictorUrl: string,
  issuer: DevIssuer,
  o: QuickstartOptions,
  grpcPredictorUrl?: string,
): GatewayConfig {
  return buildConfig(quickstartDocument(predictorUrl, issuer, o, grpcPredictorUrl), 'quickstart');
}

/** ModelInfer of two iris rows with @grpc/grpc-js, printing the labels the gateway answers. */
function grpcClientLine(address: string, token: string): string {
  const call =
    `const g=require('@grpc/grpc-js'),l=require('@grpc/proto-loader');` +
    `const s=g.loadPackageDefinition(l.loadSync('${inferenceProtoPath()}',{keepCase:true,longs:String})).inference.GRPCInferenceService;` +
    `const m=new g.Metadata();m.set('authorization','Bearer ${token}');` +
    `new s('${address}',g.credentials.createInsecure()).ModelInfer({model_name:'iris',inputs:[{name:'input-0',datatype:'FP32',shape:[2,4],contents:{fp32_contents:[6.8,2.8,4.8,1.4,5.1,3.5,1.4,0.2]}}]},m,` +
    `(e,r)=>{console.log(e?e.code+' '+e.details:r.outputs.map(o=>o.name+': '+o.contents.bytes_contents.map(String).join(', ')).join('\\n'));process.exit(e?1:0)})`;
  return `node -e "${call}"`;
}

export async function startQuickstart(o: QuickstartOptions = {}): Promise<Quickstart> {
  const predictor = await startDemoPredictor({ modelName: 'iris' });
  const grpcPredictor = await startDemoGrpcPredictor({ modelName: 'iris' });
  const issuer = await startDevIssuer(o.stateDir ? { stateDir: o.stateDir } : {});
  const config = quickstartConfig(predictor.url, issuer, o, grpcPredictor.url);
  const gateway = await Gateway.create(config);
  let listening: Listening;
  try {
    listening = await gateway.listen();
  } catch (err) {
    await Promise.all([gateway.close(), predictor.close(), grpcPredictor.close(), issuer.close()]);
    throw err;
  }
  const token = await issuer.mint({ sub: 'alice' });
  const operatorToken = await issuer.mint({ sub: 'ops', claims: { roles: [QUICKSTART_OPERATOR_ROLE] } });
  const curlLines = [
    `curl -s -H 'Authorization: Bearer ${token}' -H 'content-type: application/json' -d '{"instances": [[6.8, 2.8, 4.8, 1.4], [5.1, 3.5, 1.4, 0.2]]}' ${listening.url}/v1/models/iris:predict`,
    `curl -s -H 'Authorization: Bearer ${token}' -H 'content-type: application/json' -d '{"inputs": [{"name": "input-0", "shape": [2, 4], "datatype": "FP32", "data": [[6.8, 2.8, 4.8, 1.4], [5.1, 3.5, 1.4, 0.2]]}]}' ${listening.url}/v2/models/iris/infer`,
  ];
  return {
    gateway,
    predictor,
    grpcPredictor,
    issuer,
    listening,
    token,
    operatorToken,
    curlLines,
    grpcLine: grpcClientLine(listening.grpcAddress!, token),
    close: async () => {
      await gateway.close();
      await Promise.all([predictor.close(), grpcPredictor.close(), issuer.close()]);
    },
  };
}

export function quickstartBanner(q: Quickstart): string {
  return [
    'inference-gateway quickstart is running',
    `  gateway   ${q.listening.url}   (reverse proxy in front of the demo predictor)`,
    `  gRPC      ${q.listening.grpcAddress ?? ''}   (Open Inference Protocol over gRPC, h2c)`,
    `  admin     ${q.listening.adminUrl}/metrics  /readyz  /healthz`,
    `  predictor ${q.predictor.url}   (demo iris classifier: ${DEMO_LABELS.join(', ')})`,
    `  JWKS      ${q.issuer.jwksUri}`,
    `  issuer    ${q.issuer.issuer}   audience inference-gateway`,
    '',
    'Try it (a token for sub=alice, valid for one hour):',
    '',
    ...q.curlLines,
    '',
    `The same over gRPC (inference.GRPCInferenceService on ${q.listening.grpcAddress ?? ''}, from the repository):`,
    '',
    q.grpcLine,
    '',
    'Extraction detection is on (enforce) for iris. Watch who it tracks, and clear an account, as an operator',
    `(a token with the role ${QUICKSTART_OPERATOR_ROLE}; the console at ${q.listening.adminUrl}/console takes the same token):`,
    `  OP='Authorization: Bearer ${q.operatorToken}'`,
    `  curl -s -H "$OP" ${q.listening.adminUrl}/extraction/users`,
    `  curl -s -H "$OP" '${q.listening.adminUrl}/extraction/users?minLevel=flag'`,
    `  curl -s -H "$OP" -X DELETE ${q.listening.adminUrl}/extraction/users/<issuer%7Csubject>`,
    '  (answers are labels only; a sweep, the same row with one feature moving, is refused with 403 after',
    '   about 420 requests: the demo enforces the published thresholds, with no population to calibrate from)',
    '',
    'Mint another token:  npx inference-gateway token --sub bob   (an operator: --role gateway-operator)',
    'Stop with Ctrl-C.',
  ].join('\n');
}
