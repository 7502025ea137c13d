import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { startJwksIssuer, type JwksIssuer } from '../helpers/jwks-issuer.js';
import { send, v1Body } from '../helpers/http.js';
import { startNginx, type Nginx } from '../helpers/nginx.js';

// auth_request never passes the request body to the check, so these run with
// extAuthz.allowIncompleteBodies (each prediction then costs 1 and is not contract-checked).
// nginx's auth_request is a widely deployed peer of Envoy's HTTP ext_authz: a subrequest to the
// check door carrying the original method (proxy_method), `prefix + original URI` and the
// client headers, no body. Its mapping differs from Envoy's on one point: any 2xx allows,
// 401 and 403 reach the client (401 with WWW-Authenticate, nginx's own body, not ours), and
// every other status (404, 405, 413, 429, 5xx) becomes 500 — see README "ext-authz doors".
const authRequest = (doorUrl: string, predictorUrl: string, prefix: string) => `
    location / {
      auth_request /_ext_authz;
      auth_request_set $gw_subject $upstream_http_x_gateway_subject;
      proxy_set_header X-Gateway-Subject $gw_subject;
      proxy_pass ${predictorUrl};
    }
    location = /_ext_authz {
      internal;
      proxy_method $request_method;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "0";
      proxy_set_header Host $host;
      proxy_pass ${doorUrl}${prefix}$request_uri;
    }`;

describe('nginx auth_request in front of a predictor, pointed at the HTTP ext-authz door', () => {
  let h: Harness;
  let nginx: Nginx;
  before(async () => {
    h = await startHarness(() => ({
      extAuthz: {
        allowIncompleteBodies: true,
        http: { enabled: true, host: '127.0.0.1', port: 0, pathPrefix: '/authz' },
      },
    }));
    nginx = await startNginx(() => authRequest(h.extAuthzHttpUrl!, h.predictor.url, '/authz'));
  });
  after(async () => {
    await nginx?.stop();
    await h?.close();
  });

  it('lets an allowed predict reach the predictor and returns its answer', async () => {
    const r = await send(`${nginx.url}/v1/models/iris:predict?trace=1`, { body: v1Body() });
    assert.equal(r.status, 200, `${r.text}\n${nginx.errorLog()}`);
    assert.equal(r.json<{ predictions: unknown[] }>().predictions.length, 1);
    assert.equal(h.predictor.received.at(-1)?.url, '/v1/models/iris:predict?trace=1');
  });

  it('refuses a path that is neither public nor a model route with 403, never calling the predictor', async () => {
    const before = h.predictor.received.length;
    const r = await send(`${nginx.url}/admin/secrets`);
    assert.equal(r.status, 403);
    assert.equal(h.predictor.received.length, before);
  });

  it('turns a 404 model_not_found check answer into 500, as auth_request does for any status but 2xx/401/403', async () => {
    const before = h.predictor.received.length;
    const r = await send(`${nginx.url}/v1/models/secret-model:predict`, { body: v1Body() });
    assert.equal(r.status, 500);
    assert.equal(h.predictor.received.length, before);
  });

  it('checks the original method: a GET on a predict route is refused', async () => {
    const before = h.predictor.received.length;
    const r = await send(`${nginx.url}/v2/models/iris/infer`);
    assert.equal(r.status, 500); // 405 method_not_allowed, mapped by auth_request
    assert.equal(h.predictor.received.length, before);
  });
});

// With real authentication behind the door: identities, challenges and scope refusals.
describe('nginx auth_request with bearer tokens checked by the HTTP door', () => {
  let issuer: JwksIssuer;
  let h: Harness;
  let nginx: Nginx;
  before(async () => {
    issuer = await startJwksIssuer('inference');
    h = await startHarness(() => ({
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
      extAuthz: {
        allowIncompleteBodies: true,
        http: { enabled: true, host: '127.0.0.1', port: 0, pathPrefix: '/authz' },
      },
    }));
    nginx = await startNginx(() => authRequest(h.extAuthzHttpUrl!, h.predictor.url, '/authz'));
  });
  after(async () => {
    await nginx?.stop();
    await h?.close();
    await issuer?.close();
  });

  it('passes the identity header from the 200 check answer to the predictor', async () => {
    const token = await issuer.token({ sub: 'alice', scope: 'predict' });
    const r = await send(`${nginx.url}/v1/models/iris:predict`, {
      body: v1Body(),
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(r.status, 200, nginx.errorLog());
    assert.equal(h.predictor.received.at(-1)?.headers['x-gateway-subject'], 'alice');
  });

  it('answers 401 with the RFC 6750 challenge when the token is missing', async () => {
    const r = await send(`${nginx.url}/v1/models/iris:predict`, { body: v1Body() });
    assert.equal(r.status, 401);
    assert.equal(r.headers['www-authenticate'], 'Bearer realm="inference-gateway"');
  });

  it('answers 401 invalid_token for a forged token, the challenge saying why', async () => {
    const token = await issuer.token({ scope: 'predict', forged: true });
    const r = await send(`${nginx.url}/v1/models/iris:predict`, {
      body: v1Body(),
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(r.status, 401);
    assert.match(String(r.headers['www-authenticate']), /error="invalid_token"/);
  });

  it('answers 403 for a token without the model scope, never calling the predictor', async () => {
    const before = h.predictor.received.length;
    const token = await issuer.token({ scope: 'metadata' });
    const r = await send(`${nginx.url}/v1/models/iris:predict`, {
      body: v1Body(),
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(r.status, 403);
    assert.equal(h.predictor.received.length, before);
  });
});
