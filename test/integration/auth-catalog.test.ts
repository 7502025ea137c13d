// A catalogue of bad tokens (RFC 7519, RFC 8725 JSON Web Token Best Current Practices): every entry as its own test, asserting the status,
// the WWW-Authenticate challenge, that the predictor was not called and that no key fetch went
// anywhere but the configured issuer's JWKS.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createPublicKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { send, v1Body, type Answer } from '../helpers/http.js';
import { AUDIENCE, b64, startJwksServer, type JwksServer } from '../helpers/jwks-server.js';
import { rawRequest } from '../helpers/raw-http.js';

const IT = /^Bearer realm="inference-gateway", error="invalid_token", error_description="[^"\\]+"$/;
const BARE = /^Bearer realm="inference-gateway"$/;
const IR = /^Bearer realm="inference-gateway", error="invalid_request", error_description="[^"\\]+"$/;
const now = () => Math.floor(Date.now() / 1000);

describe('authentication refuses every bad token in the catalog', () => {
  let h: Harness;
  let jwks: JwksServer;
  let other: JwksServer;
  let attacker: Server;
  let attackerUrl: string;
  let attackerHits = 0;
  let callsBefore = 0;
  let fetchesBefore = 0;
  let predict: string;

  before(async () => {
    jwks = await startJwksServer();
    other = await startJwksServer();
    attacker = createServer((_req, res) => {
      attackerHits++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}');
    });
    await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', () => r()));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
    h = await startHarness(() => ({
      auth: {
        enabled: true,
        issuers: [
          {
            issuer: jwks.issuer,
            jwksUri: jwks.jwksUri,
            audiences: [AUDIENCE],
            algorithms: ['RS256', 'ES256'],
            maxLifetimeSeconds: 86400,
          },
          { issuer: other.issuer, jwksUri: other.jwksUri, audiences: [AUDIENCE] },
        ],
      },
      models: { iris: { auth: { all: { issuers: [jwks.issuer] } } } },
    }));
    predict = `${h.url}/v1/models/iris:predict`;
    // Wait until both key sets are loaded (readiness), so fetch counts below are only what tokens cause.
    for (let i = 0; i < 100 && (await send(`${h.adminUrl}/readyz`)).status !== 200; i++)
      await new Promise((r) => setTimeout(r, 20));
  });
  after(async () => {
    await h.close();
    await Promise.all([jwks.close(), other.close(), new Promise<void>((r) => attacker.close(() => r()))]);
  });

  const call = (authorization: string | string[] | undefined, url = predict): Promise<Answer> => {
    callsBefore = h.predictor.calls;
    fetchesBefore = jwks.total();
    return send(url, { body: v1Body(), headers: authorization === undefined ? {} : { authorization } });
  };
  function refused(
    r: { status: number; headers: Record<string, unknown> },
    status: number,
    challenge: RegExp,
    code: string,
    body?: string,
  ): void {
    assert.equal(r.status, status);
    assert.match(String(r.headers['www-authenticate']), challenge);
    if (body !== undefined) assert.equal(JSON.parse(body).code, code);
    assert.equal(h.predictor.calls, callsBefore, 'the predictor must not be called');
    assert.equal(attackerHits, 0, 'no request may reach a host named in the token');
    assert.equal([...jwks.requests.keys()].filter((p) => p !== '/.well-known/jwks.json').length, 0);
  }
  const valid = (claims: Record<string, unknown> = {}) => jwks.sign(claims);
  const expectInvalid = async (token: string) => {
    const r = await call(`Bearer ${token}`);
    refused(r, 401, IT, 'token_invalid', r.text);
  };

  it('accepts a valid RS256 token and forwards the prediction', async () => {
    const r = await call(`Bearer ${await valid()}`);
    assert.equal(r.status, 200);
    assert.equal(h.predictor.calls, callsBefore + 1);
  });

  it('accepts a valid ES256 token', async () => {
    const r = await call(`Bearer ${await jwks.sign({}, { key: jwks.ec })}`);
    assert.equal(r.status, 200);
  });

  it('answers 401 without an error attribute when there is no token', async () => {
    const r = await call(undefined);
    refused(r, 401, BARE, 'token_missing', r.text);
  });

  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    it(`A1: refuses alg ${alg} with an empty signature`, async () => {
      const t = `${b64({ alg, typ: 'JWT' })}.${b64({ iss: jwks.issuer, aud: AUDIENCE, sub: 'x', exp: now() + 600 })}.`;
      await expectInvalid(t);
    });
  }

  it('A1: refuses alg none with a junk signature', async () => {
    await expectInvalid(
      `${b64({ alg: 'none' })}.${b64({ iss: jwks.issuer, aud: AUDIENCE, exp: now() + 600 })}.${b64('junk')}`,
    );
  });

  for (const [name, secret] of [
    [
      'the SPKI PEM text',
      () => createPublicKey({ key: jwks.rsa.publicJwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }),
    ],
    [
      'the SPKI PEM without its trailing newline',
      () =>
        String(
          createPublicKey({ key: jwks.rsa.publicJwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }),
        ).trimEnd(),
    ],
    [
      'the DER bytes',
      () => createPublicKey({ key: jwks.rsa.publicJwk, format: 'jwk' }).export({ type: 'spki', format: 'der' }),
    ],
    ['the JWK JSON', () => JSON.stringify(jwks.rsa.publicJwk)],
  ] as const) {
    it(`A2: refuses an HS256 token keyed with ${name} of the RSA key`, async () => {
      const input = `${b64({ alg: 'HS256', kid: 'k1', typ: 'JWT' })}.${b64({ iss: jwks.issuer, aud: AUDIENCE, sub: 'x', exp: now() + 600 })}`;
      const sig = createHmac('sha256', secret()).update(input).digest('base64url');
      await expectInvalid(`${input}.${sig}`);
    });
  }

  for (const kid of ['evil', 'k1']) {
    it(`A4: refuses a token carrying its own jwk header (kid ${kid})`, async () => {
      const { publicKey, privateKey } = await generateKeyPair('RS256');
      const jwk = await exportJWK(publicKey);
      const t = await new SignJWT({ iss: jwks.issuer, aud: AUDIENCE, sub: 'x', exp: now() + 600 })
        .setProtectedHeader({ alg: 'RS256', kid, jwk })
        .sign(privateKey);
      await expectInvalid(t);
    });
  }

  for (const param of ['jku', 'x5u']) {
    it(`A5: refuses a ${param}-spoofed token and never contacts the named host`, async () => {
      const { privateKey } = await generateKeyPair('RS256');
      const t = await new SignJWT({ iss: jwks.issuer, aud: AUDIENCE, sub: 'x', exp: now() + 600 })
        .setProtectedHeader({ alg: 'RS256', kid: 'evil', [param]: `${attackerUrl}/jwks.json` })
        .sign(privateKey);
      await expectInvalid(t);
    });
  }

  for (const kid of [
    '../../../../dev/null',
    "' OR '1'='1",
    "x' UNION SELECT 'k'--",
    'k'.repeat(10000),
    'k1\r\nx: y',
    'k1\u0000',
  ]) {
    it(`A6: refuses kid injection ${JSON.stringify(kid.slice(0, 24))}`, async () => {
      const { privateKey } = await generateKeyPair('RS256');
      const t = await new SignJWT({ iss: jwks.issuer, aud: AUDIENCE, sub: 'x', exp: now() + 600 })
        .setProtectedHeader({ alg: 'RS256', kid })
        .sign(privateKey);
      if (t.length > 8192) {
        const r = await call(`Bearer ${t}`);
        assert.ok(r.status === 401 || r.status === 431, `got ${r.status}`);
        assert.equal(h.predictor.calls, callsBefore);
        return;
      }
      await expectInvalid(t);
    });
  }

  for (const kid of [1, {}, []]) {
    it(`A6: refuses a non-string kid ${JSON.stringify(kid)}`, async () => {
      const good = await valid();
      const [, p, s] = good.split('.');
      await expectInvalid(`${b64({ alg: 'RS256', kid })}.${p}.${s}`);
    });
  }

  it('A6: a burst of unknown kids refetches the key set at most once per cooldown', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const before = jwks.requests.get('/.well-known/jwks.json') ?? 0;
    for (let i = 0; i < 20; i++) {
      const t = await new SignJWT({ iss: jwks.issuer, aud: AUDIENCE, sub: 'x', exp: now() + 600 })
        .setProtectedHeader({ alg: 'RS256', kid: `rand-${i}` })
        .sign(privateKey);
      const r = await call(`Bearer ${t}`);
      assert.equal(r.status, 401);
    }
    assert.ok((jwks.requests.get('/.well-known/jwks.json') ?? 0) - before <= 1);
  });

  it('A10: refuses a token expired two minutes ago', async () => {
    await expectInvalid(await valid({ exp: now() - 120 }));
  });

  it('A10: accepts a token expired 30 s ago (inside the 60 s skew)', async () => {
    assert.equal((await call(`Bearer ${await valid({ exp: now() - 30 })}`)).status, 200);
  });

  it('A11: refuses a token not valid for five more minutes', async () => {
    await expectInvalid(await valid({ nbf: now() + 300 }));
  });

  it('A11: accepts a token valid in 30 s (inside the skew)', async () => {
    assert.equal((await call(`Bearer ${await valid({ nbf: now() + 30 })}`)).status, 200);
  });

  it('A12: refuses a string iat', async () => {
    await expectInvalid(await valid({ iat: '123' }));
  });

  it('A13: refuses a token without exp', async () => {
    await expectInvalid(await jwks.sign({}, { omit: ['exp'] }));
  });

  it('A13: refuses exp in the year 9999 when a maximum lifetime is configured', async () => {
    await expectInvalid(await valid({ exp: 253402300799 }));
  });

  it('A13: refuses a string exp', async () => {
    await expectInvalid(await valid({ exp: '9999999999' }));
  });

  for (const [name, iss] of [
    ['another issuer', 'https://evil.example'],
    ['a trailing slash', 'ISS/'],
    ['upper case', 'ISS-UPPER'],
    ['a number', 123],
  ] as const) {
    it(`A14: refuses iss with ${name}`, async () => {
      const value = iss === 'ISS/' ? `${jwks.issuer}/` : iss === 'ISS-UPPER' ? jwks.issuer.toUpperCase() : iss;
      await expectInvalid(await valid({ iss: value }));
    });
  }

  it('A14: refuses a token without iss', async () => {
    await expectInvalid(await jwks.sign({}, { omit: ['iss'] }));
  });

  for (const [name, aud] of [
    ['another model', 'other-model'],
    ['an empty array', []],
    ['null', null],
    ['a number in an array', [1]],
    ['a trailing slash', `${AUDIENCE}/`],
  ] as const) {
    it(`A15: refuses aud ${name}`, async () => {
      await expectInvalid(await valid({ aud: aud as string }));
    });
  }

  it('A15: refuses a token without aud', async () => {
    await expectInvalid(await jwks.sign({}, { omit: ['aud'] }));
  });

  it('A16: accepts aud as an array holding the audience', async () => {
    assert.equal((await call(`Bearer ${await valid({ aud: ['x', AUDIENCE, 'y'] })}`)).status, 200);
  });

  it('A17: treats a token in the query string as no token', async () => {
    callsBefore = h.predictor.calls;
    const r = await send(`${predict}?access_token=${await valid()}`, { body: v1Body() });
    refused(r, 401, BARE, 'token_missing', r.text);
  });

  it('A18: refuses a header token plus a query token with 400 invalid_request', async () => {
    callsBefore = h.predictor.calls;
    const r = await send(`${predict}?access_token=${await valid()}`, {
      body: v1Body(),
      headers: { authorization: `Bearer ${await valid()}` },
    });
    refused(r, 400, IR, 'token_ambiguous', r.text);
  });

  it('refuses two Authorization headers with 400 invalid_request', async () => {
    callsBefore = h.predictor.calls;
    const body = JSON.stringify(v1Body());
    const t = await valid();
    const r = await rawRequest(
      h.url,
      `POST /v1/models/iris:predict HTTP/1.1\nHost: x\nConnection: close\nContent-Length: ${body.length}\nAuthorization: Bearer ${t}\nAuthorization: Bearer ${t}\n`,
      body,
    );
    refused(r, 400, IR, 'token_ambiguous', r.body);
  });

  it('refuses "Bearer a, Bearer b" with 400 invalid_request', async () => {
    const r = await call(`Bearer ${await valid()}, Bearer ${await valid()}`);
    refused(r, 400, IR, 'token_ambiguous', r.text);
  });

  for (const scheme of ['bearer', 'BEARER']) {
    it(`A20: accepts the scheme written ${scheme}`, async () => {
      assert.equal((await call(`${scheme} ${await valid()}`)).status, 200);
    });
  }

  it('A21: accepts two spaces after Bearer', async () => {
    assert.equal((await call(`Bearer  ${await valid()}`)).status, 200);
  });

  it('A21: refuses a tab after Bearer with 400 invalid_request', async () => {
    callsBefore = h.predictor.calls;
    const body = JSON.stringify(v1Body());
    const r = await rawRequest(
      h.url,
      `POST /v1/models/iris:predict HTTP/1.1\nHost: x\nConnection: close\nContent-Length: ${body.length}\nAuthorization: Bearer\t${await valid()}\n`,
      body,
    );
    refused(r, 400, IR, 'token_ambiguous', r.body);
  });

  for (const value of ['Bearer', 'Bearer ']) {
    it(`A21: refuses ${JSON.stringify(value)} with no token as 400 invalid_request`, async () => {
      const r = await call(value);
      refused(r, 400, IR, 'token_ambiguous', r.text);
    });
  }

  it('A22: lets Node refuse a 1 MB Authorization header with 431', async () => {
    callsBefore = h.predictor.calls;
    const r = await rawRequest(
      h.url,
      `GET /v2/models/iris HTTP/1.1\nHost: x\nConnection: close\nAuthorization: Bearer ${'a'.repeat(1024 * 1024)}\n`,
    );
    assert.equal(r.status, 431);
    assert.equal(h.predictor.calls, callsBefore);
  });

  it('A22: refuses a 12 KiB token as invalid without fetching keys', async () => {
    const big = await valid({ pad: 'x'.repeat(8800) });
    assert.ok(big.length > 11 * 1024 && big.length < 13 * 1024);
    const r = await call(`Bearer ${big}`);
    refused(r, 401, IT, 'token_invalid', r.text);
    assert.equal(jwks.total(), fetchesBefore);
  });

  for (const [name, mutate] of [
    ['+ and / characters', (t: string) => t.replace(/-/g, '+').replace(/_/g, '/').replace(/^(.)/, '+')],
    ['= padding', (t: string) => `${t}==`],
    ['%2E instead of a dot', (t: string) => t.replace('.', '%2E')],
    ['two segments', (t: string) => t.split('.').slice(0, 2).join('.')],
    ['four segments', (t: string) => `${t}.xyz`],
    [
      'an empty payload segment',
      (t: string) => {
        const [a, , c] = t.split('.');
        return `${a}..${c}`;
      },
    ],
  ] as const) {
    it(`A24: refuses a token with ${name}`, async () => {
      await expectInvalid(mutate(await valid()));
    });
  }

  it('A24: refuses a token with non-ASCII characters', async () => {
    const r = await call(`Bearer ${await valid()}é`.replace('é', 'e\u00e9'));
    assert.ok(r.status === 401 || r.status === 400, `got ${r.status}`);
    assert.equal(h.predictor.calls, callsBefore);
  });

  it('A28: refuses a token with its signature removed', async () => {
    const [a, b] = (await valid()).split('.');
    await expectInvalid(`${a}.${b}.`);
  });

  it('A28: refuses a token with a truncated signature', async () => {
    const t = await valid();
    await expectInvalid(t.slice(0, t.length - 10));
  });

  it('refuses an ES256 token whose signature is all zeros (psychic signature)', async () => {
    const [a, b] = (await jwks.sign({}, { key: jwks.ec })).split('.');
    await expectInvalid(`${a}.${b}.${Buffer.alloc(64).toString('base64url')}`);
  });

  it("A29: refuses another trusted issuer's valid token on a model bound to the first issuer", async () => {
    const t = await other.sign({});
    const r = await call(`Bearer ${t}`);
    refused(r, 401, IT, 'token_invalid', r.text);
  });

  it('never logs or echoes the token in the refusal body', async () => {
    const t = await valid({ exp: now() - 3600 });
    const r = await call(`Bearer ${t}`);
    assert.equal(r.text.includes(t.split('.')[1]!), false);
  });
});
