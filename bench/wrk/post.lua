-- Closed-loop load (throughput at saturation): every connection sends the next request as soon as the previous
-- answer is complete. Arguments after `--`: the request body file, then any number of "Name: value" headers.
-- done() prints one JSON line (prefix "BENCH ") with wrk's own latency percentiles in microseconds.

function init(args)
   local file = assert(io.open(args[1], "rb"))
   wrk.method = "POST"
   wrk.body = file:read("*a")
   file:close()
   wrk.headers["Content-Type"] = "application/json"
   for i = 2, #args do
      local name, value = args[i]:match("^([^:]+):%s*(.*)$")
      wrk.headers[name] = value
   end
end

function done(summary, latency, requests)
   local errors = summary.errors
   io.write(string.format(
      'BENCH {"requests":%d,"durationUs":%d,"bytes":%d,"non2xx":%d,"socketErrors":%d,' ..
      '"p50Us":%d,"p90Us":%d,"p99Us":%d,"meanUs":%.1f,"maxUs":%d}\n',
      summary.requests, summary.duration, summary.bytes, errors.status,
      errors.connect + errors.read + errors.write + errors.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
