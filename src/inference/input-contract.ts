// The input contract (issue 4): shape, datatype, range, batch size, finiteness. Each refusal
// names the input and the rule, so a caller can fix the request without reading our config.
import { deny, type Denial } from '../decision/denial.js';
import type { InferenceRequest } from './inference-request.js';
import { valueFits, type InputContract } from './model-contract.js';
import { elementCount, flatData, isNumericType } from './tensor-data.js';

const NON_FINITE = new Set(['NaN', 'nan', 'Infinity', '-Infinity', 'inf', '-inf']);

const invalid = (message: string): Denial => deny('invalid_input', message);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const shapeText = (dims: readonly number[]) => `[batch, ${dims.join(', ')}]`;

/** Checks one value; returns the broken rule or undefined. */
function checkValue(c: InputContract, v: unknown, where: string): Denial | undefined {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return invalid(`${where} is not a finite number; NaN and Infinity are refused`);
    if (c.datatype !== undefined && !valueFits(c.datatype, v)) return invalid(`${where} is ${v}, not a ${c.datatype} value`);
    if (v < c.min) return invalid(`${where} is ${v}, below the minimum ${c.min}`);
    if (v > c.max) return invalid(`${where} is ${v}, above the maximum ${c.max}`);
    return undefined;
  }
  if (typeof v === 'string' && NON_FINITE.has(v)) {
    if (c.datatype === undefined || c.numeric) return invalid(`${where} is "${v}"; NaN and Infinity are refused`);
  }
  if (c.datatype !== undefined && !valueFits(c.datatype, v)) return invalid(`${where} must be a ${c.datatype} value, got ${v === null ? 'null' : typeof v}`);
  return undefined;
}

/** A V1 row against the per-row shape, recursively; values checked at the leaves. */
function checkNested(c: InputContract, v: unknown, dims: readonly number[] | undefined, depth: number, where: string): Denial | undefined {
  const dim = dims?.[depth];
  if (dims !== undefined && dim !== undefined) {
    if (!Array.isArray(v)) return invalid(`${where} must be a list of ${dim} values`);
    if (v.length !== dim) return invalid(`${where} has ${v.length} values; the model takes ${dim}`);
  }
  if (Array.isArray(v)) {
    if (dims !== undefined && dim === undefined) return invalid(`${where} must be a single value, not a list`);
    for (let i = 0; i < v.length; i++) {
      const d = checkNested(c, v[i], dims, depth + 1, `${where}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (isObject(v)) {
    if (c.hasRules) return invalid(`${where} must be a list of values, not an object`);
    return undefined; // dict instances (custom V1 servers) are the model's business without a contract
  }
  return checkValue(c, v, where);
}

/** The same rules as checkValue/checkNested, without building messages: the hot path for valid rows. */
function valueOk(c: InputContract, v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v) && v >= c.min && v <= c.max && (c.datatype === undefined || valueFits(c.datatype, v));
  if (typeof v === 'string' && (c.datatype === undefined || c.numeric) && NON_FINITE.has(v)) return false;
  return c.datatype === undefined || valueFits(c.datatype, v);
}

function nestedOk(c: InputContract, v: unknown, dims: readonly number[] | undefined, depth: number): boolean {
  const dim = dims?.[depth];
  if (Array.isArray(v)) {
    if (dims !== undefined && v.length !== dim) return false;
    for (let i = 0; i < v.length; i++) if (!nestedOk(c, v[i], dims, depth + 1)) return false;
    return true;
  }
  if (dim !== undefined) return false;
  if (isObject(v)) return !c.hasRules;
  return valueOk(c, v);
}

function checkV1(c: InputContract, doc: Record<string, unknown>): Denial | undefined {
  const name = doc['instances'] !== undefined ? 'instances' : 'inputs';
  const rows = doc[name];
  if (!Array.isArray(rows)) {
    if (c.hasRules) return invalid(`input "${name}" must be a list of rows`);
    return undefined;
  }
  for (let i = 0; i < rows.length; i++) {
    if (nestedOk(c, rows[i], c.rowShape, 0)) continue;
    const d = checkNested(c, rows[i], c.rowShape, 0, `input "${name}" row ${i}`);
    if (d) return d;
  }
  return undefined;
}

function checkV2Input(c: InputContract, input: unknown, k: number): Denial | undefined {
  if (!isObject(input)) return invalid(`inputs[${k}] must be an object with name, shape, datatype and data`);
  const name = typeof input['name'] === 'string' ? input['name'] : `inputs[${k}]`;
  const shape = input['shape'];
  const count = elementCount(shape);
  if (count === undefined) return invalid(`input "${name}" must have a shape of non-negative integers`);
  const dims = shape as number[];
  const datatype = input['datatype'];
  if (c.datatype !== undefined && datatype !== c.datatype) return invalid(`input "${name}" has datatype ${String(datatype)}; the model takes ${c.datatype}`);
  if (c.rowShape !== undefined) {
    const row = dims.slice(1);
    if (dims.length !== c.rowShape.length + 1 || row.some((d, i) => d !== c.rowShape![i])) {
      return invalid(`input "${name}" has shape [${dims.join(', ')}]; the model takes ${shapeText(c.rowShape)}`);
    }
  }
  const data = input['data'];
  // Binary extension inputs carry their bytes after the JSON; their shape and datatype are checked above.
  if (data === undefined && isObject(input['parameters']) && input['parameters']['binary_data_size'] !== undefined) return undefined;
  const flat = flatData(data);
  if (c.hasRules && flat.length !== count) return invalid(`input "${name}" holds ${flat.length} values; its shape [${dims.join(', ')}] needs ${count}`);
  // Without a configured datatype, values must still fit the datatype the request declares.
  const declared = c.datatype === undefined && typeof datatype === 'string' && (isNumericType(datatype) || datatype === 'BOOL' || datatype === 'BYTES');
  const rc: InputContract = declared ? { ...c, datatype, numeric: isNumericType(datatype) } : c;
  for (let i = 0; i < flat.length; i++) {
    if (valueOk(rc, flat[i])) continue;
    const d = checkValue(rc, flat[i], `input "${name}" value ${i}`);
    if (d) return d;
  }
  return undefined;
}

/** The first rule the request breaks, or undefined. */
export function checkInputs(c: InputContract, req: InferenceRequest): Denial | undefined {
  if (req.batchSize > c.maxBatch) return invalid(`a batch of ${req.batchSize} rows is over this model's maximum of ${c.maxBatch}`);
  if (req.protocol === 'v1') return checkV1(c, req.doc);
  const inputs = req.doc['inputs'];
  if (!Array.isArray(inputs) || inputs.length === 0) return invalid('"inputs" must be a non-empty list of tensors');
  for (let k = 0; k < inputs.length; k++) {
    const d = checkV2Input(c, inputs[k], k);
    if (d) return d;
  }
  return undefined;
}
