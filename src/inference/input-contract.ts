import type { ModelConfig } from '../config/schema.js';
import { inputValuesOf, type InferenceRequest } from './inference-request.js';
import { isObject } from './json-object.js';

type InputContract = ModelConfig['input'];

const NON_FINITE_WORDS = new Set(['NaN', 'nan', 'Infinity', '-Infinity', 'inf', '-inf', 'Inf', '-Inf']);

// Tensors are at most a few dimensions deep; a deeper body is refused before recursion can exhaust the stack.
const MAX_DEPTH = 32;

const kindOf = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'number' ? String(v) : typeof v;

/** Does a V2 element fit its declared datatype (OIP: numbers for numeric types, booleans for BOOL, strings for BYTES)? */
function fitsDatatype(v: unknown, datatype: string): boolean {
  if (datatype === 'BOOL') return typeof v === 'boolean';
  if (datatype === 'BYTES') return typeof v === 'string';
  if (datatype.startsWith('INT') || datatype.startsWith('UINT')) return typeof v === 'number' && Number.isInteger(v);
  if (datatype.startsWith('FP') || datatype === 'BF16')
    return typeof v === 'number' || (typeof v === 'string' && NON_FINITE_WORDS.has(v));
  return true;
}

/** `data` flattened row-major, or undefined when nested deeper than MAX_DEPTH. */
function flatten(data: readonly unknown[], out: unknown[] = [], depth = 0): unknown[] | undefined {
  if (depth > MAX_DEPTH) return undefined;
  for (const x of data) {
    if (!Array.isArray(x)) out.push(x);
    else if (!flatten(x, out, depth + 1)) return undefined;
  }
  return out;
}

/**
 * Whether every element of `values` is a number (or a list of numbers) that keeps every rule:
 * finite, an integer when `integers`, within the contract's range. A yes is the same answer the
 * described checks give, reached without a string per element; a no only sends the caller to them.
 */
function allNumbersKeep(values: readonly unknown[], c: InputContract, integers: boolean): boolean {
  const min = c.min ?? -Infinity;
  const max = c.max ?? Infinity;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (typeof x === 'number') {
      // NaN fails both comparisons; ±Infinity fails isFinite.
      if (!(x >= min && x <= max && Number.isFinite(x)) || (integers && !Number.isInteger(x))) return false;
    } else if (Array.isArray(x)) {
      const row = x as readonly unknown[];
      for (let j = 0; j < row.length; j++) {
        const y = row[j];
        if (typeof y !== 'number' || !(y >= min && y <= max && Number.isFinite(y))) return false;
        if (integers && !Number.isInteger(y)) return false;
      }
    } else {
      return false;
    }
  }
  return true;
}

/** Elements of `values`, a list of numbers or of lists of numbers; -1 when it is any other shape. */
function numericCount(values: readonly unknown[]): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (typeof x === 'number') n++;
    else if (Array.isArray(x)) {
      for (let j = 0; j < x.length; j++) if (typeof x[j] !== 'number') return -1;
      n += x.length;
    } else return -1;
  }
  return n;
}

/** Datatypes whose elements are JSON numbers (OIP), and whether they must be integers. */
const numericKind = (datatype: string): 'int' | 'float' | undefined =>
  datatype.startsWith('INT') || datatype.startsWith('UINT')
    ? 'int'
    : datatype.startsWith('FP') || datatype === 'BF16'
      ? 'float'
      : undefined;

/** The first value under `where` that breaks a range or finiteness rule, described; undefined when all hold. */
function checkValues(v: unknown, where: string, c: InputContract, depth = 0): string | undefined {
  if (depth > MAX_DEPTH) return `${where}: nested deeper than ${MAX_DEPTH} levels`;
  if (typeof v === 'number') {
    // JSON.parse turns 1e999 into Infinity.
    if (!Number.isFinite(v)) return `${where}: ${v} is not a finite number`;
    if (c.min !== undefined && v < c.min) return `${where}: ${v} is below the minimum ${c.min}`;
    if (c.max !== undefined && v > c.max) return `${where}: ${v} is above the maximum ${c.max}`;
    return undefined;
  }
  // Some clients send non-finite floats as strings, which numeric runtimes then parse.
  if (typeof v === 'string' && NON_FINITE_WORDS.has(v)) return `${where}: "${v}" is not a finite number`;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const bad = checkValues(v[i], `${where}[${i}]`, c, depth + 1);
      if (bad) return bad;
    }
    return undefined;
  }
  if (isObject(v)) {
    for (const k in v) {
      const bad = checkValues(v[k], `${where}.${k}`, c, depth + 1);
      if (bad) return bad;
    }
    return undefined;
  }
  // A range is a promise of numbers: a string or boolean would slip past it.
  if ((c.min !== undefined || c.max !== undefined) && v !== null)
    return `${where}: expected a number within the allowed range, got ${kindOf(v)}`;
  return undefined;
}

function checkV1(req: InferenceRequest, c: InputContract, quick: boolean): string | undefined {
  // The member the runtime reads (inference-request.ts refuses a body with both).
  const key = req.rowsKey;
  if (!key) return 'the request has neither "instances" nor "inputs"';
  const rows = req.doc[key];
  if (!Array.isArray(rows) && !isObject(rows))
    return `${key}: expected a list of rows (or columns), got ${kindOf(rows)}`;
  if (Array.isArray(rows)) {
    if (rows.length === 0) return `${key}: is empty`;
    // The common body, rows of numbers of the declared width, needs no message: checked without one.
    if (quick && (c.features === undefined || rows.every((r) => Array.isArray(r) && r.length === c.features))) {
      if (allNumbersKeep(rows, c, false)) return undefined;
    }
    for (let i = 0; i < rows.length; i++) {
      const row: unknown = rows[i];
      if (c.features !== undefined) {
        const n = Array.isArray(row) ? row.length : isObject(row) ? Object.keys(row).length : 1;
        if (n !== c.features) return `${key}[${i}]: expected ${c.features} features, got ${n}`;
      }
      const bad = checkValues(row, `${key}[${i}]`, c);
      if (bad) return bad;
    }
    return undefined;
  }
  return checkValues(rows, key, c);
}

function checkV2(req: InferenceRequest, c: InputContract, quick: boolean): string | undefined {
  const inputs = req.doc['inputs'];
  if (!Array.isArray(inputs) || inputs.length === 0) return 'inputs: expected a non-empty list of tensors';
  for (let i = 0; i < inputs.length; i++) {
    const t: unknown = inputs[i];
    if (!isObject(t)) return `inputs[${i}]: expected a tensor object`;
    const where = typeof t['name'] === 'string' ? `inputs[${i}] (${t['name']})` : `inputs[${i}]`;
    if (typeof t['name'] !== 'string') return `${where}: has no name`;
    const shape = t['shape'];
    if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d >= 0))
      return `${where}.shape: expected a list of non-negative integers`;
    if (typeof t['datatype'] !== 'string') return `${where}.datatype: is missing`;
    if (c.datatype !== undefined && t['datatype'] !== c.datatype)
      return `${where}.datatype: expected ${c.datatype}, got ${String(t['datatype'])}`;
    if (c.shape !== undefined) {
      const row = (shape as number[]).slice(1);
      const fits = row.length === c.shape.length && c.shape.every((d, k) => d === -1 || d === row[k]);
      if (!fits) return `${where}.shape: rows must have shape [${c.shape.join(', ')}], got [${row.join(', ')}]`;
    }
    // JSON `data`, or the input's binary tensor decoded: the runtime predicts on either, so both are checked.
    const data = inputValuesOf(req, i);
    if (typeof data === 'string') return `${where}: its binary data cannot be read (${data})`;
    if (data === undefined) return `${where}.data: is missing`;
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    // The common tensor, numbers flat or in rows, is checked in place: no flattened copy, no
    // message built per element. Anything else, or any rule broken, takes the described checks.
    const kind = quick ? numericKind(t['datatype']) : undefined;
    if (kind !== undefined && numericCount(data) === size && allNumbersKeep(data, c, kind === 'int')) continue;
    const flat = flatten(data);
    if (!flat) return `${where}.data: nested deeper than ${MAX_DEPTH} levels`;
    if (flat.length !== size)
      return `${where}.data: has ${flat.length} elements, shape [${shape.join(', ')}] needs ${size}`;
    const datatype = t['datatype'];
    for (let k = 0; k < flat.length; k++) {
      if (!fitsDatatype(flat[k], datatype)) return `${where}.data[${k}]: expected ${datatype}, got ${kindOf(flat[k])}`;
    }
    const bad = checkValues(flat, `${where}.data`, c);
    if (bad) return bad;
  }
  return undefined;
}

function violation(req: InferenceRequest, c: InputContract, quick: boolean): string | undefined {
  if (req.batchSize > c.maxBatch)
    return `a batch of ${req.batchSize} rows is over this model's maximum of ${c.maxBatch}`;
  return req.protocol === 'v1' ? checkV1(req, c, quick) : checkV2(req, c, quick);
}

/** The first rule the request breaks, named with the input it concerns; undefined when it keeps the contract. */
export function inputViolation(req: InferenceRequest, c: InputContract): string | undefined {
  return violation(req, c, true);
}

/** The same checks without the in-place path for numeric tensors: the answer that path must always agree with (tests compare them). */
export function inputViolationDescribed(req: InferenceRequest, c: InputContract): string | undefined {
  return violation(req, c, false);
}
