// The Node peers, each its own process (bench/peers/*), built by tsc next to this file.
import { fileURLToPath } from 'node:url';
import { spawnNodePeer } from './spawned-server.js';
import type { Target, TargetEnv } from './target.js';

const peerScript = (file: string) => fileURLToPath(new URL(`../peers/${file}`, import.meta.url));

function nodePeer(id: string, name: string, file: string, authenticates: boolean): Target {
  return {
    id,
    name,
    group: 'node peer',
    authenticates,
    start: (env: TargetEnv) =>
      spawnNodePeer(peerScript(file), {
        BENCH_UPSTREAM: env.predictorUrl,
        ...(authenticates
          ? {
              BENCH_JWKS: JSON.stringify(env.identity.jwks),
              BENCH_ISSUER: env.identity.issuer,
              BENCH_AUDIENCE: env.identity.audience,
            }
          : {}),
      }),
  };
}

export const nodeFloorTarget = nodePeer('node-floor', 'node:http → undici (Node floor)', 'node-floor.js', false);
export const fastifyHttpProxyTarget = nodePeer(
  'fastify-http-proxy',
  '@fastify/http-proxy',
  'fastify-http-proxy.js',
  false,
);
export const fastifyReplyFromTarget = nodePeer(
  'reply-from',
  'fastify + reply-from, no auth',
  'fastify-reply-from.js',
  false,
);
export const fastifyReplyFromJoseTarget = nodePeer(
  'reply-from-jose',
  'fastify + reply-from + jose (LRU token cache)',
  'fastify-reply-from.js',
  true,
);
