import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CODES, type ErrorCode } from '../../src/decision/error-codes.js';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { EnvoyCheckClient, headerMap } from '../helpers/envoy-check-client.js';
import { startJwksIssuer, type JwksIssuer } from '../helpers/jwks-issuer.js';
import { rawRequest } from '../helpers/raw-http.js';
import { v1Batch } from '../helpers/http.js';
import {
  fp32Raw,
  framedMessage,
  InferenceClient,
  irisInfer,
  type InferRequest,
} from '../helpers/grpc-inference-client.js';
import { startDemoGrpcPredictor, type DemoGrpcPredictor } from '../../src/quickstart/demo-grpc-predictor.js';

// Tables of requests, each sent through the reverse proxy, the HTTP check and the gRPC check
// of one gateway: every door must reach the same decision and refuse with the same answer.

type Headers = ReadonlyArray<readonly [string, string]>;

interface Row {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  /** Pairs, so a header can repeat (two Authorization headers). */
  readonly headers?: Headers | (() => Promise<Headers>);
  readonly body?: string;
  /** Envoy attaches the body to the check (Istio includeRequestBodyInCheck). */
  readonly bodyInCheck?: boolean;
  /** 'allowed' or the stable code of the denial. */
  readonly expect: 'allowed' | ErrorCode;
  /**
   * Where the proxy decides otherwise: it can rewrite the answer (labels-only), the checks cannot,
   * so a request for scores is allowed and reduced by the proxy but refused by the checks.
   */
  readonly expectProxy?: 'allowed';
}

interface Seen {
  readonly status: number;
  readonly code: string;
  /** The refusal's JSON body (undefined on allow). */
  readonly body?: unknown;
  /** The challenge, when the refusal carries one. */
  readonly wwwAuthenticate?: string;
}

function seen(status: number, body: string, wwwAuthenticate: string | undefined): Seen {
  if (status === 200) return { status, code: 'allowed' };
  let parsed: { code?: string } | undefined;
  try {
    parsed = JSON.parse(body) as { code?: string };
  } catch {
    parsed = undefined; // not one of ours: a predictor answer passed through
  }
  return {
    status,
    code: parsed?.code ?? 'not-a-gateway-answer',
    body: parsed,
    ...(wwwAuthenticate ? { wwwAuthenticate } : {}),
  };
}

const headLines = (pairs: Headers) => pairs.map(([k, v]) => `${k}: ${v}\n`).join('');

function runTable(
  title: string,
  rows: () => readonly Row[],
  config: () => Promise<{ raw: Record<string, unknown>; cleanup?: () => Promise<void> }>,
): void {
  describe(title, () => {
    let h: Harness;
    let grpc: EnvoyCheckClient;
    let cleanup: (() => Promise<void>) | undefined;
    before(async () => {
      const c = await config();
      cleanup = c.cleanup;
      h = await startHarness(() => ({
        ...c.raw,
        extAuthz: {
          http: { enabled: true, host: '127.0.0.1', port: 0, pathPrefix: '/check' },
          grpc: { enabled: true, host: '127.0.0.1', port: 0 },
        },
      }));
      grpc = new EnvoyCheckClient(h.extAuthzGrpcAddress!);
    });
    after(async () => {
      grpc?.close();
      await h?.close();
      await cleanup?.();
    });

    const viaProxy = async (r: Row, headers: Headers): Promise<Seen> => {
      const body = r.body ?? '';
      const head = `${r.method} ${r.path} HTTP/1.1\nHost: iris.models.example\nContent-Length: ${Buffer.byteLength(body)}\nConnection: close\n${headLines(headers)}`;
      const a = await rawRequest(h.url, head, body);
      return seen(a.status, a.body, a.headers['www-authenticate']);
    };

    // As Envoy's HTTP client does it: prefix + original path, content-length 0 unless the body is attached.
    const viaHttpCheck = async (r: Row, headers: Headers): Promise<Seen> => {
      const body = r.bodyInCheck ? (r.body ?? '') : '';
      const extra: Headers = r.bodyInCheck ? [...headers, ['x-envoy-auth-partial-body', 'false']] : headers;
      const head = `${r.method} /check${r.path} HTTP/1.1\nHost: iris.models.example\nContent-Length: ${Buffer.byteLength(body)}\nConnection: close\n${headLines(extra)}`;
      const a = await rawRequest(h.extAuthzHttpUrl!, head, body);
      return seen(a.status, a.body, a.headers['www-authenticate']);
    };

    // Envoy's gRPC CheckRequest: lower-case header map, repeated headers joined with ','.
    const viaGrpcCheck = async (r: Row, headers: Headers): Promise<Seen & { grpc: number }> => {
      const map: Record<string, string> = {};
      for (const [k, v] of headers) {
        const key = k.toLowerCase();
        map[key] = map[key] === undefined ? v : `${map[key]},${v}`;
      }
      const a = await grpc.check({
        method: r.method,
        path: r.path,
        headers: map,
        ...(r.bodyInCheck ? { body: r.body ?? '' } : {}),
      });
      const code = a.status?.code ?? 0;
      if (code === 0) return { ...seen(200, '', undefined), grpc: 0 };
      const challenge = a.denied_response?.headers.find((x) => x.header.key === 'www-authenticate')?.header.value;
      return {
        ...seen(a.denied_response?.status?.code ?? 403, a.denied_response?.body ?? '{}', challenge),
        grpc: code,
      };
    };

    for (const row of rows()) {
      const title = row.expectProxy
        ? `${row.name}: answered and reduced by the proxy, ${row.expect} from the HTTP and gRPC checks`
        : `${row.name}: ${row.expect} through the proxy, the HTTP check and the gRPC check`;
      it(title, async () => {
        const headers = typeof row.headers === 'function' ? await row.headers() : (row.headers ?? []);
        const calls = h.predictor.received.length;
        const proxy = await viaProxy(row, headers);
        const forwarded = h.predictor.received.length > calls;
        const http = await viaHttpCheck(row, headers);
        const g = await viaGrpcCheck(row, headers);
        if (row.expectProxy === 'allowed' && row.expect !== 'allowed') {
          assert.equal(forwarded, true, 'proxy forwarded to the predictor');
          assert.equal(proxy.status, 200, 'proxy answered (reduced)');
          assert.equal(http.code, row.expect, 'HTTP check decision');
          assert.equal(http.status, ERROR_CODES[row.expect].http, 'HTTP check status');
          assert.deepEqual(g, { ...http, grpc: ERROR_CODES[row.expect].grpc }, 'gRPC check');
          return;
        }
        if (row.expect === 'allowed') {
          // The proxy's allow is the predictor's own answer (whatever its status); the checks' allow is 200 / OK.
          assert.equal(forwarded, true, 'proxy forwarded to the predictor');
          assert.deepEqual(http, { status: 200, code: 'allowed' }, 'HTTP check');
          assert.deepEqual(g, { status: 200, code: 'allowed', grpc: 0 }, 'gRPC check');
          return;
        }
        assert.equal(forwarded, false, 'proxy did not call the predictor');
        assert.equal(proxy.status, ERROR_CODES[row.expect].http, 'proxy status');
        assert.equal(proxy.code, row.expect, 'proxy decision');
        // The checks refuse exactly as the proxy did: status, code, body, challenge.
        assert.deepEqual(http, proxy, 'HTTP check');
        assert.deepEqual(g, { ...proxy, grpc: ERROR_CODES[row.expect].grpc }, 'gRPC check');
      });
    }
  });
}

const LIMIT = 1024;
const predict = JSON.stringify({ instances: [[6.8, 2.8, 4.8, 1.4]] });
const cloudEvent = (data: unknown) =>
  JSON.stringify({
    specversion: '1.0',
    type: 'io.kserve.inference.request',
    source: 'test',
    id: '1',
    time: '2026-01-01T00:00:00Z',
    data,
  });
const v2Scores = (output: Record<string, unknown>) =>
  JSON.stringify({
    inputs: [{ name: 'input-0', shape: [1, 4], datatype: 'FP32', data: [6.8, 2.8, 4.8, 1.4] }],
    outputs: [output],
  });

runTable(
  'one decision through three doors: routing and bodies',
  () => [
    { name: 'probe path', method: 'GET', path: '/v2/health/ready', expect: 'allowed' },
    { name: 'probe path with HEAD', method: 'HEAD', path: '/v2/health/live', expect: 'allowed' },
    { name: 'probe path with POST', method: 'POST', path: '/v2/health/ready', body: '{}', expect: 'route_not_allowed' },
    { name: 'model readiness probe', method: 'GET', path: '/v2/models/iris/ready', expect: 'allowed' },
    { name: 'unknown route', method: 'GET', path: '/admin/secrets', expect: 'route_not_allowed' },
    {
      name: 'two Host headers on a model route (RFC 9112 §3.2)',
      method: 'POST',
      path: '/v1/models/iris:predict',
      body: predict,
      bodyInCheck: true,
      headers: [
        ['Host', 'iris.models.example'],
        ['Host', 'other.models.example'],
      ],
      expect: 'host_ambiguous',
    },
    {
      name: 'two Host headers on a public probe',
      method: 'GET',
      path: '/v2/health/ready',
      headers: [
        ['Host', 'iris.models.example'],
        ['Host', 'other.models.example'],
      ],
      expect: 'host_ambiguous',
    },
    { name: 'V2 server metadata', method: 'GET', path: '/v2', expect: 'route_not_allowed' },
    { name: 'ambiguous path', method: 'POST', path: '/v2/models/./iris/infer', body: '{}', expect: 'invalid_path' },
    {
      name: 'unlisted model',
      method: 'POST',
      path: '/v1/models/secret-model:predict',
      body: predict,
      expect: 'model_not_found',
    },
    { name: 'wrong method', method: 'GET', path: '/v2/models/iris/infer', expect: 'method_not_allowed' },
    {
      name: 'good request, body not in the check (nothing to count or check)',
      method: 'POST',
      path: '/v1/models/iris:predict',
      body: predict,
      expect: 'body_incomplete',
      expectProxy: 'allowed',
    },
    {
      name: 'good request, body in the check',
      method: 'POST',
      path: '/v1/models/iris:predict?trace=1',
      body: predict,
      bodyInCheck: true,
      expect: 'allowed',
    },
    {
      name: 'explain under a labels policy',
      method: 'POST',
      path: '/v1/models/iris:explain',
      body: predict,
      expect: 'scores_not_allowed',
    },
    {
      name: 'MLServer predict_proba request, body in the check',
      method: 'POST',
      path: '/v2/models/iris/infer',
      body: v2Scores({ name: 'predict_proba' }),
      bodyInCheck: true,
      expect: 'scores_not_allowed',
      expectProxy: 'allowed',
    },
    {
      name: 'Triton top-3 classification request, body in the check',
      method: 'POST',
      path: '/v2/models/iris/infer',
      body: v2Scores({ name: 'predict_proba', parameters: { classification: 3 } }),
      bodyInCheck: true,
      expect: 'scores_not_allowed',
      expectProxy: 'allowed',
    },
    {
      name: 'Triton classification of 1 (answered as "score:index"), body in the check',
      method: 'POST',
      path: '/v2/models/iris/infer',
      body: v2Scores({ name: 'output0', parameters: { classification: 1 } }),
      bodyInCheck: true,
      expect: 'scores_not_allowed',
      expectProxy: 'allowed',
    },
    {
      name: 'Triton classification count sent as the string "5", body in the check',
      method: 'POST',
      path: '/v2/models/iris/infer',
      body: v2Scores({ name: 'output0', parameters: { classification: '5' } }),
      bodyInCheck: true,
      expect: 'scores_not_allowed',
      expectProxy: 'allowed',
    },
    {
      name: 'score request, body not in the check (the check cannot see it)',
      method: 'POST',
      path: '/v2/models/iris/infer',
      body: v2Scores({ name: 'predict_proba' }),
      expect: 'body_incomplete',
      expectProxy: 'allowed',
    },
    {
      name: 'V1 body with both instances and inputs, body in the check',
      method: 'POST',
      path: '/v1/models/iris:predict',
      body: JSON.stringify({ instances: [[6.8, 2.8, 4.8, 1.4]], inputs: [[1, 2, 3]] }),
      bodyInCheck: true,
      expect: 'invalid_body',
    },
    {
      name: 'structured CloudEvent whose data breaks the contract, body in the check',
      method: 'POST',
      path: '/v1/models/iris:predict',
      body: cloudEvent({ instances: [[1, 2, 3]] }),
      bodyInCheck: true,
      expect: 'invalid_input',
    },
    {
      name: 'structured CloudEvent whose data keeps the contract, body in the check',
      method: 'POST',
      path: '/v1/models/iris:predict',
      body: cloudEvent({ instances: [[6.8, 2.8, 4.8, 1.4]] }),
      bodyInCheck: true,
      expect: 'allowed',
    },
    {
      name: 'input contract broken, body in the check',
      method: 'POST',
      path: '/v1/models/iris:predict',
      body: '{"instances": [[1, 2, 3]]}',
      bodyInCheck: true,
      expect: 'invalid_input',
    },
    {
      name: 'body too large',
      method: 'POST',
      path: '/v1/models/iris:predict',
      body: `{"instances": [[${'1,'.repeat(LIMIT)}1]]}`,
      bodyInCheck: true,
      expect: 'body_too_large',
    },
  ],
  async () => ({ raw: { server: { bodyLimitBytes: LIMIT }, models: { iris: { input: { features: 4 } } } } }),
);

let issuer: JwksIssuer;
const bearer =
  (o: Parameters<JwksIssuer['token']>[0] = {}) =>
  async (): Promise<Headers> => [['Authorization', `Bearer ${await issuer.token(o)}`]];

runTable(
  'one decision through three doors: authentication',
  () => [
    { name: 'probe path without a token', method: 'GET', path: '/v2/health/ready', expect: 'allowed' },
    { name: 'no token', method: 'POST', path: '/v1/models/iris:predict', body: predict, expect: 'token_missing' },
    {
      name: 'bad token (forged signature)',
      method: 'POST',
      path: '/v1/models/iris:predict',
      body: predict,
      headers: bearer({ scope: 'predict', forged: true }),
      expect: 'token_invalid',
    },
    {
      name: 'expired token',
      method: 'POST',
      path: '/v1/models/iris:predict',
      body: predict,
      headers: bearer({ scope: 'predict', expiresInSeconds: -3600 }),
      expect: 'token_invalid',
    },
    {
      name: 'wrong audience',
      method: 'POST',
      path: '/v1/models/iris:predict',
      body: predict,
      headers: bearer({ scope: 'predict', aud: 'billing' }),
      expect: 'token_invalid',
    },
    {
      name: 'missing scope',
      method: 'POST',
      path: '/v1/models/iris:predict',
      body: predict,
      headers: bearer({ scope: 'metadata' }),
      expect: 'insufficient_scope',
    },
    {
      name: 'two credentials',
      method: 'POST',
      path: '/v1/models/iris:predict',
      body: predict,
      headers: async () => [
        ...(await bearer({ scope: 'predict' })()),
        ...(await bearer({ scope: 'predict', sub: 'bob' })()),
      ],
      expect: 'token_ambiguous',
    },
    {
      name: 'good request with a token',
      method: 'POST',
      path: '/v1/models/iris:predict',
      body: predict,
      bodyInCheck: true,
      headers: bearer({ scope: 'predict' }),
      expect: 'allowed',
    },
    {
      name: 'good V2 request with a token, body in the check',
      method: 'POST',
      path: '/v2/models/iris/infer',
      body: JSON.stringify({
        inputs: [{ name: 'input-0', shape: [1, 4], datatype: 'FP32', data: [6.8, 2.8, 4.8, 1.4] }],
      }),
      bodyInCheck: true,
      headers: bearer({ scope: 'predict' }),
      expect: 'allowed',
    },
  ],
  async () => {
    issuer = await startJwksIssuer('inference');
    return {
      raw: {
        auth: {
          enabled: true,
          issuers: [
            {
              issuer: issuer.issuer,
              jwksUri: issuer.jwksUri,
              audiences: ['inference'],
              claimHeaders: { 'x-gateway-subject': 'sub' },
            },
          ],
        },
        models: { iris: { auth: { predict: { scopes: ['predict'] } } } },
      },
      cleanup: () => issuer.close(),
    };
  },
);

const batch = (n: number) => JSON.stringify(v1Batch(n));

// Every door counts against the same budget (10 predictions an hour, keyed by peer here), so the
// rows run in order: 3 doors × 2 predictions leave 4, and a batch of 11 can never fit.
runTable(
  'one decision through three doors: rate limits',
  () => [
    {
      name: 'batch within the budget, body in the check',
      method: 'POST',
      path: '/v1/models/iris:predict',
      body: batch(2),
      bodyInCheck: true,
      expect: 'allowed',
    },
    {
      name: 'batch over the budget, body in the check',
      method: 'POST',
      path: '/v1/models/iris:predict',
      body: batch(11),
      bodyInCheck: true,
      expect: 'rate_limited',
    },
    {
      name: 'CloudEvent batch over the budget, body in the check',
      method: 'POST',
      path: '/v1/models/iris:predict',
      body: JSON.stringify({
        specversion: '1.0',
        type: 't',
        source: 's',
        id: '1',
        time: '2026-01-01T00:00:00Z',
        data: v1Batch(11),
      }),
      bodyInCheck: true,
      expect: 'rate_limited',
    },
    {
      name: 'V2 batch over the budget, body in the check',
      method: 'POST',
      path: '/v2/models/iris/infer',
      body: JSON.stringify({ inputs: [{ name: 'x', shape: [11, 4], datatype: 'FP32', data: new Array(44).fill(1) }] }),
      bodyInCheck: true,
      expect: 'rate_limited',
    },
  ],
  async () => ({ raw: { limits: { default: [{ name: 'hourly', predictions: 10, perSeconds: 3600 }] } } }),
);

// The same tables for gRPC calls of `inference.GRPCInferenceService`: through the gateway's gRPC
// door (a real @grpc/grpc-js client), and through both checks as Envoy sends a gRPC request to
// them (the HTTP check gets the length-prefixed message as its body; the gRPC check gets it in
// `raw_body`, Istio's packAsBytes). Every door reaches the same decision, with the same code and
// the same message; the gRPC door carries the REST JSON body in `gateway-error-bin`.

interface GrpcRow {
  readonly name: string;
  readonly rpc: 'ModelInfer' | 'ModelStreamInfer' | 'ServerLive' | 'ServerMetadata';
  readonly request?: InferRequest;
  readonly headers?: () => Promise<Record<string, string>>;
  readonly bodyInCheck?: boolean;
  readonly expect: 'allowed' | ErrorCode;
  /** The gRPC door rewrites answers (labels-only) where the checks must refuse. */
  readonly expectGrpcDoor?: 'allowed';
}

const RPC_TYPES: Record<GrpcRow['rpc'], readonly [string, string]> = {
  ModelInfer: ['ModelInferRequest', 'ModelInferResponse'],
  ModelStreamInfer: ['ModelInferRequest', 'ModelInferResponse'],
  ServerLive: ['ServerLiveRequest', 'ServerLiveResponse'],
  ServerMetadata: ['ServerMetadataRequest', 'ServerMetadataResponse'],
};

function runGrpcTable(
  title: string,
  rows: () => readonly GrpcRow[],
  config: () => Promise<{ raw: Record<string, unknown>; cleanup?: () => Promise<void> }>,
): void {
  describe(title, () => {
    let h: Harness;
    let predictor: DemoGrpcPredictor;
    let check: EnvoyCheckClient;
    let client: InferenceClient;
    let cleanup: (() => Promise<void>) | undefined;
    before(async () => {
      const c = await config();
      cleanup = c.cleanup;
      predictor = await startDemoGrpcPredictor();
      h = await startHarness(() => ({
        ...c.raw,
        server: { grpcPort: 0, bodyLimitBytes: LIMIT },
        upstream: { grpcUrl: predictor.url },
        extAuthz: {
          http: { enabled: true, host: '127.0.0.1', port: 0, pathPrefix: '/check' },
          grpc: { enabled: true, host: '127.0.0.1', port: 0 },
        },
      }));
      check = new EnvoyCheckClient(h.extAuthzGrpcAddress!);
      client = new InferenceClient(h.grpcAddress!);
    });
    after(async () => {
      client?.close();
      check?.close();
      await h?.close();
      await predictor?.close();
      await cleanup?.();
    });

    for (const row of rows()) {
      const title = row.expectGrpcDoor
        ? `${row.name}: answered and reduced by the gRPC door, ${row.expect} from the HTTP and gRPC checks`
        : `${row.name}: ${row.expect} through the gRPC door, the HTTP check and the gRPC check`;
      it(title, async () => {
        const metadata = row.headers ? await row.headers() : {};
        const [reqType, resType] = RPC_TYPES[row.rpc];
        const message = row.request ?? {};
        const body = framedMessage(reqType, message);
        const calls = predictor.requests.length;
        const door = await client.call(row.rpc, reqType, resType, message, metadata);
        const forwarded = predictor.requests.length > calls;
        const doorBin = door.error?.metadata.get('gateway-error-bin')[0];
        const doorSeen = door.error
          ? {
              code: door.error.metadata.get('gateway-error-code')[0],
              body: Buffer.isBuffer(doorBin) ? (JSON.parse(doorBin.toString('utf8')) as unknown) : undefined,
            }
          : { code: 'allowed' };

        const path = `/inference.GRPCInferenceService/${row.rpc}`;
        const checkHeaders: Array<readonly [string, string]> = [
          ['content-type', 'application/grpc'],
          ['te', 'trailers'],
          ...Object.entries(metadata),
        ];
        if (row.bodyInCheck) checkHeaders.push(['x-envoy-auth-partial-body', 'false']);
        const sent = row.bodyInCheck ? body : Buffer.alloc(0);
        const head = `POST /check${path} HTTP/1.1\nHost: iris.models.example\nContent-Length: ${sent.length}\nConnection: close\n${headLines(checkHeaders)}`;
        const viaHttp = await rawRequest(h.extAuthzHttpUrl!, head, sent);
        const http = seen(viaHttp.status, viaHttp.body, viaHttp.headers['www-authenticate']);
        // What Envoy's local reply then gives the gRPC client (it keeps a grpc-status the check sets).
        const httpGrpcStatus = viaHttp.headers['grpc-status'];
        const g = await check.check({
          method: 'POST',
          path,
          headers: Object.fromEntries(checkHeaders.filter(([k]) => k !== 'x-envoy-auth-partial-body')),
          ...(row.bodyInCheck ? { body, packAsBytes: true } : {}),
        });
        const grpcCheck =
          (g.status?.code ?? 0) === 0
            ? { code: 'allowed', grpc: 0 }
            : {
                code: (JSON.parse(g.denied_response?.body ?? '{}') as { code?: string }).code,
                body: JSON.parse(g.denied_response?.body ?? '{}') as unknown,
                grpc: g.status!.code,
              };
        // Envoy keeps a grpc-status the denial sets when it answers the gRPC client (its local reply).
        if (grpcCheck.code !== 'allowed')
          assert.equal(
            headerMap(g.denied_response?.headers)['grpc-status'],
            String(grpcCheck.grpc),
            'the denial sets the gRPC client’s status',
          );

        if (row.expectGrpcDoor === 'allowed' && row.expect !== 'allowed') {
          assert.equal(door.error, undefined, `gRPC door answered: ${door.error?.details ?? ''}`);
          assert.equal(forwarded, true, 'gRPC door forwarded to the predictor');
          assert.equal(http.code, row.expect, 'HTTP check decision');
          assert.equal(httpGrpcStatus, String(ERROR_CODES[row.expect].grpc), 'HTTP check grpc-status');
          assert.deepEqual(
            grpcCheck,
            { code: row.expect, body: http.body, grpc: ERROR_CODES[row.expect].grpc },
            'gRPC check',
          );
          return;
        }
        if (row.expect === 'allowed') {
          assert.equal(door.error, undefined, `gRPC door answered: ${door.error?.details ?? ''}`);
          if (row.rpc === 'ModelInfer') assert.equal(forwarded, true, 'gRPC door forwarded to the predictor');
          assert.deepEqual(http, { status: 200, code: 'allowed' }, 'HTTP check');
          assert.equal(httpGrpcStatus, undefined, 'an allowed check sets no grpc-status');
          assert.deepEqual(grpcCheck, { code: 'allowed', grpc: 0 }, 'gRPC check');
          return;
        }
        assert.equal(forwarded, false, 'gRPC door did not call the predictor');
        assert.equal(doorSeen.code, row.expect, `gRPC door decision: ${door.error?.details ?? 'allowed'}`);
        assert.equal(door.error?.code, ERROR_CODES[row.expect].grpc, 'gRPC door status');
        assert.equal(
          door.error?.details,
          (doorSeen.body as { error?: string } | undefined)?.error,
          'grpc-message is the JSON error',
        );
        // The checks refuse exactly as the gRPC door did: code and body.
        assert.deepEqual({ code: http.code, body: http.body }, doorSeen, 'HTTP check');
        assert.equal(http.status, ERROR_CODES[row.expect].http, 'HTTP check status');
        assert.equal(
          httpGrpcStatus,
          String(door.error?.code),
          'HTTP check grpc-status: the status the gRPC door’s client got',
        );
        assert.deepEqual(grpcCheck, { ...doorSeen, grpc: ERROR_CODES[row.expect].grpc }, 'gRPC check');
      });
    }
  });
}

const GRPC_ROW = [6.8, 2.8, 4.8, 1.4];
const grpcInfer = (extra: Partial<InferRequest> = {}) => irisInfer([GRPC_ROW], extra);

runGrpcTable(
  'one decision through three doors: gRPC calls',
  () => [
    { name: 'ServerLive (its REST twin /v2/health/live is public)', rpc: 'ServerLive', expect: 'allowed' },
    { name: 'ServerMetadata (its REST twin /v2 is not a route)', rpc: 'ServerMetadata', expect: 'route_not_allowed' },
    {
      name: 'streaming inference',
      rpc: 'ModelStreamInfer',
      request: grpcInfer(),
      bodyInCheck: true,
      expect: 'rpc_not_supported',
    },
    {
      name: 'typed contents, message in the check',
      rpc: 'ModelInfer',
      request: grpcInfer(),
      bodyInCheck: true,
      expect: 'allowed',
    },
    {
      name: 'raw_input_contents, message in the check',
      rpc: 'ModelInfer',
      request: {
        model_name: 'iris',
        inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4] }],
        raw_input_contents: [fp32Raw([GRPC_ROW])],
      },
      bodyInCheck: true,
      expect: 'allowed',
    },
    {
      name: 'message not in the check (the model cannot be known)',
      rpc: 'ModelInfer',
      request: grpcInfer(),
      expect: 'body_incomplete',
      expectGrpcDoor: 'allowed',
    },
    {
      name: 'unlisted model',
      rpc: 'ModelInfer',
      request: grpcInfer({ model_name: 'secret-model' }),
      bodyInCheck: true,
      expect: 'model_not_found',
    },
    {
      name: 'two inputs of one name',
      rpc: 'ModelInfer',
      request: { model_name: 'iris', inputs: [grpcInfer().inputs[0]!, grpcInfer().inputs[0]!] },
      bodyInCheck: true,
      expect: 'invalid_body',
    },
    {
      name: 'raw bytes that disagree with the shape',
      rpc: 'ModelInfer',
      request: {
        model_name: 'iris',
        inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 4] }],
        raw_input_contents: [fp32Raw([GRPC_ROW, GRPC_ROW])],
      },
      bodyInCheck: true,
      expect: 'invalid_body',
    },
    {
      name: 'input contract broken (rows of 3 where the contract says 4)',
      rpc: 'ModelInfer',
      request: {
        model_name: 'iris',
        inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 3], contents: { fp32_contents: [1, 2, 3] } }],
      },
      bodyInCheck: true,
      expect: 'invalid_input',
    },
    {
      name: 'Triton classification of 3 requested',
      rpc: 'ModelInfer',
      request: grpcInfer({ outputs: [{ name: 'predict_proba', parameters: { classification: { int64_param: 3 } } }] }),
      bodyInCheck: true,
      expect: 'scores_not_allowed',
      expectGrpcDoor: 'allowed',
    },
    {
      name: 'message over the limit',
      rpc: 'ModelInfer',
      request: irisInfer(new Array(80).fill(GRPC_ROW)),
      bodyInCheck: true,
      expect: 'body_too_large',
    },
  ],
  async () => ({ raw: { models: { iris: { input: { shape: [4] } } } } }),
);

let grpcIssuer: JwksIssuer;
const grpcBearer = (o: Parameters<JwksIssuer['token']>[0]) => async () => ({
  authorization: `Bearer ${await grpcIssuer.token(o)}`,
});

runGrpcTable(
  'one decision through three doors: gRPC authentication and budgets',
  () => [
    { name: 'no token', rpc: 'ModelInfer', request: grpcInfer(), bodyInCheck: true, expect: 'token_missing' },
    {
      name: 'forged token',
      rpc: 'ModelInfer',
      request: grpcInfer(),
      bodyInCheck: true,
      headers: grpcBearer({ scope: 'predict', forged: true }),
      expect: 'token_invalid',
    },
    {
      name: 'missing scope',
      rpc: 'ModelInfer',
      request: grpcInfer(),
      bodyInCheck: true,
      headers: grpcBearer({ scope: 'metadata' }),
      expect: 'insufficient_scope',
    },
    {
      name: 'good call with a token',
      rpc: 'ModelInfer',
      request: grpcInfer(),
      bodyInCheck: true,
      headers: grpcBearer({ scope: 'predict' }),
      expect: 'allowed',
    },
    {
      name: 'batch over the budget',
      rpc: 'ModelInfer',
      request: irisInfer(new Array(11).fill(GRPC_ROW)),
      bodyInCheck: true,
      headers: grpcBearer({ scope: 'predict' }),
      expect: 'rate_limited',
    },
  ],
  async () => {
    grpcIssuer = await startJwksIssuer('inference');
    return {
      raw: {
        auth: {
          enabled: true,
          issuers: [{ issuer: grpcIssuer.issuer, jwksUri: grpcIssuer.jwksUri, audiences: ['inference'] }],
        },
        models: { iris: { auth: { predict: { scopes: ['predict'] } } } },
        limits: { default: [{ name: 'hourly', predictions: 10, perSeconds: 3600 }] },
      },
      cleanup: () => grpcIssuer.close(),
    };
  },
);
