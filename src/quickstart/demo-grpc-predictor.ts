import {
  Metadata,
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import {
  inferenceMethods,
  type ModelInferRequestMessage,
  type ModelInferResponseMessage,
  type ModelNameMessage,
  type TensorMessage,
} from '../inference/grpc-codec.js';
import { DEMO_FEATURES, DEMO_LABELS, predictProba } from './demo-model.js';

// The demo model behind `inference.GRPCInferenceService`, as a KServe model server serves it on
// its gRPC port: FP32 or FP64 rows in typed contents or raw_input_contents, class probabilities
// out (`predict_proba`, FP64 [N, 3]) in typed contents, or raw when `rawOutputs` is set.

export interface DemoGrpcPredictorOptions {
  readonly modelName?: string;
  readonly host?: string;
  readonly port?: number;
  readonly delayMs?: number;
}

export interface DemoGrpcPredictor {
  /** host:port */
  readonly address: string;
  readonly url: string;
  readonly modelName: string;
  /** ModelInfer calls answered. */
  calls: number;
  /** Calls the client (or the gateway for it) cancelled before they were answered. */
  cancelled: number;
  delayMs: number;
  /** Answer probabilities in raw_output_contents instead of typed contents. */
  rawOutputs: boolean;
  /** Fail every ModelInfer with this status; the message echoes the probabilities, as a careless server might. */
  failWith: number | undefined;
  /** Metadata of the last calls (at most 20). */
  readonly metadata: Record<string, unknown>[];
  /** Requests of the last ModelInfer calls (at most 20), as decoded. */
  readonly requests: ModelInferRequestMessage[];
  close(): Promise<void>;
}

function rowsOf(req: ModelInferRequestMessage): number[][] | string {
  const input: TensorMessage | undefined = req.inputs?.[0];
  if (!input) return 'the request has no inputs';
  let flat: number[];
  const raw = req.raw_input_contents?.[0];
  if (raw) {
    const width = input.datatype === 'FP64' ? 8 : input.datatype === 'FP32' ? 4 : 0;
    if (width === 0 || raw.length % width !== 0) return `raw ${input.datatype ?? ''} input cannot be read`;
    flat = [];
    for (let o = 0; o < raw.length; o += width) flat.push(width === 8 ? raw.readDoubleLE(o) : raw.readFloatLE(o));
  } else {
    flat = input.datatype === 'FP64' ? (input.contents?.fp64_contents ?? []) : (input.contents?.fp32_contents ?? []);
  }
  if (flat.length === 0 || flat.length % DEMO_FEATURES !== 0)
    return `input-0 must hold rows of ${DEMO_FEATURES} numbers`;
  const rows: number[][] = [];
  for (let i = 0; i < flat.length; i += DEMO_FEATURES) rows.push(flat.slice(i, i + DEMO_FEATURES));
  return rows;
}

function remember<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > 20) list.shift();
}

export async function startDemoGrpcPredictor(options: DemoGrpcPredictorOptions = {}): Promise<DemoGrpcPredictor> {
  const name = options.modelName ?? 'iris';
  const state = {
    calls: 0,
    cancelled: 0,
    delayMs: options.delayMs ?? 0,
    rawOutputs: false,
    failWith: undefined as number | undefined,
  };
  const metadata: Record<string, unknown>[] = [];
  const requests: ModelInferRequestMessage[] = [];
  const methods = inferenceMethods();
  const unknownModel = (model: string) => ({
    code: status.NOT_FOUND,
    details: `Model with name ${model} does not exist.`,
  });

  const infer = (
    call: ServerUnaryCall<ModelInferRequestMessage, ModelInferResponseMessage>,
    callback: sendUnaryData<ModelInferResponseMessage>,
  ) => {
    const req = call.request;
    remember(metadata, call.metadata.getMap());
    remember(requests, req);
    if (req.model_name !== name) return callback(unknownModel(req.model_name ?? ''));
    const rows = rowsOf(req);
    if (typeof rows === 'string') return callback({ code: status.INVALID_ARGUMENT, details: rows });
    let answered = false;
    call.on('cancelled', () => {
      if (!answered) state.cancelled++;
    });
    const run = () => {
      if (call.cancelled) return;
      answered = true;
      const probs = rows.map(predictProba).flat();
      if (state.failWith !== undefined)
        return callback({
          code: state.failWith,
          details: `model failed after computing ${JSON.stringify(probs)}`,
          metadata: new Metadata(),
        });
      state.calls++;
      const shape = [String(rows.length), String(DEMO_LABELS.length)];
      const raw = Buffer.alloc(probs.length * 8);
      probs.forEach((p, i) => raw.writeDoubleLE(p, i * 8));
      callback(null, {
        model_name: name,
        model_version: '1',
        ...(req.id ? { id: req.id } : {}),
        outputs: [
          {
            name: 'predict_proba',
            datatype: 'FP64',
            shape,
            ...(state.rawOutputs ? {} : { contents: { fp64_contents: probs } }),
          },
        ],
        ...(state.rawOutputs ? { raw_output_contents: [raw] } : {}),
      });
    };
    if (state.delayMs > 0) setTimeout(run, state.delayMs);
    else run();
  };

  const modelCall =
    <T>(answer: (m: ModelNameMessage) => T) =>
    (call: ServerUnaryCall<ModelNameMessage, T>, callback: sendUnaryData<T>) => {
      remember(metadata, call.metadata.getMap());
      if (call.request.name !== name) return callback(unknownModel(call.request.name ?? ''));
      callback(null, answer(call.request));
    };

  const implementation: UntypedServiceImplementation = {
    ServerLive: (_c: unknown, cb: sendUnaryData<object>) => cb(null, { live: true }),
    ServerReady: (_c: unknown, cb: sendUnaryData<object>) => cb(null, { ready: true }),
    ServerMetadata: (_c: unknown, cb: sendUnaryData<object>) =>
      cb(null, { name: 'demo-predictor', version: '1', extensions: [] }),
    ModelReady: modelCall(() => ({ ready: true })),
    ModelMetadata: modelCall(() => ({
      name,
      versions: ['1'],
      platform: 'demo',
      inputs: [{ name: 'input-0', datatype: 'FP32', shape: ['-1', String(DEMO_FEATURES)] }],
      outputs: [{ name: 'predict_proba', datatype: 'FP64', shape: ['-1', String(DEMO_LABELS.length)] }],
    })),
    ModelInfer: infer,
  };
  const server = new Server();
  server.addService(methods, implementation);
  const host = options.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${options.port ?? 0}`, ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  // The handle is the state the handlers read, so a test's `predictor.delayMs = 50` takes effect.
  return Object.assign(state, {
    address: `${host}:${port}`,
    url: `http://${host}:${port}`,
    modelName: name,
    metadata,
    requests,
    close: async () => server.forceShutdown(),
  });
}
