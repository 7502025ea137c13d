// The Node floor: the least a Node proxy can do, node:http in front of an undici pool, body and
// answer streamed, hop-by-hop headers (RFC 9110 §7.6.1) dropped. What forwarding alone costs
// in this runtime; any gateway feature is paid on top of it.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { Pool } from 'undici';
import { announce, requiredEnv } from './peer-env.js';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
]);
const pool = new Pool(requiredEnv('BENCH_UPSTREAM'), { connections: 128 });

function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const k in headers) {
    const v = headers[k];
    if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  }
  return out;
}

const server = createServer((req, res) => {
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  pool
    .request({
      method: req.method as 'POST',
      path: req.url ?? '/',
      headers: forwardable(req.headers),
      body: hasBody ? req : null,
    })
    .then(
      (up) => {
        res.writeHead(up.statusCode, forwardable(up.headers));
        up.body.pipe(res);
      },
      () => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
        res.end('{"error":"upstream unreachable"}');
      },
    );
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => announce(server.address()));
