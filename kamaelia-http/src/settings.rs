//! [`HttpSettings`]: the limits and timeouts of the HTTP server, each with a default.

use std::time::Duration;

/// The longest request target (the URI on the request line) accepted: 8 KiB. Longer gets a
/// 414 URI Too Long, and the connection closes.
pub const DEFAULT_MAX_TARGET_LENGTH: usize = 8 * 1024;

/// The largest request head (request line and header fields, with their line ends) accepted:
/// 16 KiB. Larger gets a 431 Request Header Fields Too Large, and the connection closes.
pub const DEFAULT_MAX_HEAD_BYTES: usize = 16 * 1024;

/// The most header fields in one request: 100. More gets a 431, and the connection closes.
pub const DEFAULT_MAX_HEADERS: usize = 100;

/// The largest request body accepted: 8 MiB. A `Content-Length` above it gets a 413 Content Too
/// Large before any of the body is read; a chunked body that grows past it gets a 413 when it
/// does (or, if the response has begun, the connection is closed).
pub const DEFAULT_MAX_BODY: u64 = 8 * 1024 * 1024;

/// How long a connection may wait, idle, for its next request: 15 s, counted from the end of the
/// previous response (when its last byte was handed to the kernel), or from the connection's
/// start. While a response is being made or sent the connection is not idle, however long that
/// takes (a slow client is bounded by the socket's send timeout instead). Then it is closed.
pub const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(15);

/// How long a client may take to send a whole request head once it has begun: 30 s. Then it
/// gets a 408 Request Timeout, and the connection closes (a slowloris defence).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a request body may go without a byte arriving: 30 s. Then the request is abandoned
/// with a 408 Request Timeout (or, if its response has begun, the connection is closed): a client
/// cannot hold a connection by sending a body slowly, one byte per timeout at most.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How many requests one connection may make: 10,000. After that the response to the last one
/// says `Connection: close`.
pub const DEFAULT_MAX_REQUESTS_PER_CONNECTION: usize = 10_000;

/// How long a connection keeps its handler host while it waits for its next request: 100 ms.
/// Requests that follow each other closer than this (a browser fetching a page's parts, a busy
/// API client) have their handlers run by the host, whose boxes stay linked, instead of a new
/// component each, and the connection keeps its write buffer and its request queue's room from
/// one request to the next (whatever the kind of handler); a connection idle for longer (from
/// one to two times this) keeps no host and no buffer (about 1.6 KB and 2 KiB less per idle
/// connection). See [`Handler`](crate::Handler).
pub const DEFAULT_HANDLER_HOST_IDLE: Duration = Duration::from_millis(100);

/// How many bytes of responses a connection may have handed to its socket and not yet written
/// before it waits for them to be written: 16 KiB. Responses to a client that pipelines requests
/// and reads slowly, or not at all, are made no faster than it reads them, so what waits for it
/// in memory stays about this size (plus the last piece handed over, such as a file of up to
/// 64 KiB read whole); the requests behind wait, unread, in the kernel. A file region (sent with
/// `sendfile`) is always waited for, whatever its size, so that a connection holds at most one
/// open file.
pub const DEFAULT_WRITE_BEHIND: usize = 16 * 1024;

/// The `Server` field sent with every response.
pub const DEFAULT_SERVER_NAME: &str = concat!("Kamaelia-rs/", env!("CARGO_PKG_VERSION"));

/// The limits and timeouts of one HTTP connection. [`Default`] gives the `DEFAULT_*` values of
/// this module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// The longest request target ([`DEFAULT_MAX_TARGET_LENGTH`]); past it, 414.
    pub max_target_length: usize,
    /// The largest request head ([`DEFAULT_MAX_HEAD_BYTES`]); past it, 431.
    pub max_head_bytes: usize,
    /// The most header fields ([`DEFAULT_MAX_HEADERS`]); past it, 431.
    pub max_headers: usize,
    /// The largest request body ([`DEFAULT_MAX_BODY`]); past it, 413.
    pub max_body: u64,
    /// How long an idle connection waits for a request ([`DEFAULT_KEEP_ALIVE_TIMEOUT`]).
    pub keep_alive_timeout: Duration,
    /// How long a request head may take to arrive ([`DEFAULT_HEADER_READ_TIMEOUT`]); past it, 408.
    pub header_read_timeout: Duration,
    /// How long a body may stall ([`DEFAULT_BODY_READ_TIMEOUT`]); past it, 408.
    pub body_read_timeout: Duration,
    /// Requests per connection ([`DEFAULT_MAX_REQUESTS_PER_CONNECTION`]).
    pub max_requests_per_connection: usize,
    /// The `Server` field's value ([`DEFAULT_SERVER_NAME`]).
    pub server_name: String,
    /// How long a connection keeps its handler host and its buffers while idle
    /// ([`DEFAULT_HANDLER_HOST_IDLE`]); `None` (or zero): no host, every request's handler is a
    /// component of its own (as in Kamaelia), and the buffers go after each response.
    pub handler_host_idle: Option<Duration>,
    /// Bytes of responses handed to the socket and not yet written before the connection waits
    /// for them ([`DEFAULT_WRITE_BEHIND`]); 0 waits for each flush to be written.
    pub write_behind: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            max_target_length: DEFAULT_MAX_TARGET_LENGTH,
            max_head_bytes: DEFAULT_MAX_HEAD_BYTES,
            max_headers: DEFAULT_MAX_HEADERS,
            max_body: DEFAULT_MAX_BODY,
            keep_alive_timeout: DEFAULT_KEEP_ALIVE_TIMEOUT,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            max_requests_per_connection: DEFAULT_MAX_REQUESTS_PER_CONNECTION,
            server_name: DEFAULT_SERVER_NAME.to_owned(),
            handler_host_idle: Some(DEFAULT_HANDLER_HOST_IDLE),
            write_behind: DEFAULT_WRITE_BEHIND,
        }
    }
}
