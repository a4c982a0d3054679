-- wrk script for bench/run.sh's routing benchmark: requests spread over the 50 routes of
-- kamaelia_bench::route_table() (request n goes to route n mod 50, as route_path makes it), and
-- the same report line as wrk_report.lua.
local n = 0
request = function()
  local i = math.floor((n % 50) / 2)
  local path
  if n % 2 == 0 then
    path = "/api/r" .. i .. "/" .. n
  else
    path = "/api/r" .. i .. "/" .. n .. "/items/" .. (n % 7)
  end
  n = n + 1
  return wrk.format("GET", path)
end

done = function(summary, latency, requests)
  io.write(string.format(
    "WRK requests=%d duration_us=%d bytes=%d p50_us=%d p99_us=%d max_us=%d " ..
    "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout))
end
