import { matching, settings, z } from '../fields.js';

export const tracingSection = settings(
  {
    enabled: z.boolean().default(false).meta({
      description:
        'Export OpenTelemetry spans of the decision and of the upstream call over OTLP/HTTP. Off: no span is made, and trace headers (W3C `traceparent`/`tracestate`, B3) pass to the predictor unchanged.',
      env: 'GATEWAY_TRACING_ENABLED',
    }),
    endpoint: matching(/^https?:\/\/\S+$/, 'expected an http(s) URL like http://otel-collector:4318/v1/traces')
      .default('http://127.0.0.1:4318/v1/traces')
      .meta({
        description: 'OTLP/HTTP traces endpoint of the collector (JSON encoding; the full URL, `/v1/traces` included).',
        env: 'GATEWAY_TRACING_ENDPOINT',
      }),
    serviceName: z
      .string()
      .min(1)
      .default('inference-gateway')
      .meta({ description: 'The `service.name` resource attribute of the spans.' }),
    sampleRatio: z.number().min(0).max(1).default(1).meta({
      description:
        'Share of traces recorded. A request whose trace context says not sampled is not recorded; one that says sampled is recorded at this ratio too (any client can set that flag), decided once per trace id.',
    }),
    exportTimeoutMs: z.int().min(100).max(60000).default(10000).meta({
      description:
        'Timeout of one export to the collector; spans that cannot be exported are dropped, never block requests.',
    }),
  },
  'Distributed tracing (OpenTelemetry).',
);
