import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSafePath, parseModelRoute } from '../../src/inference/kserve-route.js';

// KServe V1 (https://kserve.github.io/website/docs/concepts/architecture/data-plane/v1-protocol)
// and the Open Inference Protocol, V2 (https://kserve.github.io/website/docs/concepts/architecture/data-plane/v2-protocol).
describe('KServe model routes', () => {
  it('reads V1 :predict as a POST predict of the model', () => {
    assert.deepEqual(parseModelRoute('/v1/models/iris:predict'), {
      protocol: 'v1',
      model: 'iris',
      version: undefined,
      verb: 'predict',
      method: 'POST',
    });
  });

  it('reads V1 :explain as a POST explain', () => {
    assert.deepEqual(parseModelRoute('/v1/models/iris:explain'), {
      protocol: 'v1',
      model: 'iris',
      version: undefined,
      verb: 'explain',
      method: 'POST',
    });
  });

  it('reads V1 /v1/models/<name> as the GET readiness of the model', () => {
    assert.deepEqual(parseModelRoute('/v1/models/iris'), {
      protocol: 'v1',
      model: 'iris',
      version: undefined,
      verb: 'ready',
      method: 'GET',
    });
  });

  it('reads V2 /infer as a POST predict', () => {
    assert.deepEqual(parseModelRoute('/v2/models/iris/infer'), {
      protocol: 'v2',
      model: 'iris',
      version: undefined,
      verb: 'predict',
      method: 'POST',
    });
  });

  it('reads a V2 version segment', () => {
    assert.deepEqual(parseModelRoute('/v2/models/iris/versions/3/infer'), {
      protocol: 'v2',
      model: 'iris',
      version: '3',
      verb: 'predict',
      method: 'POST',
    });
  });

  it('reads V2 /v2/models/<name> as the GET metadata and /ready as the GET readiness', () => {
    assert.equal(parseModelRoute('/v2/models/iris')?.verb, 'metadata');
    assert.equal(parseModelRoute('/v2/models/iris/versions/3')?.verb, 'metadata');
    assert.equal(parseModelRoute('/v2/models/iris/ready')?.verb, 'ready');
    assert.equal(parseModelRoute('/v2/models/iris/ready')?.method, 'GET');
  });

  it('keeps model names with dots, dashes and underscores whole', () => {
    assert.equal(parseModelRoute('/v2/models/sk-learn_iris.v2/infer')?.model, 'sk-learn_iris.v2');
  });

  it('is not a model route: server health and metadata, unknown verbs, unknown tails', () => {
    for (const path of [
      '/',
      '/v2',
      '/v2/health/ready',
      '/v2/models',
      '/v1/models/iris:train',
      '/v2/models/iris/infer/x',
      '/v2/models/iris/generate',
      '/v2/models/iris/versions',
    ]) {
      assert.equal(parseModelRoute(path), undefined, path);
    }
  });

  it('is not a model route when the model or version segment is empty or holds a colon', () => {
    for (const path of [
      '/v1/models/:predict',
      '/v2/models//infer',
      '/v2/models/a:b/infer',
      '/v2/models/iris/versions//infer',
    ]) {
      assert.equal(parseModelRoute(path), undefined, path);
    }
  });
});

describe('path safety', () => {
  it('accepts plain absolute paths', () => {
    for (const path of [
      '/',
      '/v2/models/iris/infer',
      '/v1/models/iris:predict',
      '/v2/models/a.b/ready',
      '/v2/models/..iris/ready',
    ])
      assert.equal(isSafePath(path), true, path);
  });

  it('refuses an empty or relative path', () => {
    assert.equal(isSafePath(''), false);
    assert.equal(isSafePath('v2/models/iris/infer'), false);
  });

  it('refuses dot segments, which an upstream would resolve onto another route', () => {
    for (const path of ['/v2/health/live/../../models/m/infer', '/v2/./models/m/infer', '/v2/models/m/..', '/.'])
      assert.equal(isSafePath(path), false, path);
  });

  it('refuses empty segments and backslashes', () => {
    assert.equal(isSafePath('/v2//models/m/infer'), false);
    assert.equal(isSafePath('/v2\\models/m/infer'), false);
  });

  it('refuses encoded slashes, dots, backslashes and NUL in either case', () => {
    for (const path of [
      '/v2/models%2Fm/infer',
      '/v2/models/%2e%2e/infer',
      '/v2/models/m%5Cinfer',
      '/v2/models/m%00/infer',
      '/v2/models/%2E/infer',
    ])
      assert.equal(isSafePath(path), false, path);
  });

  it('accepts other percent-encodings, which name the same segment to every server', () => {
    assert.equal(isSafePath('/v2/models/iris%20v2/infer'), true);
  });
});
