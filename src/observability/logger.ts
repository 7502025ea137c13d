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
// last 100 ms of lines. pino's own destination does the batching (SonicBoom's minLength and
// periodicFlush), synchronous like pino's default destination, so a flush at shutdown is complete.
const ACCESS_MIN_LENGTH = 64 * 1024;
const ACCESS_FLUSH_EVERY_MS = 100;

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
    accessOutputs.set(logger, { write: (lines) => void destination.write(lines), flush: () => undefined });
    return logger;
  }
  const logger = pino(options, pino.destination({ dest: destination, sync: true }));
  const batched = pino.destination({ dest: destination, sync: true, minLength: ACCESS_MIN_LENGTH, maxWrite: 4 * ACCESS_MIN_LENGTH, periodicFlush: ACCESS_FLUSH_EVERY_MS });
  accessOutputs.set(logger, { write: (lines) => void batched.write(lines), flush: () => batched.flushSync() });
  return logger;
}

/** The access output of a logger made by createLogger (undefined for any other logger: no access lines). */
export function accessOutputOf(log: Logger): AccessOutput | undefined {
  return accessOutputs.get(log);
}
