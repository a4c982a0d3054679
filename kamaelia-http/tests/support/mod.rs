//! Shared by the end-to-end tests: an HTTP server on a real socket ([`serve`]), a raw client
//! whose every read has a deadline ([`Client`]), `curl` as a second real client ([`curl`]), and
//! small handlers written with `from_fn`.
//!
//! Each test runs on its own tokio runtime (`#[tokio::test(flavor = "multi_thread",
//! worker_threads = 2)]`) with its own [`Scheduler`], so the scheduler's live-component count
//! belongs to that test alone. Nothing here sleeps to let things settle: waits are on conditions,
//! each bounded by [`DEADLINE`], and a failure says what was expected and what arrived.
#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use axon_core::ipc::ProducerFinished;
use axon_core::{from_fn, ComponentRef, Context, Scheduler};
use kamaelia_chassis::{ConnectionInfo, ServerCore, ServerHandle, ServerSettings};
use kamaelia_http::http_server::shared_factory;
use kamaelia_http::request_handler::CreateRequestHandler;
use kamaelia_http::{request_handlers, Bytes, Factory, HTTPServer, HttpSettings, Request, Resource, ResponseHead};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

/// How long any one wait may take before the test fails. Generous, because the suite also runs
/// on a loaded machine; a passing test never waits this long.
pub const DEADLINE: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

/// An HTTP server serving on `127.0.0.1:<ephemeral port>` for one test. Dropping it shuts the
/// server down and waits (up to [`DEADLINE`]) for it to end.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The scheduler it runs on (its own: `live()` counts this server's components only).
    pub scheduler: Scheduler,
    /// Stops and watches the server.
    pub handle: ServerHandle,
    /// The server component.
    pub server: ComponentRef,
    stopped: bool,
    _watchdog: Watchdog,
}

/// How long one test may run before its [`Watchdog`] ends the process.
pub const TEST_LIMIT: Duration = Duration::from_secs(60);

/// Ends the test process if the test outlives [`TEST_LIMIT`]. The deadlines of [`within`] and
/// [`Client`] are tokio timers, which cannot fire if a component starves the runtime's workers
/// (a busy loop that never yields); this runs on a thread of its own, so a hung test fails
/// instead of hanging the suite. Dropping it (with the [`TestServer`]) disarms it.
#[derive(Debug)]
pub struct Watchdog {
    _disarm: std::sync::mpsc::Sender<()>,
}

impl Watchdog {
    /// Arms a watchdog for the current test.
    pub fn arm() -> Watchdog {
        let (disarm, armed) = std::sync::mpsc::channel::<()>();
        let test = std::thread::current().name().unwrap_or("a test").to_owned();
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = armed.recv_timeout(TEST_LIMIT) {
                // Straight to the file descriptor: the test harness's capture would be lost.
                use std::io::Write as _;
                let _ = writeln!(
                    std::io::stderr(),
                    "WATCHDOG: {test} still running after {TEST_LIMIT:?}: the runtime is starved or a wait has \
                     no deadline; ending the test process"
                );
                std::process::exit(101);
            }
        });
        Watchdog { _disarm: disarm }
    }
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer").field("addr", &self.addr).finish_non_exhaustive()
    }
}

/// Serves `routes` (first matching prefix wins) with `settings`.
pub async fn serve(routes: Vec<(&'static str, Factory)>, settings: HttpSettings) -> TestServer {
    serve_create(shared_factory(request_handlers(routes)), settings).await
}

/// Serves `routes` with default settings.
pub async fn serve_routes(routes: Vec<(&'static str, Factory)>) -> TestServer {
    serve(routes, HttpSettings::default()).await
}

/// Serves with `create` as the `create_request_handler` (no router), with `settings`.
pub async fn serve_create(create: CreateRequestHandler, settings: HttpSettings) -> TestServer {
    // RUST_LOG=debug shows what the server did (captured with the test's output).
    let _ = env_logger::builder().is_test(true).try_init();
    let settings = Arc::new(settings);
    let protocol =
        move |connection: &ConnectionInfo| HTTPServer::with_settings(connection, create.clone(), settings.clone());
    let server = ServerCore {
        // A connection still open when the test ends must not hold the test for long.
        settings: ServerSettings { shutdown_grace: Duration::from_secs(2), ..ServerSettings::default() },
        ..ServerCore::new(protocol, 0)
    };
    let watchdog = Watchdog::arm();
    let bound = server.bind().await.unwrap_or_else(|e| panic!("the test server cannot bind: {e}"));
    let addr = bound.local_addr();
    let handle = bound.handle();
    // As the web server runs by default: a runtime on each of two threads, each connection kept
    // on one (`KAMAELIA_TEST_RUNTIME=shared` runs these tests on one shared runtime instead).
    let scheduler = match std::env::var("KAMAELIA_TEST_RUNTIME").as_deref() {
        Ok("shared") => Scheduler::new(),
        _ => Scheduler::per_thread(2),
    };
    let server = scheduler.activate(bound);
    TestServer { addr, scheduler, handle, server, stopped: false, _watchdog: watchdog }
}

impl TestServer {
    /// A raw client connected to the server.
    pub async fn connect(&self) -> Client {
        Client::connect(self.addr).await
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Waits until only the server component is running: every connection's components (the
    /// socket adapter, the HTTPServer Graphline, its parser, request handler and shutdown logic,
    /// and any request handler) have ended.
    pub async fn wait_idle(&self, what: &str) {
        let scheduler = self.scheduler.clone();
        let handle = self.handle.clone();
        let idle = tokio::time::timeout(DEADLINE, async {
            while !(scheduler.live() == 1 && handle.stats().open == 0) {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
        .await;
        if idle.is_err() {
            panic!(
                "timed out after {DEADLINE:?} waiting until {what}; {} live, {:?}; still there:\n{}",
                scheduler.live(),
                handle.stats(),
                self.describe_components()
            );
        }
    }

    /// Every component the scheduler knows, with its state and boxes' depths: what a failure
    /// shows.
    pub fn describe_components(&self) -> String {
        let snapshot = self.scheduler.introspect();
        snapshot
            .components
            .iter()
            .map(|c| {
                let boxes: Vec<String> =
                    c.boxes.iter().filter(|b| b.depth > 0).map(|b| format!("{}={}", b.name, b.depth)).collect();
                format!(
                    "  {} {:?} parent={:?} children={:?} queued=[{}]",
                    c.name,
                    c.state,
                    c.parent,
                    c.children,
                    boxes.join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Shuts the server down and checks that everything it ran has ended.
    pub async fn stop(mut self) {
        self.stopped = true;
        self.handle.shutdown();
        within("the server to end after shutdown", self.server.join()).await;
        let scheduler = self.scheduler.clone();
        wait_until("no component is left after shutdown", || scheduler.live() == 0).await;
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.handle.shutdown();
        if self.stopped || std::thread::panicking() {
            return;
        }
        // Join, so that the next test does not start while this server still runs. Possible
        // only on a multi-thread runtime (every test here uses one).
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let server = self.server.clone();
            let joined =
                tokio::task::block_in_place(|| runtime.block_on(tokio::time::timeout(DEADLINE, server.join())));
            if joined.is_err() {
                log::warn!("the test server did not end within {DEADLINE:?} of its shutdown");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Waiting
// ---------------------------------------------------------------------------------------------

/// Waits until `cond` holds, checking every 2 ms, and fails the test at [`DEADLINE`].
pub async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let waited = tokio::time::timeout(DEADLINE, async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "timed out after {DEADLINE:?} waiting until {what}");
}

/// Runs `fut`, failing the test with `what` if it takes longer than [`DEADLINE`].
pub async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(DEADLINE, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {DEADLINE:?} waiting for {what}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The raw client
// ---------------------------------------------------------------------------------------------

/// How a response's body was delimited, as the client saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body may follow (HEAD, 1xx, 204, 304).
    NoBody,
    /// `Content-Length: n`.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Neither: the body ran to the end of the connection.
    Close,
}

/// One response, as read off the socket.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status line's version, e.g. `HTTP/1.1`.
    pub version: String,
    /// The status code.
    pub status: u16,
    /// The reason phrase.
    pub reason: String,
    /// Every header field in order; names lowercased, values with surrounding spaces trimmed.
    pub headers: Vec<(String, String)>,
    /// The trailer fields of a chunked body, if any (names lowercased).
    pub trailers: Vec<(String, String)>,
    /// The body, de-framed.
    pub body: Vec<u8>,
    /// The bytes of the whole response exactly as they arrived.
    pub raw: Vec<u8>,
    /// How the body was delimited.
    pub framing: Framing,
}

impl Response {
    /// The value of the first field called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    /// Every value of the fields called `name`.
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().filter(|(n, _)| *n == name).map(|(_, v)| v.as_str()).collect()
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The raw head (status line and fields, with the empty line) as text.
    pub fn head_text(&self) -> String {
        let end = find(&self.raw, b"\r\n\r\n").map_or(self.raw.len(), |i| i + 4);
        String::from_utf8_lossy(&self.raw[..end]).into_owned()
    }

    /// Asserts the status, showing the whole response if it differs.
    #[track_caller]
    pub fn assert_status(&self, status: u16) {
        assert_eq!(self.status, status, "expected status {status}; the response was:\n{}", shown(&self.raw));
    }

    /// Asserts that the field `name` is `value`.
    #[track_caller]
    pub fn assert_header(&self, name: &str, value: &str) {
        assert_eq!(
            self.header(name),
            Some(value),
            "expected field {name}: {value}; the head was:\n{}",
            self.head_text()
        );
    }

    /// Asserts `Date` (an IMF-fixdate within a day of now) and `Server` are present: every
    /// response has them.
    #[track_caller]
    pub fn assert_date_and_server(&self) {
        let date = self.header("date").unwrap_or_else(|| panic!("no Date field in:\n{}", self.head_text()));
        assert_eq!(date.len(), 29, "Date is not an IMF-fixdate: {date:?}");
        assert!(date.ends_with(" GMT"), "Date is not an IMF-fixdate: {date:?}");
        let when = httpdate::parse_http_date(date).unwrap_or_else(|e| panic!("Date {date:?} does not parse: {e}"));
        assert_eq!(httpdate::fmt_http_date(when), date, "Date {date:?} is not in IMF-fixdate form");
        let age = std::time::SystemTime::now().duration_since(when).unwrap_or_default();
        assert!(age < Duration::from_secs(86_400), "Date {date:?} is far from now");
        let server = self.header("server").unwrap_or_else(|| panic!("no Server field in:\n{}", self.head_text()));
        assert!(!server.is_empty(), "an empty Server field");
    }
}

/// At most 2 KiB of `bytes`, escaped, for failure messages.
pub fn shown(bytes: &[u8]) -> String {
    if bytes.len() > 2048 {
        format!("{}... ({} bytes in all)", bytes[..2048].escape_ascii(), bytes.len())
    } else {
        format!("{}", bytes.escape_ascii())
    }
}

/// The position of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A raw HTTP client on one TCP connection. Every read has a deadline of [`DEADLINE`]; bytes
/// read past the end of a response are kept for the next one (so pipelined responses can be
/// read one by one). The reading side is a [`Reader`] (reachable through `Deref`), so that a test
/// can write and read at once ([`Client::send_and_read`]).
#[derive(Debug)]
pub struct Client {
    /// The reading side.
    pub reader: Reader,
    writer: OwnedWriteHalf,
}

/// The reading side of a [`Client`].
#[derive(Debug)]
pub struct Reader {
    half: OwnedReadHalf,
    /// Bytes read and not yet consumed.
    buf: Vec<u8>,
    /// The server closed its side.
    eof: bool,
    /// How many bytes one read takes (smaller makes a slow reader).
    read_size: usize,
}

impl std::ops::Deref for Client {
    type Target = Reader;
    fn deref(&self) -> &Reader {
        &self.reader
    }
}

impl std::ops::DerefMut for Client {
    fn deref_mut(&mut self) -> &mut Reader {
        &mut self.reader
    }
}

/// Why a response could not be read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incomplete {
    /// What was missing.
    pub what: String,
    /// What arrived.
    pub received: Vec<u8>,
}

impl Client {
    fn new(stream: TcpStream, read_size: usize) -> Client {
        let (half, writer) = stream.into_split();
        Client { reader: Reader { half, buf: Vec::new(), eof: false, read_size }, writer }
    }

    /// Connects to `addr`.
    pub async fn connect(addr: SocketAddr) -> Client {
        let stream = within("the connection", TcpStream::connect(addr))
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
        stream.set_nodelay(true).expect("TCP_NODELAY");
        Client::new(stream, 64 * 1024)
    }

    /// Connects with a small receive buffer, reading `read_size` bytes at a time: a client that
    /// reads slowly, so the server finds the socket full and must wait.
    pub async fn connect_slow(addr: SocketAddr, read_size: usize) -> Client {
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
        let stream = within("the connection", socket.connect(addr))
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
        Client::new(stream, read_size)
    }

    /// Writes `bytes`.
    pub async fn send(&mut self, bytes: impl AsRef<[u8]>) {
        let bytes = bytes.as_ref();
        within("a write to the server", self.writer.write_all(bytes))
            .await
            .unwrap_or_else(|e| panic!("cannot send {}: {e}", shown(bytes)));
    }

    /// Writes `bytes`, reporting (rather than failing on) an error: for writes the server may
    /// have stopped reading.
    pub async fn try_send(&mut self, bytes: impl AsRef<[u8]>) -> std::io::Result<()> {
        within("a write to the server", self.writer.write_all(bytes.as_ref())).await
    }

    /// Writes `bytes` while reading the response to `method`: for bodies larger than the
    /// socket buffers, whose echo comes back while they are still being sent.
    pub async fn send_and_read(&mut self, bytes: &[u8], method: &str) -> Response {
        let Client { reader, writer } = self;
        let write = async {
            within("a write to the server", writer.write_all(bytes))
                .await
                .unwrap_or_else(|e| panic!("cannot send {} bytes: {e}", bytes.len()));
        };
        let ((), response) = tokio::join!(write, reader.response_to(method));
        response
    }

    /// Drops the connection with a reset (RST, `SO_LINGER` 0) rather than a FIN: a client
    /// that vanishes, which the server cannot mistake for a half-close.
    pub fn reset(self) {
        let Client { reader, writer } = self;
        let stream = reader.half.reunite(writer).expect("the two halves of one stream");
        stream.set_zero_linger().expect("SO_LINGER 0");
        drop(stream);
    }

    /// Closes the sending side (a half-close).
    pub async fn shutdown_write(&mut self) {
        within("a half-close", self.writer.shutdown()).await.expect("shutdown(SHUT_WR)");
    }

    /// Proves the connection still serves: sends `request` (a GET or any method but HEAD) on it
    /// and reads the whole answer, which a connection the server has closed cannot give. (Only an
    /// answer proves it: a read that finds nothing yet says nothing of a close still on its way.)
    pub async fn still_answers(&mut self, request: impl AsRef<[u8]>) -> Response {
        let request = request.as_ref();
        within("a write to the server", self.writer.write_all(request))
            .await
            .unwrap_or_else(|e| panic!("the connection no longer takes a request ({e}): {}", shown(request)));
        match self.reader.try_response_to("GET").await {
            Ok(response) => response,
            Err(e) => panic!("the connection did not answer another request: {}: \"{}\"", e.what, shown(&e.received)),
        }
    }
}

impl Reader {
    /// Reads more bytes into `buf`; `false` at the end of the stream (or a reset). Fails the test
    /// if nothing arrives within [`DEADLINE`], saying that `expecting` was expected.
    async fn fill(&mut self, expecting: &str) -> bool {
        if self.eof {
            return false;
        }
        let mut chunk = vec![0u8; self.read_size];
        match tokio::time::timeout(DEADLINE, self.half.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                self.eof = true;
                false
            }
            Ok(Ok(n)) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Err(_) => panic!(
                "timed out after {DEADLINE:?} waiting for {expecting}; unconsumed bytes so far: \"{}\"",
                shown(&self.buf)
            ),
        }
    }

    /// Takes `n` bytes (failing the test if the connection ends first).
    pub async fn read_exact(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            if !self.fill(&format!("{n} bytes")).await {
                panic!(
                    "the connection closed after {} of {n} expected bytes: \"{}\"",
                    self.buf.len(),
                    shown(&self.buf)
                );
            }
        }
        self.buf.drain(..n).collect()
    }

    /// Takes everything up to and including the first `needle` (failing the test if the
    /// connection ends first).
    pub async fn read_until(&mut self, needle: &[u8]) -> Vec<u8> {
        loop {
            if let Some(i) = find(&self.buf, needle) {
                return self.buf.drain(..i + needle.len()).collect();
            }
            if !self.fill(&format!("\"{}\"", needle.escape_ascii())).await {
                panic!(
                    "the connection closed before \"{}\" arrived; what arrived: \"{}\"",
                    needle.escape_ascii(),
                    shown(&self.buf)
                );
            }
        }
    }

    /// Takes whatever arrives next (at least one byte; empty at the end of the stream).
    pub async fn read_some(&mut self) -> Vec<u8> {
        if self.buf.is_empty() {
            self.fill("some bytes").await;
        }
        std::mem::take(&mut self.buf)
    }

    /// Reads one response to a request with `method` (`HEAD` responses have no body).
    pub async fn response_to(&mut self, method: &str) -> Response {
        match self.try_response_to(method).await {
            Ok(r) => r,
            Err(e) => panic!("expected a whole response; {}: \"{}\"", e.what, shown(&e.received)),
        }
    }

    /// Reads one response to a GET (or any method but HEAD).
    pub async fn response(&mut self) -> Response {
        self.response_to("GET").await
    }

    /// Reads one response, or says what was missing when the connection ended first.
    pub async fn try_response_to(&mut self, method: &str) -> Result<Response, Incomplete> {
        let mut raw = Vec::new();
        // The head.
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            if !self.fill("a response head").await {
                return Err(Incomplete {
                    what: "the connection closed before a whole response head".to_owned(),
                    received: std::mem::take(&mut self.buf),
                });
            }
        };
        raw.extend(self.buf.drain(..head_end));
        let (version, status, reason, headers) = parse_head(&raw);
        let no_body = method == "HEAD" || (100..200).contains(&status) || status == 204 || status == 304;
        let chunked =
            headers.iter().any(|(n, v)| n == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked"));
        let length = headers.iter().find(|(n, _)| n == "content-length").map(|(_, v)| {
            v.parse::<usize>().unwrap_or_else(|_| panic!("Content-Length {v:?} is not a number, in:\n{}", shown(&raw)))
        });
        let mut response = Response {
            version,
            status,
            reason,
            headers,
            trailers: Vec::new(),
            body: Vec::new(),
            raw,
            framing: Framing::NoBody,
        };
        if no_body {
            return Ok(response);
        }
        if chunked {
            response.framing = Framing::Chunked;
            self.read_chunked(&mut response).await?;
        } else if let Some(n) = length {
            response.framing = Framing::Length(n);
            while self.buf.len() < n {
                if !self.fill(&format!("a body of {n} bytes")).await {
                    response.raw.append(&mut self.buf);
                    return Err(Incomplete {
                        what: format!("the connection closed before the {n}-byte body was complete"),
                        received: response.raw,
                    });
                }
            }
            response.body = self.buf.drain(..n).collect();
            response.raw.extend_from_slice(&response.body);
        } else {
            response.framing = Framing::Close;
            while self.fill("a close-delimited body (or the end of the connection)").await {}
            response.body = std::mem::take(&mut self.buf);
            response.raw.extend_from_slice(&response.body);
        }
        Ok(response)
    }

    /// Takes one line (with its CRLF) of a chunked body.
    async fn chunk_line(&mut self, response: &mut Response) -> Result<Vec<u8>, Incomplete> {
        loop {
            if let Some(i) = find(&self.buf, b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..i + 2).collect();
                response.raw.extend_from_slice(&line);
                return Ok(line[..i].to_vec());
            }
            if !self.fill("a line of a chunked body").await {
                response.raw.append(&mut self.buf);
                return Err(Incomplete {
                    what: "the connection closed in the middle of a chunked body".to_owned(),
                    received: response.raw.clone(),
                });
            }
        }
    }

    async fn read_chunked(&mut self, response: &mut Response) -> Result<(), Incomplete> {
        loop {
            let line = self.chunk_line(response).await?;
            let size_text = line.split(|&b| b == b';').next().unwrap_or_default();
            let size_text = std::str::from_utf8(size_text).unwrap_or("");
            let size = usize::from_str_radix(size_text.trim(), 16).unwrap_or_else(|_| {
                panic!("invalid chunk size line \"{}\" in:\n{}", shown(&line), shown(&response.raw))
            });
            if size == 0 {
                loop {
                    let trailer = self.chunk_line(response).await?;
                    if trailer.is_empty() {
                        return Ok(());
                    }
                    let text = String::from_utf8_lossy(&trailer);
                    let (name, value) = text.split_once(':').unwrap_or_else(|| panic!("invalid trailer {text:?}"));
                    response.trailers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
                }
            }
            while self.buf.len() < size + 2 {
                if !self.fill(&format!("a chunk of {size} bytes")).await {
                    response.raw.append(&mut self.buf);
                    return Err(Incomplete {
                        what: format!("the connection closed in the middle of a {size}-byte chunk"),
                        received: response.raw.clone(),
                    });
                }
            }
            let data: Vec<u8> = self.buf.drain(..size).collect();
            let crlf: Vec<u8> = self.buf.drain(..2).collect();
            assert_eq!(crlf, b"\r\n", "a chunk not followed by CRLF in:\n{}", shown(&response.raw));
            response.raw.extend_from_slice(&data);
            response.raw.extend_from_slice(&crlf);
            response.body.extend_from_slice(&data);
        }
    }

    /// Reads everything until the server closes the connection.
    pub async fn read_to_eof(&mut self) -> Vec<u8> {
        while self.fill("the end of the connection").await {}
        std::mem::take(&mut self.buf)
    }

    /// Asserts that the server closes the connection (within [`DEADLINE`]) without sending
    /// anything more.
    #[track_caller]
    pub fn assert_closed(&mut self) -> impl Future<Output = ()> + '_ {
        let caller = std::panic::Location::caller();
        async move {
            let rest = self.read_to_eof().await;
            assert!(
                rest.is_empty(),
                "expected the server to close the connection ({caller}); instead it sent \"{}\"",
                shown(&rest)
            );
        }
    }
}

/// Parses a response head strictly: CRLF line ends, `HTTP/1.1 <3 digits> <reason>`,
/// `name: value` fields.
fn parse_head(raw: &[u8]) -> (String, u16, String, Vec<(String, String)>) {
    let text = std::str::from_utf8(raw).unwrap_or_else(|_| panic!("a response head that is not UTF-8: {}", shown(raw)));
    let body = text.strip_suffix("\r\n\r\n").expect("the head ends with an empty line");
    let mut lines = body.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    assert!(!text.replace("\r\n", "").contains('\n'), "a bare LF in the response head: {}", shown(raw));
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default().to_owned();
    let code = parts.next().unwrap_or_default();
    let reason = parts.next().unwrap_or_else(|| panic!("no space after the status code in {status_line:?}")).to_owned();
    assert!(version.starts_with("HTTP/1."), "not an HTTP/1.x status line: {status_line:?}");
    assert_eq!(code.len(), 3, "not a 3-digit status in {status_line:?}");
    let status = code.parse().unwrap_or_else(|_| panic!("not a status code in {status_line:?}"));
    let headers = lines
        .map(|line| {
            let (name, value) =
                line.split_once(':').unwrap_or_else(|| panic!("a field line without a colon: {line:?}"));
            assert!(!name.is_empty() && !name.contains(' '), "an invalid field name in {line:?}");
            (name.to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect();
    (version, status, reason, headers)
}

/// One request and its response on a fresh connection.
pub async fn exchange(addr: SocketAddr, request: impl AsRef<[u8]>) -> Response {
    let request = request.as_ref();
    let method = request.split(|&b| b == b' ').next().unwrap_or_default();
    let method = String::from_utf8_lossy(method).into_owned();
    let mut client = Client::connect(addr).await;
    client.send(request).await;
    client.response_to(&method).await
}

/// `GET <path>` on HTTP/1.1 with `Host` and `Connection: close`, on a fresh connection.
pub async fn get(addr: SocketAddr, path: &str) -> Response {
    exchange(addr, format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")).await
}

// ---------------------------------------------------------------------------------------------
// curl
// ---------------------------------------------------------------------------------------------

/// Runs `curl -sS --max-time 10 <args>` and returns what it wrote. Fails the test if curl cannot
/// be run (CI installs it).
pub async fn curl(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("curl").args(["-sS", "--max-time", &DEADLINE.as_secs().to_string()]).args(&args).output()
    })
    .await
    .expect("the curl thread")
    .unwrap_or_else(|e| panic!("cannot run curl (is it installed?): {e}"));
    output
}

/// Runs curl and asserts it succeeded; returns its stdout.
pub async fn curl_ok(args: &[&str]) -> Vec<u8> {
    let output = curl(args).await;
    assert!(
        output.status.success(),
        "curl {args:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

// ---------------------------------------------------------------------------------------------
// Small handlers
// ---------------------------------------------------------------------------------------------

/// A handler answering `status` with `body` (framed by its length when `with_length`).
pub fn fixed(status: u16, content_type: &'static str, body: &'static [u8], with_length: bool) -> Factory {
    kamaelia_http::factory(move |_request: Request| {
        from_fn("Fixed", move |mut ctx: Context<Bytes, Resource>| async move {
            let mut head =
                ResponseHead::new(http::StatusCode::from_u16(status).expect("a status")).content_type(content_type);
            if with_length {
                head = head.length(body.len() as u64);
            }
            ctx.outbox.send(head.into()).await;
            ctx.outbox.send(Resource::Data(Bytes::from_static(body))).await;
            ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
            Ok(())
        })
    })
}

/// A handler answering 200 with the request's method and path as `text/plain`, by length:
/// tells which request a response belongs to.
pub fn describe() -> Factory {
    kamaelia_http::factory(|request: Request| {
        let text = format!("{} {}", request.method, request.raw_uri);
        from_fn("Describe", move |mut ctx: Context<Bytes, Resource>| async move {
            let head = ResponseHead::new(http::StatusCode::OK).content_type("text/plain").length(text.len() as u64);
            ctx.outbox.send(head.into()).await;
            ctx.outbox.send(Resource::Data(Bytes::from(text))).await;
            ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
            Ok(())
        })
    })
}

/// The route list `[("/", describe())]`.
pub fn describe_everything() -> Vec<(&'static str, Factory)> {
    vec![("/", describe())]
}

/// A request line and `Host`, with `extra` fields, then the empty line.
pub fn request(method: &str, target: &str, extra: &str) -> String {
    format!("{method} {target} HTTP/1.1\r\nHost: test\r\n{extra}\r\n")
}

/// A handler that reads the whole request body first, then answers 200 with it (framed by its
/// length, `text/plain`): unlike `BodyEcho` it sends nothing before the body is complete, so a
/// broken body can still be answered with an error page.
pub fn buffered_echo() -> Factory {
    kamaelia_http::factory(|_request: Request| {
        from_fn("BufferedEcho", |mut ctx: Context<Bytes, Resource>| async move {
            let mut body = Vec::new();
            while let Some(event) = ctx.next_event().await {
                match event {
                    axon_core::Event::Data(piece) => body.extend_from_slice(&piece),
                    axon_core::Event::Control(_) => {
                        for piece in ctx.inbox.drain().collect::<Vec<_>>() {
                            body.extend_from_slice(&piece);
                        }
                        break;
                    }
                }
            }
            let head = ResponseHead::new(http::StatusCode::OK).content_type("text/plain").length(body.len() as u64);
            ctx.outbox.send(head.into()).await;
            ctx.outbox.send(Resource::Data(Bytes::from(body))).await;
            ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
            Ok(())
        })
    })
}

/// The `BodyEcho` handler, as a route factory.
pub fn body_echo() -> Factory {
    kamaelia_http::factory(kamaelia_http::BodyEcho::new)
}
