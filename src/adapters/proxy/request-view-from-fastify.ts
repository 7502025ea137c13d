import type { FastifyRequest } from 'fastify';
import { rawHeaderValues, splitPathAndQuery, type RequestView } from '../../decision/request-view.js';

const NONE: readonly string[] = Object.freeze([]);

export function requestViewFromFastify(req: FastifyRequest): RequestView {
  const raw = req.raw;
  const { path, query } = splitPathAndQuery(raw.url ?? '/');
  return {
    door: 'proxy',
    method: raw.method ?? 'GET',
    path,
    query,
    headers: raw.headers,
    // Only scan rawHeaders when there is something to find: duplicates need it, the common case does not.
    authorization: raw.headers.authorization === undefined ? NONE : rawHeaderValues(raw.rawHeaders, 'authorization'),
    hosts: rawHeaderValues(raw.rawHeaders, 'host'),
    body: Buffer.isBuffer(req.body) ? req.body : undefined,
    bodyPartial: false,
    peer: raw.socket.remoteAddress ?? '',
    requestId: req.id,
  };
}
