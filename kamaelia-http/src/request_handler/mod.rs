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
//! use kamaelia_http::http_server::shared_factory;
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
//! line and header section from the [`ResponseHead`](crate::ResponseHead) (with `Date`, `Server`, and the framing it
//! chooses: `Content-Length` if the head gives a length, otherwise chunked on HTTP/1.1 and
//! close-delimited on HTTP/1.0; no body at all for HEAD, 1xx, 204 and 304), then the body. When
//! the handler signals, the response is finished, the handler is unlinked, and the next request
//! (already parsed and waiting in `inbox`, if the client pipelines) is taken: responses go out in
//! request order, one request at a time.
//!
//! A handler given as a plain component value that needs only the four standard boxes
//! ([`Handler::is_hostable`]: the cookbook's `HelloHandler`, anything made with `from_fn`) is not
//! made into a component of its own: it runs in the connection's handler host, a child
//! (`HandlerHost_12`) linked to the four internal boxes once and kept while requests follow each
//! other (see [`HttpSettings::handler_host_idle`]), as the core's
//! [`ChildHost`](axon_core::host::ChildHost) does for any parent. To the handler nothing differs
//! but its id and name, which are the host's. A handler with boxes of its own, or one given as a
//! component already made (an `Instance`), is made, linked and removed per request as above; the
//! host, if there is one, goes first. A hosted handler that leaves something behind in the host
//! (a child it started, say) or panics makes the host end after it; the next request gets a new
//! one.
//!
//! A handler that is a function or a tower service (see [`function`](crate::function)) is no
//! component: the factory's [`Handler`] holds its future and the request body's queue, and the
//! exchange polls that future where it would look at the four boxes (`calling.rs`), passes the
//! body into the queue where it would send it to `_handleroutbox`, and turns the answer into the
//! same [`Resource`] messages, written by the same code. Its body is polled only while what is
//! buffered for the socket is small: a large piece is handed to the socket adapter (waiting for
//! room there) before the next is asked for. A panic in the future or its body is caught where it
//! is polled, and treated as a component's panic (the table below).
//!
//! What the request handler hands the socket adapter, it counts (`behind.rs`), and it puts
//! receipts in the stream, which the adapter signs once what came before them is written. After
//! a flush that handed over a file region, or that leaves more than
//! [`write_behind`](HttpSettings::write_behind) bytes unwritten, it waits for its receipt before
//! it goes on: a connection holds at most one open file, however many large files its client
//! pipelines, and responses are made no faster than the client reads them (the next request's
//! handler is not made until then, and the requests behind wait in the parser's boxes and in the
//! kernel). Every response after which the connection stays open ends with a receipt, and counts
//! as answered in what the request handler shares with the parser (`answered.rs`): the
//! keep-alive timeout counts from the moment the adapter signs it.
//!
//! Between requests the connection's state is `Requests` (`Open`: more may come; `Queued`: the
//! parser has stopped; `Stopping`: the server is) and the handler host, if one is kept. Each
//! request is an exchange (`exchange.rs`) whose state is three enums named for what may happen
//! next, as hyper's `proto/h1/conn.rs` keeps its `Reading` and `Writing`: the request body
//! (`Body`, `Held` waiting for room, `Done`), the handler (`Answering`, `Finished`, `Ended`) and
//! the response (`Head`, `Body`, `Broken`; `writing.rs`). How a handler is run, hosted or as a
//! child, is `hosting.rs`'s business alone.
//!
//! What goes wrong, and what the client sees:
//!
//! | case | the client gets |
//! |---|---|
//! | the handler panics, fails, or ends or signals without a head | a 500 page (if nothing was sent yet); otherwise the connection is closed mid-body |
//! | the handler sends data before its head | a 500 page |
//! | the handler sends a second head | the response is broken off where it stands (the first head is written, too late for a 500 page): what the handler sends after it is dropped, a chunked body gets no last chunk, and the connection is closed |
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
use std::sync::Arc;
use std::task::Poll;

use axon_core::ipc::{Ipc, ProducerFinished};
use axon_core::tuning::IdleTimer;
use axon_core::{BoxKind, Component, ComponentResult, Context, Declarations};
use bytes::{Bytes, BytesMut};
use kamaelia_chassis::socket::Payload;

use crate::answered::Answered;
use crate::handler::Handler;
use crate::parser::Parsed;
use crate::request::Request;
use crate::resource::Resource;
use crate::settings::HttpSettings;

mod behind;
mod calling;
mod exchange;
mod hosting;
mod log_line;
mod writing;

use behind::Behind;
use exchange::{Exchange, Requests, Shared};
pub(crate) use hosting::panic_text;
use hosting::Handlers;
use writing::After;

/// The factory that makes a handler for each request (Kamaelia's `createRequestHandler`).
pub type CreateRequestHandler = Arc<dyn Fn(Request) -> Handler + Send + Sync>;

/// How many messages a handler may send ahead of the socket: 4. With `Minimal`'s 64 KiB pieces
/// that bounds a response's buffering here to 256 KiB; a handler sending faster waits.
pub const HANDLER_INBOX_CAPACITY: usize = 4;

/// How many parts of requests (a head, a piece of a body, an end) may wait in the request
/// handler's `inbox`: 2, a head and its end. The parser waits while they do: pipelined requests
/// wait their turn unparsed, in the kernel, rather than parsed, here.
pub const PARSED_AHEAD: usize = 2;

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
/// | `outbox` | [`Payload`] | The responses, to the client, and receipts to sign once what came before them is written |
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
    /// Shared with the connection's parser, which times the keep-alive wait with it (set by
    /// `HTTPServer`; one of its own otherwise).
    answered: Option<Arc<Answered>>,
}

impl std::fmt::Debug for HTTPRequestHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HTTPRequestHandler").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl HTTPRequestHandler {
    /// A request handler making each request's handler with `create`.
    pub fn new(create: CreateRequestHandler, settings: Arc<HttpSettings>) -> Self {
        HTTPRequestHandler { create, settings, answered: None }
    }

    /// The same, counting its answers in `answered`, which the connection's parser reads to time
    /// its keep-alive wait from the end of each response.
    pub(crate) fn answering_in(mut self, answered: Arc<Answered>) -> Self {
        self.answered = Some(answered);
        self
    }
}

/// One connection's state from one request to the next.
struct Connection {
    /// The handler of the current request, the four boxes to and from it, and the connection's
    /// handler host while it has one.
    handlers: Handlers,
    requests: Requests,
    /// The responses' write buffer, kept from one request to the next while requests follow
    /// each other: what each response sends is split off it and shared with the socket adapter,
    /// and once the adapter has written (and dropped) it, the next response reuses the same
    /// memory. No allocation a request, where a buffer of its own cost two (the buffer, and the
    /// share of it).
    out: BytesMut,
    /// What the socket adapter has been handed and has not yet written (`behind.rs`).
    behind: Behind,
    /// Busy while requests follow each other (closer than the handler host's idle time) with no
    /// handler host kept (functions and services have none), so that `out` and the inbox's room
    /// are kept from one to the next as a kept host keeps them; idle once they stop.
    warm: Option<IdleTimer>,
}

/// What [`Connection::wait_for_request`] waited for.
enum Next {
    /// The next request (`None`: there are no more).
    Request(Option<Parsed>),
    /// The connection has been idle long enough to let its handler host, or its buffers, go.
    Idle,
}

impl Connection {
    /// Waits for the next request, or for word that there are none, or for the handler host's
    /// idle time to pass (the host, or the buffers kept for the next request, are then let go).
    async fn wait_for_request(&mut self, ctx: &mut Context<Parsed, Payload>) -> Next {
        let busy = self.warm.as_ref().is_some_and(IdleTimer::is_busy);
        hosting::tidy_between_requests(ctx, &mut self.handlers, &mut self.out, busy);
        let (handlers, warm) = (&mut self.handlers, &mut self.warm);
        let next = poll_fn(|cx| {
            if let Poll::Ready(msg) = ctx.inbox.poll_recv(cx) {
                return Poll::Ready(Ok(msg));
            }
            if let Poll::Ready(ctl) = ctx.control.poll_recv(cx) {
                return Poll::Ready(Err(Some(ctl)));
            }
            // Ready once the idle host has been let go, or (with none kept, whose idle time
            // would say the same) once the buffers may be.
            let idle = if handlers.keeps_host() {
                handlers.poll_idle_host(cx)
            } else {
                warm.as_mut().map_or(Poll::Pending, |w| w.poll_idle(cx))
            };
            idle.map(|()| Err(None))
        })
        .await;
        match next {
            Ok(msg) => Next::Request(msg),
            Err(Some(ctl)) => {
                self.requests.on_control(ctl);
                // What the parser sent before it stopped is already queued.
                Next::Request(ctx.inbox.try_recv().ok())
            }
            Err(None) => Next::Idle,
        }
    }
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
            .capacity("inbox", Some(PARSED_AHEAD))
            .describe(BoxKind::Inbox, "inbox", "Requests from the parser")
            .describe(
                BoxKind::Inbox,
                "control",
                "ProducerFinished: the parser has stopped (serve what is queued, then end); \
                 ShutdownMicroprocess: the server is stopping (finish this response with Connection: close, then end)",
            )
            .describe(
                BoxKind::Outbox,
                "outbox",
                "The responses, to the client, and receipts to sign once what came before them is written",
            )
            .describe(BoxKind::Outbox, "signal", "ProducerFinished when the connection's last response is complete");
    }

    // Not `async fn`: its arguments would be stored twice in the future (once as captured, once
    // as moved into the body's locals), and the future is allocated for the connection's life.
    #[allow(clippy::manual_async_fn)]
    fn main(self, mut ctx: Context<Parsed, Payload>) -> impl Future<Output = ComponentResult> + Send {
        async move {
            let mut conn = Connection {
                handlers: hosting::handlers(&ctx, &self.settings)?,
                requests: Requests::Open,
                out: BytesMut::new(),
                behind: Behind::new(self.answered.clone().unwrap_or_else(Answered::new), self.settings.write_behind),
                warm: self.settings.handler_host_idle.filter(|keep| !keep.is_zero()).map(IdleTimer::new),
            };
            loop {
                let next = match ctx.inbox.try_recv() {
                    Ok(msg) => Some(msg),
                    Err(_) if conn.requests != Requests::Open => None,
                    Err(_) => match conn.wait_for_request(&mut ctx).await {
                        Next::Request(next) => next,
                        Next::Idle => continue,
                    },
                };
                let request = match next {
                    None => break,
                    Some(Parsed::Head(request)) => {
                        // A kept host keeps the buffers while it is kept (its own idle timer);
                        // without one, this timer does.
                        if let Some(warm) = conn.warm.as_mut().filter(|_| !conn.handlers.keeps_host()) {
                            warm.note_used();
                        }
                        request
                    }
                    Some(other) => {
                        log::debug!("{}: {other:?} outside a request ignored", ctx.name());
                        continue;
                    }
                };
                // On the heap, for the time of one request: the exchange is large, and the
                // component's own future lives as long as the connection.
                let (create, settings, requests) = (&*self.create, &*self.settings, conn.requests);
                let out = std::mem::take(&mut conn.out);
                let shared =
                    Shared { handlers: &mut conn.handlers, requests: &mut conn.requests, behind: &mut conn.behind };
                let (after, kept) = Box::pin(async {
                    let mut exchange = Exchange::new(create, settings, request, requests, out);
                    let after = exchange.run(&mut ctx, shared).await;
                    (after, exchange.take_buffer())
                })
                .await;
                conn.out = kept;
                if after == After::Close || conn.requests == Requests::Stopping {
                    break;
                }
                conn.behind.answered(&mut ctx).await;
            }
            ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
            discard_unread(&mut ctx, &mut conn.handlers);
            Ok(())
        }
    }
}

/// The connection is over: drops, here and on purpose, what is still queued for the request
/// handler. That is the rest of a request its response did not need (a handler may answer
/// before it has read the body, and the `End` of a request whose response closes the connection
/// is not waited for), requests pipelined behind a response that closed the connection or
/// behind a client that has gone, and what the last handler sent after its answer was complete
/// or abandoned. None of it could reach the client now.
///
/// Left in the boxes, these messages would be dropped all the same when the component ends, but
/// reported as lost (a warning, and [`Scheduler::lost_messages`](axon_core::Scheduler::lost_messages)):
/// the request handler has taken a `ProducerFinished` (each handler's), so to the core they look
/// like data sent before the end of a stream and never read. Taking them first says that
/// dropping them is meant. It is done after the last `await`, so that nothing the parser sends
/// on the connection's thread can arrive in between (what arrives after the end is discarded by
/// the ended inbox, and reported to no one).
fn discard_unread(ctx: &mut Context<Parsed, Payload>, handlers: &mut hosting::Handlers) {
    let requests = ctx.inbox.drain().count();
    let answers = handlers.from_outbox.drain().count() + handlers.from_signal.drain().count();
    if requests + answers > 0 {
        log::trace!(
            "{}: closing; {requests} part(s) of requests and {answers} late message(s) of handlers dropped",
            ctx.name()
        );
    }
}
