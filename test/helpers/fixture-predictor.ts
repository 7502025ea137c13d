import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fixture predictor answers on one path: JSON (serialised here) or exact bytes. */
export interface FixtureAnswer {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  readonly json?: unknown;
  readonly bytes?: Buffer;
}

export interface FixtureRequest {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface FixturePredictor {
  readonly url: string;
  readonly received: FixtureRequest[];
  /** Sets the answer for a path (without query string). */
  answer(path: string, a: FixtureAnswer): void;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 port 0 that replays a given answer per path, shaped like a real runtime's. */
export async function startFixturePredictor(): Promise<FixturePredictor> {
  const answers = new Map<string, FixtureAnswer>();
  const received: FixtureRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '/';
      received.push({ url, headers: req.headers, body: Buffer.concat(chunks) });
      if (received.length > 100) received.shift();
      const a = answers.get(url.split('?')[0]!);
      if (!a) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no fixture for this path"}');
        return;
      }
      const body = a.bytes ?? Buffer.from(JSON.stringify(a.json));
      res.writeHead(a.status ?? 200, { 'content-type': 'application/json', 'content-length': String(body.length), ...a.headers }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    answer: (path, a) => void answers.set(path, a),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A V2 binary-extension body: the JSON head, then each tensor's little-endian bytes (PROTOCOLS.md §4.2). */
export function binaryBody(head: unknown, tensors: readonly Buffer[]): { body: Buffer; headLength: number } {
  const json = Buffer.from(JSON.stringify(head));
  return { body: Buffer.concat([json, ...tensors]), headLength: json.length };
}

export function fp32(values: readonly number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeFloatLE(v, i * 4));
  return b;
}
