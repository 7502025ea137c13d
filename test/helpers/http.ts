import { request } from 'undici';

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json<T = Record<string, unknown>>(): T;
}

export interface SendOptions {
  readonly method?: string;
  readonly headers?: Record<string, string | string[]>;
  readonly body?: string | Buffer | object;
}

/** One HTTP call to a server on loopback; the body is always read so connections are reused. */
export async function send(url: string, o: SendOptions = {}): Promise<Answer> {
  const isJson = o.body !== undefined && typeof o.body === 'object' && !Buffer.isBuffer(o.body);
  const res = await request(url, {
    method: (o.method ?? (o.body === undefined ? 'GET' : 'POST')) as 'GET',
    headers: { ...(isJson ? { 'content-type': 'application/json' } : {}), ...o.headers },
    body: isJson ? JSON.stringify(o.body) : o.body,
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    text,
    json<T>() {
      return JSON.parse(text) as T;
    },
  };
}

export const v1Body = (rows: number[][] = [[6.8, 2.8, 4.8, 1.4]]) => ({ instances: rows });
export const v2Body = (rows: number[][] = [[6.8, 2.8, 4.8, 1.4]]) => ({
  inputs: [{ name: 'input-0', shape: [rows.length, 4], datatype: 'FP32', data: rows }],
});

const IRIS_ROW = [6.8, 2.8, 4.8, 1.4];
/** A V1 body of `n` identical iris rows. */
export const v1Batch = (n = 1) => ({ instances: Array.from({ length: n }, () => IRIS_ROW) });
/** A V2 body of `n` identical iris rows in one FP32 tensor, plus any other request members. */
export const v2Batch = (n = 1, extra: Record<string, unknown> = {}) => ({
  inputs: [{ name: 'input-0', shape: [n, 4], datatype: 'FP32', data: Array.from({ length: n }, () => IRIS_ROW) }],
  ...extra,
});
