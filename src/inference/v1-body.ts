// How a KServe V1 predict/explain body is read by the model server, so the gateway counts,
// checks and feeds to the extraction guard exactly the rows that will be predicted on.
//
// KServe's Python server (kserve/kserve python/kserve/kserve/protocol/dataplane.py `decode`,
// `decode_cloudevent`; utils/utils.py `is_structured_cloudevent`, `get_predict_input`):
// - a JSON body that is a structured CloudEvent (`specversion`, `type`, `source`, `id`, `time`
//   and `data` all present) is replaced by its `data` member, once;
// - the rows are `payload["inputs"] if "inputs" in payload else payload["instances"]`;
// - when the first row is an object (or a list whose first element is an object), every row is
//   turned into a pandas DataFrame and the frames are concatenated: an object row whose values are
//   lists is as many rows as the lists are long, a list row is as many rows as its length.
// Other V1 servers (TF Serving's REST API, MLServer's V1 codecs) read `instances` first, so a
// body carrying both is read differently by different runtimes: it is refused, never guessed.

import { isObject } from './json-object.js';

// The media types KServe's dataplane parses as JSON (protocol/dataplane.py JSON_HEADERS); with
// any other Content-Type it hands the raw bytes to the model, which the gateway cannot count or check.
const JSON_MEDIA_TYPES = new Set([
  'application/json',
  'application/cloudevents+json',
  'application/ld+json',
  'application/octet-stream',
]);
const BINARY_CLOUDEVENT = ['ce-specversion', 'ce-source', 'ce-type', 'ce-id'] as const;

/**
 * Why the model server would not read this V1 body as JSON, or undefined when it will: a
 * Content-Type outside KServe's JSON list (a binary-mode CloudEvent, all four `ce-` headers
 * present, is parsed whatever its Content-Type). Parameters (`; charset=utf-8`) are ignored.
 */
export function v1ContentTypeProblem(
  contentType: string | undefined,
  hasHeader: (name: string) => boolean,
): string | undefined {
  if (contentType === undefined || JSON_MEDIA_TYPES.has(contentType)) return undefined;
  const semi = contentType.indexOf(';');
  const media = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (JSON_MEDIA_TYPES.has(media) || BINARY_CLOUDEVENT.every(hasHeader)) return undefined;
  return `Content-Type ${JSON.stringify(media)} is not JSON: the model server would hand the body to the model unparsed; send application/json`;
}

import type { V1RowsKey } from '../protocol/inference-data.js';
export type { V1RowsKey };

export type V1Reading =
  | {
      readonly ok: true;
      readonly doc: Record<string, unknown>;
      readonly rowsKey: V1RowsKey | undefined;
      readonly batchSize: number;
    }
  | { readonly ok: false; readonly reason: string };

// CloudEvents 1.0 attributes KServe requires before it unwraps `data` (utils.is_structured_cloudevent).
const STRUCTURED = ['specversion', 'type', 'source', 'id', 'time', 'data'] as const;

function isStructuredCloudEvent(doc: Record<string, unknown>): boolean {
  for (const k of STRUCTURED) if (!(k in doc)) return false;
  return true;
}

/** Rows one V1 row becomes when KServe builds a DataFrame from it (pandas `DataFrame(row)`). */
function frameRows(row: unknown): number {
  if (Array.isArray(row)) return row.length;
  if (isObject(row)) {
    let n = 1;
    for (const k in row) {
      const v = row[k];
      if (Array.isArray(v) && v.length > n) n = v.length;
    }
    return n;
  }
  return 1;
}

/** Predictions a V1 rows value asks for, read as get_predict_input reads it. */
function countRows(rows: unknown): number {
  if (Array.isArray(rows)) {
    const first: unknown = rows[0];
    const frames = isObject(first) || (Array.isArray(first) && isObject(first[0]));
    if (!frames) return rows.length;
    let n = 0;
    for (const r of rows) n += frameRows(r);
    return n;
  }
  // Columnar inputs ({"inputs": {"feature": [v0, v1, ...]}}): the longest column.
  if (isObject(rows)) return frameRows(rows);
  return 1;
}

/** The rows a V1 runtime predicts on, or why the body cannot be read one way only. */
export function readV1Body(body: Record<string, unknown>): V1Reading {
  let doc = body;
  if ('specversion' in body && 'data' in body) {
    if (!isStructuredCloudEvent(body)) {
      return {
        ok: false,
        reason:
          'the body looks like a CloudEvent envelope but lacks one of specversion, type, source, id, time: model servers differ on whether they read its data',
      };
    }
    if ('instances' in body || 'inputs' in body) {
      return {
        ok: false,
        reason:
          'a CloudEvent envelope carries instances or inputs beside its data: the model server reads data, a binary-mode reader the outer body',
      };
    }
    const data = body['data'];
    if (!isObject(data)) return { ok: false, reason: 'the CloudEvent data is not a JSON object' };
    doc = data;
  }
  const hasInstances = 'instances' in doc;
  const hasInputs = 'inputs' in doc;
  if (hasInstances && hasInputs) {
    return {
      ok: false,
      reason:
        'the body has both "instances" and "inputs": KServe predicts on inputs, other V1 servers on instances; send one',
    };
  }
  const rowsKey: V1RowsKey | undefined = hasInputs ? 'inputs' : hasInstances ? 'instances' : undefined;
  const batchSize = rowsKey ? countRows(doc[rowsKey]) : 1;
  return { ok: true, doc, rowsKey, batchSize };
}
