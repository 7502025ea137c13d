import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bearerToken } from '../../src/auth/bearer-token.js';
import type { RequestView } from '../../src/decision/request-view.js';

const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';

function view(authorization: readonly string[], query = ''): RequestView {
  return {
    door: 'proxy',
    forwardsAnswer: true,
    method: 'POST',
    path: '/v1/models/m:predict',
    query,
    headers: {},
    authorization,
    body: undefined,
    bodyPartial: false,
    peer: '127.0.0.1',
    requestId: 't',
  };
}

/** The token, or the code of the refusal. */
function outcome(authorization: readonly string[], query = ''): string {
  const r = bearerToken(view(authorization, query));
  return typeof r === 'string' ? `token ${r}` : r.code;
}

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token.
describe('bearer token parsing (RFC 6750 §2.1)', () => {
  it('returns the token of a Bearer Authorization header', () => {
    assert.equal(outcome([`Bearer ${JWT}`]), `token ${JWT}`);
  });

  it('reads the scheme name case-insensitively (RFC 9110 §11.1)', () => {
    assert.equal(outcome([`bearer ${JWT}`]), `token ${JWT}`);
    assert.equal(outcome([`BEARER ${JWT}`]), `token ${JWT}`);
  });

  it('accepts several spaces between the scheme and the token', () => {
    assert.equal(outcome([`Bearer   ${JWT}`]), `token ${JWT}`);
  });

  it('accepts the b64token alphabet, = padding included', () => {
    assert.equal(outcome(['Bearer aZ09-._~+/==']), 'token aZ09-._~+/==');
  });

  it('refuses a request without an Authorization header as token_missing', () => {
    assert.equal(outcome([]), 'token_missing');
  });

  it('treats another scheme (Basic) as no bearer credentials: token_missing', () => {
    assert.equal(outcome(['Basic YWxpY2U6c2VjcmV0']), 'token_missing');
  });

  it('does not take a token from the query string (RFC 6750 §2.3 is not a token location here)', () => {
    assert.equal(outcome([], `access_token=${JWT}`), 'token_missing');
  });

  it('refuses two Authorization headers as two credentials', () => {
    assert.equal(outcome([`Bearer ${JWT}`, `Bearer ${JWT}`]), 'token_ambiguous');
  });

  it('refuses a header token plus a query access_token as two credentials', () => {
    assert.equal(outcome([`Bearer ${JWT}`], `x=1&access_token=${JWT}`), 'token_ambiguous');
  });

  it('does not mistake a query parameter that merely ends in access_token for one', () => {
    assert.equal(outcome([`Bearer ${JWT}`], 'my_access_token=1'), `token ${JWT}`);
  });

  it('refuses comma-joined tokens as two credentials', () => {
    assert.equal(outcome([`Bearer ${JWT},${JWT}`]), 'token_ambiguous');
  });

  it('refuses "Bearer" without a token', () => {
    assert.equal(outcome(['Bearer ']), 'token_ambiguous');
    assert.equal(outcome(['Bearer']), 'token_ambiguous');
  });

  it('refuses a Bearer header with a space inside the token as malformed', () => {
    assert.equal(outcome([`Bearer ${JWT} extra`]), 'token_ambiguous');
  });

  it('refuses a token with characters outside the b64token alphabet as token_invalid', () => {
    assert.equal(outcome(['Bearer abc%2Edef']), 'token_invalid');
    assert.equal(outcome(['Bearer abc"def']), 'token_invalid');
  });

  it('never echoes the token in a refusal message', () => {
    const secret = 'abc"not-a-token';
    const r = bearerToken(view([`Bearer ${secret}`]));
    assert.ok(typeof r !== 'string');
    assert.ok(!r.message.includes(secret));
  });
});

describe('bearer token parsing: the edges of the one-pass reading', () => {
  it('refuses a scheme separated from the token by a tab as malformed', () => {
    assert.equal(outcome([`Bearer\t${JWT}`]), 'token_ambiguous');
  });

  it('treats a scheme run into the token as another scheme: token_missing', () => {
    assert.equal(outcome([`Bearer${JWT}`]), 'token_missing');
  });

  it('refuses = padding in the middle of a token as token_invalid', () => {
    assert.equal(outcome(['Bearer ab=c']), 'token_invalid');
  });

  it('refuses non-ASCII letters whose upper case is ASCII (long s, Kelvin sign) as token_invalid', () => {
    assert.equal(outcome(['Bearer abc\u017f']), 'token_invalid');
    assert.equal(outcome(['Bearer abc\u212a']), 'token_invalid');
  });
});
