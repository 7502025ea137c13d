import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { claimHeaderValue, headerSafeValue } from '../../src/auth/claims.js';

describe('claim values as header values', () => {
  it('sends a visible-ASCII value as is', () => {
    assert.equal(headerSafeValue('alice@example.com'), 'alice@example.com');
  });

  it('encodes a non-ASCII value as an RFC 8187 ext-value of its UTF-8 bytes', () => {
    assert.equal(headerSafeValue('李雷'), "UTF-8''%E6%9D%8E%E9%9B%B7");
    assert.equal(decodeURIComponent(headerSafeValue('李雷').slice("UTF-8''".length)), '李雷');
  });

  it('encodes CR and LF so a claim can never start another header', () => {
    const v = headerSafeValue('bob\r\nx-admin: true');
    assert.equal(v, "UTF-8''bob%0D%0Ax-admin%3A%20true");
    assert.doesNotMatch(v, /[\r\n]/);
  });

  it('encodes a plain value that looks like an encoded one, so it cannot pass for one', () => {
    assert.equal(headerSafeValue("UTF-8''%41dmin"), "UTF-8''UTF-8%27%27%2541dmin");
  });

  it('encodes list claims after writing them as JSON', () => {
    assert.equal(claimHeaderValue(['a', 'b']), '["a","b"]');
    assert.equal(claimHeaderValue(['é']), "UTF-8''%5B%22%C3%A9%22%5D");
  });
});
