//! What the benchmark binaries of `kamaelia-bench` share.

/// The median of `values` (the mean of the middle two for an even count; NaN for none).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// Appends `rows` (tab-separated raw results, see `suite_report`) to `file`; on failure says so
/// on stderr, naming `bench`, and exits with status 1 (a suite missing figures must not pass
/// for complete).
pub fn append_results_or_exit(bench: &str, file: &str, rows: &str) {
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .and_then(|mut f| std::io::Write::write_all(&mut f, rows.as_bytes()));
    if let Err(e) = appended {
        eprintln!("{bench}: cannot append the results to {file}: {e}");
        std::process::exit(1);
    }
}

/// The table of 50 routes with parameters that our server (`handlers_server`) and the axum peer
/// (`peer_axum`) both serve in the routing benchmark: for each of 25 resources, `/api/r{i}/{id}`
/// and `/api/r{i}/{id}/items/{item}`. `bench/routes.lua` spreads wrk's requests over them, in
/// the same order.
pub fn route_table() -> Vec<String> {
    (0..25).flat_map(|i| [format!("/api/r{i}/{{id}}"), format!("/api/r{i}/{{id}}/items/{{item}}")]).collect()
}

/// A path that `route_table()[n % 50]` matches (the `k`-th request's, as `bench/routes.lua`
/// makes them).
pub fn route_path(n: usize, k: usize) -> String {
    let i = (n % 50) / 2;
    if n % 2 == 1 {
        format!("/api/r{i}/{k}/items/{}", k % 7)
    } else {
        format!("/api/r{i}/{k}")
    }
}

/// The resident set (`VmRSS` in `/proc/PID/status`) of process `pid`, in bytes; an error
/// names the file and what was missing.
pub fn rss_bytes(pid: u32) -> Result<u64, String> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kib| kib.parse::<u64>().ok())
        .map(|kib| kib * 1024)
        .ok_or_else(|| format!("{path}: no VmRSS line"))
}
