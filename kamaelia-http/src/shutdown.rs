//! [`HTTPShutdownLogicHandling`]: who tells whom that a connection is ending (Kamaelia's
//! `HTTPShutdownLogicHandling`, the `CORELOGIC` of [`HTTPServer`](crate::HTTPServer)).
//!
//! # Example
//!
//! A whole connection's Graphline, driven by hand: a request, then the client stops sending.
//! The shutdown logic tells the parser (which finishes what it has), then, once the request
//! handler has answered, closes the connection with a `ProducerFinished` out of `signal`:
//!
//! ```
//! use std::time::Duration;
//!
//! use axon_core::ipc::{Ipc, ProducerFinished};
//! use axon_core::{Handle, Scheduler};
//! use kamaelia_http::{Bytes, HTTPServer, HelloHandler, Payload};
//!
//! let scheduler = Scheduler::new();
//! let mut connection = Handle::new(HTTPServer::new(HelloHandler::new), &scheduler);
//! connection.send_blocking(Bytes::from_static(b"GET /hello HTTP/1.1\r\nHost: example.com\r\n\r\n"));
//! connection.send_control_blocking(ProducerFinished::new());
//! let mut response = Vec::new();
//! while let Some(Payload::Bytes(bytes)) = connection.recv_blocking() {
//!     response.extend_from_slice(&bytes);
//! }
//! assert!(response.starts_with(b"HTTP/1.1 200 OK\r\n"));
//! let signal = connection.recv_signal_timeout(Duration::from_secs(10));
//! assert!(matches!(signal, Ok(Ipc::ProducerFinished(_))), "{signal:?}");
//! ```
//!
//! # How it works
//!
//! It sits between the socket side (the server and the socket adapter, through the Graphline's
//! `control` and `signal`), the parser and the request handler, and passes on the end of each:
//!
//! | arrives on | message | it sends |
//! |---|---|---|
//! | `control` (socket side) | `ProducerFinished`: the client stopped sending, or the socket closed | `ProducerFinished` to the parser (`Psignal`): finish what is buffered |
//! | `control` | `ShutdownMicroprocess`: the server is stopping | `ShutdownMicroprocess` to the parser (stop reading) and to the request handler (`Hsignal`: finish this response, then close) |
//! | `Pcontrol` (from the parser) | `ProducerFinished`: no more requests | `ProducerFinished` to the request handler (`Hsignal`) |
//! | `Hcontrol` (from the request handler) | `ProducerFinished`: the last response is complete | `ShutdownMicroprocess` to the parser, `ProducerFinished` out of `signal` (the adapter flushes and closes the socket); then it ends |
//!
//! # Porting from Kamaelia
//!
//! Differences from Kamaelia, on purpose: the parser is told to *stop* (a `ShutdownMicroprocess`)
//! when the request handler is done, rather than sent a `ProducerFinished` it would take as "the
//! client stopped sending"; and `signal` carries one `ProducerFinished`, not two.

use axon_core::ipc::{Ipc, ProducerFinished, ShutdownMicroprocess};
use axon_core::{BoxKind, Component, ComponentResult, Context, Declarations, Inbox, Outbox};

/// True for the messages that mean "stop now" (`ShutdownMicroprocess`, `Shutdown`), as opposed
/// to `ProducerFinished`, which here means "the input has ended: finish what you have". (Axon's
/// [`Ipc::is_shutdown_request`] counts both, which would turn the end of a client's input into a
/// server shutdown and drop its queued requests.)
pub(crate) fn is_stop(msg: &Ipc) -> bool {
    matches!(msg, Ipc::ShutdownMicroprocess(_) | Ipc::Shutdown(_))
}

/// Passes on the end of each side of a connection to the others: see the [module docs](self).
///
/// # Inboxes
///
/// | box        | carries | what arrives |
/// |------------|---------|--------------|
/// | `inbox`    | `()`    | NOT USED |
/// | `control`  | `Ipc`   | From the socket side: `ProducerFinished` (input ended) or `ShutdownMicroprocess` |
/// | `Pcontrol` | `Ipc`   | From the parser's `signal`: `ProducerFinished` when it has stopped |
/// | `Hcontrol` | `Ipc`   | From the request handler's `signal`: `ProducerFinished` when it is done |
///
/// # Outboxes
///
/// | box       | carries | what leaves |
/// |-----------|---------|-------------|
/// | `outbox`  | `()`    | NOT USED |
/// | `signal`  | `Ipc`   | `ProducerFinished` when the connection should close |
/// | `Psignal` | `Ipc`   | To the parser's `control` |
/// | `Hsignal` | `Ipc`   | To the request handler's `control` |
///
/// # Shutdown
///
/// It ends once the request handler is done (or gone), after telling the parser to stop and
/// sending `ProducerFinished` out of `signal`.
#[derive(Debug, Default, Clone, Copy)]
pub struct HTTPShutdownLogicHandling;

impl Component for HTTPShutdownLogicHandling {
    type Inbox = ();
    type Outbox = ();

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .inbox::<Ipc>("Pcontrol", "From the parser's signal: ProducerFinished when it has stopped")
            .inbox::<Ipc>("Hcontrol", "From the request handler's signal: ProducerFinished when it is done")
            .outbox::<Ipc>("Psignal", "To the parser's control")
            .outbox::<Ipc>("Hsignal", "To the request handler's control")
            .describe(BoxKind::Inbox, "inbox", "NOT USED")
            .describe(
                BoxKind::Inbox,
                "control",
                "From the socket side: ProducerFinished (input ended) or ShutdownMicroprocess",
            )
            .describe(BoxKind::Outbox, "outbox", "NOT USED")
            .describe(BoxKind::Outbox, "signal", "ProducerFinished when the connection should close");
    }

    // Not `async fn`: its arguments would be stored twice in the future (once as captured, once
    // as moved into the body's locals), and the future is allocated for the connection's life.
    #[allow(clippy::manual_async_fn)]
    fn main(self, mut ctx: Context<(), ()>) -> impl std::future::Future<Output = ComponentResult> + Send {
        // Every send here happens once, as the connection ends: each is boxed when made, so the
        // future that waits for all the connection's life stays small.
        async move {
            let mut pcontrol: Inbox<Ipc> = ctx.take_inbox("Pcontrol")?;
            let mut hcontrol: Inbox<Ipc> = ctx.take_inbox("Hcontrol")?;
            let mut psignal: Outbox<Ipc> = ctx.take_outbox("Psignal")?;
            let mut hsignal: Outbox<Ipc> = ctx.take_outbox("Hsignal")?;
            let mut socket_side_open = true;
            let mut parser_open = true;
            loop {
                tokio::select! {
                    biased;
                    msg = hcontrol.recv() => {
                        if msg.is_some_and(|m| !m.is_producer_finished() && !m.is_shutdown_request()) {
                            continue;
                        }
                        // The request handler is done (or gone): stop the parser, close the socket.
                        Box::pin(psignal.send(ShutdownMicroprocess::new().into())).await;
                        Box::pin(ctx.signal.send(ProducerFinished::from(ctx.id()).into())).await;
                        break;
                    }
                    msg = pcontrol.recv(), if parser_open => match msg {
                        Some(m) if !(m.is_producer_finished() || m.is_shutdown_request()) => {}
                        _ => {
                            parser_open = false;
                            Box::pin(hsignal.send(ProducerFinished::from(ctx.id()).into())).await;
                        }
                    },
                    msg = ctx.control.recv(), if socket_side_open => match msg {
                        Some(m) if is_stop(&m) => {
                            Box::pin(psignal.send(m.clone())).await;
                            Box::pin(hsignal.send(m)).await;
                        }
                        Some(m) if m.is_producer_finished() => Box::pin(psignal.send(m)).await,
                        Some(_) => {}
                        None => {
                            socket_side_open = false;
                            Box::pin(psignal.send(ProducerFinished::from(ctx.id()).into())).await;
                        }
                    },
                }
            }
            // The parser's end, if it has not been read yet (it may come with the request
            // handler's, and is then second in line; or it comes because of the stop sent
            // above), says nothing that matters now: dropped on purpose. Left in `Pcontrol`, it
            // would be reported as a message lost (this component has taken a
            // `ProducerFinished`). After the last `await`, so that the parser, on the
            // connection's thread, cannot add one in between.
            while pcontrol.try_recv().is_ok() || hcontrol.try_recv().is_ok() {}
            Ok(())
        }
    }
}
