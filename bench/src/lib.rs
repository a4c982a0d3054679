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

/// The command line the HTTP servers of the suite share (`peer_hyper`, `peer_axum`,
/// `handlers_server`): `--port N`, `--threads N`
/// (0: one worker per core) and `--max-requests N` (10,000: the suite's cap on requests a
/// connection, the same for every server; the last is answered with `Connection: close`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerOptions {
    /// The port to listen on, on 127.0.0.1.
    pub port: u16,
    /// Tokio workers; 0 for one per core.
    pub threads: usize,
    /// Requests a connection may make.
    pub max_requests: usize,
}

impl PeerOptions {
    /// Reads the options from the command line; `name` is the program's (for the usage line).
    pub fn from_args(name: &str, default_port: u16) -> Result<PeerOptions, String> {
        Self::parse(name, default_port, std::env::args().skip(1).collect())
    }

    /// Reads the options from `args` (the command line without the program's name); `name` is
    /// for the usage line. Any other flag is refused.
    pub fn parse(name: &str, default_port: u16, args: Vec<String>) -> Result<PeerOptions, String> {
        let mut options = PeerOptions { port: default_port, threads: 0, max_requests: 10_000 };
        let usage = || format!("usage: {name} [--port N] [--threads N] [--max-requests N]; got {args:?}");
        for pair in args.chunks(2) {
            let [flag, value] = pair else { return Err(usage()) };
            let number = |what: &str| value.parse::<usize>().map_err(|_| format!("{flag}: `{value}` is not {what}"));
            match flag.as_str() {
                "--port" => {
                    options.port = value.parse().map_err(|_| format!("--port: `{value}` is not a port number"))?
                }
                "--threads" => options.threads = number("a thread count")?,
                "--max-requests" => options.max_requests = number("a request count")?.max(1),
                _ => return Err(usage()),
            }
        }
        Ok(options)
    }

    /// A tokio multi-thread runtime with `threads` workers (one per core for 0), I/O and time on.
    pub fn runtime(&self) -> std::io::Result<tokio::runtime::Runtime> {
        let mut runtime = tokio::runtime::Builder::new_multi_thread();
        if self.threads > 0 {
            runtime.worker_threads(self.threads);
        }
        runtime.enable_all().build()
    }
}

/// The next connection on `listener`, with `TCP_NODELAY` set as our server sets it: the peers'
/// accept loop. A failed accept (EMFILE and friends) is reported and accepting goes on, as a
/// server should.
pub async fn accept(listener: &tokio::net::TcpListener) -> (tokio::net::TcpStream, std::net::SocketAddr) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                if let Err(e) = stream.set_nodelay(true) {
                    log::debug!("{peer}: cannot set TCP_NODELAY: {e}");
                }
                return (stream, peer);
            }
            Err(e) => {
                log::warn!("accept failed: {e}");
                tokio::task::yield_now().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PeerOptions;

    fn parse(args: &[&str]) -> Result<PeerOptions, String> {
        PeerOptions::parse("peer", 8083, args.iter().map(|a| a.to_string()).collect())
    }

    #[test]
    fn peer_options_take_each_flag_and_refuse_the_rest() {
        assert_eq!(parse(&[]), Ok(PeerOptions { port: 8083, threads: 0, max_requests: 10_000 }));
        let all = parse(&["--port", "9000", "--threads", "2", "--max-requests", "0"]);
        assert_eq!(all, Ok(PeerOptions { port: 9000, threads: 2, max_requests: 1 }));
        assert!(parse(&["--threads", "two"]).unwrap_err().contains("`two` is not a thread count"));
        assert!(parse(&["--port"]).unwrap_err().starts_with("usage: peer "));
        assert!(parse(&["--workers", "2"]).unwrap_err().starts_with("usage: peer "));
    }
}
