import { createServer, type AddressInfo, type Socket } from 'node:net';

/** One request as the scripted predictor read it off the wire. */
export interface WireRequest {
  readonly head: string;
  readonly body: Buffer;
}

export interface ScriptedPredictor {
  readonly url: string;
  /** Requests whose head and body were read completely. */
  readonly requests: WireRequest[];
  /** Connections currently open. */
  openConnections(): number;
  /** Connections accepted since start. */
  accepted(): number;
  close(): Promise<void>;
}

/**
 * A predictor written on raw sockets, for faults an HTTP server library would hide: answers that
 * trickle, hang, are not HTTP, or connections closed at chosen moments. `onRequest` gets the
 * socket after each complete request (Content-Length bodies only, which is what the gateway sends).
 */
export async function startScriptedPredictor(
  onRequest: (socket: Socket, req: WireRequest) => void,
): Promise<ScriptedPredictor> {
  const requests: WireRequest[] = [];
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        const length = m ? Number(m[1]) : 0;
        if (buf.length < end + 4 + length) return;
        const req = { head, body: buf.subarray(end + 4, end + 4 + length) };
        buf = buf.subarray(end + 4 + length);
        requests.push(req);
        onRequest(socket, req);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    openConnections: () => sockets.size,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A complete HTTP/1.1 JSON answer with its length (keep-alive implied). */
export function jsonAnswer(body: unknown, status = 200): string {
  const text = JSON.stringify(body);
  return `HTTP/1.1 ${status} OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`;
}
