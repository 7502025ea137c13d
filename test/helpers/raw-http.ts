import { connect, type Socket } from 'node:net';

/**
 * Sends bytes exactly as written (HTTP clients normalise paths and manage Connection headers,
 * which would hide what the gateway does with them). Returns status, headers and body text.
 */
export async function rawRequest(
  url: string,
  head: string,
  body: string | Buffer = '',
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const data: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    // A server that refuses a request while it is still being sent (431 for a huge header)
    // answers, then closes; the rest of our write makes the kernel reset the connection. What
    // was received before the reset is the answer.
    socket.on('error', (err) => (data.length > 0 ? resolve() : reject(err)));
    socket.on('data', (c: Buffer) => data.push(c));
    socket.on('end', () => resolve());
    socket.on('connect', () =>
      socket.write(
        Buffer.concat([
          Buffer.from(head.replace(/\n/g, '\r\n') + '\r\n', 'latin1'),
          Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
        ]),
      ),
    );
    socket.setTimeout(5000, () => socket.destroy(new Error('raw request timed out')));
  });
  const text = Buffer.concat(data).toString('utf8');
  const [headText = '', ...rest] = text.split('\r\n\r\n');
  const [statusLine = '', ...lines] = headText.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}

export interface Raw {
  readonly socket: Socket;
  /** Everything the server sent so far (latin1). */
  readonly received: () => string;
  readonly closed: Promise<void>;
}

/** A raw client that sends `head` (and optionally some body bytes), then leaves the socket open: to stall, pipeline or send more. */
export function rawClient(url: string, head: string, body?: Buffer): Promise<Raw> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let text = '';
  socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(head.replace(/\n/g, '\r\n') + '\r\n');
      if (body) socket.write(body);
      resolve({ socket, received: () => text, closed });
    });
  });
}

export const statusOf = (text: string) => Number(text.split(' ')[1]);
export const jsonOf = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;

/** The status lines of every answer in a raw transcript, in order. */
export const statusesOf = (text: string) => [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
