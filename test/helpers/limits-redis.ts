// Shared pieces of the tests that run gateways against one real redis-server: what Redis counts,
// when a gateway sees Redis answer, and a burst of concurrent requests of one user.
import { Agent, request } from 'undici';
import type { Redis } from 'ioredis';
import type { Harness } from './gateway-harness.js';
import { send, v1Batch } from './http.js';
import { until } from './wait.js';

/** What Redis counts under `prefix`: the sum of every window's usage, debt hand-overs left out. */
export async function countedIn(reader: Redis, prefix: string): Promise<number> {
  let total = 0;
  for (const k of (await reader.keys(`${prefix}*`)).filter((key) => !key.includes(':handover:')))
    total += Number((await reader.hget(k, 'u')) ?? 0);
  return total;
}

/** Whether the gateway's readiness reports Redis as answering (not degraded). */
export const redisAnswering = async (h: Harness): Promise<boolean> =>
  (await send(`${h.adminUrl}/readyz`)).json<{ checks: Record<string, { degraded?: boolean }> }>().checks['redis']
    ?.degraded !== true;

/** Until the gateway's Redis health probe has succeeded: before that, charges follow the failure policy. */
export const redisAnswers = (h: Harness): Promise<void> =>
  until('the gateway sees Redis answer', () => redisAnswering(h));

/** `n` concurrent V1 predictions of `rows` rows, spread over `urls`; the count of each status. */
export async function fireConcurrently(
  urls: readonly string[],
  n: number,
  rows: number,
  connections: number,
): Promise<Map<number, number>> {
  const agent = new Agent({ connections, pipelining: 1, headersTimeout: 60_000, bodyTimeout: 60_000 });
  const body = JSON.stringify(v1Batch(rows));
  const statuses = new Map<number, number>();
  try {
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const res = await request(`${urls[i % urls.length]}/v1/models/iris:predict`, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json' },
          body,
        });
        await res.body.dump();
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      }),
    );
  } finally {
    await agent.close();
  }
  return statuses;
}
