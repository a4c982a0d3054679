//! `pipeline_hold`: what a client that pipelines requests and never reads a response costs a
//! server, in bytes of its resident memory (issue 16, defect 3).
//!
//! ```sh
//! pipeline_hold --port 8082 --pid <server pid> [--count 200] [--bytes 4194304] [--path /]
//! ```
//!
//! 1. Reads the server's `VmRSS` from `/proc/<pid>/status`.
//! 2. Opens `--count` connections and, on each, writes `GET <path>` requests back to back
//!    (pipelined) without ever reading: up to `--bytes` bytes of requests per connection, or until
//!    the connection takes no more (its send buffer, the server's receive buffer and whatever the
//!    server reads ahead are full). Writes never wait: a connection that would block is left as
//!    it is and the next one written to, round after round, until no connection takes a byte.
//! 3. Waits until the server's RSS has not moved for `SETTLE` (at most `SETTLE_DEADLINE`), reads
//!    `VmRSS` again and prints `PIPELINE_HOLD opened=<n> written=<bytes> rss_before=<bytes>
//!    rss_after=<bytes> per_conn=<bytes>` (one line), then closes every connection.
//!
//! The difference is what the server holds for those connections in user space: its components,
//! the bytes it read ahead and the requests it parsed, the responses it made and could not
//! write. Kernel socket buffers are not in `VmRSS`.

use kamaelia_bench::rss_bytes;
use std::io::{ErrorKind, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// How long the server's RSS must stay put before it is read.
const SETTLE: Duration = Duration::from_secs(2);
/// The longest the bench waits for the RSS to settle.
const SETTLE_DEADLINE: Duration = Duration::from_secs(30);
/// The longest a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug)]
struct Options {
    port: u16,
    pid: u32,
    count: usize,
    bytes: usize,
    path: String,
}

fn parse_args_from(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options { port: 0, pid: 0, count: 200, bytes: 4 * 1024 * 1024, path: "/".into() };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |what: &str| format!("{flag}: `{value}` is not {what}");
        match flag.as_str() {
            "--port" => options.port = value.parse().map_err(|_| number("a port number"))?,
            "--pid" => options.pid = value.parse().map_err(|_| number("a process id"))?,
            "--count" => options.count = value.parse().map_err(|_| number("a count"))?,
            "--bytes" => options.bytes = value.parse().map_err(|_| number("a number of bytes"))?,
            "--path" => options.path = value,
            _ => return Err(format!("unknown option `{flag}`")),
        }
    }
    if options.port == 0 || options.pid == 0 {
        return Err("usage: pipeline_hold --port N --pid PID [--count N] [--bytes N] [--path /]".into());
    }
    Ok(options)
}

/// One pipelining client: its socket and how much of its requests it has written.
struct Client {
    stream: TcpStream,
    written: usize,
    full: bool,
}

fn run(options: &Options) -> Result<(), String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, options.port));
    let request = format!("GET {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n", options.path, options.port);
    // A run of requests, written again and again.
    let run_of_requests = request.repeat((16 * 1024 / request.len()).max(1));
    let before = rss_bytes(options.pid)?;
    let mut clients = Vec::with_capacity(options.count);
    for _ in 0..options.count {
        let stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT).map_err(|e| format!("connecting: {e}"))?;
        stream.set_nonblocking(true).map_err(|e| format!("O_NONBLOCK: {e}"))?;
        clients.push(Client { stream, written: 0, full: false });
    }
    // Round after round, until no connection takes a byte more (or each has had its fill).
    loop {
        let mut moved = false;
        for client in clients.iter_mut().filter(|c| !c.full) {
            let want = (options.bytes - client.written).min(run_of_requests.len());
            if want == 0 {
                client.full = true;
                continue;
            }
            match client.stream.write(&run_of_requests.as_bytes()[..want]) {
                Ok(n) => {
                    client.written += n;
                    moved |= n > 0;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(format!("writing requests: {e}")),
            }
        }
        if !moved {
            // The server may still be reading: give it a moment, then try once more.
            std::thread::sleep(Duration::from_millis(200));
            let again = clients.iter_mut().filter(|c| !c.full).any(|c| {
                let want = (options.bytes - c.written).min(run_of_requests.len());
                match c.stream.write(&run_of_requests.as_bytes()[..want]) {
                    Ok(n) => {
                        c.written += n;
                        n > 0
                    }
                    Err(_) => false,
                }
            });
            if !again {
                break;
            }
        }
    }
    let written: usize = clients.iter().map(|c| c.written).sum();
    // Until the RSS stays put.
    let started = Instant::now();
    let mut last = rss_bytes(options.pid)?;
    let mut still_since = Instant::now();
    while still_since.elapsed() < SETTLE && started.elapsed() < SETTLE_DEADLINE {
        std::thread::sleep(Duration::from_millis(100));
        let now = rss_bytes(options.pid)?;
        if now != last {
            last = now;
            still_since = Instant::now();
        }
    }
    let after = last;
    let per_conn = (after as f64 - before as f64) / clients.len() as f64;
    println!(
        "PIPELINE_HOLD opened={} written={written} rss_before={before} rss_after={after} per_conn={per_conn:.0}",
        clients.len()
    );
    Ok(())
}

fn main() -> std::process::ExitCode {
    match parse_args_from(std::env::args().skip(1)).and_then(|options| run(&options)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pipeline_hold: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        parse_args_from(args.iter().map(|a| (*a).to_owned()))
    }

    #[test]
    fn the_options_are_read_and_a_bad_one_is_named() {
        let o = parse(&["--port", "8082", "--pid", "42", "--count", "7", "--path", "/hello"]).unwrap();
        assert_eq!((o.port, o.pid, o.count, o.bytes, o.path.as_str()), (8082, 42, 7, 4 * 1024 * 1024, "/hello"));
        assert_eq!(parse(&["--port", "x"]).unwrap_err(), "--port: `x` is not a port number");
        assert!(parse(&["--count", "1"]).unwrap_err().starts_with("usage:"));
    }
}
