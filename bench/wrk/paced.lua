-- Fixed offered load with latency measured the way wrk2 does, so that coordinated omission does not hide stalls.
-- Run with as many threads as connections (-t N -c N): each thread then owns one connection, sends on a fixed
-- schedule (one request every N/rate seconds, threads staggered), and measures each answer from the moment its request
-- was due, not from when it could be sent. wrk's own histogram (from the actual send) is reported beside it, as is
-- the gateway's x-qhaigc-overhead-ms header when the answer carries one.
-- Arguments after `--`: rate (requests per second, all threads together), the body file, "Name: value" headers.

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_us()
   ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
   return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

local threads = {}
local counter = 0

function setup(thread)
   thread:set("index", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

local interval_us, next_due_us, due_us
samples, overheads = {}, {}

function init(args)
   local rate = tonumber(args[1])
   local file = assert(io.open(args[2], "rb"))
   wrk.method = "POST"
   wrk.body = file:read("*a")
   file:close()
   wrk.headers["Content-Type"] = "application/json"
   for i = 3, #args do
      local name, value = args[i]:match("^([^:]+):%s*(.*)$")
      wrk.headers[name] = value
   end

   local connections = tonumber(os.getenv("BENCH_CONNECTIONS"))
   interval_us = 1000000 * connections / rate
   -- Stagger the threads evenly over one interval, after a short common start.
   next_due_us = now_us() + 20000 + interval_us * index / connections
end

function delay()
   local wait = (next_due_us - now_us()) / 1000
   if wait < 0 then wait = 0 end
   return math.floor(wait)
end

function request()
   -- wrk's timers tick in whole milliseconds, so a request may leave up to 1 ms before it is due: it is then
   -- measured from when it left. A late one is measured from when it was due, which counts the wait it caused.
   due_us = math.min(next_due_us, now_us())
   next_due_us = next_due_us + interval_us
   return wrk.request()
end

function response(status, headers, body)
   samples[#samples + 1] = now_us() - due_us
   local overhead = headers["x-qhaigc-overhead-ms"]
   if overhead then overheads[#overheads + 1] = tonumber(overhead) end
end

local function percentile(sorted, p)
   if #sorted == 0 then return 0 end
   local rank = math.ceil(p / 100 * #sorted)
   if rank < 1 then rank = 1 end
   return sorted[rank]
end

function done(summary, latency, requests)
   local all, heads = {}, {}
   for _, thread in ipairs(threads) do
      for _, v in ipairs(thread:get("samples")) do all[#all + 1] = v end
      for _, v in ipairs(thread:get("overheads")) do heads[#heads + 1] = v end
   end
   table.sort(all)
   table.sort(heads)
   local errors = summary.errors
   io.write(string.format(
      'BENCH {"requests":%d,"durationUs":%d,"non2xx":%d,"socketErrors":%d,' ..
      '"p50Us":%d,"p90Us":%d,"p99Us":%d,"maxUs":%d,' ..
      '"scheduledP50Us":%d,"scheduledP90Us":%d,"scheduledP99Us":%d,"scheduledMaxUs":%d,' ..
      '"overheadCount":%d,"overheadP50Ms":%.4f,"overheadP90Ms":%.4f,"overheadP99Ms":%.4f}\n',
      summary.requests, summary.duration, errors.status, errors.connect + errors.read + errors.write + errors.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      percentile(all, 50), percentile(all, 90), percentile(all, 99), all[#all] or 0,
      #heads, percentile(heads, 50), percentile(heads, 90), percentile(heads, 99)))
end
