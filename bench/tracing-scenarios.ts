// Tracing's cost: off must cost nothing against pass-through (one constant no-op call per
// decision phase); on, every request makes spans batched and exported over OTLP/HTTP to a
// collector stand-in on loopback that accepts and discards them.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { passThroughGateway, v1Predict, type Scenario } from './scenarios-common.js';

function startSink(): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      }),
    ),
  );
}

export function tracingScenarios(): Scenario[] {
  let sink: { url: string; close: () => Promise<void> } | undefined;
  return [
    {
      name: 'gateway tracing off',
      baseline: 'gateway pass-through',
      gateway: (ctx) => ({ ...passThroughGateway(ctx), tracing: { enabled: false } }),
      requests: () => [v1Predict()],
    },
    {
      name: 'gateway tracing on',
      baseline: 'gateway tracing off',
      gateway: async (ctx) => {
        sink = await startSink();
        return { ...passThroughGateway(ctx), tracing: { enabled: true, endpoint: sink.url } };
      },
      requests: () => [
        {
          ...v1Predict(),
          headers: { ...v1Predict().headers, traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
        },
      ],
      teardown: async () => {
        await sink?.close();
        sink = undefined;
      },
    },
  ];
}
