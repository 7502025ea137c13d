// `limits.scope`: the global windows count per identity across every model (user, the default) or per model.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { send, v1Batch } from '../helpers/http.js';

const MODELS = ['iris', 'wine', 'digits'];

async function spend(h: Harness, rounds: number): Promise<Record<string, number>> {
  const allowed: Record<string, number> = {};
  for (let i = 0; i < rounds; i++) {
    for (const m of MODELS) {
      const r = await send(`${h.url}/v1/models/${m}:predict`, { body: v1Batch(5) });
      // The demo predictor serves iris only: 404 from it still means the gateway let the request through.
      if (r.status !== 429) allowed[m] = (allowed[m] ?? 0) + 5;
    }
  }
  return allowed;
}

for (const [scope, expected] of [
  [undefined, { iris: 20, wine: 15, digits: 15 }],
  ['user', { iris: 20, wine: 15, digits: 15 }],
  ['model', { iris: 50, wine: 50, digits: 50 }],
] as const) {
  describe(`limits.scope ${scope ?? '(default)'}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(() => ({
        models: Object.fromEntries(MODELS.map((m) => [m, {}])),
        limits: { ...(scope ? { scope } : {}), default: [{ name: 'daily', predictions: 50, perSeconds: 86400 }] },
      }));
    });
    after(() => h.close());

    it(
      scope === 'model' ? 'gives one daily budget per model' : 'gives one daily budget across every model',
      async () => {
        assert.deepEqual(await spend(h, 12), expected);
      },
    );
  });
}

describe('limits.scope user with a model that sets its own windows', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(() => ({
      models: {
        iris: {},
        wine: {},
        digits: { limits: { default: [{ name: 'daily', predictions: 10, perSeconds: 86400 }] } },
      },
      limits: { default: [{ name: 'daily', predictions: 50, perSeconds: 86400 }] },
    }));
  });
  after(() => h.close());

  it('counts that model on its own budget, apart from the shared one', async () => {
    assert.deepEqual(await spend(h, 12), { iris: 25, wine: 25, digits: 10 });
  });
});
