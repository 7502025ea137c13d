// Debian's nginx and HAProxy as reverse proxies, each as one process with one worker thread
// (the same one core a Node event loop gets), in the foreground, config in a scratch directory.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, spawnListening } from './spawned-server.js';
import type { Target, TargetEnv } from './target.js';

export const NGINX_BIN = '/usr/sbin/nginx';
export const HAPROXY_BIN = '/usr/sbin/haproxy';

function requireBinary(bin: string): void {
  if (!existsSync(bin)) throw new Error(`${bin} is not installed (npm run bench:setup installs it)`);
}

const hostPort = (url: string) => new URL(url).host;

export function nginxConfig(prefix: string, port: number, upstream: string): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log /dev/null;
  client_body_temp_path ${prefix}/tmp;
  proxy_temp_path ${prefix}/tmp;
  fastcgi_temp_path ${prefix}/tmp;
  uwsgi_temp_path ${prefix}/tmp;
  scgi_temp_path ${prefix}/tmp;
  keepalive_requests 1000000;
  upstream predictor {
    server ${hostPort(upstream)};
    keepalive 128;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://predictor;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

export const nginxTarget: Target = {
  id: 'nginx',
  name: 'nginx (reverse proxy)',
  group: 'native peer',
  authenticates: false,
  async start(env: TargetEnv) {
    requireBinary(NGINX_BIN);
    const prefix = join(env.workDir, 'nginx');
    mkdirSync(join(prefix, 'tmp'), { recursive: true });
    const port = await freePort();
    writeFileSync(join(prefix, 'nginx.conf'), nginxConfig(prefix, port, env.predictorUrl));
    return spawnListening(
      NGINX_BIN,
      ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', join(prefix, 'nginx.conf')],
      port,
      'SIGQUIT',
    );
  },
};

const haproxyBase = (port: number, upstream: string, frontendRules: string) => `global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend bench
  bind 127.0.0.1:${port}
${frontendRules}  default_backend predictor
backend predictor
  http-reuse always
  server p1 ${hostPort(upstream)}
`;

/**
 * HAProxy 2.6's JWT converters (jwt_header_query, jwt_payload_query, jwt_verify): algorithm,
 * issuer, audience and expiry checked, the RS256 signature verified with the public key file on
 * every request (2.6 has no verified-token cache), then the request tracked per `sub` in a stick
 * table with a request-rate counter and a (never reached) limit.
 */
export function haproxyJwtRules(env: Pick<TargetEnv, 'identity'>): string {
  const { issuer, audience, publicKeyPemFile } = env.identity;
  return `  stick-table type string len 64 size 200k expire 60s store http_req_rate(10s)
  http-request deny deny_status 401 unless { req.hdr(authorization) -m beg "Bearer " }
  http-request set-var(txn.bearer) http_auth_bearer
  http-request set-var(txn.alg) var(txn.bearer),jwt_header_query('$.alg')
  http-request set-var(txn.iss) var(txn.bearer),jwt_payload_query('$.iss')
  http-request set-var(txn.aud) var(txn.bearer),jwt_payload_query('$.aud')
  http-request set-var(txn.exp) var(txn.bearer),jwt_payload_query('$.exp','int')
  http-request set-var(txn.sub) var(txn.bearer),jwt_payload_query('$.sub')
  http-request set-var(txn.now) date()
  http-request deny deny_status 401 unless { var(txn.alg) -m str RS256 }
  http-request deny deny_status 401 unless { var(txn.iss) -m str ${issuer} }
  http-request deny deny_status 401 unless { var(txn.aud) -m str ${audience} }
  http-request deny deny_status 401 unless { var(txn.sub) -m found }
  http-request deny deny_status 401 if { var(txn.exp),sub(txn.now) -m int lt 0 }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_verify(txn.alg,"${publicKeyPemFile}") -m int 1 }
  http-request track-sc0 var(txn.sub)
  http-request deny deny_status 429 if { sc_http_req_rate(0) gt 1000000000 }
`;
}

function haproxyTarget(id: string, name: string, jwt: boolean): Target {
  return {
    id,
    name,
    group: 'native peer',
    authenticates: jwt,
    async start(env: TargetEnv) {
      requireBinary(HAPROXY_BIN);
      const dir = join(env.workDir, id);
      mkdirSync(dir, { recursive: true });
      const port = await freePort();
      const cfg = join(dir, 'haproxy.cfg');
      writeFileSync(cfg, haproxyBase(port, env.predictorUrl, jwt ? haproxyJwtRules(env) : ''));
      // -db: foreground, no master process, so the pid is the one worker.
      return spawnListening(HAPROXY_BIN, ['-db', '-f', cfg], port);
    },
  };
}

export const haproxyTargetPlain = haproxyTarget('haproxy', 'HAProxy 2.6', false);
export const haproxyTargetJwt = haproxyTarget(
  'haproxy-jwt',
  'HAProxy 2.6 + jwt_verify RS256 + per-sub stick table',
  true,
);
