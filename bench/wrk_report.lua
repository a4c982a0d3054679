-- wrk's report hook for bench/run.sh: prints one machine-readable line after wrk's own report.
-- Latencies are in microseconds, the duration too; the driver computes requests/s and MB/s.
done = function(summary, latency, requests)
  io.write(string.format(
    "WRK requests=%d duration_us=%d bytes=%d p50_us=%d p99_us=%d max_us=%d " ..
    "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99), latency.max,
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout))
end
