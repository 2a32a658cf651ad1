package queuevalkey

import "github.com/redis/go-redis/v9"

// The Lua scripts. Each one is the shared prelude, a body that defines
// main(), and the shared epilogue, so every script sees the same key names,
// the same server clock and the same helpers. ARGV[1] is always the key base
// "<prefix>:{<prefix>}:", from which the script derives every key it touches;
// KEYS[1] is the stats hash, declared only so that a cluster client routes the
// script to the slot of the queue's hash tag.
//
// Invariants every script keeps (see the package doc):
//   - lane:<lane> lists the lane's unfinished jobs (waiting, active, delayed)
//     in FIFO order; only its head may be active or delayed, the rest wait;
//   - ready holds exactly the lanes whose head is waiting, scored by the
//     head's seq, so reserve pops lanes in enqueue order of their heads;
//   - active scores job ids by lock expiry, delayed by due time, completed
//     and failed (and their per-lane twins) by finish time;
//   - stats.waiting counts waiting jobs.
//
// Numbers that reach Redis as arguments are formatted with int(): Lua numbers
// are doubles, and the default conversion may print large ones with an
// exponent, which Go could not parse back.
const prelude = `
local base = ARGV[1]
local kStats = base .. 'stats'
local kReady = base .. 'ready'
local kActive = base .. 'active'
local kDelayed = base .. 'delayed'
local kCompleted = base .. 'completed'
local kFailed = base .. 'failed'
local kEvents = base .. 'events'
local chWake = base .. 'wake'
local function kJob(id) return base .. 'job:' .. id end
local function kLane(lane) return base .. 'lane:' .. lane end
local function kFinished(st) if st == 4 then return kCompleted end return kFailed end
local function kLaneFinished(lane, st)
  if st == 4 then return base .. 'lanecompleted:' .. lane end
  return base .. 'lanefailed:' .. lane
end

-- Server time in ms: every host uses the server's clock, so hosts with
-- skewed clocks agree on lock expiry and retry times.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- woke records that some lane became ready; the epilogue then publishes on
-- the wake channel so blocked reserves on every host look again.
local woke = false
-- drained records that the script removed lanes from the ready set, so the
-- epilogue must check that some lane is still ready before publishing; when
-- it is false, the ZADD that set woke left the set non-empty.
local drained = false

local function int(n) return string.format('%d', n) end
local snow = int(now)

-- count adds n to a stats counter. The sums are written once, by
-- flushCounts (the epilogue, or a script that reads them), so a batch costs
-- one HINCRBY per counter instead of one per job.
local counts = {}
local function count(field, n)
  counts[field] = (counts[field] or 0) + n
end
local function flushCounts()
  for field, n in pairs(counts) do
    if n ~= 0 then redis.call('HINCRBY', kStats, field, int(n)) end
  end
  counts = {}
end

-- Events are written as stream entries of up to eventsPerEntry events each
-- (type, job, lane repeated), one XADD per entry instead of one per event: a
-- call that touches one job writes one entry of one event, as before, and a
-- batch of 500 writes 32. MAXLEN caps the entries, so the stream holds at
-- most about 10000 * eventsPerEntry events, and the newest 10000 or more.
local eventsPerEntry = 16
local evs = {}
local function flushEvents()
  if #evs > 0 then
    redis.call('XADD', kEvents, 'MAXLEN', '~', '10000', '*', unpack(evs))
    evs = {}
  end
end
local function event(kind, id, lane)
  local n = #evs
  evs[n + 1] = 'type'
  evs[n + 2] = kind
  evs[n + 3] = 'job'
  evs[n + 4] = id
  evs[n + 5] = 'lane'
  evs[n + 6] = lane
  if n + 6 >= 6 * eventsPerEntry then flushEvents() end
end

-- markReady puts lane, whose head id is waiting, into the ready set.
local function markReady(lane, id)
  redis.call('ZADD', kReady, redis.call('HGET', kJob(id), 'seq'), lane)
  woke = true
end

-- dropFromLane removes an unfinished job from its lane. When it was the head,
-- the lane leaves the ready set and its next job, if any, becomes ready.
local function dropFromLane(lane, id)
  local kl = kLane(lane)
  if redis.call('LINDEX', kl, 0) == id then
    redis.call('LPOP', kl)
    redis.call('ZREM', kReady, lane)
    drained = true
    local nxt = redis.call('LINDEX', kl, 0)
    if nxt then markReady(lane, nxt) end
  else
    redis.call('LREM', kl, 1, id)
  end
end

-- dropActive removes an active job from its lane. An active job heads its
-- lane and its lane is not in the ready set, so it is popped, and the next
-- job, if any, becomes ready. (Were the invariant ever broken, the job is
-- removed wherever it is, as dropFromLane would.)
local function dropActive(lane, id)
  local kl = kLane(lane)
  local head = redis.call('LPOP', kl)
  if head ~= id then
    if head then redis.call('LPUSH', kl, head) end
    dropFromLane(lane, id)
    return
  end
  local nxt = redis.call('LINDEX', kl, 0)
  if nxt then markReady(lane, nxt) end
end

-- finish ends a job that was active (st 4 completed, 5 failed). With a
-- table in batch, the job is added to it rather than to the completed or
-- failed set, for the caller to add the whole batch in one ZADD.
local function finish(id, lane, st, att, reason, batch)
  local kj = kJob(id)
  if st == 4 then
    redis.call('HSET', kj, 'st', 4, 'fin', snow, 'tok', '')
    if not batch then count('completed', 1) end
    event('completed', id, lane)
  else
    redis.call('HSET', kj, 'st', 5, 'fin', snow, 'tok', '', 'att', int(att), 'err', reason)
    count('failed', 1)
    event('failed', id, lane)
  end
  dropActive(lane, id)
  if batch then
    batch[#batch + 1] = snow
    batch[#batch + 1] = id
  else
    redis.call('ZADD', kFinished(st), snow, id)
  end
  redis.call('ZADD', kLaneFinished(lane, st), snow, id)
end

-- sweep brings time-driven state up to date. Leases whose lock expired are
-- recovered: the attempt counts, and the job goes back to waiting (it is
-- still its lane's head, so order is kept) or fails once its attempts are
-- used up. Delayed jobs that are due become waiting. It runs at the start of
-- every script but Enqueue, so a late Extend/Complete/Fail sees the lease as
-- lost and Get/Counts never show stale states, and it costs two O(log n)
-- range queries when nothing is due.
local function sweep()
  local due = redis.call('ZRANGEBYSCORE', kDelayed, '-inf', snow, 'LIMIT', 0, 500)
  for _, id in ipairs(due) do
    redis.call('ZREM', kDelayed, id)
    local kj = kJob(id)
    local lane = redis.call('HGET', kj, 'lane')
    if lane then
      redis.call('HSET', kj, 'st', 1)
      count('waiting', 1)
      markReady(lane, id)
    end
  end
  local ids = redis.call('ZRANGEBYSCORE', kActive, '-inf', snow, 'LIMIT', 0, 100)
  for _, id in ipairs(ids) do
    redis.call('ZREM', kActive, id)
    local kj = kJob(id)
    local j = redis.call('HMGET', kj, 'lane', 'att', 'max', 'st')
    if j[1] and j[4] == '2' then
      local lane = j[1]
      local att = tonumber(j[2]) + 1
      local reason = 'stalled: the lease expired before the worker extended or finished it (attempt ' ..
        int(att) .. ' of ' .. j[3] .. ')'
      count('stalled', 1)
      event('stalled', id, lane)
      if att >= tonumber(j[3]) then
        finish(id, lane, 5, att, reason)
      else
        redis.call('HSET', kj, 'st', 1, 'att', int(att), 'tok', '', 'err', reason)
        count('waiting', 1)
        markReady(lane, id)
      end
    end
  end
end

-- retryDelayMs mirrors queue.RetryDelay (backoff in ns), rounded up to ms.
local maxBackoff = 3600000000000
local function retryDelayMs(backoff, attempts)
  local d = tonumber(backoff)
  for _ = 2, attempts do
    d = d * 2
    if d >= maxBackoff then break end
  end
  if d > maxBackoff then d = maxBackoff end
  return math.ceil(d / 1000000)
end

-- prune deletes up to limit jobs of finished state st that finished more
-- than keepMs ago (keepMs < 0 keeps them forever). Amortised over Complete
-- and Fail (20 more than they finish), it keeps up with any rate of
-- finishing without a background task.
local function prune(st, keepMs, limit)
  if keepMs < 0 then return end
  local set = kFinished(st)
  local ids = redis.call('ZRANGEBYSCORE', set, '-inf', int(now - keepMs), 'LIMIT', 0, limit)
  for _, id in ipairs(ids) do
    local lane = redis.call('HGET', kJob(id), 'lane')
    redis.call('DEL', kJob(id))
    redis.call('ZREM', set, id)
    if lane then redis.call('ZREM', kLaneFinished(lane, st), id) end
  end
end

-- removeJob deletes a job that is not active, wherever it is.
local function removeJob(id, lane, st)
  if st == '1' then
    count('waiting', -1)
    dropFromLane(lane, id)
  elseif st == '3' then
    redis.call('ZREM', kDelayed, id)
    dropFromLane(lane, id)
  elseif st == '4' or st == '5' then
    local n = tonumber(st)
    redis.call('ZREM', kFinished(n), id)
    redis.call('ZREM', kLaneFinished(lane, n), id)
  end
  redis.call('DEL', kJob(id))
end
`

// epilogue publishes a wake-up when a lane became ready and some lane is
// still ready after the script (a reserve that took every ready lane wakes
// nobody). The reply is {published, main's result}.
const epilogue = `
local result = main()
flushCounts()
flushEvents()
local published = 0
if woke and (not drained or redis.call('EXISTS', kReady) == 1) then
  redis.call('PUBLISH', chWake, '1')
  published = 1
end
return {published, result}
`

// Status codes scripts return for the common refusals.
const (
	codeNotFound     = -1
	codeLeaseLost    = -2
	codeInvalidState = -3
)

// Each script starts with a shebang (Redis/Valkey ≥ 7), which buys two
// guarantees. First, the server checks memory once, before the script runs:
// a script without allow-oom is refused whole at maxmemory, where a script
// without a shebang could fail at its first growing command after earlier
// writes (the deleting ones are allowed) and leave a half-done change.
// Second, the server refuses any key outside the script's slot, so a broken
// hash tag shows up as an error on a cluster instead of silent misrouting.
//
// Only Enqueue grows the data set, so only it is refused at maxmemory; every
// other script runs with allow-oom, so that workers can still finish their
// jobs and operators can still cancel and clear lanes to make room.
func newScript(body string) *redis.Script {
	return redis.NewScript("#!lua flags=allow-oom\n" + prelude + body + epilogue)
}

// newGrowingScript is newScript for a script that adds data.
func newGrowingScript(body string) *redis.Script {
	return redis.NewScript("#!lua\n" + prelude + body + epilogue)
}

// enqueueScript: ARGV[2] = n, then per job id, lane, kind, payload,
// max_attempts, backoff_ns. Returns 1 (created) or 0 (existed) per job.
var enqueueScript = newGrowingScript(`
local function main()
  local n = tonumber(ARGV[2])
  local out = {}
  -- Take n sequence numbers at once; a duplicate leaves a gap, which is
  -- harmless, as seq only orders the ready set.
  local seq = redis.call('HINCRBY', kStats, 'seq', n) - n
  local created = 0
  for i = 0, n - 1 do
    local o = 3 + i * 6
    local id, lane = ARGV[o], ARGV[o + 1]
    local kj = kJob(id)
    if redis.call('EXISTS', kj) == 1 then
      out[#out + 1] = 0
    else
      seq = seq + 1
      created = created + 1
      redis.call('HSET', kj, 'lane', lane, 'kind', ARGV[o + 2], 'pl', ARGV[o + 3], 'st', 1, 'att', 0,
        'max', ARGV[o + 4], 'bo', ARGV[o + 5], 'created', snow, 'avail', snow, 'seq', int(seq))
      if redis.call('RPUSH', kLane(lane), id) == 1 then
        redis.call('ZADD', kReady, int(seq), lane)
        woke = true
      end
      event('enqueued', id, lane)
      out[#out + 1] = 1
    end
  end
  count('waiting', created)
  count('enqueued', created)
  return out
end
`)

// reserveFields is how many values reserveScript returns per lease.
const reserveFields = 12

// reserveScript: ARGV[2] = max, ARGV[3] = lock ms, ARGV[4] = worker,
// ARGV[5] = a fresh random token base; lease i gets token "<base>.<i>".
// Returns {wait, id, lane, kind, payload, attempts, max, backoff, created,
// avail, err, token, lock, ...}: wait is -1 when leases were returned or
// nothing is pending, else the ms until the next delayed job is due or the
// next lock expires.
var reserveScript = newScript(`
local function main()
  local lockMs, worker = tonumber(ARGV[3]), ARGV[4]
  sweep()
  local out = {-1}
  local lock = now + lockMs
  local slock = int(lock)
  local act = {}
  local r = redis.call('ZPOPMIN', kReady, ARGV[2])
  drained = true
  for i = 1, #r, 2 do
    local lane = r[i]
    local id = redis.call('LINDEX', kLane(lane), 0)
    if id then
      local kj = kJob(id)
      local tok = ARGV[5] .. '.' .. int((i + 1) / 2)
      redis.call('HSET', kj, 'st', 2, 'tok', tok, 'lock', slock, 'wk', worker)
      act[#act + 1] = slock
      act[#act + 1] = id
      count('waiting', -1)
      event('active', id, lane)
      local j = redis.call('HMGET', kj, 'kind', 'pl', 'att', 'max', 'bo', 'created', 'avail', 'err')
      out[#out + 1] = id
      out[#out + 1] = lane
      for k = 1, 8 do out[#out + 1] = j[k] end
      out[#out + 1] = tok
      out[#out + 1] = lock
    end
  end
  if #act > 0 then redis.call('ZADD', kActive, unpack(act)) end
  if #out == 1 then
    local nxt = -1
    local d = redis.call('ZRANGE', kDelayed, 0, 0, 'WITHSCORES')
    if d[2] then nxt = tonumber(d[2]) end
    local a = redis.call('ZRANGE', kActive, 0, 0, 'WITHSCORES')
    if a[2] and (nxt < 0 or tonumber(a[2]) < nxt) then nxt = tonumber(a[2]) end
    if nxt >= 0 then
      if nxt < now then nxt = now end
      out[1] = nxt - now
    end
  end
  return out
end
`)

// extendScript: ARGV[2] = id, ARGV[3] = token, ARGV[4] = lock ms.
// Returns the new lock expiry (ms) or a negative code.
var extendScript = newScript(`
local function main()
  sweep()
  local id = ARGV[2]
  local kj = kJob(id)
  local j = redis.call('HMGET', kj, 'st', 'tok')
  if not j[1] then return -1 end
  if j[1] ~= '2' or j[2] ~= ARGV[3] then return -2 end
  local lock = now + tonumber(ARGV[4])
  redis.call('HSET', kj, 'lock', int(lock))
  redis.call('ZADD', kActive, int(lock), id)
  return lock
end
`)

// completeScript completes a batch of leases, in order, as that many
// separate calls would: ARGV[2] = completed retention ms (< 0 keeps),
// then id, token per lease. Returns 1 or a negative code per lease.
//
// Unlike the other scripts it sweeps only when it meets a lease whose lock
// has expired: that lease is lost (as it would be after a sweep, which
// recovers the lease), and the sweep then recovers it and any other stalled
// job. A Complete of a live lease changes nothing the sweep looks at, and
// every other script but Enqueue still sweeps first, so skipping it saves
// two range queries per call without delaying any recovery that a reader
// can see.
var completeScript = newScript(`
local function main()
  local out, done, fin = {}, {}, {}
  local swept = false
  for o = 3, #ARGV, 2 do
    local id = ARGV[o]
    local j = redis.call('HMGET', kJob(id), 'st', 'tok', 'lane', 'lock')
    if not j[1] then
      out[#out + 1] = -1
    elseif j[1] ~= '2' or j[2] ~= ARGV[o + 1] then
      out[#out + 1] = -2
    elseif tonumber(j[4]) <= now then
      if not swept then
        sweep()
        swept = true
      end
      out[#out + 1] = -2
    else
      done[#done + 1] = id
      finish(id, j[3], 4, 0, '', fin)
      out[#out + 1] = 1
    end
  end
  if #done > 0 then
    redis.call('ZREM', kActive, unpack(done))
    redis.call('ZADD', kCompleted, unpack(fin))
    count('completed', #done)
    prune(4, tonumber(ARGV[2]), 20 + #done)
  end
  return out
end
`)

// failScript: ARGV[2] = id, ARGV[3] = token, ARGV[4] = reason,
// ARGV[5] = "1" if retryable, ARGV[6] = failed retention ms.
// Returns {state, available_at_ms} or a negative code.
var failScript = newScript(`
local function main()
  sweep()
  local id = ARGV[2]
  local kj = kJob(id)
  local j = redis.call('HMGET', kj, 'st', 'tok', 'lane', 'att', 'max', 'bo')
  if not j[1] then return -1 end
  if j[1] ~= '2' or j[2] ~= ARGV[3] then return -2 end
  local lane = j[3]
  local att = tonumber(j[4]) + 1
  redis.call('ZREM', kActive, id)
  if ARGV[5] == '1' and att < tonumber(j[5]) then
    -- The job keeps heading its lane while delayed, so the lane stays
    -- blocked and its order survives the retry.
    local avail = now + retryDelayMs(j[6], att)
    redis.call('HSET', kj, 'st', 3, 'att', int(att), 'avail', int(avail), 'err', ARGV[4], 'tok', '')
    redis.call('ZADD', kDelayed, int(avail), id)
    count('retries', 1)
    event('delayed', id, lane)
    return {3, avail}
  end
  finish(id, lane, 5, att, ARGV[4])
  prune(5, tonumber(ARGV[6]), 20)
  return {5, 0}
end
`)

// retryScript: ARGV[2] = id. A failed job goes to the back of its lane with
// its attempts reset. Returns 1 or a negative code.
var retryScript = newScript(`
local function main()
  sweep()
  local id = ARGV[2]
  local kj = kJob(id)
  local j = redis.call('HMGET', kj, 'st', 'lane')
  if not j[1] then return -1 end
  if j[1] ~= '5' then return -3 end
  local lane = j[2]
  redis.call('ZREM', kFailed, id)
  redis.call('ZREM', kLaneFinished(lane, 5), id)
  local seq = redis.call('HINCRBY', kStats, 'seq', 1)
  redis.call('HSET', kj, 'st', 1, 'att', 0, 'tok', '', 'seq', int(seq), 'avail', snow)
  redis.call('HDEL', kj, 'fin')
  count('waiting', 1)
  count('retried', 1)
  if redis.call('RPUSH', kLane(lane), id) == 1 then markReady(lane, id) end
  event('retried', id, lane)
  return 1
end
`)

// cancelScript: ARGV[2] = id. Returns 1 or a negative code.
var cancelScript = newScript(`
local function main()
  sweep()
  local id = ARGV[2]
  local j = redis.call('HMGET', kJob(id), 'st', 'lane')
  if not j[1] then return -1 end
  if j[1] == '2' then return -3 end
  removeJob(id, j[2], j[1])
  event('cancelled', id, j[2])
  return 1
end
`)

// clearLaneScript: ARGV[2] = lane. Returns how many jobs it removed.
var clearLaneScript = newScript(`
local function main()
  sweep()
  local lane = ARGV[2]
  local kl = kLane(lane)
  local n = 0
  local keep = nil
  for _, id in ipairs(redis.call('LRANGE', kl, 0, -1)) do
    local kj = kJob(id)
    local st = redis.call('HGET', kj, 'st')
    if st == '2' then
      keep = id
    else
      if st == '1' then
        count('waiting', -1)
      elseif st == '3' then
        redis.call('ZREM', kDelayed, id)
      end
      redis.call('DEL', kj)
      n = n + 1
    end
  end
  redis.call('DEL', kl)
  redis.call('ZREM', kReady, lane)
  drained = true
  if keep then redis.call('RPUSH', kl, keep) end
  for _, st in ipairs({4, 5}) do
    local kd = kLaneFinished(lane, st)
    for _, id in ipairs(redis.call('ZRANGE', kd, 0, -1)) do
      redis.call('ZREM', kFinished(st), id)
      redis.call('DEL', kJob(id))
      n = n + 1
    end
    redis.call('DEL', kd)
  end
  if n > 0 then event('cleared', '', lane) end
  return n
end
`)

// getScript: ARGV[2] = id. Returns the job hash as HGETALL does (empty when
// there is no such job). It sweeps first, so a job whose lease expired reads
// as waiting (or failed) at once, not only after the next Reserve.
var getScript = newScript(`
local function main()
  sweep()
  return redis.call('HGETALL', kJob(ARGV[2]))
end
`)

// countsScript: ARGV[2] = lane or "" for all. Returns {waiting, active,
// delayed, completed, failed}. It sweeps first, like getScript.
var countsScript = newScript(`
local function main()
  sweep()
  local lane = ARGV[2]
  if lane == '' then
    flushCounts()
    return {tonumber(redis.call('HGET', kStats, 'waiting') or '0'), redis.call('ZCARD', kActive),
      redis.call('ZCARD', kDelayed), redis.call('ZCARD', kCompleted), redis.call('ZCARD', kFailed)}
  end
  local kl = kLane(lane)
  local n = redis.call('LLEN', kl)
  local a, d = 0, 0
  if n > 0 then
    local st = redis.call('HGET', kJob(redis.call('LINDEX', kl, 0)), 'st')
    if st == '2' then a = 1 elseif st == '3' then d = 1 end
  end
  return {n - a - d, a, d, redis.call('ZCARD', kLaneFinished(lane, 4)), redis.call('ZCARD', kLaneFinished(lane, 5))}
end
`)
