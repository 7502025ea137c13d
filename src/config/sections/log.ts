import { settings, z } from '../fields.js';

export const logSection = settings(
  {
    level: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .meta({ description: 'Log level (pino).', env: 'GATEWAY_LOG_LEVEL' }),
    accessLog: z.boolean().default(true).meta({
      description: 'One JSON line per request (method, route class, model, status, duration); never a token.',
    }),
  },
  'Structured JSON logs.',
);
