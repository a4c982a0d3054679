//! [`Introspector`]: a component that watches the scheduler it runs on and sends the changes to
//! the running graph (Axon's `Introspector`).
//!
//! # Example
//!
//! Watch a scheduler, and see a component come and go:
//!
//! ```
//! use std::time::Duration;
//!
//! use axon_core::introspect::{GraphDelta, Snapshot};
//! use axon_core::introspector::Introspector;
//! use axon_core::prelude::*;
//!
//! let scheduler = Scheduler::new();
//! let mut watch = Handle::new(Introspector::new(Duration::from_millis(20)), &scheduler);
//! // First the whole graph: the introspector itself and the handle watching it.
//! let first: GraphDelta = watch.recv_blocking().unwrap();
//! assert!(first.full);
//! assert!(first.added.iter().any(|c| c.name.starts_with("Introspector_")));
//!
//! let mut copy = Snapshot::default();
//! copy.apply(&first);
//! let worker = Handle::new(from_fn("Worker", |mut ctx: Context<u8, ()>| async move {
//!     while ctx.inbox.recv().await.is_some() {}
//!     Ok(())
//! }), &scheduler);
//! while copy.component_named("Worker").is_none() {
//!     copy.apply(&watch.recv_blocking().unwrap());
//! }
//! drop(worker); // its input closes: it ends
//! while copy.component_named("Worker").is_some() {
//!     copy.apply(&watch.recv_blocking().unwrap());
//! }
//! ```
//!
//! It is an ordinary component, so its deltas go wherever a linkage takes them: through a
//! transformer that writes each as a line of JSON (`serde_json::to_string`, see [`GraphDelta`]
//! for the form) into a console echoer, a file or a TCP connection (`kamaelia::chassis`'s
//! `PureTransformer`, `ConsoleEchoer` and `TCPClient`; `examples/introspector.rs` in the
//! repository), or to the web server's live page (`kamaelia::live`), which draws the graph in a
//! browser.
//!
//! # How it works
//!
//! Every `interval` it takes a [`Snapshot`] of its scheduler
//! ([`Scheduler::introspect`](crate::Scheduler::introspect)), compares it with the last one it
//! sent, and sends what changed as a [`GraphDelta`]; it sends nothing when nothing changed. The
//! first delta is full: the whole graph. Any later delta that would be no shorter than the graph
//! itself is sent full instead, so a consumer that fell far behind starts again from a snapshot.
//!
//! It looks only when its consumer has room: before each look it waits until its `outbox` can
//! take a message. A slow consumer (a page on a slow connection) therefore holds it back rather
//! than filling a box, and the next delta it gets covers everything that changed while it was
//! slow: intermediate states are skipped, never queued. Looking costs one pass over the live
//! components (locking each one's boxes briefly); nothing else in the scheduler knows the
//! introspector exists, so a program that runs none pays nothing.
//!
//! # Porting from Kamaelia
//!
//! Kamaelia's `Introspector` looked at every pass of the scheduler's loop and sent text lines
//! (`DEL ALL`, `ADD NODE ...`, `ADD LINK ...`, `DEL NODE`, `DEL LINK`) for the `AxonVisualiser`.
//! This one looks at the rate it is given and sends typed deltas, which also carry each
//! component's state and parent and each inbox's depth and capacity; their JSON form (see
//! [`GraphDelta`]) is the wire form. Kamaelia's full reset (`DEL ALL`) is a delta with
//! `full` set.

use std::future::Future;
use std::time::Duration;

use crate::boxes::Inbox;
use crate::component::Component;
use crate::context::Context;
use crate::declarations::Declarations;
use crate::error::ComponentResult;
use crate::introspect::{GraphDelta, Snapshot};
use crate::ipc::{Ipc, ProducerFinished};
use crate::kinds::BoxKind;

/// How often an introspector looks by default: 4 times a second.
pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(250);

/// The shortest interval an introspector looks at: 10 ms. A shorter one is taken as this: a
/// person watching sees no more, and each look costs a pass over every component.
pub const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// Watches its scheduler and sends the changes to the graph: see the [module docs](self).
///
/// # Inboxes
///
/// | box       | carries | what arrives                                           |
/// |-----------|---------|--------------------------------------------------------|
/// | `inbox`   | `()`    | Unused                                                 |
/// | `control` | `Ipc`   | `ProducerFinished` or `ShutdownMicroprocess`: it stops |
///
/// # Outboxes
///
/// | box      | carries      | what leaves                                                     |
/// |----------|--------------|-----------------------------------------------------------------|
/// | `outbox` | `GraphDelta` | What changed in the graph since the last delta; the first is full |
/// | `signal` | `Ipc`        | The message that stopped it, or `ProducerFinished` if its consumer went away |
///
/// # Shutdown
///
/// It stops when `ProducerFinished` or `ShutdownMicroprocess` arrives on `control`, and when its
/// consumer goes away: the component its `outbox` leads to has ended, or the linkage it was sent
/// through has been removed (as when the component that made it ends). It then passes the
/// message on out of `signal` (a `ProducerFinished` in the second case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Introspector {
    interval: Duration,
}

impl Default for Introspector {
    /// An introspector looking every [`DEFAULT_INTERVAL`].
    fn default() -> Self {
        Introspector::new(DEFAULT_INTERVAL)
    }
}

impl Introspector {
    /// An introspector looking every `interval` (at least [`MIN_INTERVAL`]).
    pub fn new(interval: Duration) -> Self {
        Introspector { interval: interval.max(MIN_INTERVAL) }
    }

    /// How often it looks.
    pub fn interval(&self) -> Duration {
        self.interval
    }
}

/// Whether `control` may still deliver a message (once closed, it would answer `None` at once on
/// every look).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Control {
    Open,
    Closed,
}

/// Waits for `until`, watching `control`: `Err` with the message that asks to stop, if one comes
/// first (other messages are ignored).
async fn unless_stopped<T>(
    control: &mut Inbox<Ipc>,
    state: &mut Control,
    until: impl Future<Output = T>,
) -> Result<T, Ipc> {
    let mut until = std::pin::pin!(until);
    loop {
        if *state == Control::Closed {
            return Ok(until.await);
        }
        tokio::select! {
            biased;
            msg = control.recv() => match msg {
                Some(msg) if msg.is_shutdown_request() => return Err(msg),
                Some(_) => {}
                None => *state = Control::Closed,
            },
            out = &mut until => return Ok(out),
        }
    }
}

impl Component for Introspector {
    type Inbox = ();
    type Outbox = GraphDelta;

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .describe(BoxKind::Inbox, "inbox", "Unused")
            .describe(BoxKind::Inbox, "control", "ProducerFinished or ShutdownMicroprocess: it stops")
            .describe(BoxKind::Outbox, "outbox", "What changed in the graph since the last delta; the first is full")
            .describe(
                BoxKind::Outbox,
                "signal",
                "The message that stopped it, or ProducerFinished if its consumer went away",
            );
    }

    fn class_name(&self) -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("Introspector")
    }

    async fn main(self, mut ctx: Context<(), GraphDelta>) -> ComponentResult {
        let scheduler = ctx.scheduler();
        let mut ticks = tokio::time::interval(self.interval);
        // A look that waited for the consumer is not followed by a burst of looks to catch up.
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut control = Control::Open;
        // What the consumer has been sent, to compare the next look with.
        let mut known: Option<Snapshot> = None;
        let mut seq = 0;
        let mut was_linked = false;
        let stopped_by = loop {
            if let Err(msg) = unless_stopped(&mut ctx.control, &mut control, ticks.tick()).await {
                break msg;
            }
            if let Err(msg) = unless_stopped(&mut ctx.control, &mut control, ctx.outbox.ready()).await {
                break msg;
            }
            if ctx.outbox.destination_ended() || (was_linked && !ctx.outbox.is_linked()) {
                log::debug!("{}: its consumer has gone; stopping", ctx.name());
                break ProducerFinished::from(ctx.id()).into();
            }
            if !ctx.outbox.is_linked() {
                // Nobody to tell yet: looking would be wasted.
                continue;
            }
            was_linked = true;
            // The snapshot kept is brought up to date in place: a look at a graph that changed
            // little allocates little.
            let delta = match &mut known {
                None => GraphDelta::full(known.insert(scheduler.introspect()), seq),
                Some(known) => {
                    let delta = known.refresh(&scheduler.components(), seq);
                    if delta.len() >= known.components.len() + known.linkages.len() {
                        GraphDelta::full(known, seq)
                    } else {
                        delta
                    }
                }
            };
            if delta.is_empty() {
                continue;
            }
            seq += 1;
            // There was room a moment ago: this waits only if another sender to the same inbox
            // took it meanwhile.
            if let Err(msg) = unless_stopped(&mut ctx.control, &mut control, ctx.outbox.send(delta)).await {
                break msg;
            }
        };
        ctx.signal.send(stopped_by).await;
        Ok(())
    }
}
