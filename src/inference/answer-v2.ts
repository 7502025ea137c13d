// Open Inference Protocol (V2) answers reduced to label tensors (PROTOCOLS.md §4.2, §4.3):
// score tensors → INT64 indices or BYTES names with shape [batch]; Triton classification
// strings "<value>:<index>[:<label>]" → the top class.
import type { Rewritten } from './answer-v1.js';
import { classIndex, classOfLabel, labelOf, rowOfNumber, rowOfScores, topClass, topEntries, unsafe, type ClassRow, type Ranked } from './class-rows.js';
import type { ModelContract, ResponsePolicy } from './model-contract.js';
import { elementCount, flatData, isFloatType, isIntegerType } from './tensor-data.js';

const TRITON = /^(-?[0-9.eE+-]+|nan|-?inf):([0-9]+)(?::.*)?$/s;

const VERSION = /^[0-9]{1,9}$/;
const OUTPUT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Rows of one output tensor, by its datatype and shape. */
function rowsOf(c: ModelContract, o: Record<string, unknown>): ClassRow[] {
  const datatype = o['datatype'];
  const shape = o['shape'];
  const count = elementCount(shape);
  if (typeof datatype !== 'string' || count === undefined) unsafe('an output lacks a datatype or a valid shape');
  const dims = shape as number[];
  const data = flatData(o['data']);
  if (data.length !== count) unsafe('an output holds a different number of values than its shape');
  if (dims.length > 2 || (dims.length === 0 && count !== 1)) unsafe('an output has more than two dimensions');
  const batch = dims.length === 0 ? 1 : dims[0]!;
  const width = dims.length === 2 ? dims[1]! : 1;
  const rows: ClassRow[] = [];
  if (datatype === 'BYTES' || datatype === 'STRING') {
    const triton = data.length > 0 && typeof data[0] === 'string' && TRITON.test(data[0]);
    // Triton classification without a batch dimension reports shape [k]: one row of k classes.
    const perRow = triton ? (dims.length === 2 ? width : count) : width;
    if (!triton && width !== 1) unsafe('a BYTES output with several values per row');
    for (let r = 0; r < (triton ? count / Math.max(perRow, 1) : batch); r++) {
      if (!triton) {
        const v = data[r];
        if (typeof v !== 'string') unsafe('a BYTES output holds a non-string');
        rows.push({ kind: 'class', cls: classOfLabel(c, v) });
        continue;
      }
      const entries: Ranked[] = [];
      for (let j = r * perRow; j < (r + 1) * perRow; j++) {
        const m = typeof data[j] === 'string' ? TRITON.exec(data[j] as string) : null;
        if (!m) unsafe('a classification string is not "<value>:<index>[:<label>]"');
        const score = Number(m[1]);
        if (!Number.isFinite(score)) unsafe('a classification value is not finite');
        entries.push({ cls: classIndex(c, Number(m[2])), score });
      }
      rows.push({ kind: 'ranked', entries });
    }
    return rows;
  }
  if (isIntegerType(datatype)) {
    if (width !== 1) unsafe('an integer output with several values per row');
    for (const v of data) {
      if (typeof v !== 'number') unsafe('an integer output holds a non-number');
      rows.push({ kind: 'class', cls: classIndex(c, v) });
    }
    return rows;
  }
  if (isFloatType(datatype)) {
    if (dims.length === 2 && width > 1) {
      for (let r = 0; r < batch; r++) rows.push(rowOfScores(c, data.slice(r * width, (r + 1) * width)));
      return rows;
    }
    for (const v of data) rows.push(rowOfNumber(c, v));
    return rows;
  }
  return unsafe(`an output of datatype ${datatype.slice(0, 16)} cannot be read as classes`);
}

function labelTensor(c: ModelContract, name: string, values: (string | number)[], shape: number[]) {
  return { name, shape, datatype: c.labels.length > 0 ? 'BYTES' : 'INT64', data: values };
}

/** Keeps only the envelope fields that cannot carry scores, and the rewritten outputs. */
export function rewriteV2(doc: unknown, c: ModelContract, policy: Exclude<ResponsePolicy, 'full'>, requestId: string | undefined): Rewritten {
  if (!isObject(doc)) unsafe('the answer is not a JSON object');
  const outputs = doc['outputs'];
  if (!Array.isArray(outputs)) unsafe('the answer has no "outputs" list');
  const out: Record<string, unknown>[] = [];
  let classes: number[] | undefined;
  for (const o of outputs) {
    if (!isObject(o) || typeof o['name'] !== 'string') unsafe('an output is not an object with a name');
    if (c.scoreOutputs && !c.scoreOutputs.has(o['name'])) continue;
    // Names are echoed, so they must look like tensor names, not like values.
    if (!OUTPUT_NAME.test(o['name'])) unsafe('an output name is not a plain tensor name');
    const name = o['name'] === 'predict_proba' ? 'predict' : o['name'];
    const rows = rowsOf(c, o);
    const cls: number[] = new Array<number>(rows.length);
    if (policy === 'labels') {
      const values = rows.map((row, i) => labelOf(c, (cls[i] = topClass(c, row))));
      out.push(labelTensor(c, name, values, [rows.length]));
    } else {
      const entries = rows.map((row, i) => {
        const e = topEntries(c, row);
        cls[i] = e[0]!.cls;
        return e;
      });
      const k = entries.reduce((m, e) => Math.min(m, e.length), Infinity);
      const width = Number.isFinite(k) ? k : 0;
      out.push(labelTensor(c, name, entries.flatMap((e) => e.slice(0, width).map((x) => labelOf(c, x.cls))), [rows.length, width]));
      if (entries.every((e) => e.slice(0, width).every((x) => x.score !== undefined))) {
        out.push({ name: `${name}_scores`, shape: [rows.length, width], datatype: 'FP64', data: entries.flatMap((e) => e.slice(0, width).map((x) => x.score!)) });
      }
    }
    classes ??= cls;
  }
  if (out.length === 0 || !classes) unsafe('the answer has no output to read classes from');
  // The envelope is rebuilt from what we know, so no free-form field can carry a score out.
  const env: Record<string, unknown> = { model_name: c.model };
  const version = doc['model_version'];
  if (typeof version === 'string' && VERSION.test(version)) env['model_version'] = version;
  if (requestId !== undefined) env['id'] = requestId;
  env['outputs'] = out;
  return { doc: env, classes };
}
