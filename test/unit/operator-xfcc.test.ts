import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lastXfccElement } from '../../src/operator/xfcc.js';

// Examples in the form of Envoy's x-forwarded-client-cert documentation.
describe('x-forwarded-client-cert', () => {
  it('reads By and URI of the only element, whatever the order and case of the keys', () => {
    assert.deepEqual(
      lastXfccElement(
        'By=spiffe://a/ns/x/sa/gw;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";uri=spiffe://a/ns/y/sa/op',
      ),
      {
        by: ['spiffe://a/ns/x/sa/gw'],
        uri: ['spiffe://a/ns/y/sa/op'],
      },
    );
  });

  it('takes the last element: the one the nearest proxy appended', () => {
    assert.deepEqual(
      lastXfccElement('By=spiffe://a/one;URI=spiffe://a/first,By=spiffe://a/two;URI=spiffe://a/second')?.uri,
      ['spiffe://a/second'],
    );
  });

  it('keeps commas and semicolons inside quoted values from splitting elements or pairs', () => {
    assert.deepEqual(lastXfccElement('By=spiffe://a/gw;Subject="CN=a,O=b;c=\\"d\\"";URI=spiffe://a/op')?.uri, [
      'spiffe://a/op',
    ]);
  });

  it('lists every URI of an element, so a caller can refuse two identities', () => {
    assert.deepEqual(lastXfccElement('URI=spiffe://a/one;URI=spiffe://a/two')?.uri, [
      'spiffe://a/one',
      'spiffe://a/two',
    ]);
  });

  it('reads nothing from an absent, empty, unterminated or keyless header', () => {
    for (const h of [undefined, '', 'By=x;Subject="open', 'justtext', 'URI=spiffe://a/ok,'])
      assert.equal(lastXfccElement(h), undefined, String(h));
  });
});
