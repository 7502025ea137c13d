/**
 * Charges one request to every window of its group in one atomic step (Redis runs a script
 * without interleaving other commands: https://redis.io/docs/latest/develop/interact/programmability/eval-intro/),
 * so replicas never race between checking and counting, and a refused request costs nothing.
 *
 * KEYS: one hash per window ({u: used, r: reset time in ms}), then, when a debt is handed over,
 * the key of its token; all carry the same hash tag (the user) so Redis Cluster keeps them in one
 * slot, as multi-key scripts require.
 * ARGV: now (ms, the gateway's clock: windows are judged by it), deadline (ms on Redis' clock),
 * cost, debt (predictions this replica decided while Redis did not answer: served under a failure
 * policy, or negative, refunded), the token key's lifetime in ms, the lease asked for (most
 * predictions to reserve beyond the cost, 0 for none), the lease divisor (2 × replicas), the
 * smallest lease worth granting, the unspent lease returned (0 for none), then for each window
 * its limit, its duration in ms and the reset time of the window the returned lease was taken
 * from.
 *
 * The deadline makes a late script harmless: a command that waited out a freeze (SIGSTOP,
 * CLIENT PAUSE, a long DEBUG SLEEP) reaches the script after the gateway gave up on it and
 * answered from its failure policy, so it must not charge. There is always one: the gateway does
 * not send the script before it has compared its clock with Redis'. `TIME` is read before any
 * write, which script effects replication (the only mode since Redis 7) allows.
 *
 * The debt counts once per token: `SET NX` succeeds for the first script that carries it, and
 * every later copy (a concurrent request of the same identity, a resend after a lost answer)
 * charges only its own cost.
 *
 * A lease (leases.ts) is a slice of every window that Redis counts as used and one replica spends
 * on its own: at most the asked maximum and at most (limit - used - cost) / divisor of the window
 * with the least left, granted only to an admitted request and only when at least the smallest
 * lease fits. An unspent lease comes back only into the windows it was taken from (same reset
 * time): a window that has restarted since owes it nothing.
 *
 * Returns {-1} when stale; otherwise {allowed (1 or 0), used_1, resetMs_1, ..., used_n, resetMs_n,
 * lease} with usage after the charge and the lease (allowed) or before it (refused), debt and
 * return included either way.
 */
export const CHARGE_SCRIPT = `
local t = redis.call('TIME')
if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(ARGV[2]) then return {-1} end
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[3])
local debt = tonumber(ARGV[4])
local lease = tonumber(ARGV[6])
local divisor = tonumber(ARGV[7])
local returned = tonumber(ARGV[9])
local n = #KEYS
if debt ~= 0 then
  n = n - 1
  if not redis.call('SET', KEYS[n + 1], '1', 'NX', 'PX', ARGV[5]) then debt = 0 end
end
local used, reset = {}, {}
local fits = 1
local changed = debt ~= 0
for i = 1, n do
  local v = redis.call('HMGET', KEYS[i], 'u', 'r')
  local u, r = tonumber(v[1]), tonumber(v[2])
  if u == nil or r == nil or r <= now then
    u = 0
    r = now + tonumber(ARGV[8 + 3 * i])
  elseif returned > 0 and r == tonumber(ARGV[9 + 3 * i]) then
    u = u - returned
    changed = true
  end
  used[i] = math.max(0, u + debt)
  reset[i] = r
  local left = tonumber(ARGV[7 + 3 * i]) - used[i] - cost
  if left < 0 then fits = 0 end
  if lease > 0 then lease = math.min(lease, math.floor(left / divisor)) end
end
if fits == 0 or lease < tonumber(ARGV[8]) then lease = 0 end
if (fits == 1 and cost + lease > 0) or changed then
  for i = 1, n do
    if fits == 1 then used[i] = used[i] + cost + lease end
    redis.call('HSET', KEYS[i], 'u', used[i], 'r', reset[i])
    -- The real-time TTL only frees memory; the window itself is judged by r against now.
    redis.call('PEXPIRE', KEYS[i], reset[i] - now + 1000)
  end
end
local out = {fits}
for i = 1, n do
  out[2 * i] = used[i]
  out[2 * i + 1] = reset[i] - now
end
out[2 * n + 2] = lease
return out
`;
