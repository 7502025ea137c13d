import { connect, type ClientHttp2Session } from 'node:http2';

/**
 * HTTP/2 sessions to the predictor's gRPC port, opened on demand and reused: each multiplexes
 * many calls, so a few cover the load; a session that closes or receives GOAWAY is replaced on
 * the next call. node:http2 rather than undici's `allowH2`: gRPC's status travels in trailers and
 * a cancelled call must reach the predictor as RST_STREAM(CANCEL); node:http2 exposes both
 * directly (the stream's 'trailers' event, `stream.close(code)`).
 */
export class UpstreamSessions {
  private readonly sessions: Array<ClientHttp2Session | undefined>;
  private next = 0;
  private closed = false;

  constructor(
    private readonly origin: string,
    size: number,
    private readonly idleMs: number,
  ) {
    this.sessions = new Array<ClientHttp2Session | undefined>(size).fill(undefined);
  }

  get(): ClientHttp2Session {
    const i = this.next;
    this.next = (i + 1) % this.sessions.length;
    const open = this.sessions[i];
    if (open && !open.closed && !open.destroyed) return open;
    const s = connect(this.origin);
    // Errors surface on the streams that use the session; the session is replaced.
    s.on('error', () => undefined);
    const drop = () => {
      if (this.sessions[i] === s) this.sessions[i] = undefined;
    };
    s.on('close', drop);
    s.on('goaway', drop);
    // An idle session is closed (its streams, if any, finish first).
    s.setTimeout(this.idleMs, () => s.close());
    if (!this.closed) this.sessions[i] = s;
    return s;
  }

  close(): void {
    this.closed = true;
    for (const s of this.sessions) s?.close();
  }

  destroy(): void {
    this.closed = true;
    for (const s of this.sessions) s?.destroy();
  }
}
