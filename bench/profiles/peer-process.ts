// Local reference peers for the proxy door's own CPU measurements (the bench harness owns the
// official ones): the Node floor (node:http → undici, nothing else) and fastify + reply-from +
// jose with a token cache. Started with `peer-process.js <floor|reply-from-jose> <upstream> [jwksUri]`.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import replyFrom from '@fastify/reply-from';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import { Pool } from 'undici';

const [kind, upstream = '', jwksUri = ''] = process.argv.slice(2);
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'upgrade', 'te', 'trailer', 'proxy-connection', 'expect']);

async function floor(): Promise<string> {
  const pool = new Pool(upstream, { connections: 64 });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const k in req.headers) if (!HOP.has(k)) headers[k] = req.headers[k] as string;
      pool.request({ method: req.method as 'POST', path: req.url ?? '/', headers, body: Buffer.concat(chunks) }).then(
        async (r) => {
          const body = Buffer.from(await r.body.arrayBuffer());
          res.writeHead(r.statusCode, { 'content-type': String(r.headers['content-type'] ?? 'application/json'), 'content-length': body.length });
          res.end(body);
        },
        () => res.writeHead(502).end(),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function replyFromJose(): Promise<string> {
  const jwks = createRemoteJWKSet(new URL(jwksUri));
  const cache = new LRUCache<string, number>({ max: 10000 });
  const app = Fastify();
  await app.register(replyFrom, { base: upstream, undici: { connections: 64, pipelining: 1 } });
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_r, b, done) => done(null, b));
  app.post('/*', async (req, reply) => {
    const token = (req.headers.authorization ?? '').slice(7);
    const exp = cache.get(token);
    if (exp === undefined || exp * 1000 < Date.now()) {
      try {
        const { payload } = await jwtVerify(token, jwks);
        cache.set(token, payload.exp ?? 0);
      } catch {
        return reply.code(401).send({ error: 'unauthorized' });
      }
    }
    return reply.from(req.url, { body: req.body as Buffer, contentType: 'application/json' });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

(kind === 'floor' ? floor() : replyFromJose()).then(
  (url) => process.send?.({ url }),
  (err: unknown) => {
    process.send?.({ error: String(err) });
    process.exit(1);
  },
);
process.on('SIGTERM', () => process.exit(0));
