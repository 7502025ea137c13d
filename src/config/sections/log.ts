import { s } from '../schema-dsl.js';

export const logSection = s.object(
  {
    level: s.string({
      doc: 'Log level (pino).',
      default: 'info',
      enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      env: 'GATEWAY_LOG_LEVEL',
    }),
    accessLog: s.boolean({ doc: 'One JSON line per request (method, route class, model, status, duration); never a token.', default: true }),
  },
  { doc: 'Structured JSON logs.' },
);
