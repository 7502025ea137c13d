// Rows repeated inside one batch are exact re-sends: counted, not scored, exactly as the same rows
// sent one request apart (the row hash compares IEEE-754 bits, so 0 and −0 are different rows).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { send } from '../helpers/http.js';
import {
  IRIS_FEATURES,
  settle,
  startExtractionGateway,
  type ExtractionGateway,
} from '../helpers/extraction-gateway.js';

interface Counts {
  readonly queries: number;
  readonly exactDuplicates: number;
}

describe('extraction of a batch with repeated rows', () => {
  let g: ExtractionGateway;
  before(async () => {
    g = await startExtractionGateway({ mode: 'shadow', features: IRIS_FEATURES });
  });
  after(() => g.close());

  const counts = async (sub: string): Promise<Counts> => {
    await settle();
    const view = await g.admin(`/extraction/users/${encodeURIComponent(`${g.issuer.issuer}|${sub}`)}`);
    assert.equal(view.status, 200);
    const { queries, exactDuplicates } = view.json<{ models: Counts[] }>().models[0]!;
    return { queries, exactDuplicates };
  };

  const r = [5.1, 3.5, 1.4, 0.2];
  const s = [6.2, 2.9, 4.3, 1.3];

  it('counts every row after the first of a run of equal rows as an exact re-send', async () => {
    assert.equal((await g.predictAs('batcher', [r, r, r, s, s, r])).status, 200);
    const c = await counts('batcher');
    assert.equal(c.queries, 6);
    assert.equal(c.exactDuplicates, 4);
  });

  it('counts a batch of repeated rows as the same rows sent one request at a time', async () => {
    for (const row of [r, r, r, s, s, r]) assert.equal((await g.predictAs('one-by-one', [row])).status, 200);
    assert.deepEqual(await counts('one-by-one'), await counts('batcher'));
  });

  it('counts a row that differs from the one before only by the sign of a zero as a new row', async () => {
    // Written by hand: JSON.stringify writes −0 as 0.
    const token = await g.issuer.token({ sub: 'signed-zero', claims: { realm_access: { roles: ['model-owner'] } } });
    const answer = await send(`${g.url}/v1/models/iris:predict`, {
      body: '{"instances":[[5.1,3.5,1.4,0],[5.1,3.5,1.4,-0]]}',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    });
    assert.equal(answer.status, 200);
    const c = await counts('signed-zero');
    assert.equal(c.queries, 2);
    assert.equal(c.exactDuplicates, 0);
  });
});
