import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { requestViewFromCheckRequest } from '../../src/adapters/ext-authz-grpc/request-view-from-check-request.js';

const viewWith = (authorization: string) =>
  requestViewFromCheckRequest({
    attributes: { request: { http: { method: 'POST', path: '/v1/models/m:predict', headers: { authorization } } } },
  });

describe('gRPC CheckRequest Authorization values', () => {
  it('splits repeated Authorization headers that Envoy joined with a comma back into credentials', () => {
    assert.deepEqual(viewWith('Bearer aaa,Bearer bbb').authorization, ['Bearer aaa', 'Bearer bbb']);
    assert.deepEqual(viewWith('Bearer aaa, Basic eDp5').authorization, ['Bearer aaa', 'Basic eDp5']);
  });

  it('keeps one credential whose auth-params contain commas whole', () => {
    const digest = 'Digest username="a", realm="r", nonce="n"';
    assert.deepEqual(viewWith(digest).authorization, [digest]);
  });

  it('keeps a single bearer token as is', () => {
    assert.deepEqual(viewWith('Bearer eyJ.abc.def').authorization, ['Bearer eyJ.abc.def']);
  });
});
