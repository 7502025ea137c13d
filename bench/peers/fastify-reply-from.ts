// fastify + @fastify/reply-from, the body streamed through; with BENCH_JWKS set it first
// verifies the bearer token with jose (RS256, issuer, audience, exp) and keeps verified tokens
// in an LRU cache until they expire: what a careful twenty-line Node proxy with auth does.
import Fastify from 'fastify';
import replyFrom from '@fastify/reply-from';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { LRUCache } from 'lru-cache';
import { announce, requiredEnv } from './peer-env.js';

const app = Fastify({ logger: false });
await app.register(replyFrom, { base: requiredEnv('BENCH_UPSTREAM'), undici: { connections: 128 } });
// Hand the request stream to reply-from instead of parsing it.
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

const jwks = process.env['BENCH_JWKS'];
if (jwks) {
  const keys = createLocalJWKSet(JSON.parse(jwks) as JSONWebKeySet);
  const issuer = requiredEnv('BENCH_ISSUER');
  const audience = requiredEnv('BENCH_AUDIENCE');
  const verified = new LRUCache<string, { sub: string }>({ max: 10_000 });
  app.addHook('onRequest', async (req, reply) => {
    const auth = req.headers.authorization;
    if (!auth?.startsWith('Bearer ')) return reply.code(401).send({ error: 'token missing' });
    const token = auth.slice(7);
    if (verified.get(token)) return;
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer,
        audience,
        algorithms: ['RS256'],
        requiredClaims: ['exp', 'sub'],
      });
      verified.set(token, { sub: String(payload.sub) }, { ttl: Math.max(1, (payload.exp ?? 0) * 1000 - Date.now()) });
    } catch {
      return reply.code(401).send({ error: 'token invalid' });
    }
  });
}

app.all('/*', (req, reply) => {
  reply.from(req.url);
});
await app.listen({ host: '127.0.0.1', port: 0 });
announce(app.server.address());
