//! [`HTTPRequestHandler`]: makes a handler per request and turns its answer into HTTP (Kamaelia's
//! `HTTPRequestHandler`).
//!
//! # Example
//!
//! One request, driven by hand as the parser would send it (in a server the request handler
//! is the `HANDLER` of an [`HTTPServer`](crate::HTTPServer), and the socket takes what it sends):
//!
//! ```
//! use std::sync::Arc;
//!
//! use axon_core::{Handle, Scheduler};
//! use kamaelia_http::server::shared_factory;
//! use kamaelia_http::{HTTPRequestHandler, HelloHandler, HttpSettings, Method, Parsed, Payload, Request};
//!
//! let handler = HTTPRequestHandler::new(shared_factory(HelloHandler::new), Arc::new(HttpSettings::default()));
//! let scheduler = Scheduler::new();
//! let mut connection = Handle::new(handler, &scheduler);
//! connection.send_blocking(Parsed::Head(Box::new(Request::new(Method::GET, "/hello"))));
//! connection.send_blocking(Parsed::End);
//! connection.close_input(); // no more requests: it ends after this response
//! let mut response = Vec::new();
//! while let Some(Payload::Bytes(bytes)) = connection.recv_blocking() {
//!     response.extend_from_slice(&bytes);
//! }
//! let response = String::from_utf8_lossy(&response);
//! assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
//! // HelloHandler gives no length: the body is chunked.
//! assert!(response.contains("\r\nTransfer-Encoding: chunked\r\n"), "{response}");
//! assert!(response.ends_with("<html><body><h1>Hello World</h1><P>Woo!!</body></html>\r\n0\r\n\r\n"), "{response}");
//! ```
//!
//! # How it works
//!
//! For each [`Parsed::Head`] it calls the `create_request_handler` factory with the request,
//! links the handler it gets back to four internal boxes, makes it a child and activates it:
//!
//! | handler's box | linked to | carries |
//! |---|---|---|
//! | `outbox` | this component's `_handlerinbox` | [`Resource`]: the head, then data |
//! | `signal` | this component's `_handlercontrol` | `ProducerFinished`: the response is complete |
//! | `inbox` | from this component's `_handleroutbox` | The request body, piece by piece |
//! | `control` | from this component's `_handlersignal` | `ProducerFinished` once the body is complete |
//!
//! Then it forwards the body to the handler while it writes what the handler sends: the status
//! line and header section from the [`ResponseHead`] (with `Date`, `Server`, and the framing it
//! chooses: `Content-Length` if the head gives a length, otherwise chunked on HTTP/1.1 and
//! close-delimited on HTTP/1.0; no body at all for HEAD, 1xx, 204 and 304), then the body. When
//! the handler signals, the response is finished, the handler is unlinked, and the next request
//! (already parsed and waiting in `inbox`, if the client pipelines) is taken: responses go out in
//! request order, one request at a time.
//!
//! A handler given as a plain component value that needs only the four standard boxes
//! ([`axon_core::hostable`]: the cookbook's `HelloHandler`, anything made with `from_fn`) is not
//! made into a component of its own: it runs in the connection's handler host
//! ([`crate::host`]), a child linked to the four internal boxes once and kept while requests
//! follow each other (see [`HttpSettings::handler_host_idle`]). To the handler nothing differs
//! but its id and name, which are the host's. A handler with boxes of its own, or one given as a
//! component already made (an `Instance`), is made, linked and removed per request as above; the
//! host, if there is one, goes first. A prefab (a `Pipeline`) is hosted, but its children stay
//! behind in the host, which then ends after it.
//!
//! What goes wrong, and what the client sees:
//!
//! | case | the client gets |
//! |---|---|
//! | the handler panics, fails, or ends or signals without a head | a 500 page (if nothing was sent yet); otherwise the connection is closed mid-body |
//! | the handler sends data before its head, or a second head | a 500 page, or a close if the head went out |
//! | the handler sends more or fewer bytes than its `length` | the body is cut at the length / the connection closes after the short body |
//! | the request body breaks off ([`Parsed::Abort`]) | the matching error page if nothing was sent yet, then a close; the handler is stopped |
//! | the client goes away mid-response | nothing: the handler is stopped and the connection's components end |
//!
//! # Porting from Kamaelia
//!
//! Differences from Kamaelia, on purpose: it serves any number of requests per connection
//! (Kamaelia's one); the status line says HTTP/1.1 with the right reason phrase (Kamaelia's said
//! HTTP/1.0, and its table had wrong or missing phrases for 401, 403, 304 and 505); chunked framing
//! works (Kamaelia's was dead code); HEAD, 1xx, 204 and 304 responses have no body; `Content-Type`
//! is sent (Kamaelia's handlers' `type` never reached the wire); the handler is unlinked and
//! removed after each request (Kamaelia's never were); a handler that only signals gets the client
//! a 500 (Kamaelia's connection hung); and unknown methods reach the router (Kamaelia answered
//! anything but GET, HEAD and POST with 400).

use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use axon_core::ipc::{Ipc, ProducerFinished};
use axon_core::{
    BoxKind, ChildExit, Component, ComponentId, ComponentRef, ComponentResult, Context, Declarations, Exit, Inbox,
    Outbox,
};
use bytes::{BufMut, Bytes, BytesMut};
use http::{Method, StatusCode, Version};
use kamaelia_chassis::socket::Payload;

use crate::encode::{chunk_head, write_head, Framing, CONTINUE, LAST_CHUNK};
use crate::error_pages::get_error_page;
use crate::host::{HandlerHost, HostSlot};
use crate::parser::Parsed;
use crate::request::{version_number, BadRequest, Request};
use crate::resource::{Handler, HostedJob, Resource, ResponseHead};
use crate::settings::HttpSettings;
use crate::shutdown::is_stop;

/// The factory that makes a handler for each request (Kamaelia's `createRequestHandler`).
pub type CreateRequestHandler = Arc<dyn Fn(Request) -> Handler + Send + Sync>;

/// How many messages a handler may send ahead of the socket: 4. With `Minimal`'s 64 KiB pieces
/// that bounds a response's buffering here to 256 KiB; a handler sending faster waits.
pub const HANDLER_INBOX_CAPACITY: usize = 4;

/// Bytes gathered before they are passed to the socket in one message: small messages from a
/// handler (a head, a short page, a chunk terminator) go out in one write.
const COALESCE_LIMIT: usize = 16 * 1024;

/// Body pieces at least this large are passed on as they are, not copied into the write buffer.
const COPY_LIMIT: usize = 4 * 1024;

/// The room made in the write buffer for each response: a head and a small body.
const OUT_ROOM: usize = 2 * 1024;

/// Makes a handler per request and writes its answer as HTTP: see the [module docs](self).
///
/// # Inboxes
///
/// | box | carries | what arrives |
/// |---|---|---|
/// | `inbox` | [`Parsed`] | Requests from the parser |
/// | `control` | `Ipc` | `ProducerFinished`: the parser has stopped (serve what is queued, then end); `ShutdownMicroprocess`: the server is stopping (finish this response with `Connection: close`, then end) |
/// | `_handlerinbox` | [`Resource`] | Internal: from the current handler's `outbox` |
/// | `_handlercontrol` | `Ipc` | Internal: from the current handler's `signal` |
///
/// # Outboxes
///
/// | box | carries | what leaves |
/// |---|---|---|
/// | `outbox` | [`Payload`] | The responses, to the client |
/// | `signal` | `Ipc` | `ProducerFinished` when the connection's last response is complete |
/// | `_handleroutbox` | `Bytes` | Internal: to the current handler's `inbox` (the request body) |
/// | `_handlersignal` | `Ipc` | Internal: to the current handler's `control` (end of the body) |
///
/// # Shutdown
///
/// It ends, after sending `ProducerFinished` out of `signal`, when the parser has stopped and
/// every request it sent is answered, after a response that closes the connection, when the
/// server is stopping (once the response under way is complete), or when the client has gone.
/// The current handler, if it is still running, is stopped with it.
pub struct HTTPRequestHandler {
    create: CreateRequestHandler,
    settings: Arc<HttpSettings>,
}

impl std::fmt::Debug for HTTPRequestHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HTTPRequestHandler").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl HTTPRequestHandler {
    /// A request handler making each request's handler with `create`.
    pub fn new(create: CreateRequestHandler, settings: Arc<HttpSettings>) -> Self {
        HTTPRequestHandler { create, settings }
    }
}

/// The internal boxes to and from the current handler.
struct Wires {
    from_handler: Inbox<Resource>,
    handler_done: Inbox<Ipc>,
    to_handler: Outbox<Bytes>,
    body_done: Outbox<Ipc>,
}

/// The connection's handler host, while it has one (see [`crate::host`]).
struct HostState {
    slot: Arc<HostSlot>,
    component: ComponentRef,
    /// A request was served since `idle` was last set (a flag rather than a time: reading the
    /// clock per request costs more than the rest of the bookkeeping).
    used: bool,
    /// How long the host is kept idle.
    keep: Duration,
    /// Goes off `keep` after it was set; set again if the host was used meanwhile. So the host
    /// goes after between one and two times `keep` of idleness.
    idle: Pin<Box<tokio::time::Sleep>>,
}

impl HostState {
    fn new(slot: Arc<HostSlot>, component: ComponentRef, keep: Duration) -> Self {
        HostState { slot, component, used: true, keep, idle: Box::pin(tokio::time::sleep(keep)) }
    }

    /// Ready once the connection has been idle for `keep` (to `2 * keep`).
    fn poll_idle(&mut self, cx: &mut std::task::Context<'_>) -> Poll<()> {
        loop {
            std::task::ready!(self.idle.as_mut().poll(cx));
            if !std::mem::take(&mut self.used) {
                return Poll::Ready(());
            }
            let now = tokio::time::Instant::now();
            // (A `keep` too long to add is as good as for ever: a year.)
            let due = now.checked_add(self.keep).unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600));
            self.idle.as_mut().reset(due);
        }
    }
}

impl Drop for HostState {
    fn drop(&mut self) {
        self.slot.retire();
    }
}

/// Links a handler's (or a host's) four standard boxes to the four internal ones: all at once (all
/// or none), under one acquisition of the wiring lock.
fn link_handler(ctx: &Context<Parsed, Payload>, component: &ComponentRef) -> Result<(), axon_core::LinkError> {
    ctx.link_all([
        ((component, "outbox"), (ctx.me(), "_handlerinbox")),
        ((component, "signal"), (ctx.me(), "_handlercontrol")),
        ((ctx.me(), "_handleroutbox"), (component, "inbox")),
        ((ctx.me(), "_handlersignal"), (component, "control")),
    ])
}

/// Makes a handler host, links it and starts it; `None` if it cannot be linked.
fn new_host(ctx: &mut Context<Parsed, Payload>, wires: &mut Wires, keep: Duration) -> Option<HostState> {
    let slot = Arc::new(HostSlot::default());
    let instance = axon_core::Instance::new(HandlerHost { slot: slot.clone() });
    let component = instance.component().clone();
    if let Err(e) = link_handler(ctx, &component) {
        log::error!("{}: cannot link a handler host: {e}", ctx.name());
        return None;
    }
    ctx.add_child(&component);
    ctx.activate(instance);
    // The outboxes to the host look it up now, not during its first handler: a hosted handler
    // is checked for references it leaves behind by counting them.
    wires.to_handler.is_linked();
    wires.body_done.is_linked();
    Some(HostState::new(slot, component, keep))
}

/// Ends the host, if there is one, and removes the linkages to it.
fn retire_host(ctx: &mut Context<Parsed, Payload>, host: &mut Option<HostState>) {
    if let Some(h) = host.take() {
        ctx.remove_child(&h.component);
    }
}

/// What the connection does after a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    KeepAlive,
    Close,
}

impl Component for HTTPRequestHandler {
    type Inbox = Parsed;
    type Outbox = Payload;

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .inbox::<Resource>("_handlerinbox", "Internal: from the current handler's outbox")
            .inbox::<Ipc>("_handlercontrol", "Internal: from the current handler's signal")
            .outbox::<Bytes>("_handleroutbox", "Internal: to the current handler's inbox (the request body)")
            .outbox::<Ipc>("_handlersignal", "Internal: to the current handler's control (end of the body)")
            .capacity("_handlerinbox", Some(HANDLER_INBOX_CAPACITY))
            .describe(BoxKind::Inbox, "inbox", "Requests from the parser")
            .describe(
                BoxKind::Inbox,
                "control",
                "ProducerFinished: the parser has stopped (serve what is queued, then end); \
                 ShutdownMicroprocess: the server is stopping (finish this response with Connection: close, then end)",
            )
            .describe(BoxKind::Outbox, "outbox", "The responses, to the client")
            .describe(BoxKind::Outbox, "signal", "ProducerFinished when the connection's last response is complete");
    }

    // Not `async fn`: its arguments would be stored twice in the future (once as captured, once
    // as moved into the body's locals), and the future is allocated for the connection's life.
    #[allow(clippy::manual_async_fn)]
    fn main(self, mut ctx: Context<Parsed, Payload>) -> impl Future<Output = ComponentResult> + Send {
        async move {
            let mut wires = Wires {
                from_handler: ctx.take_inbox("_handlerinbox")?,
                handler_done: ctx.take_inbox("_handlercontrol")?,
                to_handler: ctx.take_outbox("_handleroutbox")?,
                body_done: ctx.take_outbox("_handlersignal")?,
            };
            let mut flags = Flags::default();
            let mut host: Option<HostState> = None;
            // The responses' write buffer, kept from one request to the next while requests
            // follow each other: what each response sends is split off it and shared with the
            // socket adapter, and once the adapter has written (and dropped) it, the next
            // response reuses the same memory. No allocation a request, where a buffer of its
            // own cost two (the buffer, and the share of it).
            let mut out = BytesMut::new();
            loop {
                let next = match ctx.inbox.try_recv() {
                    Ok(msg) => Some(msg),
                    Err(_) if flags.no_more => None,
                    Err(_) => {
                        // Between requests, perhaps idle for long: the queues keep a few
                        // messages' worth of buffer while a host is kept (so that a request
                        // allocates none), none once it has gone; and the outboxes to the last
                        // handler look their destination up again (`is_linked` does), so that
                        // they no longer keep that handler's boxes, now unlinked, alive.
                        let keep = if host.is_some() { axon_core::FIRST_BUFFER_ROOM } else { 0 };
                        if keep == 0 {
                            out = BytesMut::new();
                        }
                        ctx.inbox.shrink_to(keep);
                        wires.from_handler.shrink_to(keep);
                        wires.handler_done.shrink_to(keep);
                        wires.to_handler.is_linked();
                        wires.body_done.is_linked();
                        match next_request(&mut ctx, &mut flags, &mut host).await {
                            Next::Request(next) => next,
                            Next::HostIdle => {
                                retire_host(&mut ctx, &mut host);
                                continue;
                            }
                        }
                    }
                };
                match next {
                    None => break,
                    Some(Parsed::Head(request)) => {
                        // On the heap, for the time of one request: the exchange is large, and
                        // the component's own future lives as long as the connection.
                        let (after, kept) = Box::pin(async {
                            let mut exchange = Exchange::new(&self, request, &flags, std::mem::take(&mut out));
                            let after = exchange.run(&mut ctx, &mut wires, &mut flags, &mut host).await;
                            (after, std::mem::take(&mut exchange.out))
                        })
                        .await;
                        out = kept;
                        if let Some(h) = host.as_mut() {
                            h.used = true;
                        }
                        if after == After::Close || flags.stopping {
                            break;
                        }
                    }
                    Some(other) => log::debug!("{}: {other:?} outside a request ignored", ctx.name()),
                }
            }
            ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
            Ok(())
        }
    }
}

/// What the request handler has been told.
#[derive(Debug, Default)]
struct Flags {
    /// The parser has stopped: once `inbox` is empty, nothing more will come.
    no_more: bool,
    /// The server is shutting down: finish the current response and close.
    stopping: bool,
}

impl Flags {
    fn on_control(&mut self, msg: Option<Ipc>) {
        match msg {
            Some(msg) if is_stop(&msg) => {
                self.stopping = true;
                self.no_more = true;
            }
            Some(_) | None => self.no_more = true,
        }
    }
}

/// What [`next_request`] waited for.
enum Next {
    /// The next request (`None`: there are no more).
    Request(Option<Parsed>),
    /// The connection has been idle long enough to let its handler host go.
    HostIdle,
}

/// Waits for the next request, or for word that there are none, or for the handler host's idle
/// time to pass.
async fn next_request(ctx: &mut Context<Parsed, Payload>, flags: &mut Flags, host: &mut Option<HostState>) -> Next {
    let next = poll_fn(|cx| {
        if let Poll::Ready(msg) = ctx.inbox.poll_recv(cx) {
            return Poll::Ready(Ok(msg));
        }
        if let Poll::Ready(ctl) = ctx.control.poll_recv(cx) {
            return Poll::Ready(Err(Some(ctl)));
        }
        match host.as_mut().map(|h| h.poll_idle(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(Err(None)),
            _ => Poll::Pending,
        }
    })
    .await;
    match next {
        Ok(msg) => Next::Request(msg),
        Err(Some(ctl)) => {
            flags.on_control(ctl);
            // What the parser sent before it stopped is already queued.
            Next::Request(ctx.inbox.try_recv().ok())
        }
        Err(None) => Next::HostIdle,
    }
}

/// One request and its response.
struct Exchange<'a> {
    owner: &'a HTTPRequestHandler,
    /// Boxed as the parser made it: moved into the factory only at the last step, so that the
    /// exchange's future (allocated per request) stays small.
    request: Option<Box<Request>>,
    method: Method,
    version: Version,
    target: LogTarget,
    peer: Option<SocketAddr>,
    keep_alive: bool,
    /// The request's body parts are still coming from the parser.
    request_open: bool,
    /// A body piece waiting for room in the handler's `inbox`.
    pending_body: Option<Bytes>,
    /// The handler's component, if it has one of its own. (A hosted handler's host is held by
    /// the connection's `HostState` alone: counting references to it is how a host is checked.)
    handler: Option<ComponentRef>,
    /// The host's slot, while a hosted handler answers.
    hosted: Option<Arc<HostSlot>>,
    /// The handler's class name, for the log (a hosted handler has no name of its own).
    handler_class: std::borrow::Cow<'static, str>,
    /// The framing chosen when the head went out.
    framing: Option<Framing>,
    status: StatusCode,
    /// Body bytes sent (before framing).
    sent: u64,
    out: BytesMut,
    /// Large body pieces and file regions to send as they are, each with its position in `out`.
    large: Vec<(usize, Payload)>,
    /// The response can no longer be completed properly: close after it.
    broken: bool,
    /// `control` has closed (everything that could send to it has gone).
    control_closed: bool,
    /// The server answered in the handler's place (an error page): ignore what the handler sends.
    ignore_handler: bool,
}

/// The request target as the log shows it (the request itself goes to the handler): copied into
/// the exchange when short, as nearly all are, so that keeping it costs no allocation a request.
enum LogTarget {
    Short { len: u8, bytes: [u8; LogTarget::INLINE] },
    Long(Box<str>),
}

impl LogTarget {
    /// The longest target kept inline.
    const INLINE: usize = 62;

    fn new(target: &str) -> Self {
        let target = if target.is_empty() { "-" } else { target };
        match u8::try_from(target.len()) {
            Ok(len) if target.len() <= Self::INLINE => {
                let mut bytes = [0; Self::INLINE];
                bytes[..target.len()].copy_from_slice(target.as_bytes());
                LogTarget::Short { len, bytes }
            }
            _ => LogTarget::Long(target.into()),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            // All of a `str`'s bytes are a `str`: this cannot fail.
            LogTarget::Short { len, bytes } => std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or("-"),
            LogTarget::Long(target) => target,
        }
    }
}

impl std::fmt::Display for LogTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What woke an exchange.
enum Wake {
    Resource(Resource),
    HandlerSignalled(Ipc),
    HandlerEnded(ChildExit),
    HostedEnded(Exit),
    BodyRoom,
    Part(Option<Parsed>),
    Control(Option<Ipc>),
}

impl<'a> Exchange<'a> {
    fn new(owner: &'a HTTPRequestHandler, request: Box<Request>, flags: &Flags, mut out: BytesMut) -> Self {
        let keep_alive = request.keep_alive && request.bad.is_none() && !flags.stopping;
        // Room for a small response's head and body (reclaiming the buffer's memory if the
        // socket adapter has let go of the last response).
        out.reserve(OUT_ROOM);
        Exchange {
            owner,
            method: request.method.clone(),
            version: request.version,
            target: LogTarget::new(&request.raw_uri),
            peer: request.peer,
            keep_alive,
            request_open: true,
            pending_body: None,
            handler: None,
            hosted: None,
            handler_class: std::borrow::Cow::Borrowed(""),
            framing: None,
            status: StatusCode::INTERNAL_SERVER_ERROR,
            sent: 0,
            out,
            large: Vec::new(),
            broken: false,
            ignore_handler: false,
            control_closed: false,
            request: Some(request),
        }
    }

    async fn run(
        &mut self,
        ctx: &mut Context<Parsed, Payload>,
        wires: &mut Wires,
        flags: &mut Flags,
        host: &mut Option<HostState>,
    ) -> After {
        let request = self.request.take().expect("an exchange runs once");
        if request.expect_continue && request.body.has_body() && request.bad.is_none() {
            // RFC 9110 §10.1.1: the client waits for this before sending the body.
            ctx.outbox.send(Payload::Bytes(CONTINUE)).await;
        }
        // Anything left from the previous handler (its signal, if it ended before its signal
        // was read) must not be taken for this one's.
        while wires.handler_done.try_recv().is_ok() {}
        while wires.from_handler.try_recv().is_ok() {}
        // The id of the handler's component (its host's, if hosted).
        let handler_id = self.start_handler(ctx, wires, host, request);
        if self.hosted.is_some() {
            // The host is ready to run the handler, which usually answers in that one turn: let
            // it, so that its answer is here when this component looks (rather than looking at
            // every box first, finding them empty, and being woken again).
            axon_core::group::yield_now().await;
        }
        let mut signalled = false;
        let mut ended = false;
        while !(signalled || ended) {
            let wake = self.next_wake(ctx, wires).await;
            match wake {
                Wake::Resource(res) => {
                    self.on_resource(res);
                    // Coalesce whatever else is ready into one write.
                    while self.out.len() < COALESCE_LIMIT {
                        match wires.from_handler.try_recv() {
                            Ok(res) => self.on_resource(res),
                            Err(_) => break,
                        }
                    }
                    if let Ok(msg) = wires.handler_done.try_recv() {
                        signalled = self.on_handler_signal(msg, &mut wires.from_handler);
                    }
                }
                Wake::HandlerSignalled(msg) => signalled = self.on_handler_signal(msg, &mut wires.from_handler),
                Wake::HandlerEnded(exit) if exit.id != handler_id => {
                    // The end of an earlier request's handler, reported after it was let go.
                    log::trace!("{}: late exit of {} ignored", ctx.name(), exit.name);
                }
                Wake::HandlerEnded(exit) => {
                    ended = true;
                    self.on_handler_ended(ctx, host, &exit.exit, &mut wires.from_handler);
                }
                Wake::HostedEnded(exit) => {
                    ended = true;
                    self.on_handler_ended(ctx, host, &exit, &mut wires.from_handler);
                }
                Wake::BodyRoom => {
                    if let Some(piece) = self.pending_body.take() {
                        if let Err(full) = wires.to_handler.try_send(piece) {
                            self.pending_body = Some(full.message);
                        }
                    }
                }
                Wake::Part(part) => match part {
                    Some(Parsed::Body(piece)) => {
                        if let Err(full) = wires.to_handler.try_send(piece) {
                            self.pending_body = Some(full.message);
                        }
                    }
                    Some(Parsed::End) => {
                        self.request_open = false;
                        let _ = wires.body_done.try_send(ProducerFinished::from(ctx.id()).into());
                    }
                    Some(Parsed::Abort(why)) => {
                        self.request_open = false;
                        self.abort_request(ctx, &why);
                        break;
                    }
                    Some(Parsed::Head(_)) | None => {
                        self.request_open = false;
                        let why = BadRequest::new(StatusCode::BAD_REQUEST, "the request ended unexpectedly");
                        self.abort_request(ctx, &why);
                        break;
                    }
                },
                Wake::Control(msg) => {
                    // Once closed, `control` would report its end on every poll.
                    self.control_closed = msg.is_none();
                    flags.on_control(msg);
                    if client_gone(ctx) {
                        log::debug!("{}: the client has gone; abandoning {} {}", ctx.name(), self.method, self.target);
                        self.stop_handler(ctx);
                        return After::Close;
                    }
                    if flags.stopping && self.framing.is_none() {
                        self.keep_alive = false;
                    }
                }
            }
            if !(signalled || ended)
                && self.framing.is_some()
                && self.large.is_empty()
                && self.out.len() < COALESCE_LIMIT
            {
                // A response under way with little buffered: give the handler, likely runnable,
                // one turn to send more (typically its last data and its ProducerFinished), so
                // that a small response goes out in one write rather than two or three.
                axon_core::group::yield_now().await;
                while self.out.len() < COALESCE_LIMIT {
                    match wires.from_handler.try_recv() {
                        Ok(res) => self.on_resource(res),
                        Err(_) => break,
                    }
                }
                if let Ok(msg) = wires.handler_done.try_recv() {
                    signalled = self.on_handler_signal(msg, &mut wires.from_handler);
                }
                if signalled {
                    break;
                }
            }
            // Once the handler is done, what is buffered goes out with the end of the body, below:
            // one message to the socket for the whole of a small response. (Until then, flush, and
            // abandon the exchange if the client has gone.)
            if !(signalled || ended || self.flush(ctx).await) {
                log::debug!("{}: the client has gone; abandoning {} {}", ctx.name(), self.method, self.target);
                self.stop_handler(ctx);
                return After::Close;
            }
        }
        if self.framing.is_none() {
            let why = if ended { "ended" } else { "finished" };
            log::warn!("{}: handler {} {why} without sending a response head", ctx.name(), self.handler_name(host));
            self.fail(StatusCode::INTERNAL_SERVER_ERROR, &format!("The request handler {why} without answering."));
        }
        self.finish_body();
        self.stop_handler(ctx);
        let delivered = self.flush(ctx).await;
        self.access_log();
        if !delivered || self.broken || !self.keep_alive {
            return After::Close;
        }
        // The handler may have answered before reading the whole body: read and drop the rest,
        // so the next request starts where it should.
        while self.request_open {
            match ctx.inbox.recv().await {
                Some(Parsed::Body(_)) => {}
                Some(Parsed::End) => self.request_open = false,
                Some(_) | None => return After::Close,
            }
        }
        After::KeepAlive
    }

    /// Makes the handler (a 500 page if the factory panics) and starts it: in the connection's
    /// handler host if it can be hosted, otherwise as a component of its own, linked to this
    /// component and made a child.
    fn start_handler(
        &mut self,
        ctx: &mut Context<Parsed, Payload>,
        wires: &mut Wires,
        host: &mut Option<HostState>,
        request: Box<Request>,
    ) -> ComponentId {
        let create = &self.owner.create;
        let handler = match catch_unwind(AssertUnwindSafe(|| create(*request))) {
            Ok(handler) => handler,
            Err(panic) => {
                let why = panic_text(&*panic);
                log::error!("{}: the request handler factory panicked: {why}", ctx.name());
                Handler::from(crate::ErrorPages::website_error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The server could not make a handler for this request.",
                ))
            }
        };
        if host.as_ref().is_some_and(|h| h.component.has_ended()) {
            retire_host(ctx, host);
        }
        let instance = match handler.into_kind() {
            Ok(job) => {
                self.handler_class = job.class_name();
                match self.owner.settings.handler_host_idle {
                    Some(keep) if !keep.is_zero() => match self.host_job(ctx, wires, host, job, keep) {
                        Ok(id) => return id,
                        Err(job) => job.into_instance(),
                    },
                    _ => job.into_instance(),
                }
            }
            Err(instance) => instance,
        };
        // A component of its own, linked to the boxes the host was linked to.
        retire_host(ctx, host);
        let component = instance.component().clone();
        if let Err(e) = link_handler(ctx, &component) {
            // Cannot happen for a `Handler` (its box types are checked when it is made); if it
            // does, the handler's answer would be lost, so it is stopped and the client told.
            log::error!("{}: cannot link handler {}: {e}", ctx.name(), component.name());
            component.stop();
        }
        ctx.add_child(&component);
        let id = component.id();
        self.handler = Some(ctx.activate_boxed(instance));
        id
    }

    /// Hands `job` to the connection's handler host, making the host first if there is none (or
    /// the one there cannot take it); gives `job` back if no host can be made.
    fn host_job(
        &mut self,
        ctx: &mut Context<Parsed, Payload>,
        wires: &mut Wires,
        host: &mut Option<HostState>,
        mut job: Box<dyn HostedJob>,
        keep: Duration,
    ) -> Result<ComponentId, Box<dyn HostedJob>> {
        // The connection's host, or (if it cannot take the job: still busy with a handler it
        // was told to drop, or ending) a new one.
        for _ in 0..2 {
            if host.is_none() {
                *host = new_host(ctx, wires, keep);
            }
            let Some(h) = host.as_ref() else { return Err(job) };
            // This component is the only sender to the host's inboxes, so what waits there now
            // was sent to the previous handler (after it ended): the host drops that much.
            let stale = (wires.to_handler.destination_len(), wires.body_done.destination_len());
            match h.slot.hand_over(job, stale) {
                Ok(()) => {
                    self.hosted = Some(h.slot.clone());
                    return Ok(h.component.id());
                }
                Err(back) => {
                    job = back;
                    retire_host(ctx, host);
                }
            }
        }
        // (A new host takes any job: not reached.)
        Err(job)
    }

    /// Waits for the next thing to do: the handler's messages first (so a response completes
    /// before anything else is looked at), then the body, then control.
    async fn next_wake(&mut self, ctx: &mut Context<Parsed, Payload>, wires: &mut Wires) -> Wake {
        let want_part = self.request_open && self.pending_body.is_none();
        let want_room = self.pending_body.is_some();
        let want_control = !self.control_closed;
        poll_fn(|cx| {
            if let Poll::Ready(Some(res)) = wires.from_handler.poll_recv(cx) {
                return Poll::Ready(Wake::Resource(res));
            }
            if let Poll::Ready(Some(msg)) = wires.handler_done.poll_recv(cx) {
                return Poll::Ready(Wake::HandlerSignalled(msg));
            }
            if let Some(slot) = &self.hosted {
                if let Poll::Ready(exit) = slot.poll_ended(cx) {
                    return Poll::Ready(Wake::HostedEnded(exit));
                }
            }
            if let Poll::Ready(Some(exit)) = pin!(ctx.child_exited()).poll(cx) {
                return Poll::Ready(Wake::HandlerEnded(exit));
            }
            if want_room && pin!(wires.to_handler.ready()).poll(cx).is_ready() {
                return Poll::Ready(Wake::BodyRoom);
            }
            if want_part {
                if let Poll::Ready(part) = ctx.inbox.poll_recv(cx) {
                    return Poll::Ready(Wake::Part(part));
                }
            }
            if want_control {
                if let Poll::Ready(msg) = ctx.control.poll_recv(cx) {
                    return Poll::Ready(Wake::Control(msg));
                }
            }
            Poll::Pending
        })
        .await
    }

    /// The handler's name, for the log.
    fn handler_name(&self, host: &Option<HostState>) -> String {
        match (&self.handler, host) {
            (Some(own), _) => own.name().to_owned(),
            (None, Some(h)) => format!("{} (hosted by {})", self.handler_class, h.component.name()),
            (None, None) => self.handler_class.to_string(),
        }
    }

    /// The handler has ended (`exit`): takes what it sent before, and answers with a 500 page if
    /// it did not finish.
    fn on_handler_ended(
        &mut self,
        ctx: &Context<Parsed, Payload>,
        host: &Option<HostState>,
        exit: &Exit,
        from_handler: &mut Inbox<Resource>,
    ) {
        // What it sent before it ended is queued: take it.
        while let Ok(res) = from_handler.try_recv() {
            self.on_resource(res);
        }
        if *exit != Exit::Finished {
            log::warn!("{}: handler {} {exit}", ctx.name(), self.handler_name(host));
            self.fail(StatusCode::INTERNAL_SERVER_ERROR, &format!("The request handler {exit}."));
        }
    }

    /// Handles a handler's signal; true if the response is complete. Whatever the handler sent
    /// before signalling is in `from_handler` by now (its sends completed in order), but may not
    /// have been seen yet: it is taken first, so no data is lost to the race between the boxes.
    fn on_handler_signal(&mut self, msg: Ipc, from_handler: &mut Inbox<Resource>) -> bool {
        let complete = matches!(msg, Ipc::ProducerFinished(_) | Ipc::ShutdownMicroprocess(_));
        if complete {
            while let Ok(res) = from_handler.try_recv() {
                self.on_resource(res);
            }
        }
        complete
    }

    fn on_resource(&mut self, res: Resource) {
        if self.ignore_handler {
            return;
        }
        match res {
            Resource::Head(head) => {
                if self.framing.is_some() {
                    log::warn!("{} {}: the handler sent a second head; ignored", self.method, self.target);
                    return;
                }
                self.start_response(&head);
            }
            Resource::Data(data) => self.on_body(Payload::Bytes(data)),
            Resource::File(region) => self.on_body(Payload::File(region)),
        }
    }

    fn on_body(&mut self, piece: Payload) {
        match self.framing {
            None => {
                log::warn!("{} {}: the handler sent data before a head", self.method, self.target);
                self.fail(StatusCode::INTERNAL_SERVER_ERROR, "The request handler sent data before a head.");
            }
            Some(framing) => self.write_data(framing, piece),
        }
    }

    fn start_response(&mut self, head: &ResponseHead) {
        let framing = Framing::choose(&self.method, self.version, head);
        if framing.needs_close() {
            self.keep_alive = false;
        }
        self.status = head.status;
        self.framing = Some(framing);
        write_head(&mut self.out, head, framing, self.version, self.keep_alive, &self.owner.settings.server_name);
    }

    /// Answers with an error page if nothing was sent yet; otherwise marks the response broken.
    fn fail(&mut self, status: StatusCode, message: &str) {
        if self.ignore_handler {
            return;
        }
        self.ignore_handler = true;
        if self.framing.is_none() {
            self.keep_alive = false;
            let (head, body) = get_error_page(status, message);
            self.start_response(&head);
            if let Some(framing) = self.framing {
                self.write_data(framing, Payload::Bytes(body));
            }
        } else {
            self.broken = true;
        }
    }

    fn write_data(&mut self, framing: Framing, mut data: Payload) {
        if data.is_empty() {
            return;
        }
        match framing {
            Framing::None(_) => {}
            Framing::Length(n) => {
                let room = n.saturating_sub(self.sent);
                if data.len() > room {
                    log::warn!(
                        "{} {}: the handler sent more than the {n} bytes it announced; cut",
                        self.method,
                        self.target
                    );
                    self.broken = true;
                    data.truncate(room);
                }
                self.sent += data.len();
                self.put(data);
            }
            Framing::Chunked => {
                self.sent += data.len();
                chunk_head(&mut self.out, data.len());
                self.put(data);
                self.out.put_slice(b"\r\n");
            }
            Framing::Close => {
                self.sent += data.len();
                self.put(data);
            }
        }
    }

    /// Appends `data` to the write buffer if it is small bytes, or queues it whole (a large piece,
    /// a file region).
    fn put(&mut self, data: Payload) {
        match data {
            Payload::Bytes(bytes) if bytes.len() < COPY_LIMIT => self.out.put_slice(&bytes),
            // (An empty piece, as a cut one may be, is skipped by the adapter.)
            other => self.large.push((self.out.len(), other)),
        }
    }

    /// Ends the body as its framing requires.
    fn finish_body(&mut self) {
        match self.framing {
            Some(Framing::Chunked) if !self.broken => self.out.put_slice(LAST_CHUNK),
            Some(Framing::Length(n)) if self.sent < n => {
                log::warn!(
                    "{} {}: the handler sent {} of the {n} bytes it announced; closing",
                    self.method,
                    self.target,
                    self.sent
                );
                self.broken = true;
            }
            Some(Framing::Close) => self.keep_alive = false,
            _ => {}
        }
    }

    /// The body could not be read: answer with its error if nothing went out yet, and close.
    fn abort_request(&mut self, ctx: &mut Context<Parsed, Payload>, why: &BadRequest) {
        log::debug!("{}: {} {}: {why}", ctx.name(), self.method, self.target);
        self.keep_alive = false;
        self.stop_handler(ctx);
        if self.framing.is_none() {
            self.fail(why.status, &why.message);
        } else {
            self.broken = true;
        }
    }

    /// Unlinks the handler and stops it if it is still running (it has answered, or its answer
    /// is no longer wanted).
    fn stop_handler(&mut self, ctx: &mut Context<Parsed, Payload>) {
        if let Some(slot) = self.hosted.take() {
            // The host stays, linked; the handler is dropped if it is still running.
            slot.cancel();
            return;
        }
        if let Some(handler) = self.handler.take() {
            ctx.remove_child(&handler);
            if !handler.has_ended() {
                handler.stop();
            }
        }
    }

    /// Passes what is buffered to the socket; false if the client has gone.
    async fn flush(&mut self, ctx: &mut Context<Parsed, Payload>) -> bool {
        let mut consumed = 0;
        for (at, data) in std::mem::take(&mut self.large) {
            if at > consumed {
                let piece = self.out.split_to(at - consumed).freeze();
                consumed = at;
                ctx.outbox.send(Payload::Bytes(piece)).await;
            }
            ctx.outbox.send(data).await;
        }
        if !self.out.is_empty() {
            ctx.outbox.send(Payload::Bytes(self.out.split().freeze())).await;
        }
        !client_gone(ctx)
    }

    fn access_log(&self) {
        const TARGET: &str = "kamaelia_http::access";
        // Nothing is formatted unless the line is wanted (the peer's address is slow to format).
        if !log::log_enabled!(target: TARGET, log::Level::Info) {
            return;
        }
        let peer = self.peer.map_or_else(|| "-".to_owned(), |p| p.to_string());
        log::info!(
            target: TARGET,
            "{peer} \"{} {} HTTP/{}\" {} {}",
            self.method,
            self.target,
            version_number(self.version),
            self.status.as_u16(),
            self.sent
        );
    }
}

/// The socket adapter has ended (its inbox is dead, or its linkage to us was removed when it
/// ended): nothing sent now would reach the client.
fn client_gone(ctx: &mut Context<Parsed, Payload>) -> bool {
    !ctx.outbox.is_linked() || ctx.outbox.destination_ended()
}

impl Drop for Exchange<'_> {
    /// The request handler was stopped mid-request: the handler goes with it.
    fn drop(&mut self) {
        if let Some(slot) = self.hosted.take() {
            slot.cancel();
            return;
        }
        if let Some(handler) = self.handler.take() {
            if !handler.has_ended() {
                handler.stop();
            }
        }
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-text panic payload".to_owned())
}

#[cfg(test)]
mod tests {
    use super::LogTarget;

    #[test]
    fn the_log_target_is_the_request_target_whatever_its_length() {
        assert_eq!(LogTarget::new("").to_string(), "-");
        assert_eq!(LogTarget::new("/hello").to_string(), "/hello");
        let longest_inline = "/".repeat(LogTarget::INLINE);
        assert!(matches!(LogTarget::new(&longest_inline), LogTarget::Short { .. }));
        assert_eq!(LogTarget::new(&longest_inline).to_string(), longest_inline);
        let long = format!("/{}", "é".repeat(100));
        assert!(matches!(LogTarget::new(&long), LogTarget::Long(_)));
        assert_eq!(LogTarget::new(&long).to_string(), long);
        // Multi-byte characters up to the inline limit stay whole.
        let accents = "é".repeat(LogTarget::INLINE / 2);
        assert_eq!(LogTarget::new(&accents).to_string(), accents);
    }
}
