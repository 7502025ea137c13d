// Full answers only for identities holding the configured claim, proven with real tokens from a real JWKS server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { startJwksIssuer, type JwksIssuer } from '../helpers/jwks-issuer.js';
import { send, v1Body } from '../helpers/http.js';
import { DEMO_LABELS } from '../../src/quickstart/demo-model.js';

describe('model contracts: full answers for model owners', () => {
  let issuer: JwksIssuer;
  let h: Harness;
  before(async () => {
    issuer = await startJwksIssuer('inference');
    h = await startHarness(() => ({
      auth: { enabled: true, issuers: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audiences: ['inference'] }] },
      models: {
        iris: {
          labels: [...DEMO_LABELS],
          response: { fullAccess: { claim: 'realm_access.roles', values: ['model-owner'] } },
        },
      },
    }));
  });
  after(async () => {
    await h.close();
    await issuer.close();
  });

  const predictAs = async (claims: Record<string, unknown>) =>
    send(`${h.url}/v1/models/iris:predict`, {
      body: v1Body(),
      headers: { authorization: `Bearer ${await issuer.token({ claims })}` },
    });

  it('answers the raw probabilities to an identity holding the model-owner role', async () => {
    const r = await predictAs({ realm_access: { roles: ['viewer', 'model-owner'] } });
    assert.equal(r.status, 200);
    const row = r.json<{ predictions: number[][] }>().predictions[0]!;
    assert.equal(row.length, DEMO_LABELS.length);
    assert.ok(
      row.some((x) => !Number.isInteger(x)),
      'probabilities, not a class',
    );
  });

  it('answers labels to an identity without the role', async () => {
    const r = await predictAs({ realm_access: { roles: ['viewer'] } });
    assert.equal(r.status, 200);
    const [label] = r.json<{ predictions: string[] }>().predictions;
    assert.ok((DEMO_LABELS as readonly string[]).includes(label!));
  });

  it('lets a model owner explain, and refuses explain to others', async () => {
    const owner = await send(`${h.url}/v1/models/iris:explain`, {
      body: v1Body(),
      headers: {
        authorization: `Bearer ${await issuer.token({ claims: { realm_access: { roles: ['model-owner'] } } })}`,
      },
    });
    assert.equal(owner.status, 200);
    const other = await send(`${h.url}/v1/models/iris:explain`, {
      body: v1Body(),
      headers: { authorization: `Bearer ${await issuer.token({})}` },
    });
    assert.equal(other.status, 403);
    assert.equal(other.json()['code'], 'scores_not_allowed');
  });
  it('counts reduced and full answers per model in /metrics', async () => {
    const count = async (outcome: string) => {
      const text = (await send(`${h.adminUrl}/metrics`)).text;
      const m = new RegExp(
        `^inference_gateway_contract_answers_total\\{model="iris",outcome="${outcome}"\\} (\\d+)$`,
        'm',
      ).exec(text);
      return Number(m?.[1] ?? 0);
    };
    const [full, reduced] = [await count('full'), await count('reduced')];
    await predictAs({ realm_access: { roles: ['model-owner'] } });
    await predictAs({ realm_access: { roles: ['viewer'] } });
    await predictAs({ realm_access: { roles: ['viewer'] } });
    assert.equal(await count('full'), full + 1);
    assert.equal(await count('reduced'), reduced + 2);
  });
});
