import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { EnvoyCheckClient } from '../helpers/envoy-check-client.js';
import { rawRequest } from '../helpers/raw-http.js';

// Bodies that the model servers' JSON readers (Python's json, orjson, RapidJSON in Triton and TF
// Serving, Go's encoding/json) read differently from JavaScript. Each is sent through the proxy,
// the HTTP check and the gRPC check of one gateway with a contract and a limit: every door
// refuses it before counting or validation, and the predictor never sees it.

const ROW_99 = [99, 99, 99, 99];
const thousandRows = JSON.stringify(Array.from({ length: 1000 }, () => ROW_99));
const tensor = (data: string) => `{"name":"input-0","shape":[1,4],"datatype":"FP32","data":${data}}`;

interface Case {
  readonly name: string;
  readonly path: string;
  readonly body: Buffer;
  readonly code: 'invalid_body' | 'invalid_input';
  /** What the refusal's message must name. */
  readonly names: RegExp;
}

const V1 = '/v1/models/iris:predict';
const V2 = '/v2/models/iris/infer';
const text = (s: string) => Buffer.from(s, 'utf8');

const CASES: readonly Case[] = [
  {
    name: 'V1 instances given twice, 1,000 out-of-range rows first (RapidJSON runs those)',
    path: V1,
    body: text(`{"instances":${thousandRows},"instances":[[1,1,1,1]]}`),
    code: 'invalid_body',
    names: /"instances"/,
  },
  {
    name: 'V2 inputs given twice',
    path: V2,
    body: text(`{"inputs":[${tensor('[99,99,99,99]')}],"inputs":[${tensor('[1,1,1,1]')}]}`),
    code: 'invalid_body',
    names: /"inputs"/,
  },
  {
    name: 'parameters.binary_data_output given twice',
    path: V2,
    body: text(
      `{"inputs":[${tensor('[1,1,1,1]')}],"parameters":{"binary_data_output":true,"binary_data_output":false}}`,
    ),
    code: 'invalid_body',
    names: /"binary_data_output"/,
  },
  {
    name: 'outputs asking for classification behind a plain outputs',
    path: V2,
    body: text(
      `{"inputs":[${tensor('[1,1,1,1]')}],"outputs":[{"name":"output-0","parameters":{"classification":3}}],"outputs":[{"name":"output-0"}]}`,
    ),
    code: 'invalid_body',
    names: /"outputs"/,
  },
  {
    name: 'a duplicate spelled with an escape',
    path: V1,
    body: text('{"instances":[[9,9,9,9]],"\\u0069nstances":[[1,1,1,1]]}'),
    code: 'invalid_body',
    names: /"instances"/,
  },
  {
    name: 'a leading byte order mark',
    path: V1,
    body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text('{"instances":[[1,1,1,1]]}')]),
    code: 'invalid_body',
    names: /byte order mark/,
  },
  {
    name: 'invalid UTF-8 in a string',
    path: V1,
    body: Buffer.concat([text('{"instances":[[1,1,1,1]],"id":"'), Buffer.from([0xc3, 0x28]), text('"}')]),
    code: 'invalid_body',
    names: /UTF-8/,
  },
  {
    name: 'a lone surrogate escape',
    path: V1,
    body: text('{"instances":[[1,1,1,1]],"id":"\\udc00"}'),
    code: 'invalid_body',
    names: /surrogate/,
  },
  {
    name: 'an integer past 2^53',
    path: V2,
    body: text(`{"id":"a","inputs":[${tensor('[1,1,1,9007199254740993]')}]}`),
    code: 'invalid_body',
    names: /2\^53/,
  },
  {
    name: 'a literal past float64',
    path: V1,
    body: text('{"instances":[[1,1,1,1e400]]}'),
    code: 'invalid_input',
    names: /float64/,
  },
  {
    name: 'NaN written by Python',
    path: V1,
    body: text('{"instances":[[1,1,1,NaN]]}'),
    code: 'invalid_input',
    names: /NaN/,
  },
  {
    name: 'nesting 65 deep',
    path: V1,
    body: text(`{"instances":[[1,1,1,1]],"x":${'['.repeat(64)}${']'.repeat(64)}}`),
    code: 'invalid_body',
    names: /deeper than 64/,
  },
  {
    name: 'a second document after the first (TF Serving ignores it)',
    path: V1,
    body: text('{"instances":[[1,1,1,1]]}{"instances":[[9,9,9,9]]}'),
    code: 'invalid_body',
    names: /not valid JSON/,
  },
];

describe('every door reads request JSON strictly, before counting or validation', () => {
  let h: Harness;
  let grpc: EnvoyCheckClient;
  before(async () => {
    h = await startHarness(() => ({
      models: { iris: { input: { features: 4, min: 0, max: 10, maxBatch: 10 } } },
      limits: { default: [{ name: 'minute', predictions: 100000, perSeconds: 60 }] },
      extAuthz: {
        http: { enabled: true, host: '127.0.0.1', port: 0 },
        grpc: { enabled: true, host: '127.0.0.1', port: 0 },
      },
    }));
    grpc = new EnvoyCheckClient(h.extAuthzGrpcAddress!);
  });
  after(async () => {
    grpc.close();
    await h.close();
  });

  for (const c of CASES) {
    it(`refuses ${c.name} with 400 ${c.code} in the proxy, the HTTP check and the gRPC check`, async () => {
      const calls = h.predictor.calls;
      const head = (path: string) =>
        `POST ${path} HTTP/1.1\nHost: x\nContent-Type: application/json\nContent-Length: ${c.body.length}\nConnection: close\n`;
      const proxy = await rawRequest(h.url, head(c.path), c.body);
      const check = await rawRequest(h.extAuthzHttpUrl!, head(c.path), c.body);
      const viaGrpc = await grpc.check({
        method: 'POST',
        path: c.path,
        headers: { 'content-type': 'application/json' },
        body: c.body,
        packAsBytes: true,
      });
      for (const [door, status, body] of [
        ['proxy', proxy.status, proxy.body],
        ['ext-authz-http', check.status, check.body],
        ['ext-authz-grpc', viaGrpc.denied_response?.status?.code, viaGrpc.denied_response?.body ?? ''],
      ] as const) {
        assert.equal(status, 400, `${door}: ${body}`);
        const answer = JSON.parse(body) as { code: string; error: string };
        assert.equal(answer.code, c.code, door);
        assert.match(answer.error, c.names, door);
      }
      assert.equal(h.predictor.calls, calls, 'the predictor never saw the body');
    });
  }

  it('still forwards the same request once its key is given once', async () => {
    const body = '{"instances":[[1,1,1,1]]}';
    const r = await rawRequest(
      h.url,
      `POST ${V1} HTTP/1.1\nHost: x\nContent-Type: application/json\nContent-Length: ${body.length}\nConnection: close\n`,
      body,
    );
    assert.equal(r.status, 200, r.body);
  });
});
