import type { ModelContract } from './model-contract.js';
import { classifyRow, classifyScoreRowAt, type PredictedClass } from './predicted-class.js';
import { labelOut, topKOut } from './reduced-answer.js';
import type { Reduction } from './v1-answer.js';
import { isObject } from './json-object.js';

interface Tensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly datatype: string;
  readonly data: readonly unknown[];
}

// Output names are kept, so they must look like names, not carry data.
const OUTPUT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

function tensorOf(v: unknown, i: number): Tensor | string {
  if (!isObject(v)) return `outputs[${i}] is not an object`;
  const { name, shape, datatype, data } = v;
  if (typeof name !== 'string' || !OUTPUT_NAME.test(name)) return `outputs[${i}] has no valid name`;
  if (!Array.isArray(shape)) return `outputs[${i}] (${name}) has no valid shape`;
  let size = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) return `outputs[${i}] (${name}) has no valid shape`;
    size *= d;
  }
  if (typeof datatype !== 'string') return `outputs[${i}] (${name}) has no datatype`;
  if (!Array.isArray(data)) return `outputs[${i}] (${name}) has no data`;
  // Row-major nested lists are flattened; a flat list (the common case) is used as it is.
  const flat = hasNestedList(data) ? data.flat(Infinity) : data;
  if (flat.length !== size) return `outputs[${i}] (${name}) has ${flat.length} elements for shape [${shape.join(',')}]`;
  return { name, shape: shape as number[], datatype, data: flat };
}

/**
 * Whether any element is a list. A loop, not `data.some(Array.isArray)`: a list of doubles handed
 * element by element to a callback V8 does not inline boxes each one (16 bytes per score: 12 kB of
 * garbage for a 256-row answer of three classes).
 */
function hasNestedList(data: readonly unknown[]): boolean {
  for (let i = 0; i < data.length; i++) if (Array.isArray(data[i])) return true;
  return false;
}

/** Rows of a tensor: [N, C] → N rows of C; [N] → N scalars; [k] of Triton strings → one row. */
function rowsOf(t: Tensor): unknown[][] | unknown[] | string {
  if (t.shape.length === 2) {
    const [n, k] = t.shape as [number, number];
    const rows: unknown[][] = [];
    for (let r = 0; r < n; r++) rows.push(t.data.slice(r * k, r * k + k));
    return rows;
  }
  if (t.shape.length === 1) {
    // Triton answers one un-batched request's top-k as a 1-D list of "value:index[:label]".
    if (t.data.length > 1 && t.data.every((x) => typeof x === 'string' && /^[-+.\deE]+:\d+(:|$)/.test(x)))
      return [t.data];
    return t.data as unknown[];
  }
  return `output ${t.name} has rank ${t.shape.length}; only [N] and [N, C] can be reduced`;
}

function labelsTensor(name: string, values: ReadonlyArray<string | number>, shape: number[]): Record<string, unknown> {
  let ints = 0;
  for (let i = 0; i < values.length; i++) if (typeof values[i] === 'number') ints++;
  const allInts = ints === values.length;
  // Names are strings already: only a mix of indices and names needs converting.
  const data = allInts || ints === 0 ? values : values.map(String);
  return { name, shape, datatype: allInts ? 'INT64' : 'BYTES', data };
}

const allFiniteNumbers = (data: readonly unknown[]): data is readonly number[] => {
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) return false;
  }
  return true;
};

/** The class of every row, or why a row has none. */
function classesOfTensor(t: Tensor, c: ModelContract): PredictedClass[] | string {
  const predicted: PredictedClass[] = [];
  // The common answer, an [N, C] tensor of probabilities, is read in place: no row copied out.
  if (t.shape.length === 2 && (t.shape[1] as number) >= 2 && allFiniteNumbers(t.data)) {
    const [n, k] = t.shape as [number, number];
    for (let i = 0; i < n; i++) {
      const r = classifyScoreRowAt(t.data, i, k, c);
      if ('error' in r) return `output ${t.name} row ${i}: ${r.error}`;
      predicted.push(r);
    }
    return predicted;
  }
  const rows = rowsOf(t);
  if (typeof rows === 'string') return rows;
  for (let i = 0; i < rows.length; i++) {
    const r = classifyRow(rows[i], c);
    if ('error' in r) return `output ${t.name} row ${i}: ${r.error}`;
    predicted.push(r);
  }
  return predicted;
}

function reduceTensor(t: Tensor, c: ModelContract, classes: PredictedClass[]): Array<Record<string, unknown>> | string {
  const predicted = classesOfTensor(t, c);
  if (typeof predicted === 'string') return predicted;
  classes.push(...predicted);
  // MLServer's probability output becomes its label output, named as MLServer names it.
  const name = t.name === 'predict_proba' ? 'predict' : t.name;
  const n = predicted.length;
  const topK = c.policy === 'top-k' && predicted.every((p) => p.ranked !== undefined);
  if (!topK)
    return [
      labelsTensor(
        name,
        predicted.map((p) => labelOut(p, c)),
        [n],
      ),
    ];
  const entries = predicted.map((p) => topKOut(p, c));
  // Abstaining rows (one entry, no score) must not shrink every other row's top-k.
  const widths = entries.filter((e) => e.length > 1 || e[0]?.score !== undefined).map((e) => e.length);
  const k = widths.length > 0 ? Math.min(...widths, c.classesOut) : 1;
  const labels: Array<string | number> = [];
  const scores: number[] = [];
  for (const e of entries) {
    // An abstaining row has one entry: repeat it so the tensor stays rectangular.
    for (let j = 0; j < k; j++) {
      const x = e[j] ?? e[0]!;
      labels.push(x.label);
      scores.push(e.length === 1 && j > 0 ? 0 : (x.score ?? 0));
    }
  }
  return [
    labelsTensor(name, labels, [n, k]),
    { name: `${name}_scores`, shape: [n, k], datatype: 'FP64', data: scores },
  ];
}

/**
 * Open Inference Protocol answer → the same answer with every score output reduced to labels
 * (INT64 indices or BYTES names, shape [N]) or top-k. `model_name`, `model_version` and `id` are
 * the request's (version from the route), so no predictor string other than a label or an output name leaves.
 */
export function reduceV2Answer(
  doc: Record<string, unknown>,
  c: ModelContract,
  model: string,
  version: string | undefined,
  requestId: string | undefined,
): Reduction {
  const outputs = doc['outputs'];
  if (!Array.isArray(outputs)) return { ok: false, reason: 'the answer has no "outputs" list' };
  const classes: PredictedClass[] = [];
  const out: Array<Record<string, unknown>> = [];
  for (let i = 0; i < outputs.length; i++) {
    const t = tensorOf(outputs[i], i);
    if (typeof t === 'string') return { ok: false, reason: t };
    if (c.passOutputs.has(t.name)) {
      out.push({ name: t.name, shape: t.shape, datatype: t.datatype, data: t.data });
      continue;
    }
    // Neither reduced nor vouched for: an extra output (logits, an attention map) may carry scores.
    if (c.scoreOutputs && !c.scoreOutputs.has(t.name)) continue;
    const reduced = reduceTensor(t, c, classes);
    if (typeof reduced === 'string') return { ok: false, reason: reduced };
    out.push(...reduced);
  }
  return {
    ok: true,
    doc: {
      model_name: model,
      ...(version !== undefined ? { model_version: version } : {}),
      ...(requestId !== undefined ? { id: requestId } : {}),
      outputs: out,
    },
    classes,
  };
}
