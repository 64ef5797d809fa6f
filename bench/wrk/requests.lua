-- crmsim bench: replay the requests of a file, with {n} made unique per request.
--
-- BENCH_REQUESTS names a file of tab-separated lines:
--   H <tab> Header-Name <tab> value      a header sent with every request
--   R <tab> METHOD <tab> path <tab> body one request (body may be empty)
-- Requests are sent in turn, round robin. In a path or body, {n} becomes a number unique
-- to this request across wrk's threads (unique emails, phones, transaction ids).
-- done() prints one line "BENCHJSON {...}" with the figures bench/run.py reads.

local threads = {}
local counter = 0
local id = 0
local headers = {}
local requests = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    table.insert(fields, field)
  end
  return fields
end

function init(args)
  id = wrk.thread:get("id") or 0
  local path = os.getenv("BENCH_REQUESTS")
  for line in io.lines(path) do
    local f = split(line)
    if f[1] == "H" then
      headers[f[2]] = f[3]
    elseif f[1] == "R" then
      table.insert(requests, {method = f[2], path = f[3], body = f[4] or ""})
    end
  end
end

function request()
  counter = counter + 1
  local r = requests[(counter - 1) % #requests + 1]
  local n = tostring(id * 100000000 + counter)
  local path = r.path:gsub("{n}", n)
  local body = nil
  if r.body ~= "" then
    body = r.body:gsub("{n}", n)
  end
  return wrk.format(r.method, path, headers, body)
end

function done(summary, latency, requests)
  io.write(string.format(
    'BENCHJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, ' ..
    '"timeout": %d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout))
end
