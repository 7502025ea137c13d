import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { requestViewFromStream } from '../../src/adapters/grpc-proxy/request-view-from-stream.js';
import { grpcTimeoutMs, grpcTimeoutValue } from '../../src/adapters/grpc-proxy/grpc-timeout.js';
import { grpcDenialHeaders, percentEncode } from '../../src/adapters/grpc-proxy/grpc-denial.js';
import { deny } from '../../src/decision/denial.js';

const PATH = '/inference.GRPCInferenceService/ModelInfer';

describe('the gRPC door’s request view', () => {
  it('keeps every authorization line of the raw header list, so two credentials are seen as two', () => {
    const headers = {
      ':method': 'POST',
      ':path': PATH,
      ':authority': 'iris.example',
      'content-type': 'application/grpc',
      authorization: 'Bearer a',
    };
    const raw = [
      ':method',
      'POST',
      ':path',
      PATH,
      ':authority',
      'iris.example',
      'authorization',
      'Bearer a',
      'authorization',
      'Bearer b',
    ];
    const view = requestViewFromStream(headers, raw, Buffer.alloc(5), '10.0.0.1');
    assert.deepEqual(view.authorization, ['Bearer a', 'Bearer b']);
    assert.deepEqual(view.hosts, ['iris.example']);
    assert.equal(view.headers[':path'], undefined, 'pseudo-headers are not headers');
    assert.equal(view.path, PATH);
  });

  it('counts a Host field beside :authority as a second host', () => {
    const view = requestViewFromStream(
      { ':path': PATH, ':authority': 'a.example', host: 'b.example' },
      [':path', PATH, ':authority', 'a.example', 'host', 'b.example'],
      Buffer.alloc(5),
      '',
    );
    assert.deepEqual(view.hosts, ['a.example', 'b.example']);
  });
});

describe('grpc-timeout', () => {
  it('reads every unit of the gRPC over HTTP/2 grammar', () => {
    assert.deepEqual(
      ['1H', '2M', '3S', '250m', '1500u', '2000000n'].map(grpcTimeoutMs),
      [3_600_000, 120_000, 3000, 250, 1.5, 2],
    );
  });

  it('ignores a value that is not the grammar (then only upstream.timeoutMs bounds the call)', () => {
    assert.deepEqual(['', '10', '123456789S', '-1S', '1s', '1.5S'].map(grpcTimeoutMs), [
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('sends the predictor whole milliseconds, at least one', () => {
    assert.deepEqual([0.2, 1.5, 2500].map(grpcTimeoutValue), ['1m', '2m', '2500m']);
  });
});

describe('a refusal as gRPC', () => {
  it('carries the table’s status, the message percent-encoded, the stable code and the REST body', () => {
    const h = grpcDenialHeaders(
      deny('rate_limited', 'over 100% of the “hourly” window', {
        retryAfterSeconds: 3,
        headers: { ratelimit: '"hourly";r=0;t=3' },
      }),
      'inference',
    );
    assert.equal(h['grpc-status'], '8');
    assert.equal(h['grpc-message'], 'over 100%25 of the %E2%80%9Chourly%E2%80%9D window');
    assert.equal(h['gateway-error-code'], 'rate_limited');
    assert.deepEqual(JSON.parse(Buffer.from(h['gateway-error-bin']!, 'base64').toString('utf8')), {
      error: 'over 100% of the “hourly” window',
      code: 'rate_limited',
    });
    assert.equal(h['retry-after'], '3');
    assert.equal(h['ratelimit'], '"hourly";r=0;t=3');
    assert.equal(h['content-type'], undefined, 'the JSON content type is not the gRPC answer’s');
  });

  it('keeps printable ASCII as it is', () => {
    assert.equal(percentEncode('token_missing: no bearer token'), 'token_missing: no bearer token');
  });
});
