// The shapes the KServe V1 and Open Inference Protocol (V2) requests and answers are read into:
// described here, below every layer, so the decision core can carry them without importing the
// capability that reads them (src/inference).
import type { Protocol } from './kserve-route.js';

/** V1: the member of the body holding the rows. */
export type V1RowsKey = 'instances' | 'inputs';

/** A predict/explain body, parsed once per decision and shared by every stage that reads it. */
export interface InferenceRequest {
  readonly protocol: Protocol;
  /**
   * The JSON document the runtime predicts on: for V2 with the binary extension the leading JSON
   * part, for a V1 structured CloudEvent its `data`.
   */
  readonly doc: Record<string, unknown>;
  /** V1: the member holding the rows (`inputs` or `instances`; never both), undefined when neither. */
  readonly rowsKey: V1RowsKey | undefined;
  /** Predictions requested, counted as the runtime reads the body (see v1-body.ts; V2 the largest `shape[0]`); at least 1. */
  readonly batchSize: number;
  /** With the binary extension: the length of the leading JSON (tensor bytes follow it). */
  readonly binaryHeaderLength: number | undefined;
  /** With the binary extension: each binary input's bytes by input index (views into the body, not copies). */
  readonly binaryInputs: ReadonlyMap<number, Buffer> | undefined;
  /** A gRPC ModelInfer call: the ModelInferRequest's bytes `doc` was read from (grpc-infer-request.ts). */
  readonly grpc?: Buffer;
}

/** One row's answer, understood: the class, and the ranked scores when the predictor gave them. */
export interface PredictedClass {
  /** A configured label name, or the class index when no labels are configured. */
  readonly label: string | number;
  /** Best score (probability); undefined when the predictor answered a class without scores. */
  readonly confidence: number | undefined;
  /** Classes by descending score, under the top-k policy only; undefined without scores. */
  readonly ranked: ReadonlyArray<{ readonly label: string | number; readonly score: number }> | undefined;
}
