// A real HTTP server on 127.0.0.1 that answers 200 to one expected call and 400 to anything else,
// and records what it saw: the bench's load generators are checked against it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BenchCall } from '../../bench/load/bench-call.js';

export interface RecordingServer {
  url: string;
  seen: { requests: number; mismatched: number; authorizations: Set<string> };
  reset(): void;
  close(): Promise<void>;
}

export async function startRecordingServer(expected: BenchCall): Promise<RecordingServer> {
  const seen = { requests: 0, mismatched: 0, authorizations: new Set<string>() };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.requests++;
      seen.authorizations.add(String(req.headers.authorization));
      const exact =
        req.method === expected.method &&
        req.url === expected.path &&
        Buffer.concat(chunks).toString() === expected.body &&
        req.headers['content-type'] === 'application/json';
      if (!exact) seen.mismatched++;
      res.writeHead(exact ? 200 : 400, { 'content-length': '2' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    reset() {
      seen.requests = 0;
      seen.mismatched = 0;
      seen.authorizations.clear();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
