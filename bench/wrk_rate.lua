-- wrk script for bench/verify.py's constant-rate runs: like wrk_uris.lua (a random line of a
-- file of paths per request), but requests leave on a fixed schedule, RATE per second over all
-- threads, rather than as fast as the server answers:
--
--   wrk -t2 -c32 -d20s -s bench/wrk_rate.lua http://127.0.0.1:PORT -- paths.txt 1000
--
-- Each thread owns rate/threads slots per second; a connection that has its answer takes the
-- next free slot (wrk's delay() hook) and waits for it. With enough connections that one is
-- always free, the server sees the rate whatever its latency, and the latencies are those of a
-- server at that load, not of one driven to saturation. Wall time comes from gettimeofday
-- through LuaJIT's FFI (wrk's Lua has no millisecond clock).

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
local threads = {}
local interval_ms = 1
local next_at = nil

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      uris[#uris + 1] = line
    end
  end
  if #uris == 0 then
    error("no paths in " .. args[1])
  end
  local nthreads = tonumber(args[3] or "1")
  interval_ms = 1000 * nthreads / tonumber(args[2])
  math.randomseed(os.time() * 1000 + (tid or 0))
end

function delay()
  local now = now_ms()
  if next_at == nil or next_at < now - 1000 then
    next_at = now  -- the start, or after a stall: no burst to catch up more than a second
  end
  next_at = next_at + interval_ms
  local wait = next_at - now
  if wait < 0 then
    return 0
  end
  return wait
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
