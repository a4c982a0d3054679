//! One request and its response: the request's body goes to the handler while what the handler
//! sends is written, until the handler has answered.
//!
//! The exchange's state is three enums, each named for what may happen next, as hyper's
//! `proto/h1/conn.rs` keeps its `Reading` and `Writing`: [`Reading`] (the request body),
//! [`Handling`] (the handler) and, in [`Response`], [`Writing`](super::writing::Writing) (the
//! response). The loop in [`Exchange::run`] waits for whichever can move ([`Wake`]), moves it,
//! and stops once the handler has finished or ended.

use std::future::{poll_fn, Future};
use std::task::Poll;

use axon_core::ipc::{Ipc, ProducerFinished};
use axon_core::{Context, Exit};
use bytes::Bytes;
use http::StatusCode;
use kamaelia_chassis::socket::Payload;

use super::behind::{client_gone, Behind};
use super::calling::{Calling, Event};
use super::hosting::{self, Handlers};
use super::log_line::RequestLine;
use super::writing::{After, Response};
use crate::body::BodyError;
use crate::encode::CONTINUE;
use crate::handler::Handler;
use crate::parser::Parsed;
use crate::request::{BadRequest, Request};
use crate::resource::Resource;
use crate::settings::HttpSettings;
use crate::shutdown::is_stop;

/// What may happen next to the request's body.
#[derive(Debug)]
enum Reading {
    /// More of it may come from the parser.
    Body,
    /// A piece waits for room in the handler's `inbox`; the parser's next part waits behind it.
    Held(Bytes),
    /// It is complete, or broke off: nothing more comes from the parser for this request.
    Done,
}

/// What the handler may still do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handling {
    /// Send more of its answer.
    Answering,
    /// Nothing: it signalled that its answer is complete.
    Finished,
    /// Nothing: it has ended.
    Ended,
}

/// Whether the request handler's `control` may still deliver a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Control {
    Open,
    /// Everything that could send to it has gone: once closed, it would report its end on every
    /// look.
    Closed,
}

/// What the request handler may still be given (hyper's `Reading`, for a stream of parsed
/// requests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Requests {
    /// The parser is reading: more requests may come.
    Open,
    /// The parser has stopped: the requests already queued are the last.
    Queued,
    /// The server is stopping: the response under way is finished with `Connection: close`, and
    /// no other request is taken.
    Stopping,
}

impl Requests {
    /// What a message on `control` (`None`: it has closed) says.
    pub(super) fn on_control(&mut self, msg: Option<Ipc>) {
        match msg {
            Some(msg) if is_stop(&msg) => *self = Requests::Stopping,
            Some(_) | None => {
                if *self == Requests::Open {
                    *self = Requests::Queued;
                }
            }
        }
    }
}

/// What woke an exchange.
enum Wake {
    Resource(Resource),
    Call(Event),
    HandlerSignalled(Ipc),
    HandlerEnded(Exit),
    BodyRoom,
    Part(Option<Parsed>),
    Control(Option<Ipc>),
}

/// What the exchange does after a wake.
enum Step {
    /// Go on waiting.
    Continue,
    /// The request broke off: finish the response as it stands.
    Leave,
    /// The client has gone: drop everything and close.
    Close,
}

/// The connection's state that an exchange reads and changes.
pub(super) struct Shared<'c> {
    pub(super) handlers: &'c mut Handlers,
    pub(super) requests: &'c mut Requests,
    pub(super) behind: &'c mut Behind,
}

/// One request and its response.
pub(super) struct Exchange<'a> {
    /// The factory of handlers (Kamaelia's `createRequestHandler`).
    create: &'a (dyn Fn(Request) -> Handler + Send + Sync),
    /// Boxed as the parser made it: moved into the factory only at the last step, so that the
    /// exchange's future (allocated per request) stays small.
    request: Option<Box<Request>>,
    reading: Reading,
    handling: Handling,
    control: Control,
    response: Response<'a>,
    /// The handler, when it is a function or a service (`None`: a component, behind the
    /// connection's [`Handlers`]).
    call: Option<Calling>,
}

impl<'a> Exchange<'a> {
    /// The exchange for `request`, writing into `out` (the connection's buffer).
    #[inline]
    pub(super) fn new(
        create: &'a (dyn Fn(Request) -> Handler + Send + Sync),
        settings: &'a HttpSettings,
        request: Box<Request>,
        requests: Requests,
        out: bytes::BytesMut,
    ) -> Self {
        let keep_alive = request.keep_alive && request.bad.is_none() && requests != Requests::Stopping;
        let after = if keep_alive { After::KeepAlive } else { After::Close };
        Exchange {
            create,
            response: Response::new(RequestLine::of(&request), after, &settings.server_name, out),
            reading: Reading::Body,
            handling: Handling::Answering,
            control: Control::Open,
            request: Some(request),
            call: None,
        }
    }

    /// The write buffer, given back to the connection for the next response.
    pub(super) fn take_buffer(&mut self) -> bytes::BytesMut {
        self.response.take_buffer()
    }

    /// Serves the request: starts its handler, passes it the body, writes its answer, and says
    /// whether the connection may take another request. (The steps are plain functions between
    /// the awaits: each `async fn` awaited here would be one more future made per request.)
    pub(super) async fn run(&mut self, ctx: &mut Context<Parsed, Payload>, conn: Shared<'_>) -> After {
        let request = self.request.take().expect("an exchange runs once");
        if request.expect_continue && request.body.has_body() && request.bad.is_none() {
            // RFC 9110 §10.1.1: the client waits for this before sending the body.
            ctx.outbox.send(Payload::Bytes(CONTINUE)).await;
        }
        if self.start(ctx, conn.handlers, request) {
            conn.handlers.let_child_run().await;
        }
        while self.handling == Handling::Answering {
            let wake = self.next_wake(ctx, conn.handlers).await;
            match self.on_wake(wake, ctx, conn.handlers, conn.requests) {
                Step::Continue => {}
                Step::Leave => break,
                Step::Close => return After::Close,
            }
            if self.handling == Handling::Answering && self.response.has_room_to_gather() {
                // A response under way with little buffered: give the handler, likely runnable,
                // one turn to send more (typically its last data and its `ProducerFinished`), so
                // that a small response goes out in one write rather than two or three. (A call
                // is polled here, at once.)
                if self.call.is_some() {
                    let me = ctx.name();
                    poll_fn(|cx| {
                        self.take_call_events(cx, me);
                        Poll::Ready(())
                    })
                    .await;
                } else {
                    conn.handlers.let_child_run().await;
                    self.take_what_is_ready(conn.handlers);
                }
            }
            // Once the handler is done, what is buffered goes out with the end of the body, below:
            // one message to the socket for the whole of a small response. (Until then, flush, and
            // abandon the exchange if the client has gone.)
            if self.handling == Handling::Answering && !self.response.flush(ctx, conn.behind).await {
                return self.client_has_gone(ctx, conn.handlers);
            }
        }
        self.complete(ctx, conn.handlers);
        let delivered = self.response.flush(ctx, conn.behind).await;
        self.response.access_log();
        if !delivered || !self.response.keeps_alive() {
            return After::Close;
        }
        if matches!(self.reading, Reading::Done) {
            return After::KeepAlive;
        }
        self.read_rest_of_body(ctx).await
    }

    /// Starts the handler; true if it runs in the connection's handler host (and is ready to
    /// take its turn). A function or a service is kept here, to be called.
    #[inline]
    fn start(&mut self, ctx: &mut Context<Parsed, Payload>, handlers: &mut Handlers, request: Box<Request>) -> bool {
        self.call = hosting::start_handler(ctx, handlers, self.create, request).map(Calling::new);
        self.call.is_none() && handlers.is_hosted()
    }

    /// Waits for the next thing to do: the handler's messages first (so a response completes
    /// before anything else is looked at), then the body, then control.
    async fn next_wake(&mut self, ctx: &mut Context<Parsed, Payload>, handlers: &mut Handlers) -> Wake {
        let want_part = matches!(self.reading, Reading::Body);
        let want_room = matches!(self.reading, Reading::Held(_));
        let want_control = self.control == Control::Open;
        let call = &mut self.call;
        poll_fn(|cx| {
            if let Some(call) = call.as_mut() {
                if let Poll::Ready(event) = call.poll_event(cx) {
                    return Poll::Ready(Wake::Call(event));
                }
                if want_room && call.poll_room(cx).is_ready() {
                    return Poll::Ready(Wake::BodyRoom);
                }
            } else {
                if let Poll::Ready(Some(res)) = handlers.from_outbox.poll_recv(cx) {
                    return Poll::Ready(Wake::Resource(res));
                }
                if let Poll::Ready(Some(msg)) = handlers.from_signal.poll_recv(cx) {
                    return Poll::Ready(Wake::HandlerSignalled(msg));
                }
                if let Poll::Ready(exit) = handlers.poll_ended(cx) {
                    return Poll::Ready(Wake::HandlerEnded(exit));
                }
                if want_room && std::pin::pin!(handlers.to_inbox.ready()).poll(cx).is_ready() {
                    return Poll::Ready(Wake::BodyRoom);
                }
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

    /// Moves what `wake` says can move.
    #[inline]
    fn on_wake(
        &mut self,
        wake: Wake,
        ctx: &mut Context<Parsed, Payload>,
        handlers: &mut Handlers,
        requests: &mut Requests,
    ) -> Step {
        match wake {
            Wake::Resource(res) => {
                self.response.on_resource(res);
                self.take_what_is_ready(handlers);
            }
            Wake::Call(event) => self.on_call_event(event, ctx.name()),
            Wake::HandlerSignalled(msg) => self.on_handler_signal(msg, handlers),
            Wake::HandlerEnded(exit) => self.on_handler_ended(ctx, handlers, &exit),
            Wake::BodyRoom => {
                if let Reading::Held(piece) = std::mem::replace(&mut self.reading, Reading::Body) {
                    self.pass_body(piece, handlers);
                }
            }
            Wake::Part(part) => return self.on_part(part, ctx, handlers),
            Wake::Control(msg) => return self.on_control(msg, ctx, handlers, requests),
        }
        Step::Continue
    }

    /// Takes what else the handler has sent, to coalesce it into one write, and its signal if it
    /// came.
    #[inline]
    fn take_what_is_ready(&mut self, handlers: &mut Handlers) {
        while self.response.below_coalesce_limit() {
            match handlers.from_outbox.try_recv() {
                Ok(res) => self.response.on_resource(res),
                Err(_) => break,
            }
        }
        if let Ok(msg) = handlers.from_signal.try_recv() {
            self.on_handler_signal(msg, handlers);
        }
    }

    /// Takes what else a call has ready, to coalesce it into one write: while what is buffered
    /// is small (a large piece is passed on, and the socket's room awaited, before the call is
    /// polled again: the back-pressure on its body).
    fn take_call_events(&mut self, cx: &mut std::task::Context<'_>, me: &str) {
        while self.handling == Handling::Answering && self.response.has_room_to_gather() {
            let Some(call) = self.call.as_mut() else { return };
            match call.poll_event(cx) {
                Poll::Ready(event) => self.on_call_event(event, me),
                Poll::Pending => return,
            }
        }
    }

    /// What a call did: as a component's messages, signal and end are taken.
    fn on_call_event(&mut self, event: Event, me: &str) {
        match event {
            Event::Resource(res) => {
                let head = matches!(res, Resource::Head(_));
                self.response.on_resource(res);
                if head && self.response.takes_no_body() {
                    // HEAD, 204, 304: the body would be dropped; it is not produced at all.
                    if let Some(call) = self.call.as_mut() {
                        call.drop_body();
                    }
                    self.handling = Handling::Finished;
                }
            }
            Event::Finished => self.handling = Handling::Finished,
            Event::Ended(exit) => {
                self.handling = Handling::Ended;
                let name = self.call.as_ref().map_or("", |c| c.name());
                log::warn!("{me}: handler {name} {exit}");
                self.response.fail(StatusCode::INTERNAL_SERVER_ERROR, &format!("The request handler {exit}."));
            }
        }
    }

    /// A part of the request from the parser.
    fn on_part(&mut self, part: Option<Parsed>, ctx: &mut Context<Parsed, Payload>, handlers: &mut Handlers) -> Step {
        match part {
            Some(Parsed::Body(piece)) => self.pass_body(piece, handlers),
            Some(Parsed::End) => {
                self.reading = Reading::Done;
                match self.call.as_mut() {
                    Some(call) => call.end_body(),
                    None => {
                        let _ = handlers.to_control.try_send(ProducerFinished::from(ctx.id()).into());
                    }
                }
            }
            Some(Parsed::Abort(why)) => {
                self.reading = Reading::Done;
                self.abort_request(ctx, handlers, &why);
                return Step::Leave;
            }
            Some(Parsed::Head(_)) | None => {
                self.reading = Reading::Done;
                let why = BadRequest::new(StatusCode::BAD_REQUEST, "the request ended unexpectedly");
                self.abort_request(ctx, handlers, &why);
                return Step::Leave;
            }
        }
        Step::Continue
    }

    /// Passes a piece of the body to the handler, or holds it until there is room.
    fn pass_body(&mut self, piece: Bytes, handlers: &mut Handlers) {
        let passed = match self.call.as_mut() {
            Some(call) => call.try_pass(piece),
            None => handlers.to_inbox.try_send(piece).map_err(|full| full.message),
        };
        if let Err(piece) = passed {
            self.reading = Reading::Held(piece);
        }
    }

    /// A message on `control` (`None`: it has closed).
    fn on_control(
        &mut self,
        msg: Option<Ipc>,
        ctx: &mut Context<Parsed, Payload>,
        handlers: &mut Handlers,
        requests: &mut Requests,
    ) -> Step {
        if msg.is_none() {
            self.control = Control::Closed;
        }
        requests.on_control(msg);
        if client_gone(ctx) {
            self.client_has_gone(ctx, handlers);
            return Step::Close;
        }
        if *requests == Requests::Stopping && !self.response.has_head() {
            self.response.after = After::Close;
        }
        Step::Continue
    }

    /// Handles a handler's signal: a `ProducerFinished` (or a shutdown request) means its answer
    /// is complete. Whatever the handler sent before signalling is in `from_outbox` by now (its
    /// sends completed in order), but may not have been seen yet: it is taken first, so no data is
    /// lost to the race between the boxes.
    fn on_handler_signal(&mut self, msg: Ipc, handlers: &mut Handlers) {
        if matches!(msg, Ipc::ProducerFinished(_) | Ipc::ShutdownMicroprocess(_)) {
            while let Ok(res) = handlers.from_outbox.try_recv() {
                self.response.on_resource(res);
            }
            self.handling = Handling::Finished;
        }
    }

    /// The handler has ended (`exit`): takes what it sent before, and answers with a 500 page if
    /// it did not finish.
    fn on_handler_ended(&mut self, ctx: &Context<Parsed, Payload>, handlers: &mut Handlers, exit: &Exit) {
        self.handling = Handling::Ended;
        // What it sent before it ended is queued: take it.
        while let Ok(res) = handlers.from_outbox.try_recv() {
            self.response.on_resource(res);
        }
        if *exit != Exit::Finished {
            log::warn!("{}: handler {} {exit}", ctx.name(), handlers.child_name());
            self.response.fail(StatusCode::INTERNAL_SERVER_ERROR, &format!("The request handler {exit}."));
        }
    }

    /// The body could not be read: answers with its error if nothing went out yet, and closes.
    fn abort_request(&mut self, ctx: &mut Context<Parsed, Payload>, handlers: &mut Handlers, why: &BadRequest) {
        log::debug!("{}: {} {}: {why}", ctx.name(), self.response.line.method, self.response.line.target);
        self.response.after = After::Close;
        self.stop_handler(handlers, Some(why));
        self.response.abort(why.status, &why.message);
    }

    /// The client went away mid-response: the handler is stopped, and the connection closes.
    fn client_has_gone(&mut self, ctx: &mut Context<Parsed, Payload>, handlers: &mut Handlers) -> After {
        let line = &self.response.line;
        log::debug!("{}: the client has gone; abandoning {} {}", ctx.name(), line.method, line.target);
        self.stop_handler(handlers, None);
        After::Close
    }

    /// The handler has answered (or the request broke off): completes the response (a 500 page
    /// if nothing was sent), and stops the handler.
    fn complete(&mut self, ctx: &mut Context<Parsed, Payload>, handlers: &mut Handlers) {
        if !self.response.has_head() {
            let why = if self.handling == Handling::Ended { "ended" } else { "finished" };
            let name = match &self.call {
                Some(call) => call.name().to_owned(),
                None => handlers.child_name(),
            };
            log::warn!("{}: handler {name} {why} without sending a response head", ctx.name());
            self.response
                .fail(StatusCode::INTERNAL_SERVER_ERROR, &format!("The request handler {why} without answering."));
        }
        self.response.finish_body();
        self.stop_handler(handlers, None);
    }

    /// Stops the handler, whichever kind it is: a component through the handlers, a call by
    /// dropping it (its request body, if not complete, breaks off with `why`).
    fn stop_handler(&mut self, handlers: &mut Handlers, why: Option<&BadRequest>) {
        match self.call.take() {
            Some(mut call) => {
                if let Some(why) = why {
                    call.break_body(BodyError::BrokeOff(why.message.clone()));
                }
            }
            None => handlers.stop(),
        }
    }

    /// The handler may have answered before reading the whole body: reads and drops the rest, so
    /// the next request starts where it should.
    async fn read_rest_of_body(&mut self, ctx: &mut Context<Parsed, Payload>) -> After {
        while !matches!(self.reading, Reading::Done) {
            match ctx.inbox.recv().await {
                Some(Parsed::Body(_)) => {}
                Some(Parsed::End) => self.reading = Reading::Done,
                Some(_) | None => return After::Close,
            }
        }
        After::KeepAlive
    }
}
