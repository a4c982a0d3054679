//! [`GraphEvents`]: the live page's stream, a request handler sending the graph's changes as
//! Server-Sent Events.

use std::time::Duration;

use axon_core::introspect::GraphDelta;
use axon_core::introspector::Introspector;
use axon_core::ipc::{Ipc, ProducerFinished};
use axon_core::prelude::*;
use axon_core::{BoxKind, ComponentResult, Declarations};
use kamaelia_http::{Bytes, Resource, ResponseHead, StatusCode};

use super::ViewerSlot;

/// What a client is told to wait before reconnecting when the stream breaks: 1 s (the `retry`
/// field of Server-Sent Events; browsers default to about 3 s).
const RETRY_MS: u32 = 1000;

/// Sends the graph's changes as Server-Sent Events: the live page's stream (see
/// [`live`](super)), made per request by [`live_page`](super::live_page).
///
/// # Example
///
/// The first event, read straight from the handler:
///
/// ```
/// use std::time::Duration;
///
/// use kamaelia::axon::{Handle, Scheduler};
/// use kamaelia::http::Resource;
/// use kamaelia::live::GraphEvents;
///
/// let scheduler = Scheduler::new();
/// let mut stream = Handle::new(GraphEvents::new(Duration::from_millis(50), Duration::from_secs(5)), &scheduler);
/// let Some(Resource::Head(head)) = stream.recv_blocking() else { panic!("a head first") };
/// assert_eq!(head.headers["content-type"], "text/event-stream");
/// let mut text = String::new();
/// while !text.contains("event: graph\n") {
///     let Some(Resource::Data(bytes)) = stream.recv_blocking() else { panic!("data") };
///     text.push_str(std::str::from_utf8(&bytes).unwrap());
/// }
/// assert!(text.contains(r#"data: {"seq":0,"full":true,"#), "{text}");
/// ```
///
/// # How it works
///
/// It starts an [`Introspector`] as its child, looking every `interval`, whose `outbox` is
/// linked to its `_graph` inbox (room for one delta). It sends its head (`200`,
/// `text/event-stream`, no length: the server frames the stream as chunked, or closes after it
/// on HTTP/1.0) and a `retry` line, then, for each delta, one event:
///
/// ```text
/// id: 7
/// event: graph
/// data: {"seq":7,"full":false,"added":[...],...}
///
/// ```
///
/// with the delta's JSON form on one line (see [`GraphDelta`]). When nothing has been sent for
/// `heartbeat` it sends a comment line (`:`), which browsers ignore. Each send waits while the
/// client is slow, and while it waits it takes no delta, so the introspector waits too and then
/// sends one delta for all that changed (see [`Introspector`]).
///
/// # Inboxes
///
/// | box       | carries      | what arrives                                                        |
/// |-----------|--------------|---------------------------------------------------------------------|
/// | `inbox`   | `Bytes`      | The request body: ignored                                           |
/// | `control` | `Ipc`        | `ProducerFinished` when the request body is complete (ignored); `ShutdownMicroprocess`: stop |
/// | `_graph`  | `GraphDelta` | Internal: the changes to the graph, from its introspector           |
///
/// # Outboxes
///
/// | box      | carries    | what leaves                                                  |
/// |----------|------------|--------------------------------------------------------------|
/// | `outbox` | `Resource` | The head, then the events                                    |
/// | `signal` | `Ipc`      | `ProducerFinished` if its introspector ends (the stream ends) |
///
/// # Shutdown
///
/// It runs until it is stopped (the request handler stops it when the client goes away, or when
/// the server stops), or a `ShutdownMicroprocess` arrives on `control`, or its introspector ends.
/// Its introspector is stopped with it, however it ends.
#[derive(Debug)]
pub struct GraphEvents {
    interval: Duration,
    heartbeat: Duration,
    /// Its place among the page's viewers, given back when the stream is dropped.
    slot: Option<ViewerSlot>,
}

impl GraphEvents {
    /// A stream whose introspector looks every `interval`, writing a comment line after
    /// `heartbeat` of quiet.
    pub fn new(interval: Duration, heartbeat: Duration) -> Self {
        GraphEvents { interval, heartbeat, slot: None }
    }

    /// The same, holding `slot` for its life.
    pub(super) fn holding(mut self, slot: ViewerSlot) -> Self {
        self.slot = Some(slot);
        self
    }
}

/// Stops a component when dropped: the stream's introspector, when the stream's body ends or is
/// dropped (a stopped component's body is dropped at its next `.await`, with its locals).
struct StopOnDrop(ComponentRef);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// One event: `id`, `event: graph`, and the delta's JSON on one `data` line.
fn event(delta: &GraphDelta) -> Result<Bytes, serde_json::Error> {
    let mut text = format!("id: {}\nevent: graph\ndata: ", delta.seq).into_bytes();
    serde_json::to_writer(&mut text, delta)?;
    text.extend_from_slice(b"\n\n");
    Ok(Bytes::from(text))
}

/// What woke the stream.
enum Wake {
    Delta(Option<GraphDelta>),
    Control(Option<Ipc>),
    Quiet,
}

impl Component for GraphEvents {
    type Inbox = Bytes;
    type Outbox = Resource;

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .inbox::<GraphDelta>("_graph", "Internal: the changes to the graph, from its introspector")
            .capacity("_graph", Some(1))
            .describe(BoxKind::Inbox, "inbox", "The request body: ignored")
            .describe(
                BoxKind::Inbox,
                "control",
                "ProducerFinished when the request body is complete (ignored); ShutdownMicroprocess: stop",
            )
            .describe(BoxKind::Outbox, "outbox", "The head, then the events")
            .describe(BoxKind::Outbox, "signal", "ProducerFinished if its introspector ends (the stream ends)");
    }

    fn class_name(&self) -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("GraphEvents")
    }

    async fn main(self, mut ctx: Context<Bytes, Resource>) -> ComponentResult {
        let _slot = self.slot;
        let mut graph = ctx.take_inbox::<GraphDelta>("_graph")?;
        let introspector = Instance::new(Introspector::new(self.interval));
        ctx.link((introspector.component(), "outbox"), (ctx.me(), "_graph"))?;
        ctx.add_child(introspector.component());
        let _introspector = StopOnDrop(ctx.activate(introspector));

        let head = ResponseHead::new(StatusCode::OK)
            .content_type("text/event-stream")
            .header(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"))
            // Tells a proxy in front (nginx) not to hold the events back.
            .header(http::HeaderName::from_static("x-accel-buffering"), http::HeaderValue::from_static("no"));
        ctx.outbox.send(head.into()).await;
        ctx.outbox.send(Resource::Data(Bytes::from(format!("retry: {RETRY_MS}\n\n")))).await;
        let mut control_open = true;
        loop {
            let quiet = tokio::time::sleep(self.heartbeat);
            let wake = tokio::select! {
                biased;
                msg = ctx.control.recv(), if control_open => Wake::Control(msg),
                delta = graph.recv() => Wake::Delta(delta),
                () = quiet => Wake::Quiet,
            };
            match wake {
                Wake::Delta(Some(delta)) => ctx.outbox.send(Resource::Data(event(&delta)?)).await,
                // The introspector has ended: so does the stream.
                Wake::Delta(None) => break,
                Wake::Control(Some(msg)) if msg.is_shutdown_microprocess() => break,
                // The end of the request body (there is none): nothing to do.
                Wake::Control(Some(_)) => {}
                Wake::Control(None) => control_open = false,
                Wake::Quiet => ctx.outbox.send(Resource::Data(Bytes::from_static(b":\n\n"))).await,
            }
        }
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}
