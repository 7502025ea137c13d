import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { predictProba } from '../../src/quickstart/demo-model.js';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { send, v1Body } from '../helpers/http.js';
import { AUDIENCE, startJwksServer, type JwksServer } from '../helpers/jwks-server.js';

const ROWS = [[6.8, 2.8, 4.8, 1.4], [5.1, 3.5, 1.4, 0.2]];
const LABELS = ['setosa', 'versicolor', 'virginica'];

describe('full response policy for identities holding the configured claim', () => {
  let h: Harness;
  let jwks: JwksServer;
  before(async () => {
    jwks = await startJwksServer();
    h = await startHarness(() => ({
      auth: { enabled: true, issuers: [{ issuer: jwks.issuer, jwksUri: jwks.jwksUri, audiences: [AUDIENCE] }] },
      models: { iris: { labels: LABELS, response: { policy: 'labels', fullClaim: { claim: 'realm_access.roles', values: ['model-owner'] } } } },
    }));
  });
  after(async () => {
    await h.close();
    await jwks.close();
  });

  const call = async (verb: 'predict' | 'explain', claims: Record<string, unknown>) =>
    send(`${h.url}/v1/models/iris:${verb}`, { body: v1Body(ROWS), headers: { authorization: `Bearer ${await jwks.sign(claims)}` } });

  it('gives a model owner the raw probabilities, unchanged', async () => {
    const r = await call('predict', { sub: 'owner', realm_access: { roles: ['viewer', 'model-owner'] } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json(), { predictions: ROWS.map(predictProba) });
  });

  it('gives any other identity labels only', async () => {
    const r = await call('predict', { sub: 'alice', realm_access: { roles: ['viewer'] } });
    assert.equal(r.status, 200, r.text);
    const expected = ROWS.map((row) => {
      const p = predictProba(row);
      return LABELS[p.indexOf(Math.max(...p))];
    });
    assert.deepEqual(r.json(), { predictions: expected });
  });

  it('lets a model owner call :explain', async () => {
    const r = await call('explain', { sub: 'owner', realm_access: { roles: ['model-owner'] } });
    assert.equal(r.status, 200, r.text);
  });

  it('refuses :explain to an identity without the claim with 403 scores_not_allowed', async () => {
    const r = await call('explain', { sub: 'alice', realm_access: { roles: ['model-ownerish'] } });
    assert.equal(r.status, 403);
    assert.equal(r.json()['code'], 'scores_not_allowed');
  });
});
