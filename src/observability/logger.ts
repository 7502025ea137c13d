import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/** Anything that could carry a credential is redacted, wherever it appears in a log object. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["proxy-authorization"]',
  'authorization',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'password',
  '*.password',
];

/** Where a logger's access lines go: written in batches, flushed at shutdown. */
export interface AccessOutput {
  write(lines: string): void;
  flush(): void;
}

// Access lines are gathered and written at 64 KiB or every 100 ms, whichever comes first: one
// write for hundreds of requests. A write per line (pino's default) measured ~20 µs of CPU per
// request under load, more than the whole forward path; the price is that a crash can lose the
// last 100 ms of lines. The batch is written through pino's own destination (synchronous, like
// pino's default, so a flush at shutdown is complete). Its `minLength` option would gather the
// lines itself, but it measures each write against the whole pending buffer (Buffer.byteLength
// of the joined string): 8.7 µs per 300-byte line at 64 KiB against 0.17 µs for the string
// gathered here (bench/profiles/cpu-per-request.md).
const ACCESS_BATCH_BYTES = 64 * 1024;
const ACCESS_FLUSH_EVERY_MS = 100;

class AccessBatch implements AccessOutput {
  private pending = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly out: { write(s: string): unknown }) {}

  write(lines: string): void {
    this.pending += lines;
    if (this.pending.length >= ACCESS_BATCH_BYTES) this.flush();
    else this.timer ??= setTimeout(flushBatch, ACCESS_FLUSH_EVERY_MS, this).unref();
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.out.write(text);
  }
}

function flushBatch(b: AccessBatch): void {
  b.flush();
}

const accessOutputs = new WeakMap<Logger, AccessOutput>();

/**
 * A logger writing to `destination`: a file descriptor (stdout by default) or a path, or a stream
 * (tests read the lines from one; its access lines are then written one by one).
 */
export function createLogger(level: string, destination: number | string | NodeJS.WritableStream = 1): Logger {
  const options = {
    level,
    base: { service: 'inference-gateway' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (typeof destination === 'object') {
    const logger = pino(options, destination as never);
    accessOutputs.set(logger, new AccessBatch(destination));
    return logger;
  }
  const out = pino.destination({ dest: destination, sync: true });
  const logger = pino(options, out);
  accessOutputs.set(logger, new AccessBatch(out));
  return logger;
}

/** The access output of a logger made by createLogger (undefined for any other logger: no access lines). */
export function accessOutputOf(log: Logger): AccessOutput | undefined {
  return accessOutputs.get(log);
}
