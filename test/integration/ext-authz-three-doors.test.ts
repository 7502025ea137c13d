import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CODES, type ErrorCode } from '../../src/decision/error-codes.js';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { EnvoyCheckClient } from '../helpers/envoy-check-client.js';
import { rawRequest } from '../helpers/raw-http.js';

// One table of requests, sent through the reverse proxy, the HTTP check and the gRPC check
// of the same gateway: every door must reach the same decision.

interface Row {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Envoy attaches the body to the check (Istio includeRequestBodyInCheck). */
  readonly bodyInCheck?: boolean;
  /** 'allowed' or the stable code of the denial. */
  readonly expect: 'allowed' | ErrorCode;
}

const LIMIT = 1024;
const predict = JSON.stringify({ instances: [[6.8, 2.8, 4.8, 1.4]] });

const ROWS: readonly Row[] = [
  { name: 'probe path', method: 'GET', path: '/v2/health/ready', expect: 'allowed' },
  { name: 'probe path with HEAD', method: 'HEAD', path: '/v2/health/live', expect: 'allowed' },
  { name: 'probe path with POST', method: 'POST', path: '/v2/health/ready', body: '{}', expect: 'route_not_allowed' },
  { name: 'model readiness probe', method: 'GET', path: '/v2/models/iris/ready', expect: 'allowed' },
  { name: 'unknown route', method: 'GET', path: '/admin/secrets', expect: 'route_not_allowed' },
  { name: 'V2 server metadata', method: 'GET', path: '/v2', expect: 'route_not_allowed' },
  { name: 'ambiguous path', method: 'POST', path: '/v2/models/./iris/infer', body: '{}', expect: 'invalid_path' },
  { name: 'unlisted model', method: 'POST', path: '/v1/models/secret-model:predict', body: predict, expect: 'model_not_found' },
  { name: 'wrong method', method: 'GET', path: '/v2/models/iris/infer', expect: 'method_not_allowed' },
  { name: 'good request, body not in the check', method: 'POST', path: '/v1/models/iris:predict', body: predict, expect: 'allowed' },
  { name: 'good request, body in the check', method: 'POST', path: '/v1/models/iris:predict?trace=1', body: predict, bodyInCheck: true, expect: 'allowed' },
  { name: 'body too large', method: 'POST', path: '/v1/models/iris:predict', body: `{"instances": [[${'1,'.repeat(LIMIT)}1]]}`, bodyInCheck: true, expect: 'body_too_large' },
];

interface Seen {
  readonly status: number;
  readonly code: string;
  /** The refusal's JSON body (undefined on allow). */
  readonly body?: unknown;
}

function seen(status: number, body: string): Seen {
  if (status === 200) return { status, code: 'allowed' };
  let parsed: { code?: string } | undefined;
  try {
    parsed = JSON.parse(body) as { code?: string };
  } catch {
    parsed = undefined; // not one of ours: a predictor answer passed through
  }
  return { status, code: parsed?.code ?? 'not-a-gateway-answer', body: parsed };
}

describe('one decision through three doors', () => {
  let h: Harness;
  let grpc: EnvoyCheckClient;
  before(async () => {
    h = await startHarness(() => ({
      server: { bodyLimitBytes: LIMIT },
      extAuthz: { http: { enabled: true, host: '127.0.0.1', port: 0, pathPrefix: '/check' }, grpc: { enabled: true, host: '127.0.0.1', port: 0 } },
    }));
    grpc = new EnvoyCheckClient(h.extAuthzGrpcAddress!);
  });
  after(async () => {
    grpc.close();
    await h.close();
  });

  const viaProxy = async (r: Row): Promise<Seen> => {
    const body = r.body ?? '';
    const head = `${r.method} ${r.path} HTTP/1.1\nHost: iris.models.example\nContent-Length: ${Buffer.byteLength(body)}\nConnection: close\n${Object.entries(r.headers ?? {})
      .map(([k, v]) => `${k}: ${v}\n`)
      .join('')}`;
    const a = await rawRequest(h.url, head, body);
    return seen(a.status, a.body);
  };

  // As Envoy's HTTP client does it: prefix + original path, content-length 0 unless the body is attached.
  const viaHttpCheck = async (r: Row): Promise<Seen> => {
    const body = r.bodyInCheck ? (r.body ?? '') : '';
    const extra = { ...r.headers, ...(r.bodyInCheck ? { 'x-envoy-auth-partial-body': 'false' } : {}) };
    const head = `${r.method} /check${r.path} HTTP/1.1\nHost: iris.models.example\nContent-Length: ${Buffer.byteLength(body)}\nConnection: close\n${Object.entries(extra)
      .map(([k, v]) => `${k}: ${v}\n`)
      .join('')}`;
    const a = await rawRequest(h.extAuthzHttpUrl!, head, body);
    return seen(a.status, a.body);
  };

  const viaGrpcCheck = async (r: Row): Promise<Seen & { grpc: number }> => {
    const a = await grpc.check({ method: r.method, path: r.path, headers: r.headers ?? {}, ...(r.bodyInCheck ? { body: r.body ?? '' } : {}) });
    const code = a.status?.code ?? 0;
    if (code === 0) return { ...seen(200, ''), grpc: 0 };
    return { ...seen(a.denied_response?.status?.code ?? 403, a.denied_response?.body ?? '{}'), grpc: code };
  };

  for (const row of ROWS) {
    it(`${row.name}: ${row.expect} through the proxy, the HTTP check and the gRPC check`, async () => {
      const calls = h.predictor.received.length;
      const proxy = await viaProxy(row);
      const forwarded = h.predictor.received.length > calls;
      const http = await viaHttpCheck(row);
      const g = await viaGrpcCheck(row);
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
      // The checks refuse exactly as the proxy did, body included.
      assert.deepEqual(http, proxy, 'HTTP check');
      assert.deepEqual(g, { ...proxy, grpc: ERROR_CODES[row.expect].grpc }, 'gRPC check');
    });
  }
});
