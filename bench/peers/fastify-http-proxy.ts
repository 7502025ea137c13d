// @fastify/http-proxy with its defaults: the body is streamed, not parsed.
import Fastify from 'fastify';
import httpProxy from '@fastify/http-proxy';
import { announce, requiredEnv } from './peer-env.js';

const app = Fastify({ logger: false });
await app.register(httpProxy, { upstream: requiredEnv('BENCH_UPSTREAM') });
await app.listen({ host: '127.0.0.1', port: 0 });
announce(app.server.address());
