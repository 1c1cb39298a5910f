-- wrk script for bench/verify.py: every request GETs a random line of a file of paths.
--
--   wrk -t2 -c32 -d20s -s bench/wrk_uris.lua http://127.0.0.1:PORT -- uris.txt
--
-- Headers given with wrk -H apply to every request. At the end one line starting with
-- "WRK_JSON " carries the figures (latencies in microseconds) for bench/verify.py to parse.

local uris = {}
local counter = 0

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
  math.randomseed(os.time() * 1000 + (tid or 0))
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
