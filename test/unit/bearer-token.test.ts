import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bearerToken } from '../../src/auth/bearer-token.js';
import type { RequestView } from '../../src/decision/request-view.js';
import { postView } from '../helpers/request-view.js';

const view = (authorization: string[], query = ''): RequestView => ({ ...postView(undefined), authorization, query });
const read = (authorization: string[], query = '') => {
  const r = bearerToken(view(authorization, query));
  return typeof r === 'string' ? { token: r } : { code: r.code };
};

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token, b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
describe('reading the bearer token of a request', () => {
  it('takes the token after the scheme in any letter case and after one or more spaces', () => {
    assert.deepEqual(read(['Bearer abc.DEF-_~+/9==']), { token: 'abc.DEF-_~+/9==' });
    assert.deepEqual(read(['bEaReR   abc']), { token: 'abc' });
  });

  it('refuses a token with a space inside as malformed, not as a bad character', () => {
    assert.deepEqual(read(['Bearer abc def']), { code: 'token_ambiguous' });
  });

  it('refuses a scheme separated by a tab or by nothing as malformed', () => {
    assert.deepEqual(read(['Bearer\tabc']), { code: 'token_ambiguous' });
    assert.deepEqual(read(['Bearerabc']), { code: 'token_missing' });
    assert.deepEqual(read(['Bearer']), { code: 'token_ambiguous' });
  });

  it('refuses an empty token and a comma-separated list of tokens as ambiguous', () => {
    assert.deepEqual(read(['Bearer ']), { code: 'token_ambiguous' });
    assert.deepEqual(read(['Bearer a,b']), { code: 'token_ambiguous' });
  });

  it('refuses characters outside b64token, padding in the middle and non-ASCII letters whose upper case is ASCII', () => {
    assert.deepEqual(read(['Bearer ab"c']), { code: 'token_invalid' });
    assert.deepEqual(read(['Bearer ab=c']), { code: 'token_invalid' });
    assert.deepEqual(read(['Bearer abc\u017f']), { code: 'token_invalid' });
    assert.deepEqual(read(['Bearer abc\u212a']), { code: 'token_invalid' });
  });

  it('treats another scheme as no bearer credentials, and two credentials as ambiguous', () => {
    assert.deepEqual(read(['Basic dXNlcjpwYXNz']), { code: 'token_missing' });
    assert.deepEqual(read(['Bearer a', 'Bearer b']), { code: 'token_ambiguous' });
    assert.deepEqual(read(['Bearer a'], 'x=1&access_token=b'), { code: 'token_ambiguous' });
    assert.deepEqual(read([]), { code: 'token_missing' });
  });
});
