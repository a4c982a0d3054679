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
//! down by TCP (pipelined requests wait their turn in the kernel, not in memory). Its `inbox`
//! holds one chunk ([`READ_AHEAD_CHUNKS`]), and the socket adapter reads nothing while it is
//! full; the request handler's holds a head and its end
//! ([`PARSED_AHEAD`](crate::request_handler::PARSED_AHEAD)): a client that pipelines requests and
//! never reads costs the connection two read buffers and one parsed request, whatever it sends.
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
//! | a request target longer than [`max_target_length`](HttpSettings::max_target_length), or a request line longer than that and 64 bytes | 414 |
//! | a head larger than [`max_head_bytes`](HttpSettings::max_head_bytes), or more than [`max_headers`](HttpSettings::max_headers) fields | 431 |
//! | a `Content-Length` above [`max_body`](HttpSettings::max_body) (before any body is read) | 413 |
//! | an `Expect` other than `100-continue` | 417 |
//! | a head not complete within [`header_read_timeout`](HttpSettings::header_read_timeout) | 408 |
//! | a body with no byte arriving for [`body_read_timeout`](HttpSettings::body_read_timeout) | 408 (as [`Parsed::Abort`]) |
//!
//! A head past a limit is refused as soon as enough of it has arrived to pass the limit, and a
//! head that arrives whole gets the answer it would have had at that point: the answer never
//! depends on how the client's bytes were split into reads.
//!
//! An error inside a body (bad chunk framing, a chunked body past `max_body`, the client closing
//! mid-body) comes after the head was sent, so it is reported as [`Parsed::Abort`].
//!
//! The connection's state is named for what may happen next, as hyper's `proto/h1/conn.rs`
//! names its own: what the parser is reading (`Reading`: `Idle` between requests, a `Head`
//! begun, a `Body`, or a request's `End` to send), whether another request may follow
//! (`Persist`: `More` or `Last`) and whether the client may still send (`Input`). `Conn::next_step`
//! looks at what is buffered and says what to do (send a part, wait for bytes, or stop); the
//! component's body does it. Each wait has one deadline, which the state gives: the keep-alive
//! timeout while idle, the head timeout once a head has begun, the body timeout while a body is
//! read. Idle time counts from the end of the last response, not of the last request: in an
//! [`HTTPServer`](crate::HTTPServer) the parser shares the request handler's count of answered
//! requests (`answered.rs`), and when its keep-alive wait gives up while a response is still
//! being made or written, or was written since, it waits again from the end of that response.
//! The head itself is read in `parser/head.rs`.
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
use axon_core::tuning::InboxTuning;
use axon_core::{BoxKind, Component, ComponentResult, Context, Declarations};
use bytes::{Bytes, BytesMut};
use http::{Method, StatusCode};
use tokio::time::{sleep_until, Instant, Sleep};

use crate::answered::{Answered, Idle};
use crate::decode::{Decoded, Decoder};
use crate::request::{BadRequest, BodyLength, Request};
use crate::settings::HttpSettings;
use crate::shutdown::is_stop;

mod head;

use head::{parse_head, HeadResult, SHARE_FROM};

/// How many chunks read from the client may wait in the parser's `inbox`: 1. With the chunk the
/// parser is working through, and the socket adapter reading nothing while this one waits
/// (see `kamaelia_chassis::socket`), what a connection reads ahead of its parser is two read
/// buffers at most, whatever the client pipelines; the rest waits in the kernel.
pub const READ_AHEAD_CHUNKS: usize = 1;

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
    /// The connection's answers, shared with its request handler (set by `HTTPServer`): the
    /// keep-alive wait counts from the end of the last response. Without it, from the end of the
    /// last request.
    answered: Option<Arc<Answered>>,
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
        HTTPParser { settings, peer, local, answered: None }
    }

    /// The same, timing its keep-alive wait from the end of each response, as `answered` (shared
    /// with the request handler) says.
    pub(crate) fn timing_by(mut self, answered: Arc<Answered>) -> Self {
        self.answered = Some(answered);
        self
    }
}

/// What the parser may read next (hyper's `Reading`, for the server's side of a connection).
enum Reading {
    /// The first byte of the next head, between requests: the keep-alive timeout runs from
    /// `since` (when the last request ended, moved on to the end of its response if it came
    /// later: see `Conn::was_busy`).
    Idle { since: Instant },
    /// The rest of a head that has begun (at `started`: the head timeout runs from then).
    Head { started: Instant },
    /// A body, as its framing says; no byte of it for the body timeout is a timeout.
    Body(Decoder),
    /// The request's `End`: its head has been sent, and it has no body.
    End,
}

/// Whether another request may follow the one being read (hyper's `KA`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Persist {
    /// Another request may follow.
    More,
    /// This one is the last (it closes the connection, or it is the last the settings allow):
    /// stop once it is read.
    Last,
}

/// Whether the client may still send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    Open,
    /// It has stopped sending: what is buffered is all there is.
    Ended,
}

/// What the parser's wait ended with.
enum Arrived {
    Bytes(Bytes),
    /// The client has stopped sending.
    Ended,
    Stop,
    Timeout,
}

/// What the parser does next, given what it holds (the connection's state machine decides; the
/// component's body does it: hyper's split between `Conn` and the dispatcher).
enum Step {
    /// Send this part of a request.
    Send(Parsed),
    /// Wait for more bytes.
    Read,
    /// Stop reading requests.
    Stop,
}

/// One connection's parsing state.
struct Conn<'p> {
    parser: &'p HTTPParser,
    /// Bytes read and not yet parsed.
    buf: BytesMut,
    reading: Reading,
    persist: Persist,
    input: Input,
    /// Requests whose head has been read.
    served: usize,
    /// Whether the next request's header values are to be shared with the buffer rather than
    /// copied: as the last request on this connection would have been best served (a client
    /// sends much the same fields every time).
    share: bool,
    /// When bytes last arrived (the clock is read once per read from the socket, not at every
    /// step: clock reads were 4% of the server's time on this machine). A head begins, and a
    /// request ends, with the bytes that came in last.
    last_input: Instant,
    /// The one timer of the connection (made at the first wait): see [`next_input`].
    timer: Option<Pin<Box<Sleep>>>,
}

impl<'p> Conn<'p> {
    fn new(parser: &'p HTTPParser) -> Self {
        let now = Instant::now();
        let persist = if parser.settings.max_requests_per_connection == 0 { Persist::Last } else { Persist::More };
        Conn {
            parser,
            buf: BytesMut::new(),
            reading: Reading::Idle { since: now },
            persist,
            input: Input::Open,
            served: 0,
            share: false,
            last_input: now,
            timer: None,
        }
    }

    /// What to do with what is buffered: the next part of a request to send, or a wait for more
    /// bytes, or the end.
    fn next_step(&mut self) -> Step {
        if let Reading::End = self.reading {
            self.reading = Reading::Idle { since: self.last_input };
            return Step::Send(Parsed::End);
        }
        if let Reading::Body(decoder) = &mut self.reading {
            return match decoder.decode(&mut self.buf) {
                Ok(Decoded::Data(piece)) => Step::Send(Parsed::Body(piece)),
                Ok(Decoded::Done) => {
                    // The request ended with the last bytes that came in.
                    self.reading = Reading::Idle { since: self.last_input };
                    Step::Send(Parsed::End)
                }
                Ok(Decoded::NeedMore) => Step::Read,
                Err(e) => {
                    // Nothing after a broken body can be trusted.
                    self.reading = Reading::Idle { since: self.last_input };
                    self.persist = Persist::Last;
                    Step::Send(Parsed::Abort(e.into()))
                }
            };
        }
        if self.persist == Persist::Last {
            return Step::Stop;
        }
        if self.buf.is_empty() {
            return Step::Read;
        }
        if let Reading::Idle { .. } = self.reading {
            self.reading = Reading::Head { started: self.last_input };
        }
        let parser = self.parser;
        match parse_head(&mut self.buf, self.share, &parser.settings, parser.peer, parser.local) {
            HeadResult::Partial => Step::Read,
            HeadResult::Complete(request) => Step::Send(Parsed::Head(self.on_head(request))),
        }
    }

    /// A head just read: the request to send, its body to read next (an empty one ends at once),
    /// and whether another request may follow.
    fn on_head(&mut self, mut request: Box<Request>) -> Box<Request> {
        let settings = &self.parser.settings;
        self.share = request.headers.len() >= SHARE_FROM;
        self.served += 1;
        if self.served >= settings.max_requests_per_connection {
            request.keep_alive = false;
        }
        if request.bad.is_some() || !request.keep_alive {
            // Read this request's body, then stop.
            self.persist = Persist::Last;
        }
        let body = if request.bad.is_some() { BodyLength::Empty } else { request.body };
        let decoder = Decoder::new(body, settings.max_body);
        self.reading = if decoder.is_done() { Reading::End } else { Reading::Body(decoder) };
        request
    }

    /// Gets ready to wait for more bytes: returns when the wait gives up (the keep-alive timeout
    /// while idle, the head timeout once a head has begun, the body timeout after the last byte
    /// of a body), and lets go of memory that waiting does not need.
    fn prepare_to_wait(&mut self, ctx: &mut Context<Bytes, Parsed>) -> Instant {
        let settings = &self.parser.settings;
        let deadline = match self.reading {
            Reading::Body(_) => self.last_input + settings.body_read_timeout,
            Reading::Head { started } => started + settings.header_read_timeout,
            Reading::Idle { since } => since + settings.keep_alive_timeout,
            // (Not reached: an `End` is sent before any wait.)
            Reading::End => self.last_input + settings.keep_alive_timeout,
        };
        if self.buf.is_empty() {
            // Hold no memory while waiting: an emptied buffer still owns the allocation of the
            // chunk it was made from (up to the adapter's read buffer size).
            self.buf = BytesMut::new();
            if !matches!(self.reading, Reading::Body(_)) {
                // Between requests, perhaps idle for long: no more queue buffer than a few
                // messages' worth either (what a queue allocates first, so a request in one read
                // allocates none). Messages waiting keep their room: a queue never shrinks below
                // what it holds, so there is no need to look first (one lock, not two).
                ctx.inbox.shrink_to(axon_core::tuning::FIRST_BUFFER_ROOM);
            }
        }
        deadline
    }

    /// Takes in the bytes that arrived (`None`: the client has stopped sending).
    fn take_input(&mut self, ctx: &mut Context<Bytes, Parsed>, bytes: Option<Bytes>) {
        match bytes {
            Some(bytes) => {
                self.last_input = Instant::now();
                if self.buf.is_empty() {
                    self.buf = BytesMut::from(bytes);
                } else {
                    self.buf.extend_from_slice(&bytes);
                }
            }
            None => {
                self.input = Input::Ended;
                // What the client sent before it stopped is already queued: take it all.
                while let Ok(bytes) = ctx.inbox.try_recv() {
                    self.buf.extend_from_slice(&bytes);
                }
            }
        }
    }

    /// The client stopped sending with a request unfinished: says so, as an `Abort` mid-body or a
    /// bad request mid-head.
    async fn input_ended(&mut self, ctx: &mut Context<Bytes, Parsed>) {
        let (peer, local) = (self.parser.peer, self.parser.local);
        match self.reading {
            Reading::Body(_) => {
                let why = BadRequest::new(StatusCode::BAD_REQUEST, "the client closed the connection mid-body");
                ctx.outbox.send(Parsed::Abort(why)).await;
            }
            Reading::Head { .. } => {
                let why = BadRequest::new(StatusCode::BAD_REQUEST, "the client closed the connection mid-head");
                Box::pin(send_bad(ctx, why, peer, local)).await;
            }
            Reading::Idle { .. } | Reading::End => {}
        }
    }

    /// The keep-alive wait gave up, but the connection may not have been idle all that time: a
    /// response may still be being made or written, or have been written since the wait began.
    /// If so, the wait starts again from the end of that response (or from now, if it is not
    /// over: the next look is a timeout later), and this says true. The idle time so counts
    /// from the end of the last response, exactly, with no message per request: the parser
    /// looks only when its wait gives up.
    fn was_busy(&mut self) -> bool {
        let (Reading::Idle { since }, Some(answered)) = (&mut self.reading, &self.parser.answered) else {
            return false;
        };
        match answered.idle_since(self.served as u64) {
            Idle::Busy => *since = Instant::now(),
            Idle::Since(Some(written)) if written > *since => *since = written,
            Idle::Since(_) => return false,
        }
        true
    }

    /// The wait gave up: a body or a head too slow to arrive is answered 408; an idle connection
    /// is simply closed.
    async fn timed_out(&mut self, ctx: &mut Context<Bytes, Parsed>) {
        let settings = &self.parser.settings;
        match self.reading {
            Reading::Body(_) => {
                let why = format!("no byte of the request body arrived for {:?}", settings.body_read_timeout);
                ctx.outbox.send(Parsed::Abort(BadRequest::new(StatusCode::REQUEST_TIMEOUT, why))).await;
            }
            Reading::Head { .. } => {
                let why = format!("the request head did not arrive within {:?}", settings.header_read_timeout);
                let why = BadRequest::new(StatusCode::REQUEST_TIMEOUT, why);
                Box::pin(send_bad(ctx, why, self.parser.peer, self.parser.local)).await;
            }
            Reading::Idle { .. } | Reading::End => {
                log::debug!("{}: idle for {:?}; closing", ctx.name(), settings.keep_alive_timeout);
            }
        }
    }
}

impl Component for HTTPParser {
    type Inbox = Bytes;
    type Outbox = Parsed;

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .capacity("inbox", Some(READ_AHEAD_CHUNKS))
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
            let mut conn = Conn::new(&self);
            loop {
                match conn.next_step() {
                    Step::Send(part) => ctx.outbox.send(part).await,
                    Step::Stop => break,
                    Step::Read if conn.input == Input::Ended => {
                        conn.input_ended(&mut ctx).await;
                        break;
                    }
                    Step::Read => {
                        let deadline = conn.prepare_to_wait(&mut ctx);
                        match next_input(&mut ctx, deadline, &mut conn.timer).await {
                            Arrived::Bytes(bytes) => conn.take_input(&mut ctx, Some(bytes)),
                            Arrived::Ended => conn.take_input(&mut ctx, None),
                            Arrived::Stop => break,
                            Arrived::Timeout if conn.was_busy() => {}
                            Arrived::Timeout => {
                                conn.timed_out(&mut ctx).await;
                                break;
                            }
                        }
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
async fn next_input(
    ctx: &mut Context<Bytes, Parsed>,
    deadline: Instant,
    timer: &mut Option<Pin<Box<Sleep>>>,
) -> Arrived {
    if let Ok(bytes) = ctx.inbox.try_recv() {
        return Arrived::Bytes(bytes);
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
                Some(bytes) => Arrived::Bytes(bytes),
                None => Arrived::Ended,
            });
        }
        loop {
            match ctx.control.poll_recv(cx) {
                Poll::Ready(Some(msg)) if is_stop(&msg) => return Poll::Ready(Arrived::Stop),
                Poll::Ready(Some(Ipc::ProducerFinished(_)) | None) => return Poll::Ready(Arrived::Ended),
                Poll::Ready(Some(_)) => continue,
                Poll::Pending => break,
            }
        }
        while timer.as_mut().poll(cx).is_ready() {
            if timer.deadline() >= deadline {
                return Poll::Ready(Arrived::Timeout);
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
