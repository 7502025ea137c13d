import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { send, v1Body } from '../helpers/http.js';

describe('rate limits with headers: false', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(() => ({
      limits: { headers: false, default: [{ name: 'hourly', predictions: 1, perSeconds: 3600 }] },
    }));
  });
  after(() => h.close());

  it('leaves RateLimit headers off allowed answers', async () => {
    const r = await send(`${h.url}/v1/models/iris:predict`, { body: v1Body() });
    assert.equal(r.status, 200);
    assert.equal(r.headers['ratelimit'], undefined);
    assert.equal(r.headers['ratelimit-policy'], undefined);
  });

  it('still sends them on a 429', async () => {
    const r = await send(`${h.url}/v1/models/iris:predict`, { body: v1Body() });
    assert.equal(r.status, 429);
    assert.equal(r.headers['ratelimit-policy'], '"hourly";q=1;w=3600');
    assert.match(String(r.headers['ratelimit']), /^"hourly";r=0;t=\d+$/);
  });
});
