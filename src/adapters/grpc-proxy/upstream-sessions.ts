import { connect, type ClientHttp2Session } from 'node:http2';

/** One pooled session and the calls it carries now. */
export interface UpstreamSlot {
  readonly session: ClientHttp2Session;
  active: number;
}

// A bound on the calls one session carries before another is opened, when the predictor
// advertises no lower SETTINGS_MAX_CONCURRENT_STREAMS: the gRPC door's own per-client bound.
const MAX_STREAMS_PER_SESSION = 1000;

/**
 * HTTP/2 sessions to the predictor's gRPC port, opened on demand and reused. Calls fill one
 * session up to the predictor's SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §6.5.2) before the next
 * is opened, as Envoy's HTTP/2 connection pool does (one connection multiplexes requests up to
 * max_concurrent_streams): frames of many calls then share each socket write, where spreading
 * calls round-robin over several sessions cost one write per session per burst. A session that
 * closes or receives GOAWAY is replaced on the next call. node:http2 rather than undici's
 * `allowH2`: gRPC's status travels in trailers and a cancelled call must reach the predictor as
 * RST_STREAM(CANCEL); node:http2 exposes both directly (the stream's 'trailers' event,
 * `stream.close(code)`).
 */
export class UpstreamSessions {
  private readonly slots: UpstreamSlot[] = [];
  private closed = false;

  constructor(
    private readonly origin: string,
    private readonly size: number,
    private readonly idleMs: number,
  ) {}

  /** A session for one call, counted until `release`. */
  acquire(): UpstreamSlot {
    let least: UpstreamSlot | undefined;
    for (const slot of this.slots) {
      // Closing (an idle timeout) but not yet closed: takes no new calls.
      if (slot.session.closed || slot.session.destroyed) continue;
      if (slot.active < streamLimit(slot.session)) {
        slot.active++;
        return slot;
      }
      if (!least || slot.active < least.active) least = slot;
    }
    const slot = this.slots.length < this.size || !least ? this.open() : least;
    slot.active++;
    return slot;
  }

  release(slot: UpstreamSlot): void {
    slot.active--;
  }

  private open(): UpstreamSlot {
    const s = connect(this.origin);
    const slot: UpstreamSlot = { session: s, active: 0 };
    // Errors surface on the streams that use the session; the session is replaced.
    s.on('error', () => undefined);
    const drop = () => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
    };
    s.on('close', drop);
    s.on('goaway', drop);
    // An idle session is closed (its streams, if any, finish first).
    s.setTimeout(this.idleMs, () => s.close());
    if (!this.closed) this.slots.push(slot);
    return slot;
  }

  close(): void {
    this.closed = true;
    for (const slot of this.slots) slot.session.close();
  }

  destroy(): void {
    this.closed = true;
    for (const slot of [...this.slots]) slot.session.destroy();
  }
}

/** The calls a session may carry: the peer's advertised limit (unlimited until its SETTINGS arrive), bounded. */
function streamLimit(s: ClientHttp2Session): number {
  const advertised = s.remoteSettings.maxConcurrentStreams;
  return advertised !== undefined && advertised < MAX_STREAMS_PER_SESSION ? advertised : MAX_STREAMS_PER_SESSION;
}
