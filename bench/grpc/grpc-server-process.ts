// One server of the gRPC bench in its own process, so its CPU time is its own: the demo gRPC
// predictor, a plain HTTP/2 forwarder (the floor), or the gateway with its gRPC door.
import {
  connect,
  constants,
  createServer,
  type ClientHttp2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { buildConfig } from '../../src/config/load-config.js';
import { Gateway } from '../../src/gateway.js';
import { startDemoGrpcPredictor } from '../../src/quickstart/demo-grpc-predictor.js';

const kind = process.argv[2];
const send = (m: unknown) => process.send?.(m);

/**
 * What forwarding a gRPC call costs in this runtime, and nothing else: each client stream is
 * re-sent on one HTTP/2 session to the predictor, headers and bytes as they come (no message
 * parsed), the answer's headers, data and trailers sent back.
 */
function startFloor(upstream: string): Promise<{ address: string; close(): Promise<void> }> {
  let session: ClientHttp2Session | undefined;
  const upstreamSession = () => {
    if (!session || session.closed || session.destroyed) session = connect(upstream);
    return session;
  };
  const server = createServer();
  server.on('stream', (stream, headers) => {
    const out: OutgoingHttpHeaders = {};
    for (const k in headers) if (k !== ':authority' && k !== 'connection') out[k] = headers[k];
    const up = upstreamSession().request(out);
    stream.pipe(up);
    up.on('response', (h) => {
      const back: OutgoingHttpHeaders = {};
      for (const k in h) back[k] = h[k];
      stream.respond(back, { waitForTrailers: true });
      up.pipe(stream);
    });
    up.on('trailers', (t: IncomingHttpHeaders) => stream.once('wantTrailers', () => stream.sendTrailers(t)));
    up.on('error', () => stream.close(constants.NGHTTP2_INTERNAL_ERROR));
    stream.on('error', () => up.close(constants.NGHTTP2_CANCEL));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: async () => void server.close(),
      }),
    ),
  );
}

async function start(): Promise<{ address: string; close(): Promise<void> }> {
  if (kind === 'predictor') {
    const p = await startDemoGrpcPredictor();
    return { address: p.address, close: () => p.close() };
  }
  const upstream = process.env['BENCH_UPSTREAM'] ?? '';
  if (kind === 'floor') return startFloor(upstream);
  const raw = JSON.parse(process.env['BENCH_CONFIG'] ?? '{}') as Record<string, unknown>;
  const gw = await Gateway.create(buildConfig(raw, 'bench'), { defaultMetrics: false });
  const at = await gw.listen();
  return { address: at.grpcAddress ?? '', close: () => gw.close() };
}

process.on('message', (m) => {
  if (m === 'cpu') {
    const u = process.cpuUsage();
    send({ cpu: u.user + u.system });
  }
});

start().then(
  (s) => {
    send({ address: s.address });
    process.on('SIGTERM', () => void s.close().then(() => process.exit(0)));
  },
  (err: unknown) => {
    send({ error: String(err) });
    process.exit(1);
  },
);
