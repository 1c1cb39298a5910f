// Constant-rate load for bench/verify.py: GETs random lines of a file of paths at a fixed
// overall rate (autocannon's overallRate), and prints one line "RATE_JSON {...}" with the
// figures (latencies in milliseconds, HdrHistogram percentiles).
//
//   node bench/loadgen/constant_rate.mjs URL PATHS_FILE RATE SECONDS CONNECTIONS [Header: value]...
//
// The rate is what the server must keep up with: with enough connections that none waits for
// another's answer, a slow answer shows in the latencies rather than slowing the rate down
// (at 1,000 requests/s and answers of a few milliseconds, a handful are in flight).
import autocannon from "autocannon";
import { readFileSync } from "node:fs";

const [url, pathsFile, rate, seconds, connections, ...headerArgs] = process.argv.slice(2);
const paths = readFileSync(pathsFile, "utf8").split("\n").filter((line) => line.length > 0);
if (paths.length === 0) throw new Error(`no paths in ${pathsFile}`);
const headers = {};
for (const h of headerArgs) {
  const at = h.indexOf(":");
  headers[h.slice(0, at).trim()] = h.slice(at + 1).trim();
}

const result = await autocannon({
  url,
  connections: Number(connections),
  overallRate: Number(rate),
  duration: Number(seconds),
  timeout: 5,
  headers,
  requests: [{
    setupRequest: (req) => ({ ...req, path: paths[Math.floor(Math.random() * paths.length)] }),
  }],
});
const l = result.latency;
console.log("RATE_JSON " + JSON.stringify({
  requests: result.requests.total,
  seconds: Number(seconds),
  p50_ms: l.p50, p90_ms: l.p90, p99_ms: l.p99, max_ms: l.max, mean_ms: l.average,
  // A redirect is an answer here (the resolver's 307); 4xx and 5xx are failures.
  errors: result.errors, timeouts: result.timeouts, failed: result["4xx"] + result["5xx"],
  status2xx: result["2xx"], status3xx: result["3xx"],
}));
