-- wrk script for bench/verify.py: every request GETs a random line of a file of paths.
--
--   wrk -t2 -c32 -d20s -s bench/wrk_uris.lua http://127.0.0.1:PORT -- uris.txt
--
-- Headers given with wrk -H apply to every request. At the end one line starting with
-- "WRK_JSON " carries the figures (latencies in microseconds) for bench/verify.py to parse.
--
-- With a rate (requests/s over all threads) and the thread count after the file,
--
--   wrk -t2 -c32 -d20s -s bench/wrk_uris.lua http://127.0.0.1:PORT -- uris.txt 1000 2
--
-- requests leave on a fixed schedule instead of as fast as the server answers: each thread
-- owns rate/threads slots a second, and a connection that has its answer takes the next free
-- slot (wrk's delay() hook) and waits for it. With enough connections that one is always free,
-- the server sees the rate whatever its latency, and the latencies are those of a server at
-- that load. Wall time comes from gettimeofday through LuaJIT's FFI (wrk's Lua has no
-- millisecond clock).

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_usec; } bench_timeval;
int gettimeofday(bench_timeval *tv, void *tz);
]]
local tv = ffi.new("bench_timeval")
local function now_ms()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000 + tonumber(tv.tv_usec) / 1000
end

local uris = {}
local counter = 0
local interval_ms = nil  -- nil: as fast as the server answers
local next_at = nil

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

function init(args)
  local path = args[1]
  if path == nil then
    error("usage: wrk ... -s wrk_uris.lua URL -- FILE_OF_PATHS")
  end
  for line in io.lines(path) do
    if #line > 0 then
      uris[#uris + 1] = line
    end
  end
  if #uris == 0 then
    error("no paths in " .. path)
  end
  if args[2] ~= nil then
    interval_ms = 1000 * tonumber(args[3] or "1") / tonumber(args[2])
  end
  math.randomseed(os.time() * 1000 + (tid or 0))
end

function delay()
  if interval_ms == nil then
    return 0
  end
  local now = now_ms()
  if next_at == nil or next_at < now - 1000 then
    next_at = now  -- the start, or after a stall: no burst to catch up more than a second
  end
  next_at = next_at + interval_ms
  return math.max(0, next_at - now)
end

function request()
  return wrk.format(nil, uris[math.random(#uris)])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
