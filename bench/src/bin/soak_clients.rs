//! `soak_clients`: the hostile clients of the soak (`bench/soak.sh`, which adds wrk's keep-alive
//! load beside them). For `--seconds`, `--workers` clients of each kind below run against
//! 127.0.0.1:`--port`, each starting again as soon as it ends:
//!
//! | kind | what it does | what it expects |
//! |---|---|---|
//! | `pipelined` | 8 rounds of 16 requests in one write each (GET, HEAD, a 404), then one with `Connection: close` | every response, in order, with its status, then the close |
//! | `abort_request` | a head cut short, or a body (`Content-Length` or chunked) cut short, then a reset (`SO_LINGER` 0) or a plain close | nothing |
//! | `abort_response` | `GET /big.bin`, reads 1 KiB to 4 MiB of it, then a reset or a plain close | the start of a 200 |
//! | `slow_reader` | `GET /big.bin` read at `--slow-rate` bytes/s, then `GET /small.html` on the same connection | the whole file, and the connection still open |
//! | `half_close` | one or two requests (the small file, or one time in four `/big.bin`), `shutdown(SHUT_WR)`, then reads to the end | every response whole, then the close |
//! | `bad_request` | garbage, an over-long target, a bad `Host`, no `Host`, a bad chunked body, a head too large | the 4xx each deserves (then the close) |
//!
//! ```sh
//! soak_clients --port 8082 --seconds 600 [--workers 2] [--slow-rate 1048576] [--only half_close,bad_request]
//! ```
//!
//! `--only` runs the kinds named (comma-separated) and no others: to see which kind of client
//! makes the server do something.
//!
//! The server must serve a root holding `small.html` and `big.bin` (8 MiB, any bytes), as
//! `bench/soak.sh` sets up. At the end it prints one line a kind, `SOAK_CLIENTS kind=<kind>
//! runs=<n> ok=<n> unexpected=<n>`, and for each kind with unexpected outcomes (a wrong status, a
//! truncated body, no answer within the timeout) the first few, on standard error. It exits 0
//! whatever the server did (the soak's verdict is the server's figures), and 2 on a bad command
//! line.
//!
//! Written in Rust with tokio, as the bench crate's other clients: it needs nothing on the
//! machine beyond what builds the workspace, and one thread drives every client.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest one client run may take (connect, requests, responses) before it counts as
/// unexpected: a server that hangs. A slow reader gets this on top of its reading time.
const RUN_TIMEOUT: Duration = Duration::from_secs(30);
/// How many unexpected outcomes of each kind are kept to print.
const KEPT: usize = 5;
/// The size of `big.bin`, as `bench/soak.sh` writes it.
const BIG: u64 = 8 * 1024 * 1024;

#[derive(Debug)]
struct Options {
    port: u16,
    seconds: u64,
    workers: usize,
    slow_rate: u64,
    kinds: Vec<Kind>,
}

fn parse_args_from(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options { port: 0, seconds: 60, workers: 2, slow_rate: 1024 * 1024, kinds: Kind::ALL.to_vec() };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |what: &str| format!("{flag}: `{value}` is not {what}");
        match flag.as_str() {
            "--port" => options.port = value.parse().map_err(|_| number("a port number"))?,
            "--seconds" => options.seconds = value.parse().map_err(|_| number("a number of seconds"))?,
            "--workers" => options.workers = value.parse().map_err(|_| number("a count"))?,
            "--slow-rate" => options.slow_rate = value.parse().map_err(|_| number("bytes a second"))?,
            "--only" => {
                options.kinds = value
                    .split(',')
                    .map(|name| {
                        Kind::ALL.into_iter().find(|k| k.name() == name).ok_or_else(|| {
                            let names: Vec<_> = Kind::ALL.iter().map(|k| k.name()).collect();
                            format!("--only: `{name}` is not a kind of client ({})", names.join(", "))
                        })
                    })
                    .collect::<Result<_, _>>()?
            }
            _ => return Err(format!("unknown option `{flag}`")),
        }
    }
    if options.port == 0 || options.slow_rate == 0 {
        return Err("usage: soak_clients --port N [--seconds 60] [--workers 2] [--slow-rate 1048576 (bytes/s)] \
                    [--only KIND,...]"
            .into());
    }
    Ok(options)
}

/// The kinds of client, in the order the summary lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pipelined,
    AbortRequest,
    AbortResponse,
    SlowReader,
    HalfClose,
    BadRequest,
}

impl Kind {
    const ALL: [Kind; 6] =
        [Kind::Pipelined, Kind::AbortRequest, Kind::AbortResponse, Kind::SlowReader, Kind::HalfClose, Kind::BadRequest];

    fn name(self) -> &'static str {
        match self {
            Kind::Pipelined => "pipelined",
            Kind::AbortRequest => "abort_request",
            Kind::AbortResponse => "abort_response",
            Kind::SlowReader => "slow_reader",
            Kind::HalfClose => "half_close",
            Kind::BadRequest => "bad_request",
        }
    }
}

/// What the clients of one kind saw.
#[derive(Debug, Default)]
struct Tally {
    runs: u64,
    ok: u64,
    unexpected: u64,
    /// The first [`KEPT`] unexpected outcomes.
    examples: Vec<String>,
}

/// A small xorshift generator: enough to vary the clients, with no dependency.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A response as read: its status and how many body bytes came.
#[derive(Debug)]
struct Response {
    status: u16,
    body: u64,
    /// `Connection: close` was in the head.
    close: bool,
}

/// A client connection: the socket and the bytes read but not yet used.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(address: SocketAddr) -> Result<Conn, String> {
        let stream = TcpStream::connect(address).await.map_err(|e| format!("connect: {e}"))?;
        Ok(Conn { stream, buf: Vec::with_capacity(16 * 1024) })
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream.write_all(bytes).await.map_err(|e| format!("write: {e}"))
    }

    /// Reads more into `buf`; false at the end of the stream.
    async fn fill(&mut self) -> Result<bool, String> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await.map_err(|e| format!("read: {e}"))?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }

    /// Reads a response head; `None` if the stream ended before any byte of it.
    async fn head(&mut self) -> Result<Option<(u16, Vec<(String, String)>)>, String> {
        let end = loop {
            if let Some(at) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at;
            }
            if !self.fill().await? {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                return Err(format!("the stream ended inside a head: {:?}", String::from_utf8_lossy(&self.buf)));
            }
        };
        let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
        self.buf.drain(..end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or("");
        let status = status_line
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| format!("not a status line: {status_line:?}"))?;
        let fields = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_ascii_lowercase()))
            .collect();
        Ok(Some((status, fields)))
    }

    /// Reads and drops `n` body bytes, at most `rate` bytes a second if given.
    async fn skip(&mut self, n: u64, rate: Option<u64>) -> Result<(), String> {
        let start = Instant::now();
        let mut done = 0u64;
        loop {
            let take = (self.buf.len() as u64).min(n - done) as usize;
            self.buf.drain(..take);
            done += take as u64;
            if done == n {
                return Ok(());
            }
            if let Some(rate) = rate {
                let due = start + Duration::from_secs_f64(done as f64 / rate as f64);
                tokio::time::sleep_until(due.into()).await;
            }
            if !self.fill().await? {
                return Err(format!("the body ended after {done} of {n} bytes"));
            }
        }
    }

    /// A line of a chunked body, without its CRLF.
    async fn line(&mut self) -> Result<String, String> {
        loop {
            if let Some(at) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..at]).into_owned();
                self.buf.drain(..at + 2);
                return Ok(line);
            }
            if !self.fill().await? {
                return Err("the stream ended inside a chunked body".into());
            }
        }
    }

    /// Reads a whole response to a request with `method`, the body at most `rate` bytes a second.
    async fn response(&mut self, method: &str, rate: Option<u64>) -> Result<Response, String> {
        let (status, fields) = self.head().await?.ok_or("the connection closed with no response")?;
        let field = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        let close = field("connection") == Some("close");
        let body = if method == "HEAD" || status == 204 || status == 304 || status < 200 {
            0
        } else if field("transfer-encoding") == Some("chunked") {
            let mut total = 0;
            loop {
                let size = self.line().await?;
                let size = u64::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
                    .map_err(|_| format!("a bad chunk size {size:?}"))?;
                if size == 0 {
                    while !self.line().await?.is_empty() {}
                    break total;
                }
                self.skip(size, rate).await?;
                if !self.line().await?.is_empty() {
                    return Err("no CRLF after a chunk".into());
                }
                total += size;
            }
        } else if let Some(length) = field("content-length") {
            let length = length.parse().map_err(|_| format!("a bad Content-Length {length:?}"))?;
            self.skip(length, rate).await?;
            length
        } else {
            // Delimited by the close.
            let mut total = self.buf.len() as u64;
            self.buf.clear();
            while self.fill().await? {
                total += self.buf.len() as u64;
                self.buf.clear();
            }
            total
        };
        Ok(Response { status, body, close })
    }

    /// True if the server closes the connection (after anything it still sends) within the
    /// timeout the caller puts on the run.
    async fn closed(&mut self) -> Result<(), String> {
        self.buf.clear();
        loop {
            match self.fill().await {
                Ok(false) => return Ok(()),
                Ok(true) => self.buf.clear(),
                // A reset is a close too.
                Err(_) => return Ok(()),
            }
        }
    }

    /// Closes with a reset (`SO_LINGER` 0) or plainly (a FIN).
    fn abort(self, reset: bool) {
        if reset {
            let _ = self.stream.set_zero_linger();
        }
        drop(self.stream);
    }
}

fn expect_status(what: &str, response: &Response, status: u16) -> Result<(), String> {
    if response.status == status {
        Ok(())
    } else {
        Err(format!("{what}: {} instead of {status}", response.status))
    }
}

/// The small requests the pipelined and half-closing clients mix: (method, target, status).
const SMALL: [(&str, &str, u16); 5] = [
    ("GET", "/small.html", 200),
    ("GET", "/hello", 200),
    ("HEAD", "/small.html", 200),
    ("GET", "/a.txt", 200),
    ("GET", "/missing.html", 404),
];

fn request(method: &str, target: &str, close: bool) -> String {
    let connection = if close { "Connection: close\r\n" } else { "" };
    format!("{method} {target} HTTP/1.1\r\nHost: soak\r\nUser-Agent: soak_clients\r\n{connection}\r\n")
}

async fn pipelined(address: SocketAddr, rng: &mut Rng) -> Result<(), String> {
    let mut conn = Conn::open(address).await?;
    const ROUNDS: usize = 8;
    const DEPTH: usize = 16;
    for round in 0..ROUNDS {
        let last = round == ROUNDS - 1;
        let picks: Vec<_> = (0..DEPTH).map(|_| SMALL[rng.below(SMALL.len() as u64) as usize]).collect();
        let mut text = String::new();
        for (i, (method, target, _)) in picks.iter().enumerate() {
            text.push_str(&request(method, target, last && i == DEPTH - 1));
        }
        conn.send(text.as_bytes()).await?;
        for (i, (method, target, status)) in picks.iter().enumerate() {
            let response = conn.response(method, None).await.map_err(|e| format!("{method} {target}: {e}"))?;
            expect_status(&format!("round {round}, request {i}: {method} {target}"), &response, *status)?;
        }
    }
    conn.closed().await
}

async fn abort_request(address: SocketAddr, rng: &mut Rng) -> Result<(), String> {
    let mut conn = Conn::open(address).await?;
    let text = match rng.below(4) {
        0 => "GET /small.html HTTP/1.1\r\nHost: soak\r\nX-Padding: aaaaaaaa".to_owned(),
        1 => "GET /small.ht".to_owned(),
        2 => format!("POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: 4096\r\n\r\n{}", "b".repeat(1000)),
        _ => "POST /echo HTTP/1.1\r\nHost: soak\r\nTransfer-Encoding: chunked\r\n\r\n400\r\nccccc".to_owned(),
    };
    conn.send(text.as_bytes()).await?;
    tokio::time::sleep(Duration::from_millis(rng.below(50))).await;
    conn.abort(rng.below(2) == 0);
    Ok(())
}

async fn abort_response(address: SocketAddr, rng: &mut Rng) -> Result<(), String> {
    let mut conn = Conn::open(address).await?;
    conn.send(request("GET", "/big.bin", false).as_bytes()).await?;
    let (status, _) = conn.head().await?.ok_or("the connection closed with no response")?;
    if status != 200 {
        return Err(format!("GET /big.bin: {status} instead of 200"));
    }
    let stop_after = 1024 + rng.below(4 * 1024 * 1024);
    let mut read = conn.buf.len() as u64;
    while read < stop_after {
        conn.buf.clear();
        if !conn.fill().await? {
            return Err(format!("GET /big.bin: the body ended after {read} bytes"));
        }
        read += conn.buf.len() as u64;
    }
    conn.abort(rng.below(2) == 0);
    Ok(())
}

async fn slow_reader(address: SocketAddr, rate: u64) -> Result<(), String> {
    let mut conn = Conn::open(address).await?;
    conn.send(request("GET", "/big.bin", false).as_bytes()).await?;
    let big = conn.response("GET", Some(rate)).await.map_err(|e| format!("GET /big.bin at {rate} B/s: {e}"))?;
    expect_status("GET /big.bin", &big, 200)?;
    if big.body != BIG {
        return Err(format!("GET /big.bin at {rate} B/s: {} of {BIG} bytes", big.body));
    }
    if big.close {
        return Err(format!("GET /big.bin at {rate} B/s: sent with Connection: close"));
    }
    // The connection must still be open: the response was sent as persistent.
    conn.send(request("GET", "/small.html", true).as_bytes()).await?;
    let small =
        conn.response("GET", None).await.map_err(|e| format!("GET /small.html after /big.bin at {rate} B/s: {e}"))?;
    expect_status("GET /small.html after a slow /big.bin", &small, 200)?;
    conn.closed().await
}

async fn half_close(address: SocketAddr, rng: &mut Rng) -> Result<(), String> {
    let mut conn = Conn::open(address).await?;
    let mut sent = vec![("GET", if rng.below(4) == 0 { "/big.bin" } else { "/small.html" }, 200)];
    if rng.below(2) == 0 {
        sent.push(SMALL[rng.below(SMALL.len() as u64) as usize]);
    }
    let text: String = sent.iter().map(|(method, target, _)| request(method, target, false)).collect();
    conn.send(text.as_bytes()).await?;
    conn.stream.shutdown().await.map_err(|e| format!("shutdown(SHUT_WR): {e}"))?;
    for (method, target, status) in &sent {
        let response =
            conn.response(method, None).await.map_err(|e| format!("{method} {target} after SHUT_WR: {e}"))?;
        expect_status(&format!("{method} {target} after SHUT_WR"), &response, *status)?;
        if *target == "/big.bin" && response.body != BIG {
            return Err(format!("GET /big.bin after SHUT_WR: {} of {BIG} bytes", response.body));
        }
    }
    match conn.head().await {
        Ok(None) => Ok(()),
        Ok(Some((status, _))) => Err(format!("a response ({status}) to nothing after SHUT_WR")),
        Err(e) => Err(format!("after the responses to a half-closed connection: {e}")),
    }
}

/// What a bad request deserves.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// This status, then the close.
    Status(u16),
    /// A body whose framing is bad, followed by a good request: whatever the handler answered
    /// before it read the body (`/echo` answers from the head), then the close, with no answer to
    /// the request after it (which would mean the bad body was framed as something else).
    CloseAfterBody,
}

/// The bad requests: (what, bytes, what each deserves).
fn bad_requests() -> Vec<(&'static str, Vec<u8>, Expect)> {
    let long_target = format!("GET /{} HTTP/1.1\r\nHost: soak\r\n\r\n", "a".repeat(9000));
    let long_utf8 = format!("GET /{}é{} HTTP/1.1\r\nHost: soak\r\n\r\n", "a".repeat(62), "a".repeat(9000));
    let many = (0..200).map(|i| format!("X-F{i}: v\r\n")).collect::<String>();
    let big_field = format!("GET / HTTP/1.1\r\nHost: soak\r\nX-Big: {}\r\n\r\n", "v".repeat(20_000));
    let mut garbage = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".to_vec();
    garbage.extend((0u8..=255).rev());
    garbage.extend_from_slice(b"\r\n\r\n");
    let chunked = |body: &str| {
        format!(
            "POST /echo HTTP/1.1\r\nHost: soak\r\nTransfer-Encoding: chunked\r\n\r\n{body}\
             GET /hello HTTP/1.1\r\nHost: soak\r\n\r\n"
        )
        .into_bytes()
    };
    use Expect::{CloseAfterBody, Status};
    vec![
        ("garbage (a TLS hello)", garbage, Status(400)),
        ("garbage text", b"HELLO THERE\r\n\r\n".to_vec(), Status(400)),
        ("a target of 9000 bytes", long_target.into_bytes(), Status(414)),
        ("a long target with a two-byte character at byte 64", long_utf8.into_bytes(), Status(414)),
        ("Host: a/b", b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n".to_vec(), Status(400)),
        ("Host: bad host", b"GET / HTTP/1.1\r\nHost: bad host\r\n\r\n".to_vec(), Status(400)),
        ("Host: [::1", b"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n".to_vec(), Status(400)),
        ("no Host", b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n".to_vec(), Status(400)),
        ("two Hosts", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n".to_vec(), Status(400)),
        ("a chunk size that is not hex", chunked("zz\r\nabc\r\n0\r\n\r\n"), CloseAfterBody),
        ("a chunk with no CRLF after it", chunked("3\r\nabcXY0\r\n\r\n"), CloseAfterBody),
        ("a chunk size past 64 bits", chunked("1ffffffffffffffff\r\nx\r\n0\r\n\r\n"), CloseAfterBody),
        (
            "Content-Length and chunked",
            b"POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                .to_vec(),
            Status(400),
        ),
        ("200 header fields", format!("GET / HTTP/1.1\r\nHost: soak\r\n{many}\r\n").into_bytes(), Status(431)),
        ("a header field of 20,000 bytes", big_field.into_bytes(), Status(431)),
    ]
}

async fn bad_request(
    address: SocketAddr,
    rng: &mut Rng,
    cases: &[(&'static str, Vec<u8>, Expect)],
) -> Result<(), String> {
    let (what, bytes, expect) = &cases[rng.below(cases.len() as u64) as usize];
    let mut conn = Conn::open(address).await?;
    // The server may answer and close before it has read everything: a failed write is not
    // the end, the response may be waiting.
    let _ = conn.stream.write_all(bytes).await;
    let response = conn.response("POST", None).await.map_err(|e| format!("{what}: {e}"))?;
    if let Expect::Status(status) = expect {
        expect_status(what, &response, *status)?;
    }
    match conn.head().await {
        Ok(None) | Err(_) => Ok(()),
        Ok(Some((status, _))) => Err(format!("{what}: a second response ({status}) after the first")),
    }
}

/// Runs clients of `kind` one after another until `end`, adding what they saw to `tally`.
async fn worker(kind: Kind, address: SocketAddr, seed: u64, end: Instant, rate: u64, tally: Arc<Mutex<Vec<Tally>>>) {
    let mut rng = Rng::new(seed);
    let cases = bad_requests();
    let timeout = match kind {
        Kind::SlowReader => RUN_TIMEOUT + Duration::from_secs(BIG / rate),
        _ => RUN_TIMEOUT,
    };
    while Instant::now() < end {
        let run = async {
            match kind {
                Kind::Pipelined => pipelined(address, &mut rng).await,
                Kind::AbortRequest => abort_request(address, &mut rng).await,
                Kind::AbortResponse => abort_response(address, &mut rng).await,
                Kind::SlowReader => slow_reader(address, rate).await,
                Kind::HalfClose => half_close(address, &mut rng).await,
                Kind::BadRequest => bad_request(address, &mut rng, &cases).await,
            }
        };
        let outcome = match tokio::time::timeout(timeout, run).await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!("no end within {timeout:?}")),
        };
        {
            let mut tallies = tally.lock().unwrap_or_else(|p| p.into_inner());
            let t = &mut tallies[Kind::ALL.iter().position(|k| *k == kind).unwrap_or(0)];
            t.runs += 1;
            match outcome {
                Ok(()) => t.ok += 1,
                Err(e) => {
                    t.unexpected += 1;
                    if t.examples.len() < KEPT {
                        t.examples.push(e);
                    }
                }
            }
        }
        // A breath between runs, so that these clients abuse rather than flood: wrk floods.
        tokio::time::sleep(Duration::from_millis(5 + rng.below(20))).await;
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let options = match parse_args_from(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("soak_clients: {e}");
            std::process::exit(2);
        }
    };
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, options.port));
    let end = Instant::now() + Duration::from_secs(options.seconds);
    let tally = Arc::new(Mutex::new(Kind::ALL.iter().map(|_| Tally::default()).collect::<Vec<_>>()));
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64);
    let mut workers = tokio::task::JoinSet::new();
    for (k, kind) in options.kinds.iter().copied().enumerate() {
        for w in 0..options.workers {
            let seed = seed ^ ((k * 1000 + w) as u64);
            workers.spawn(worker(kind, address, seed, end, options.slow_rate, tally.clone()));
        }
    }
    while workers.join_next().await.is_some() {}
    let tallies = tally.lock().unwrap_or_else(|p| p.into_inner());
    for (kind, t) in Kind::ALL.iter().zip(tallies.iter()).filter(|(kind, _)| options.kinds.contains(kind)) {
        println!("SOAK_CLIENTS kind={} runs={} ok={} unexpected={}", kind.name(), t.runs, t.ok, t.unexpected);
        for example in &t.examples {
            eprintln!("soak_clients: {}: {example}", kind.name());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_needs_a_port_and_takes_the_rest() {
        let args = |line: &str| parse_args_from(line.split_whitespace().map(str::to_owned));
        assert!(args("").is_err());
        let o = args("--port 8082 --seconds 5 --workers 3 --slow-rate 1000").unwrap();
        assert_eq!((o.port, o.seconds, o.workers, o.slow_rate), (8082, 5, 3, 1000));
        assert!(args("--port 8082 --slow-rate 0").is_err());
        assert!(args("--port x").unwrap_err().contains("--port: `x` is not a port number"));
        assert_eq!(args("--port 1").unwrap().kinds, Kind::ALL);
        assert_eq!(args("--port 1 --only half_close,pipelined").unwrap().kinds, [Kind::HalfClose, Kind::Pipelined]);
        assert!(args("--port 1 --only nope").unwrap_err().contains("`nope` is not a kind of client"));
    }

    #[test]
    fn the_generator_stays_below_its_bound() {
        let mut rng = Rng::new(7);
        assert!((0..1000).all(|_| rng.below(5) < 5));
    }
}
