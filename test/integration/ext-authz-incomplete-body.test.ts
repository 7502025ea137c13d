import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { EnvoyCheckClient } from '../helpers/envoy-check-client.js';
import { send, v1Batch } from '../helpers/http.js';

// Envoy attaches at most maxRequestBytes of the body and marks a cut one with
// x-envoy-auth-partial-body: true; without the whole body a batch can be neither counted nor checked.

const batch = JSON.stringify(v1Batch(3));

function doors(allowIncompleteBodies: boolean) {
  let h: Harness;
  let grpc: EnvoyCheckClient;
  const ctl = {
    before: async () => {
      h = await startHarness(() => ({
        models: { iris: { input: { features: 4 } } },
        extAuthz: {
          allowIncompleteBodies,
          http: { enabled: true, host: '127.0.0.1', port: 0 },
          grpc: { enabled: true, host: '127.0.0.1', port: 0 },
        },
      }));
      grpc = new EnvoyCheckClient(h.extAuthzGrpcAddress!);
    },
    after: async () => {
      grpc.close();
      await h.close();
    },
    http: (path: string, body: string | undefined, headers: Record<string, string> = {}) =>
      send(`${h.extAuthzHttpUrl}${path}`, {
        method: 'POST',
        headers: body === undefined ? { 'content-length': '0', ...headers } : headers,
        ...(body === undefined ? {} : { body }),
      }),
    grpc: (path: string, body: string | undefined, partial = false, method = 'POST') =>
      grpc.check({ method, path, ...(body === undefined ? {} : { body, partial }) }),
  };
  return ctl;
}

describe('ext-authz checks of predict and explain without the whole body (default)', () => {
  const d = doors(false);
  before(d.before);
  after(d.after);

  it('refuses an HTTP check whose body Envoy truncated with 413 body_incomplete', async () => {
    const r = await d.http('/v1/models/iris:predict', batch.slice(0, 20), { 'x-envoy-auth-partial-body': 'true' });
    assert.equal(r.status, 413);
    assert.equal(r.json()['code'], 'body_incomplete');
    assert.match(String(r.json()['error']), /truncated/);
  });

  it('refuses an HTTP check of a predict request that carries no body with 413 body_incomplete', async () => {
    const r = await d.http('/v1/models/iris:predict', undefined);
    assert.equal(r.status, 413);
    assert.equal(r.json()['code'], 'body_incomplete');
  });

  it('refuses a gRPC check whose body Envoy truncated with a denied_response 413', async () => {
    const a = await d.grpc('/v2/models/iris/infer', '{"inputs": [{"name": "x", "sha', true);
    assert.notEqual(a.status?.code ?? 0, 0);
    assert.equal(a.denied_response?.status?.code, 413);
    assert.equal(JSON.parse(a.denied_response.body)['code'], 'body_incomplete');
  });

  it('refuses a gRPC check of a predict request that carries no body', async () => {
    const a = await d.grpc('/v1/models/iris:predict', undefined);
    assert.equal(a.denied_response?.status?.code, 413);
  });

  it('still allows a whole body through both checks', async () => {
    assert.equal(
      (await d.http('/v1/models/iris:predict', batch, { 'x-envoy-auth-partial-body': 'false' })).status,
      200,
    );
    assert.equal((await d.grpc('/v1/models/iris:predict', batch)).status?.code ?? 0, 0);
  });

  it('does not ask a readiness check for a body', async () => {
    const a = await d.grpc('/v2/models/iris/ready', undefined, false, 'GET');
    assert.equal(a.status?.code ?? 0, 0);
  });
});

describe('ext-authz checks without the whole body when the operator opts in (extAuthz.allowIncompleteBodies)', () => {
  const d = doors(true);
  before(d.before);
  after(d.after);

  it('lets a truncated body through both checks, unchecked', async () => {
    assert.equal(
      (await d.http('/v1/models/iris:predict', batch.slice(0, 20), { 'x-envoy-auth-partial-body': 'true' })).status,
      200,
    );
    assert.equal((await d.grpc('/v1/models/iris:predict', batch.slice(0, 20), true)).status?.code ?? 0, 0);
  });

  it('lets a check without a body through', async () => {
    assert.equal((await d.http('/v1/models/iris:predict', undefined)).status, 200);
  });
});
