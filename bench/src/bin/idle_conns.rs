//! `idle_conns`: what an idle keep-alive connection costs a server, in bytes of its resident
//! memory. Part of the HTTP suite (`bench/run.sh`), run once against our server and once against
//! hyper.
//!
//! ```sh
//! idle_conns --port 8082 --pid <server pid> [--count 10000] [--warmup 200] [--path /hello]
//! ```
//!
//! 1. Warm-up: opens `--warmup` connections, sends `GET <path>` on each, reads each response,
//!    and closes them all, so that the server's one-time costs (runtime threads, buffers, caches)
//!    are paid before measuring.
//! 2. Reads the server's `VmRSS` from `/proc/<pid>/status`.
//! 3. Opens `--count` connections, one after another, sends one request on each and reads its
//!    whole response, so that every connection is established, has served a request, and sits
//!    idle in keep-alive. If the operating system refuses a connection (the file-descriptor limit,
//!    the ephemeral ports), it stops there, measures with the connections it has, and says so.
//! 4. Waits `SETTLE` for the server to finish any work after its last response, reads `VmRSS`
//!    again, and prints `IDLE_CONN opened=<n> asked=<count> rss_before=<bytes> rss_after=<bytes>
//!    per_conn=<bytes>` (one line, for the driver), then closes every connection.
//!
//! The difference includes everything the server keeps per connection in user space: its task or
//! component graph, its read and write buffers, its bookkeeping. Kernel socket buffers are not in
//! `VmRSS`. Sizes are read in KiB from the kernel, so the per-connection figure is exact to
//! about 1 KiB / `count` bytes.

use kamaelia_bench::rss_bytes;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// How long the server gets to settle after the last response and after the warm-up.
const SETTLE: Duration = Duration::from_millis(500);
/// The longest a connection, or a response, may take before the bench gives up.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest response head and body this client accepts (the `/hello` response is 201 bytes).
const MAX_RESPONSE: usize = 64 * 1024;

#[derive(Debug)]
struct Options {
    port: u16,
    pid: u32,
    count: usize,
    warmup: usize,
    path: String,
}

fn parse_args() -> Result<Options, String> {
    parse_args_from(std::env::args().skip(1))
}

fn parse_args_from(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options { port: 0, pid: 0, count: 10_000, warmup: 200, path: "/hello".into() };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |what: &str| format!("{flag}: `{value}` is not {what}");
        match flag.as_str() {
            "--port" => options.port = value.parse().map_err(|_| number("a port number"))?,
            "--pid" => options.pid = value.parse().map_err(|_| number("a process id"))?,
            "--count" => options.count = value.parse().map_err(|_| number("a count"))?,
            "--warmup" => options.warmup = value.parse().map_err(|_| number("a count"))?,
            "--path" => options.path = value,
            _ => return Err(format!("unknown option `{flag}`")),
        }
    }
    if options.port == 0 || options.pid == 0 {
        return Err("usage: idle_conns --port N --pid PID [--count N] [--warmup N] [--path /hello]".into());
    }
    Ok(options)
}

/// The index just past the first `\r\n\r\n` in `buf`.
fn end_of_head(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// The value of `Content-Length` in a response head, if it has one.
fn content_length(head: &[u8]) -> Option<usize> {
    let head = std::str::from_utf8(head).ok()?;
    head.split("\r\n").find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim().eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok())?
    })
}

/// Whether a response head says `Transfer-Encoding: chunked`.
fn is_chunked(head: &[u8]) -> bool {
    std::str::from_utf8(head).is_ok_and(|head| {
        head.split("\r\n").any(|line| {
            line.split_once(':').is_some_and(|(name, value)| {
                name.trim().eq_ignore_ascii_case("transfer-encoding") && value.to_ascii_lowercase().contains("chunked")
            })
        })
    })
}

/// Reads one whole response (Content-Length or chunked framing) from `stream`, and checks that
/// its status is 200. Enough HTTP for this bench, not a general client.
fn read_response(stream: &mut TcpStream) -> Result<(), String> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).map_err(|e| format!("reading a response: {e}"))?;
        if n == 0 {
            return Err(format!("the server closed after {} bytes: {}", buf.len(), buf.escape_ascii()));
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX_RESPONSE {
            return Err(format!("a response longer than {MAX_RESPONSE} bytes"));
        }
        let Some(head_end) = end_of_head(&buf) else { continue };
        let head = &buf[..head_end];
        if !head.starts_with(b"HTTP/1.1 200 ") {
            let line = head.split(|&b| b == b'\r').next().unwrap_or_default();
            return Err(format!("expected a 200, got `{}`", line.escape_ascii()));
        }
        let body = &buf[head_end..];
        let complete = match content_length(head) {
            Some(len) => body.len() >= len,
            None if is_chunked(head) => body.ends_with(b"0\r\n\r\n"),
            None => return Err(format!("a response with neither length nor chunks: {}", head.escape_ascii())),
        };
        if complete {
            return Ok(());
        }
    }
}

/// Opens one connection, sends one request and reads its response: an idle keep-alive connection.
fn open_idle(addr: SocketAddr, request: &[u8]) -> Result<TcpStream, String> {
    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).map_err(|e| format!("connecting to {addr}: {e}"))?;
    stream.set_read_timeout(Some(IO_TIMEOUT)).map_err(|e| format!("setting a read timeout: {e}"))?;
    stream.set_nodelay(true).map_err(|e| format!("setting TCP_NODELAY: {e}"))?;
    stream.write_all(request).map_err(|e| format!("sending a request: {e}"))?;
    read_response(&mut stream)?;
    Ok(stream)
}

fn run(options: &Options) -> Result<(), String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, options.port));
    let request = format!("GET {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n", options.path, options.port);

    let mut warm = Vec::with_capacity(options.warmup);
    for _ in 0..options.warmup {
        warm.push(open_idle(addr, request.as_bytes())?);
    }
    drop(warm);
    std::thread::sleep(SETTLE);

    let before = rss_bytes(options.pid)?;
    let mut open = Vec::with_capacity(options.count);
    let mut stopped_by = None;
    for _ in 0..options.count {
        match open_idle(addr, request.as_bytes()) {
            Ok(stream) => open.push(stream),
            Err(e) => {
                stopped_by = Some(e);
                break;
            }
        }
    }
    std::thread::sleep(SETTLE);
    let after = rss_bytes(options.pid)?;
    if let Some(e) = &stopped_by {
        eprintln!("idle_conns: stopped at {} of {} connections: {e}", open.len(), options.count);
    }
    if open.is_empty() {
        return Err("no connection could be opened".into());
    }
    let per_conn = (after as f64 - before as f64) / open.len() as f64;
    println!(
        "IDLE_CONN opened={} asked={} rss_before={before} rss_after={after} per_conn={per_conn:.0}",
        open.len(),
        options.count
    );
    Ok(())
}

fn main() -> std::process::ExitCode {
    match parse_args().and_then(|options| run(&options)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("idle_conns: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_ends_after_the_first_blank_line_and_not_before() {
        assert_eq!(end_of_head(b"HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody"), Some(25));
        assert_eq!(end_of_head(b"HTTP/1.1 200 OK\r\nA: b\r\n\r"), None);
    }

    #[test]
    fn content_length_is_read_whatever_the_case_of_its_name() {
        assert_eq!(content_length(b"HTTP/1.1 200 OK\r\ncontent-LENGTH: 12\r\n\r\n"), Some(12));
        assert_eq!(content_length(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"), None);
        assert_eq!(content_length(b"HTTP/1.1 200 OK\r\nContent-Length: twelve\r\n\r\n"), None);
    }

    #[test]
    fn a_chunked_response_is_told_from_one_that_is_not() {
        assert!(is_chunked(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"));
        assert!(!is_chunked(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"));
    }

    #[test]
    fn the_options_need_a_port_and_a_pid() {
        let options = |args: &[&str]| parse_args_from(args.iter().map(|a| a.to_string()));
        assert!(options(&["--port", "8082"]).is_err());
        assert!(options(&["--port", "8082", "--pid", "x"]).is_err());
        let o = options(&["--port", "8082", "--pid", "7", "--count", "5"]).unwrap();
        assert_eq!((o.port, o.pid, o.count, o.warmup), (8082, 7, 5, 200));
    }
}
