import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FixtureAnswer {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  readonly body: string | Buffer;
}

export interface FixturePredictor {
  readonly url: string;
  /** What the next model calls are answered with. */
  answer: FixtureAnswer;
  readonly received: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: Buffer }>;
  close(): Promise<void>;
}

/**
 * A predictor on 127.0.0.1 port 0 that answers every POST with a given answer (a golden fixture
 * shaped like a real runtime's) and every GET (probes, readiness) with 200.
 */
export async function startFixturePredictor(first: FixtureAnswer = { body: '{}' }): Promise<FixturePredictor> {
  const received: FixturePredictor['received'] = [];
  const state = { answer: first };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ready": true}');
        return;
      }
      received.push({ method: req.method, url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) });
      if (received.length > 20) received.shift();
      const a = state.answer;
      const body = typeof a.body === 'string' ? Buffer.from(a.body) : a.body;
      res
        .writeHead(a.status ?? 200, { 'content-type': 'application/json', ...a.headers, 'content-length': body.length })
        .end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get answer() {
      return state.answer;
    },
    set answer(a: FixtureAnswer) {
      state.answer = a;
    },
    received,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
