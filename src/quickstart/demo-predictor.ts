import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEMO_FEATURES, DEMO_LABELS, predictProba } from './demo-model.js';

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface DemoPredictorOptions {
  readonly modelName?: string;
  readonly host?: string;
  readonly port?: number;
  /** Delay before answering model calls (tests use it for timeouts and graceful shutdown). */
  readonly delayMs?: number;
  /** Keep the last requests for inspection (tests); 0 keeps none. */
  readonly remember?: number;
}

export interface DemoPredictor {
  readonly url: string;
  readonly modelName: string;
  readonly received: ReceivedRequest[];
  /** Model calls answered (predict / infer). */
  calls: number;
  delayMs: number;
  close(): Promise<void>;
}

function json(res: import('node:http').ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

function rowsOf(value: unknown): number[][] | string {
  if (!Array.isArray(value) || value.length === 0) return 'expected a non-empty list of instances';
  for (const row of value) {
    if (!Array.isArray(row) || row.length !== DEMO_FEATURES || row.some((x) => typeof x !== 'number')) {
      return `each instance must be a list of ${DEMO_FEATURES} numbers`;
    }
  }
  return value as number[][];
}

/** A KServe predictor speaking V1 and V2 over HTTP, answering with class probabilities. */
export async function startDemoPredictor(options: DemoPredictorOptions = {}): Promise<DemoPredictor> {
  const name = options.modelName ?? 'iris';
  const remember = options.remember ?? 0;
  const state = { calls: 0, delayMs: options.delayMs ?? 0 };
  const received: ReceivedRequest[] = [];

  const answer = (method: string, path: string, body: string, res: import('node:http').ServerResponse) => {
    if (method === 'GET') {
      if (path === '/') return json(res, 200, { status: 'alive' });
      if (path === '/v2/health/live') return json(res, 200, { live: true });
      if (path === '/v2/health/ready') return json(res, 200, { ready: true });
      if (path === `/v1/models/${name}` || path === `/v2/models/${name}/ready`)
        return json(res, 200, { name, ready: true });
      if (path === `/v2/models/${name}`) {
        return json(res, 200, {
          name,
          versions: ['1'],
          platform: 'demo',
          inputs: [{ name: 'input-0', datatype: 'FP32', shape: [-1, DEMO_FEATURES] }],
          outputs: [{ name: 'predict_proba', datatype: 'FP64', shape: [-1, DEMO_LABELS.length] }],
        });
      }
      return json(res, 404, { error: `not found: ${path}` });
    }
    if (method !== 'POST') return json(res, 405, { error: 'method not allowed' });
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return json(res, 400, { error: 'Unrecognized request format: body is not JSON' });
    }
    if (path === `/v1/models/${name}:predict` || path === `/v1/models/${name}:explain`) {
      const rows = rowsOf(doc['instances'] ?? doc['inputs']);
      if (typeof rows === 'string') return json(res, 400, { error: rows });
      state.calls++;
      return json(res, 200, { predictions: rows.map(predictProba) });
    }
    if (path === `/v2/models/${name}/infer` || path === `/v2/models/${name}/versions/1/infer`) {
      const inputs = doc['inputs'] as Array<{ shape?: number[]; data?: unknown }> | undefined;
      const input = inputs?.[0];
      const flat = Array.isArray(input?.data) ? (input.data as unknown[]).flat(Infinity) : undefined;
      if (
        !input ||
        !flat ||
        flat.some((x) => typeof x !== 'number') ||
        flat.length % DEMO_FEATURES !== 0 ||
        flat.length === 0
      ) {
        return json(res, 400, { error: `input-0 must hold rows of ${DEMO_FEATURES} numbers` });
      }
      const rows: number[][] = [];
      for (let i = 0; i < flat.length; i += DEMO_FEATURES) rows.push(flat.slice(i, i + DEMO_FEATURES) as number[]);
      state.calls++;
      const probs = rows.map(predictProba);
      return json(res, 200, {
        model_name: name,
        model_version: '1',
        ...(typeof doc['id'] === 'string' ? { id: doc['id'] } : {}),
        outputs: [
          { name: 'predict_proba', shape: [rows.length, DEMO_LABELS.length], datatype: 'FP64', data: probs.flat() },
        ],
      });
    }
    return json(res, 404, { error: `Model with name ${path.split('/')[3] ?? ''} does not exist.` });
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = req.url ?? '/';
      if (remember > 0) {
        received.push({ method: req.method ?? '', url, headers: req.headers, body });
        if (received.length > remember) received.shift();
      }
      const path = url.split('?')[0] ?? '/';
      const isModelCall = req.method === 'POST';
      const run = () => answer(req.method ?? 'GET', path, body, res);
      if (isModelCall && state.delayMs > 0) setTimeout(run, state.delayMs);
      else run();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  // The handle is the state the handler reads, so a test's `predictor.delayMs = 50` takes effect.
  return Object.assign(state, {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    modelName: name,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}
