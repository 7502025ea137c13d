// The gateway as the gRPC bench runs it, as the labels-only rows of the REST bench do: no auth,
// the model's input contract checked, probabilities reduced to class names; access log on (to
// /dev/null in the bench).
export function labelsOnlyGatewayConfig(grpcUrl: string): Record<string, unknown> {
  return {
    server: { host: '127.0.0.1', port: 0, grpcPort: 0, drainDelaySeconds: 0, shutdownGraceSeconds: 1 },
    admin: { host: '127.0.0.1', port: 0 },
    upstream: { url: 'http://127.0.0.1:1', grpcUrl },
    auth: { enabled: false },
    log: { level: 'info' },
    models: {
      iris: { labels: ['setosa', 'versicolor', 'virginica'], input: { features: 4, shape: [4], maxBatch: 256 } },
    },
  };
}
