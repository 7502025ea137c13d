import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { errors } from 'undici';
import { Exchange } from '../../src/adapters/proxy/exchange.js';
import { UpstreamDeadlineError, upstreamFailure } from '../../src/adapters/proxy/upstream-errors.js';

describe('upstream errors', () => {
  it("maps the gateway's own deadline error to upstream_timeout", () => {
    assert.equal(upstreamFailure(new UpstreamDeadlineError()).code, 'upstream_timeout');
  });

  it("gives the deadline error a code of the gateway's own, not one of undici's", () => {
    assert.doesNotMatch(new UpstreamDeadlineError().code, /^UND_ERR_/);
  });

  it("maps undici's own timeouts to upstream_timeout", () => {
    assert.equal(upstreamFailure(new errors.ConnectTimeoutError()).code, 'upstream_timeout');
    assert.equal(upstreamFailure(new errors.HeadersTimeoutError()).code, 'upstream_timeout');
  });

  it('maps a socket closed before the answer to upstream_unreachable', () => {
    assert.equal(upstreamFailure(new errors.SocketError('other side closed')).code, 'upstream_unreachable');
  });
});

describe('the proxy exchange', () => {
  // undici 7 marks onConnect/onHeaders/onData/onComplete/onError deprecated; a handler that
  // mixes both is taken for a legacy one (UnwrapHandler checks onRequestStart only).
  it("implements undici's current dispatch handler API and none of the deprecated callbacks", () => {
    const own = Object.getOwnPropertyNames(Exchange.prototype);
    for (const m of ['onRequestStart', 'onResponseStart', 'onResponseData', 'onResponseEnd', 'onResponseError'])
      assert.ok(own.includes(m), m);
    assert.deepEqual(
      own.filter((m) =>
        ['onConnect', 'onHeaders', 'onData', 'onComplete', 'onError', 'onUpgrade', 'onResponseStarted'].includes(m),
      ),
      [],
    );
  });
});
