//! [`HTTPParser`]: bytes from the client in, requests out (Kamaelia's `HTTPParser`).
//!
//! # Example
//!
//! Two pipelined requests, parsed from the bytes a client sent (driven by hand, as a test would;
//! in a server the parser is the `PARSER` of an [`HTTPServer`](crate::HTTPServer)):
//!
//! ```
//! use axon_core::{Handle, Scheduler};
//! use kamaelia_http::{Bytes, HTTPParser, HttpSettings, Parsed};
//!
//! let scheduler = Scheduler::new();
//! let mut parser = Handle::new(HTTPParser::new(HttpSettings::default(), None, None), &scheduler);
//! parser.send_blocking(Bytes::from_static(
//!     b"GET /hello HTTP/1.1\r\nHost: example.com\r\n\r\nPOST /echo HTTP/1.1\r\nHost: example.com\r\nContent-Length: 2\r\n\r\nhi",
//! ));
//! let Some(Parsed::Head(first)) = parser.recv_blocking() else { panic!("a head") };
//! assert_eq!((first.method.as_str(), first.path.as_str()), ("GET", "/hello"));
//! assert_eq!(parser.recv_blocking(), Some(Parsed::End));
//! let Some(Parsed::Head(second)) = parser.recv_blocking() else { panic!("a head") };
//! assert_eq!(second.path, "/echo");
//! assert_eq!(parser.recv_blocking(), Some(Parsed::Body(Bytes::from_static(b"hi"))));
//! assert_eq!(parser.recv_blocking(), Some(Parsed::End));
//! ```
//!
//! # How it works
//!
//! The parser reads request after request from its `inbox` and sends each one out of its
//! `outbox` as a [`Parsed::Head`], then its body as [`Parsed::Body`] pieces, then
//! [`Parsed::End`]. It works on bytes, never on text, and holds at most one request head
//! ([`max_head_bytes`](HttpSettings::max_head_bytes)) plus what one read brought: when the
//! request handler is busy, the parser's sends wait, it stops reading, and the client is slowed
//! down by TCP (pipelined requests wait their turn in the kernel, not in memory).
//!
//! A request that cannot be served is still sent as a `Head`, with [`Request::bad`] set to the
//! status and reason (Kamaelia's `bad` flag), followed by `End`; the parser then stops, since
//! what follows a malformed request cannot be trusted. The statuses (RFC 9110, RFC 9112):
//!
//! | what | status |
//! |---|---|
//! | a malformed request line, target or field (including whitespace before a colon, control characters, obs-fold) | 400 |
//! | HTTP/1.1 without exactly one `Host`, or with two | 400 |
//! | both `Transfer-Encoding` and `Content-Length`, an invalid or conflicting `Content-Length` | 400 |
//! | a transfer coding other than `chunked` | 501 |
//! | a major version other than 1 (`HTTP/2.0` on a 1.x connection) | 505 |
//! | a request target longer than [`max_target_length`](HttpSettings::max_target_length) | 414 |
//! | a head larger than [`max_head_bytes`](HttpSettings::max_head_bytes), or more than [`max_headers`](HttpSettings::max_headers) fields | 431 |
//! | a `Content-Length` above [`max_body`](HttpSettings::max_body) (before any body is read) | 413 |
//! | an `Expect` other than `100-continue` | 417 |
//! | a head not complete within [`header_read_timeout`](HttpSettings::header_read_timeout) | 408 |
//! | a body with no byte arriving for [`body_read_timeout`](HttpSettings::body_read_timeout) | 408 (as [`Parsed::Abort`]) |
//!
//! An error inside a body (bad chunk framing, a chunked body past `max_body`, the client closing
//! mid-body) comes after the head was sent, so it is reported as [`Parsed::Abort`].
//!
//! # Porting from Kamaelia
//!
//! Differences from Kamaelia, on purpose: it loops over requests (Kamaelia's parsed one request
//! per connection and dropped pipelined ones); it works on bytes (Kamaelia's decoded UTF-8 and
//! crashed on other input); it enforces limits and timeouts (Kamaelia's buffer grew without
//! bound); a body is read for any method that has one (Kamaelia's read bodies of POST and PUT
//! only, and read a body without a length until the client closed, which hung); header fields are
//! parsed strictly and kept as a multi-map (Kamaelia's overwrote repeats and crashed on obs-fold).

use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use axon_core::ipc::{Ipc, ProducerFinished};
use axon_core::{BoxKind, Component, ComponentResult, Context, Declarations};
use bytes::{Buf, Bytes, BytesMut};
use http::header::{HeaderName, HeaderValue, CONNECTION, CONTENT_LENGTH, EXPECT, HOST, TRANSFER_ENCODING};
use http::{HeaderMap, Method, StatusCode, Version};
use tokio::time::{sleep_until, Instant, Sleep};

use crate::decode::{body_length, Decoded, Decoder};
use crate::request::{split_target, BadRequest, BodyLength, Request};
use crate::settings::HttpSettings;
use crate::shutdown::is_stop;

/// What the parser sends: the parts of each request, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A request head (Kamaelia's `ParsedHTTPHeader`). Its body, if any, follows.
    Head(Box<Request>),
    /// A piece of the body, de-chunked (Kamaelia's `ParsedHTTPBodyChunk`).
    Body(Bytes),
    /// The request is complete (Kamaelia's `ParsedHTTPEnd`).
    End,
    /// The request's body could not be read to its end; nothing follows. The status says why
    /// (400 for broken framing or a client that closed mid-body, 413 for a body past the limit).
    Abort(BadRequest),
}

/// Parses the requests of one connection, in order: see the [module docs](self) for how, and
/// for the statuses of requests that cannot be served.
///
/// # Inboxes
///
/// | box       | carries | what arrives |
/// |-----------|---------|--------------|
/// | `inbox`   | `Bytes` | Bytes from the client |
/// | `control` | `Ipc`   | `ProducerFinished`: the client has stopped sending (finish what is buffered, then end); `ShutdownMicroprocess`: stop now |
///
/// # Outboxes
///
/// | box      | carries  | what leaves |
/// |----------|----------|-------------|
/// | `outbox` | `Parsed` | Each request: `Head`, `Body`..., `End` (or `Abort`) |
/// | `signal` | `Ipc`    | `ProducerFinished` when it has stopped reading requests |
///
/// # Shutdown
///
/// It stops reading requests, sends `ProducerFinished` out of `signal` and ends: once the client
/// has stopped sending and what it sent is parsed (a request cut short is reported, as a `Head`
/// marked [`bad`](Request::bad) or an [`Abort`](Parsed::Abort)); after a request that closes the
/// connection (`Connection: close`, HTTP/1.0 without keep-alive, a bad request, the last of
/// [`max_requests_per_connection`](HttpSettings::max_requests_per_connection)) and its body; at a
/// timeout; or at once when a `ShutdownMicroprocess` arrives on `control`.
#[derive(Debug, Clone)]
pub struct HTTPParser {
    settings: Arc<HttpSettings>,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
}

impl HTTPParser {
    /// A parser with `settings`, filling in `peer` and `local` on every request.
    pub fn new(settings: HttpSettings, peer: Option<SocketAddr>, local: Option<SocketAddr>) -> Self {
        Self::with_shared_settings(Arc::new(settings), peer, local)
    }

    /// As [`new`](Self::new), with settings shared by every connection (no copy per connection).
    pub fn with_shared_settings(
        settings: Arc<HttpSettings>,
        peer: Option<SocketAddr>,
        local: Option<SocketAddr>,
    ) -> Self {
        HTTPParser { settings, peer, local }
    }
}

/// What the parser's loop waits for.
enum Input {
    Bytes(Bytes),
    /// The client has stopped sending.
    Ended,
    Stop,
    Timeout,
}

/// A complete head, or why not.
enum HeadResult {
    Complete(Box<Request>),
    Partial,
}

impl Component for HTTPParser {
    type Inbox = Bytes;
    type Outbox = Parsed;

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .describe(BoxKind::Inbox, "inbox", "Bytes from the client")
            .describe(
                BoxKind::Inbox,
                "control",
                "ProducerFinished: the client has stopped sending (finish what is buffered, then end); \
                 ShutdownMicroprocess: stop now",
            )
            .describe(BoxKind::Outbox, "outbox", "Each request: Head, Body..., End (or Abort)")
            .describe(BoxKind::Outbox, "signal", "ProducerFinished when it has stopped reading requests");
    }

    // Not `async fn`: its arguments would be stored twice in the future (once as captured, once
    // as moved into the body's locals), and the future is allocated for the connection's life.
    #[allow(clippy::manual_async_fn)]
    fn main(self, mut ctx: Context<Bytes, Parsed>) -> impl std::future::Future<Output = ComponentResult> + Send {
        async move {
            let settings = &self.settings;
            let mut buf = BytesMut::new();
            let mut input_ended = false;
            let mut served = 0usize;
            // Whether the next request's header values are to be shared with the buffer rather
            // than copied: as the last request on this connection would have been best served (a
            // client sends much the same fields every time).
            let mut share = false;
            // When the current wait gives up: the keep-alive timeout while idle, the head timeout
            // once a head has begun. `None` while a body is being read (the handler's pace rules).
            let mut idle_since = Instant::now();
            // When bytes last arrived: a body stalls once none have for `body_read_timeout`.
            let mut last_input = Instant::now();
            let mut head_started: Option<Instant> = None;
            let mut decoder: Option<Decoder> = None;
            // The one timer of the connection (made at the first wait): see `next_input`.
            let mut timer: Option<Pin<Box<Sleep>>> = None;
            'requests: loop {
                // Take as much from `buf` as it holds.
                loop {
                    if let Some(dec) = decoder.as_mut() {
                        match dec.decode(&mut buf) {
                            Ok(Decoded::Data(piece)) => ctx.outbox.send(Parsed::Body(piece)).await,
                            Ok(Decoded::Done) => {
                                decoder = None;
                                ctx.outbox.send(Parsed::End).await;
                                // The request ended with the last bytes that came in.
                                idle_since = last_input;
                            }
                            Ok(Decoded::NeedMore) => break,
                            Err(e) => {
                                ctx.outbox.send(Parsed::Abort(e.into())).await;
                                break 'requests;
                            }
                        }
                        continue;
                    }
                    if served >= settings.max_requests_per_connection {
                        break 'requests;
                    }
                    if buf.is_empty() {
                        head_started = None;
                        break;
                    }
                    // It began with the bytes that came in last. (The clock is read once per read
                    // from the socket, not at every step: clock reads were 4% of the server's
                    // time on this machine.)
                    head_started.get_or_insert(last_input);
                    match parse_head(&mut buf, share, settings, self.peer, self.local) {
                        HeadResult::Partial => break,
                        HeadResult::Complete(mut request) => {
                            share = request.headers.len() >= SHARE_FROM;
                            served += 1;
                            head_started = None;
                            if served >= settings.max_requests_per_connection {
                                request.keep_alive = false;
                            }
                            let stop_after = request.bad.is_some() || !request.keep_alive;
                            let body = if request.bad.is_some() { BodyLength::Empty } else { request.body };
                            ctx.outbox.send(Parsed::Head(request)).await;
                            let dec = Decoder::new(body, settings.max_body);
                            if dec.is_done() {
                                ctx.outbox.send(Parsed::End).await;
                                idle_since = last_input;
                                if stop_after {
                                    break 'requests;
                                }
                            } else {
                                decoder = Some(dec);
                                if stop_after {
                                    // Read this request's body, then stop.
                                    served = settings.max_requests_per_connection;
                                }
                            }
                        }
                    }
                }
                if input_ended {
                    if decoder.is_some() {
                        let why = BadRequest::new(StatusCode::BAD_REQUEST, "the client closed the connection mid-body");
                        ctx.outbox.send(Parsed::Abort(why)).await;
                    } else if !buf.is_empty() {
                        let why = BadRequest::new(StatusCode::BAD_REQUEST, "the client closed the connection mid-head");
                        Box::pin(send_bad(&mut ctx, why, self.peer, self.local)).await;
                    }
                    break;
                }
                let deadline = match (&decoder, head_started) {
                    (Some(_), _) => last_input + settings.body_read_timeout,
                    (None, Some(start)) => start + settings.header_read_timeout,
                    (None, None) => idle_since + settings.keep_alive_timeout,
                };
                if buf.is_empty() {
                    // Hold no memory while waiting: an emptied buffer still owns the allocation of
                    // the chunk it was made from (up to the adapter's read buffer size).
                    buf = BytesMut::new();
                    if decoder.is_none() && ctx.inbox.is_empty() {
                        // Between requests, perhaps idle for long: no more queue buffer than a
                        // few messages' worth either (what a queue allocates first, so a request
                        // in one read allocates none).
                        ctx.inbox.shrink_to(axon_core::FIRST_BUFFER_ROOM);
                    }
                }
                match next_input(&mut ctx, deadline, &mut timer).await {
                    Input::Bytes(bytes) => {
                        last_input = Instant::now();
                        if buf.is_empty() {
                            buf = BytesMut::from(bytes);
                        } else {
                            buf.extend_from_slice(&bytes);
                        }
                    }
                    Input::Ended => {
                        input_ended = true;
                        // What the client sent before it stopped is already queued: take it all.
                        while let Ok(bytes) = ctx.inbox.try_recv() {
                            buf.extend_from_slice(&bytes);
                        }
                    }
                    Input::Stop => break,
                    Input::Timeout => {
                        if decoder.is_some() {
                            let why = BadRequest::new(
                                StatusCode::REQUEST_TIMEOUT,
                                format!("no byte of the request body arrived for {:?}", settings.body_read_timeout),
                            );
                            ctx.outbox.send(Parsed::Abort(why)).await;
                        } else if head_started.is_some() {
                            let why = BadRequest::new(
                                StatusCode::REQUEST_TIMEOUT,
                                format!("the request head did not arrive within {:?}", settings.header_read_timeout),
                            );
                            Box::pin(send_bad(&mut ctx, why, self.peer, self.local)).await;
                        } else {
                            log::debug!("{}: idle for {:?}; closing", ctx.name(), settings.keep_alive_timeout);
                        }
                        break;
                    }
                }
            }
            ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
            Ok(())
        }
    }
}

/// Waits for bytes, the end of input, a stop, or the deadline. Bytes already queued come before
/// anything else.
///
/// `timer` is the connection's one timer, armed for the deadline of an earlier wait or this one.
/// Deadlines mostly move later (each request starts the keep-alive wait again), so the timer is
/// re-armed only when it fires before the current deadline or the deadline has come earlier: a
/// request costs no insertion into tokio's timer wheel and no removal from it.
async fn next_input(ctx: &mut Context<Bytes, Parsed>, deadline: Instant, timer: &mut Option<Pin<Box<Sleep>>>) -> Input {
    if let Ok(bytes) = ctx.inbox.try_recv() {
        return Input::Bytes(bytes);
    }
    let timer = match timer {
        Some(timer) => {
            if timer.deadline() > deadline {
                timer.as_mut().reset(deadline);
            }
            timer
        }
        None => timer.insert(Box::pin(sleep_until(deadline))),
    };
    poll_fn(|cx| {
        if let Poll::Ready(bytes) = ctx.inbox.poll_recv(cx) {
            return Poll::Ready(match bytes {
                Some(bytes) => Input::Bytes(bytes),
                None => Input::Ended,
            });
        }
        loop {
            match ctx.control.poll_recv(cx) {
                Poll::Ready(Some(msg)) if is_stop(&msg) => return Poll::Ready(Input::Stop),
                Poll::Ready(Some(Ipc::ProducerFinished(_)) | None) => return Poll::Ready(Input::Ended),
                Poll::Ready(Some(_)) => continue,
                Poll::Pending => break,
            }
        }
        while timer.as_mut().poll(cx).is_ready() {
            if timer.deadline() >= deadline {
                return Poll::Ready(Input::Timeout);
            }
            // It went off for an earlier deadline: wait for this one.
            timer.as_mut().reset(deadline);
        }
        Poll::Pending
    })
    .await
}

/// Sends a head for a request that cannot be served, then its end.
async fn send_bad(
    ctx: &mut Context<Bytes, Parsed>,
    why: BadRequest,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
) {
    let mut request = Request::new(Method::GET, "/");
    request.raw_uri.clear();
    request.bad = Some(why);
    request.keep_alive = false;
    request.peer = peer;
    request.local = local;
    ctx.outbox.send(Parsed::Head(Box::new(request))).await;
    ctx.outbox.send(Parsed::End).await;
}

/// How many header slots to try on the stack before using the configured maximum.
const STACK_HEADERS: usize = 32;

/// Parses a head from the front of `buf`, consuming it if complete.
fn parse_head(
    buf: &mut BytesMut,
    share: bool,
    settings: &HttpSettings,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
) -> HeadResult {
    // To `share`, the buffer is frozen first, so that the request's header values can be slices of
    // it rather than copies (see `build_request`): freezing costs one allocation, copying one a
    // value.
    let mut frozen = share.then(|| std::mem::take(buf).freeze());
    let mut outcome = parse_slots(buf, frozen.as_ref(), settings, peer, local);
    // RFC 9110 §2.5: a request in a later HTTP/1.x (say 1.2) is served as HTTP/1.1, the highest
    // minor version this server speaks. httparse knows only 1.0 and 1.1, so the version is
    // rewritten to 1.1 and the head parsed again.
    if let Outcome::Invalid(httparse::Error::Version) = outcome {
        if let Some(bytes) = frozen.take() {
            *buf = into_mut(bytes);
        }
        if later_minor_version(buf) {
            frozen = share.then(|| std::mem::take(buf).freeze());
            outcome = parse_slots(buf, frozen.as_ref(), settings, peer, local);
        }
    }
    match (&outcome, frozen) {
        // Past the head. (Its memory, while the request keeps slices of it, stays with the
        // request; what follows the head, if anything, is copied out.)
        (Outcome::Complete(_, len), Some(bytes)) => {
            *buf = match bytes.try_into_mut() {
                Ok(mut unshared) => {
                    unshared.advance(*len);
                    unshared
                }
                Err(shared) => BytesMut::from(&shared[*len..]),
            }
        }
        (Outcome::Complete(_, len), None) => buf.advance(*len),
        (_, Some(bytes)) => *buf = into_mut(bytes),
        (_, None) => {}
    }
    match outcome {
        Outcome::Complete(request, _) => HeadResult::Complete(request),
        Outcome::Partial => partial_head(buf, settings, peer, local),
        Outcome::TooManyHeaders => {
            let why = format!("more than {} header fields", settings.max_headers);
            bad_head(buf, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, why, peer, local)
        }
        Outcome::TooLarge => {
            bad_head(buf, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, head_too_large(settings), peer, local)
        }
        Outcome::Invalid(e) => {
            let (status, why) = classify_error(buf, e);
            bad_head(buf, status, why, peer, local)
        }
    }
}

/// Back to a buffer that can grow: the same memory if nothing else holds it, else a copy.
fn into_mut(bytes: Bytes) -> BytesMut {
    bytes.try_into_mut().unwrap_or_else(|shared| BytesMut::from(&shared[..]))
}

/// Parses the head at the front of `frozen` if given, else of `buf`, with header slots on the
/// stack, or as many as the settings allow if more are needed.
fn parse_slots(
    buf: &BytesMut,
    frozen: Option<&Bytes>,
    settings: &HttpSettings,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
) -> Outcome {
    let bytes = frozen.map_or(&buf[..], |f| &f[..]);
    let mut stack = [httparse::EMPTY_HEADER; STACK_HEADERS];
    match parse_with(&mut stack, bytes, frozen, settings, peer, local) {
        Outcome::TooManyHeaders if settings.max_headers + 1 > STACK_HEADERS => {
            let mut heap = vec![httparse::EMPTY_HEADER; settings.max_headers + 1];
            parse_with(&mut heap, bytes, frozen, settings, peer, local)
        }
        outcome => outcome,
    }
}

/// If the request line (complete in `buf`) ends in `HTTP/1.d` with `d` above 1, rewrites it
/// to `HTTP/1.1` in place and says so.
fn later_minor_version(buf: &mut BytesMut) -> bool {
    let Some(line_end) = buf.iter().position(|&b| b == b'\n') else { return false };
    let end = if line_end > 0 && buf[line_end - 1] == b'\r' { line_end - 1 } else { line_end };
    if end < 8 {
        return false;
    }
    if buf[end - 8..end - 1] == *b"HTTP/1." && matches!(buf[end - 1], b'2'..=b'9') {
        buf[end - 1] = b'1';
        return true;
    }
    false
}

/// What one parse attempt found.
enum Outcome {
    Complete(Box<Request>, usize),
    Partial,
    TooManyHeaders,
    TooLarge,
    Invalid(httparse::Error),
}

/// Parses with `slots` header slots; `buf` is `shared`'s bytes, if `shared` is given.
fn parse_with<'b>(
    slots: &mut [httparse::Header<'b>],
    buf: &'b [u8],
    shared: Option<&Bytes>,
    settings: &HttpSettings,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
) -> Outcome {
    let mut req = httparse::Request::new(slots);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) if len > settings.max_head_bytes => Outcome::TooLarge,
        Ok(httparse::Status::Complete(_)) if req.headers.len() > settings.max_headers => Outcome::TooManyHeaders,
        Ok(httparse::Status::Complete(len)) => {
            Outcome::Complete(Box::new(build_request(&req, shared, settings, peer, local)), len)
        }
        Ok(httparse::Status::Partial) => Outcome::Partial,
        Err(httparse::Error::TooManyHeaders) => Outcome::TooManyHeaders,
        Err(e) => Outcome::Invalid(e),
    }
}

fn head_too_large(settings: &HttpSettings) -> String {
    format!("the request head is larger than {} bytes", settings.max_head_bytes)
}

/// A head not yet complete: fine, unless it is already past a limit.
fn partial_head(
    buf: &mut BytesMut,
    settings: &HttpSettings,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
) -> HeadResult {
    let line_end = buf.iter().position(|&b| b == b'\n');
    if line_end.is_none() && buf.len() > settings.max_target_length + MAX_LINE_OVERHEAD {
        let why = format!("the request target is longer than {} bytes", settings.max_target_length);
        return bad_head(buf, StatusCode::URI_TOO_LONG, why, peer, local);
    }
    if buf.len() > settings.max_head_bytes {
        return bad_head(buf, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, head_too_large(settings), peer, local);
    }
    HeadResult::Partial
}

/// Room on a request line for the method, spaces and version around the target.
const MAX_LINE_OVERHEAD: usize = 64;

/// Drops the bad head's bytes (and, since nothing after it can be trusted, everything else) and
/// makes the request that reports it.
fn bad_head(
    buf: &mut BytesMut,
    status: StatusCode,
    why: String,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
) -> HeadResult {
    // Keep what can be read of the request line, for the access log and the handler.
    let line_end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len()).min(256);
    let line = String::from_utf8_lossy(&buf[..line_end]).trim_end().to_owned();
    buf.clear();
    let mut parts = line.split(' ');
    let method = parts.next().and_then(|m| Method::from_bytes(m.as_bytes()).ok()).unwrap_or(Method::GET);
    let target = parts.next().unwrap_or("").escape_default().to_string();
    let mut request = Request::new(method, &target);
    request.bad = Some(BadRequest::new(status, why));
    request.keep_alive = false;
    request.peer = peer;
    request.local = local;
    HeadResult::Complete(Box::new(request))
}

/// The status for an httparse error: 505 for a well-formed version other than 1.x, else 400.
fn classify_error(buf: &[u8], e: httparse::Error) -> (StatusCode, String) {
    let line_end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
    let line = &buf[..line_end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if e == httparse::Error::Version {
        let version = line.rsplit(|&b| b == b' ').next().unwrap_or(&[]);
        if let [b'H', b'T', b'T', b'P', b'/', major @ (b'0' | b'2'..=b'9'), b'.', minor @ b'0'..=b'9'] = version {
            return (
                StatusCode::HTTP_VERSION_NOT_SUPPORTED,
                format!("HTTP/{}.{} is not supported; this server speaks HTTP/1.1", *major as char, *minor as char),
            );
        }
    }
    let folded = buf.windows(2).any(|w| w[0] == b'\n' && (w[1] == b' ' || w[1] == b'\t'));
    if folded && e == httparse::Error::HeaderName {
        return (
            StatusCode::BAD_REQUEST,
            "obsolete line folding (a header line starting with whitespace) is not accepted".to_owned(),
        );
    }
    let what = match e {
        httparse::Error::HeaderName => {
            "invalid header field name (whitespace before the colon, or a character not allowed)"
        }
        httparse::Error::HeaderValue => "invalid header field value (a control character, or an obsolete line folding)",
        httparse::Error::NewLine => "invalid line ending",
        httparse::Error::Token => "invalid method or request line",
        httparse::Error::Version => "invalid HTTP version",
        _ => "malformed request",
    };
    let shown: String = line.iter().take(64).copied().map(char::from).collect::<String>().escape_default().to_string();
    (StatusCode::BAD_REQUEST, format!("{what}; request line: \"{shown}\""))
}

/// The longest prefix of `text` that is at most `max` bytes and ends on a character boundary.
///
/// Request text is UTF-8 that a client chose: slicing it at a byte count would panic inside a
/// multi-byte character, so every shortened copy of it goes through here.
fn prefix_within(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// From how many header fields a request's values are best slices of the bytes read rather than
/// copies: a copy costs an allocation a value, sharing one for them all. A browser sends a dozen
/// fields; `curl` and `wrk` send one to three. (Whether to share is decided before parsing, by the
/// connection's previous request.)
const SHARE_FROM: usize = 2;

/// Makes the [`Request`] `req` describes, checking what httparse does not. Its header values are
/// slices of `shared`, the buffer `req` was parsed from, if given (the buffer's memory is then kept as long as the request's headers are),
/// else copies.
fn build_request(
    req: &httparse::Request<'_, '_>,
    shared: Option<&Bytes>,
    settings: &HttpSettings,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
) -> Request {
    let method_text = req.method.unwrap_or("GET");
    let target = req.path.unwrap_or("");
    let version = if req.version == Some(0) { Version::HTTP_10 } else { Version::HTTP_11 };
    let method = Method::from_bytes(method_text.as_bytes()).unwrap_or(Method::GET);
    let mut request = Request::new(method, "");
    request.raw_uri = target.to_owned();
    request.version = version;
    request.peer = peer;
    request.local = local;
    let fail = |mut request: Request, status: StatusCode, why: String| {
        request.bad = Some(BadRequest::new(status, why));
        request.keep_alive = false;
        request
    };
    if target.len() > settings.max_target_length {
        request.raw_uri = prefix_within(target, settings.max_target_length.min(64)).to_owned();
        return fail(
            request,
            StatusCode::URI_TOO_LONG,
            format!("the request target is longer than {} bytes", settings.max_target_length),
        );
    }
    let mut headers = HeaderMap::with_capacity(req.headers.len());
    // What the checks below look at, noted as the fields go by, so that a request without a
    // field costs no lookup of it (each lookup hashes the name).
    let mut hosts = 0;
    let mut first_host: Option<String> = None;
    let (mut framing, mut expect, mut connection) = (false, false, false);
    for h in req.headers.iter() {
        let name = match HeaderName::from_bytes(h.name.as_bytes()) {
            Ok(name) => name,
            Err(_) => {
                return fail(
                    request,
                    StatusCode::BAD_REQUEST,
                    format!("invalid header field name \"{}\"", h.name.escape_default()),
                )
            }
        };
        let value = match shared {
            Some(buf) => HeaderValue::from_maybe_shared(buf.slice_ref(h.value)),
            None => HeaderValue::from_bytes(h.value),
        };
        let value = match value {
            Ok(value) => value,
            Err(_) => {
                return fail(
                    request,
                    StatusCode::BAD_REQUEST,
                    format!("invalid value of header field {name}: \"{}\"", h.value.escape_ascii()),
                )
            }
        };
        if name == HOST {
            if hosts == 0 {
                first_host = value.to_str().ok().map(str::to_owned);
            }
            hosts += 1;
        } else if name == CONTENT_LENGTH || name == TRANSFER_ENCODING {
            framing = true;
        } else if name == EXPECT {
            expect = true;
        } else if name == CONNECTION {
            connection = true;
        }
        headers.append(name, value);
    }
    request.headers = headers;

    // The request target's form (RFC 9112 §3.2).
    let authority_from_target;
    if target.starts_with('/') {
        let (path, query) = split_target(target);
        request.path = path.to_owned();
        request.query = query.map(str::to_owned);
        authority_from_target = None;
    } else if target == "*" && request.method == Method::OPTIONS {
        request.path = "*".to_owned();
        authority_from_target = None;
    } else if let Some((_scheme, rest)) = target
        .split_once("://")
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
    {
        let (authority, path_and_query) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest.split('?').next().unwrap_or(""), "/"),
        };
        if authority.is_empty() || authority.contains('@') {
            return fail(
                request,
                StatusCode::BAD_REQUEST,
                format!("invalid absolute-form target \"{}\"", target.escape_default()),
            );
        }
        let (path, query) = split_target(path_and_query);
        request.path = path.to_owned();
        request.query = query.map(str::to_owned);
        authority_from_target = Some(authority.to_owned());
    } else if request.method == Method::CONNECT && !target.contains('/') && target.contains(':') {
        request.path = String::new();
        authority_from_target = Some(target.to_owned());
    } else {
        return fail(
            request,
            StatusCode::BAD_REQUEST,
            format!("invalid request target \"{}\"", target.escape_default()),
        );
    }

    // Host (RFC 9112 §3.2): exactly one in HTTP/1.1, never two.
    if hosts > 1 {
        return fail(request, StatusCode::BAD_REQUEST, "more than one Host header field".to_owned());
    }
    if hosts == 0 && version == Version::HTTP_11 {
        return fail(request, StatusCode::BAD_REQUEST, "Host header required.".to_owned());
    }
    request.uri_server = authority_from_target.or(first_host);

    // Body framing (RFC 9112 §6): with neither field, there is no body.
    if framing {
        match body_length(version, &request.headers, settings.max_body) {
            Ok(length) => request.body = length,
            Err(bad) => {
                let status = bad.status;
                return fail(request, status, bad.message);
            }
        }
    }

    // Expect (RFC 9110 §10.1.1).
    if let Some(expect) = if expect { request.headers.get(EXPECT) } else { None } {
        if expect.as_bytes().eq_ignore_ascii_case(b"100-continue") {
            request.expect_continue = version == Version::HTTP_11;
        } else {
            let shown = expect.as_bytes().escape_ascii().to_string();
            return fail(request, StatusCode::EXPECTATION_FAILED, format!("unsupported expectation \"{shown}\""));
        }
    }

    // Persistence (RFC 9112 §9.3).
    let mut close = false;
    let mut keep_alive = false;
    if connection {
        for value in request.headers.get_all(CONNECTION) {
            for token in value.as_bytes().split(|&b| b == b',') {
                let token = token.trim_ascii();
                close |= token.eq_ignore_ascii_case(b"close");
                keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        }
    }
    request.keep_alive = !close && (version == Version::HTTP_11 || keep_alive);
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> Option<Request> {
        // Both ways (header values shared with the buffer, and copied), which must agree, on the
        // request and on what is left in the buffer.
        let [(shared, shared_rest), (copied, copied_rest)] = [true, false].map(|share| {
            let mut buf = BytesMut::from(bytes);
            let request = match parse_head(&mut buf, share, &HttpSettings::default(), None, None) {
                HeadResult::Complete(r) => Some(*r),
                HeadResult::Partial => None,
            };
            (request, buf)
        });
        assert_eq!(shared, copied, "shared and copied header values differ");
        assert_eq!(shared_rest, copied_rest, "shared and copied parses leave different bytes");
        copied
    }

    fn status_of(bytes: &[u8]) -> Option<StatusCode> {
        parse(bytes).expect("complete").bad.map(|b| b.status)
    }

    #[test]
    fn shared_header_values_leave_what_follows_the_head_in_the_buffer() {
        let input = b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhelloGET /b HTTP/1.1\r\n";
        let mut buf = BytesMut::from(&input[..]);
        let HeadResult::Complete(request) = parse_head(&mut buf, true, &HttpSettings::default(), None, None) else {
            panic!("a complete head")
        };
        assert_eq!(&buf[..], b"helloGET /b HTTP/1.1\r\n");
        drop(buf);
        // The values outlive the buffer they were read into.
        assert_eq!(request.headers["x-a"], "1");
        assert_eq!(request.headers["content-length"], "5");
        // And a parse of the same bytes without sharing agrees (see `parse`).
        assert_eq!(parse(input).map(|r| r.headers), Some(request.headers));
    }

    #[test]
    fn a_simple_request_is_read_with_its_fields() {
        let r = parse(b"GET /echo?x=1 HTTP/1.1\r\nHost: a:80\r\nX-Dup: 1\r\nX-Dup: 2\r\n\r\n").unwrap();
        assert_eq!(r.bad, None);
        assert_eq!(r.method, Method::GET);
        assert_eq!(r.path, "/echo");
        assert_eq!(r.query.as_deref(), Some("x=1"));
        assert_eq!(r.uri_server.as_deref(), Some("a:80"));
        assert_eq!(r.headers.get_all("x-dup").iter().count(), 2);
        assert!(r.keep_alive);
    }

    #[test]
    fn an_incomplete_head_waits_for_more() {
        assert!(parse(b"GET / HTTP/1.1\r\nHost: a\r\n").is_none());
    }

    #[test]
    fn http_1_1_without_host_or_with_two_is_400() {
        assert_eq!(status_of(b"GET / HTTP/1.1\r\n\r\n"), Some(StatusCode::BAD_REQUEST));
        assert_eq!(status_of(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), Some(StatusCode::BAD_REQUEST));
        assert_eq!(status_of(b"GET / HTTP/1.0\r\n\r\n"), None);
    }

    #[test]
    fn whitespace_before_a_colon_and_obs_fold_are_400() {
        assert_eq!(status_of(b"GET / HTTP/1.1\r\nHost : a\r\n\r\n"), Some(StatusCode::BAD_REQUEST));
        assert_eq!(status_of(b"GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n"), Some(StatusCode::BAD_REQUEST));
    }

    #[test]
    fn obs_fold_is_named_in_the_message() {
        let r = parse(b"GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n").unwrap();
        assert!(r.bad.unwrap().message.contains("obsolete line folding"));
    }

    #[test]
    fn control_characters_in_a_field_are_400() {
        assert_eq!(status_of(b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n"), Some(StatusCode::BAD_REQUEST));
    }

    #[test]
    fn another_major_version_is_505_and_garbage_is_400() {
        assert_eq!(status_of(b"GET / HTTP/2.0\r\nHost: a\r\n\r\n"), Some(StatusCode::HTTP_VERSION_NOT_SUPPORTED));
        assert_eq!(status_of(b"GET / HTTP/1.x\r\nHost: a\r\n\r\n"), Some(StatusCode::BAD_REQUEST));
        assert_eq!(status_of(b"GARBAGE\r\n\r\n"), Some(StatusCode::BAD_REQUEST));
    }

    #[test]
    fn the_target_limit_is_414_one_past_it() {
        let settings = HttpSettings::default();
        let at = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(settings.max_target_length - 1));
        assert_eq!(status_of(at.as_bytes()), None);
        let over = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(settings.max_target_length));
        assert_eq!(status_of(over.as_bytes()), Some(StatusCode::URI_TOO_LONG));
    }

    #[test]
    fn a_long_target_cut_inside_a_character_is_414_not_a_panic() {
        // The kept prefix (64 bytes) would end inside the two bytes of 'é'.
        let target = format!("/{}é{}", "a".repeat(62), "a".repeat(9000));
        let r = parse(format!("GET {target} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes()).unwrap();
        assert_eq!(r.bad.as_ref().map(|b| b.status), Some(StatusCode::URI_TOO_LONG));
        assert_eq!(r.raw_uri, format!("/{}", "a".repeat(62)));
        for max in 0..=70 {
            let kept = prefix_within(&target, max);
            assert!(kept.len() <= max && target.starts_with(kept) && max - kept.len() < 2, "{max}: {kept:?}");
        }
        assert_eq!(prefix_within("€", 2), "");
        assert_eq!(prefix_within("ab", 10), "ab");
    }

    #[test]
    fn too_many_fields_is_431_and_the_limit_itself_passes() {
        let settings = HttpSettings::default();
        let fields = |n: usize| (0..n).map(|i| format!("X-{i}: v\r\n")).collect::<String>();
        let at = format!("GET / HTTP/1.1\r\nHost: a\r\n{}\r\n", fields(settings.max_headers - 1));
        assert_eq!(status_of(at.as_bytes()), None);
        let over = format!("GET / HTTP/1.1\r\nHost: a\r\n{}\r\n", fields(settings.max_headers));
        assert_eq!(status_of(over.as_bytes()), Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE));
    }

    #[test]
    fn a_head_past_the_size_limit_is_431_even_before_it_ends() {
        let settings = HttpSettings::default();
        let big = format!("GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n", "v".repeat(settings.max_head_bytes));
        assert_eq!(status_of(big.as_bytes()), Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE));
    }

    #[test]
    fn an_absolute_form_authority_wins_over_host() {
        let r = parse(b"GET http://example.org:8080/p?q HTTP/1.1\r\nHost: other\r\n\r\n").unwrap();
        assert_eq!(r.uri_server.as_deref(), Some("example.org:8080"));
        assert_eq!(r.path, "/p");
        assert_eq!(r.query.as_deref(), Some("q"));
    }

    #[test]
    fn persistence_follows_version_and_connection() {
        assert!(!parse(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").unwrap().keep_alive);
        assert!(!parse(b"GET / HTTP/1.0\r\n\r\n").unwrap().keep_alive);
        assert!(parse(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").unwrap().keep_alive);
    }

    #[test]
    fn the_fields_the_checks_need_are_found_in_any_case_and_place() {
        // Host, Content-Length, Transfer-Encoding, Expect and Connection are noted as the fields
        // are read; each is found whatever its case and wherever it comes.
        let r =
            parse(b"POST /a HTTP/1.1\r\nX-A: 1\r\nCONTENT-LENGTH: 3\r\nhOsT: h1\r\nCONNECTION: close\r\n\r\n").unwrap();
        assert_eq!((r.body, r.keep_alive, r.uri_server.as_deref()), (BodyLength::Known(3), false, Some("h1")));
        let r = parse(
            b"POST /a HTTP/1.1\r\nHost: h\r\nX-B: 2\r\ntransfer-ENCODING: chunked\r\nEXPECT: 100-Continue\r\n\r\n",
        )
        .unwrap();
        assert_eq!((r.body, r.expect_continue), (BodyLength::Chunked, true));
        let two_hosts = b"GET / HTTP/1.1\r\nHost: a\r\nX-C: 3\r\nHOST: b\r\n\r\n";
        assert_eq!(status_of(two_hosts), Some(StatusCode::BAD_REQUEST));
        let both = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nX-D: 4\r\ncontent-length: 1\r\n\r\n";
        assert_eq!(status_of(both), Some(StatusCode::BAD_REQUEST));
        // None of them: no body, kept alive in HTTP/1.1, and a Host that is not visible ASCII is
        // no server name.
        let r = parse(b"GET / HTTP/1.1\r\nHost: \xe9t\xe9\r\n\r\n").unwrap();
        assert_eq!((r.body, r.keep_alive, r.expect_continue, r.uri_server), (BodyLength::Empty, true, false, None));
    }

    #[test]
    fn expectations_other_than_100_continue_are_417() {
        let r = parse(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n").unwrap();
        assert!(r.expect_continue);
        assert_eq!(
            status_of(b"POST / HTTP/1.1\r\nHost: a\r\nExpect: tea\r\n\r\n"),
            Some(StatusCode::EXPECTATION_FAILED)
        );
    }

    #[test]
    fn a_bad_target_form_is_400() {
        assert_eq!(status_of(b"GET x HTTP/1.1\r\nHost: a\r\n\r\n"), Some(StatusCode::BAD_REQUEST));
        assert_eq!(status_of(b"GET * HTTP/1.1\r\nHost: a\r\n\r\n"), Some(StatusCode::BAD_REQUEST));
        assert_eq!(status_of(b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), None);
    }

    #[test]
    fn a_later_minor_version_is_served_as_http_1_1() {
        let r = parse(b"GET / HTTP/1.2\r\nHost: a\r\n\r\n").unwrap();
        assert_eq!(r.bad, None);
        assert_eq!(r.version, Version::HTTP_11);
        assert_eq!(status_of(b"GET / HTTP/1.x\r\nHost: a\r\n\r\n"), Some(StatusCode::BAD_REQUEST));
    }

    #[test]
    fn leading_empty_lines_are_ignored() {
        assert_eq!(status_of(b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), None);
    }
}
