//! Seq: run components one after the other (ports `Kamaelia.Chassis.Seq`).
//!
//! A [`Seq`] runs its children in sequence, starting each only when the one before has ended.
//! Each child in turn is wired in as if it were the Seq itself: the Seq's `inbox` reaches it, and
//! what it sends out of its `outbox` leaves through the Seq's `outbox`. Lines of text can sit
//! between the children; the Seq logs each when it reaches it and moves straight on.
//!
//! # Example
//!
//! Three one-shot senders, one after another, with text logged around them (ports the example in
//! Kamaelia's `Seq.py`, which printed `BEGIN SEQUENCE`, the three words, then `END SEQUENCE`):
//!
//! ```
//! use std::time::Duration;
//! use axon_core::prelude::*;
//! use kamaelia_chassis::seq::Seq;
//!
//! /// Sends `text` once, then ends (Kamaelia's `OneShot`).
//! fn one_shot(text: &'static str) -> impl Component<Inbox = (), Outbox = String> {
//!     from_fn("OneShot", move |mut ctx: Context<(), String>| async move {
//!         ctx.outbox.send(text.to_owned()).await;
//!         Ok(())
//!     })
//! }
//!
//! let seq = Seq::new()
//!     .text("BEGIN SEQUENCE")
//!     .then(one_shot("Hello"))
//!     .then(one_shot("Doctor"))
//!     .then(one_shot("Name"))
//!     .text("END SEQUENCE");
//! let mut h = Handle::new(seq, &Scheduler::new());
//! for word in ["Hello", "Doctor", "Name"] {
//!     assert_eq!(h.recv_blocking().as_deref(), Some(word));
//! }
//! let end = h.recv_signal_timeout(Duration::from_secs(10)).unwrap();
//! assert!(end.is_producer_finished());
//! assert_eq!(h.join_blocking(), axon_core::Exit::Finished);
//! ```
//!
//! # How it works
//!
//! The Seq goes through its items in order. A text item is logged with `log::info!` (target
//! `kamaelia_chassis::seq`). For a component it:
//!
//! 1. wires it in: Seq `inbox` → child `inbox` (passthrough inbound), child `outbox` → Seq
//!    `outbox` (passthrough outbound), and Seq `_signal` → child `control`. The child's `signal` is
//!    deliberately **not** wired, so a child finishing does not make the component downstream of
//!    the Seq stop early;
//! 2. makes it a child and starts it;
//! 3. waits until it ends (however it ends: finished, failed, panicked or stopped), reading
//!    `control` meanwhile;
//! 4. removes the linkages to it and goes on to the next item.
//!
//! Between children, what arrives on `inbox` waits in the Seq's own `inbox` (bounded) and goes to
//! the next child when it is wired in. What is still queued in a child's `inbox` when it ends is
//! dropped with it (as in Axon).
//!
//! # Inboxes and outboxes
//!
//! Listed on [`Seq`], with what each carries, as Kamaelia lists them on the class.
//!
//! # Shutdown
//!
//! At the end of the sequence the Seq sends a `ProducerFinished` of its own out of `signal` and
//! ends. A `ShutdownMicroprocess` on `control` is passed to the current child's `control`; no
//! later item is started; once the child has ended, the Seq sends that same message out of
//! `signal` and ends. It waits for the child however long that takes: a child that ignores its
//! `control` keeps the Seq alive. Other control messages (`ProducerFinished` included) are read
//! and ignored, as Kamaelia's Seq ignored its `control`: upstream finishing does not cut a
//! sequence short.
//!
//! # Limitations
//!
//! * A child that never reads its `control` cannot be stopped by the Seq, which then waits for it.
//! * A closed `inbox` reaches only the child wired in while something still fed the Seq: when
//!   everything upstream has gone, the current child's `inbox` closes (its `recv` returns `None`),
//!   but later children are never fed at all, and an inbox that has never been fed does not close
//!   (axon-core's rule, so that a component started before it is wired does not see a spurious
//!   end). Later children that read their `inbox` until it closes therefore wait; give a Seq
//!   children that end by themselves, as Kamaelia's examples do.
//!
//! # Porting from Kamaelia
//!
//! * `Seq("BEGIN", comp1, comp2, "END")` is `Seq::new().text("BEGIN").then(comp1).then(comp2).text("END")`.
//!   Every child's `inbox`/`outbox` types must match the Seq's, checked when it compiles.
//! * **Text items are logged, not printed.** Kamaelia `print`ed them to stdout; a library here
//!   writes only through `log` (at `info`, target `kamaelia_chassis::seq`), so they show where the
//!   program's logger sends them (`RUST_LOG=info` with `env_logger`, on stderr), not on stdout, and
//!   not interleaved with what the children send downstream: a log line is written when the Seq
//!   reaches the item, while the children's output may still be on its way.
//! * **The Seq reads its `control`.** Kamaelia's Seq never read it, so control messages piled up
//!   (unbounded) and nothing could stop a sequence. Here a `ShutdownMicroprocess` stops the current
//!   child and the sequence, and other messages are consumed and ignored, so senders never wait on
//!   a full `control`.
//! * Each child is wired before it is started (Kamaelia started it first), so nothing it sends at
//!   once is lost.

use std::fmt;

use axon_core::ipc::ProducerFinished;
use axon_core::{BoxKind, Component, ComponentResult, Context, Declarations, Ipc, Passthrough};

use crate::carousel::Child;

enum Item<I, O> {
    Text(String),
    Child(Child<I, O>),
}

/// Runs its children one after the other; see the [module docs](self).
///
/// `I` and `O` are what the Seq's and every child's `inbox` and `outbox` carry.
///
/// # Inboxes
///
/// | box       | carries | what arrives                                                                  |
/// |-----------|---------|-------------------------------------------------------------------------------|
/// | `inbox`   | `I`     | passed through to the current child's `inbox`                                  |
/// | `control` | `Ipc`   | `ShutdownMicroprocess`: stop the current child and the sequence; anything else is read and ignored |
///
/// # Outboxes
///
/// | box       | carries | what leaves                                                                   |
/// |-----------|---------|-------------------------------------------------------------------------------|
/// | `outbox`  | `O`     | what the current child sends out of its `outbox`                               |
/// | `signal`  | `Ipc`   | `ProducerFinished` when the sequence is done, or the `ShutdownMicroprocess` that stopped it |
/// | `_signal` | `Ipc`   | internal use: passes a `ShutdownMicroprocess` on to the current child's `control` |
pub struct Seq<I, O> {
    items: Vec<Item<I, O>>,
}

impl<I, O> fmt::Debug for Seq<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self
            .items
            .iter()
            .map(|i| match i {
                Item::Text(t) => format!("{t:?}"),
                Item::Child(c) => c.component().name().to_owned(),
            })
            .collect();
        f.debug_struct("Seq").field("items", &items).finish()
    }
}

impl<I: Send + 'static, O: Send + 'static> Default for Seq<I, O> {
    fn default() -> Self {
        Self::new()
    }
}

impl<I: Send + 'static, O: Send + 'static> Seq<I, O> {
    /// An empty sequence (it ends at once, with a `ProducerFinished`, unless items are added).
    pub fn new() -> Self {
        Seq { items: Vec::new() }
    }

    /// A sequence of these children, in order.
    pub fn from_children(children: impl IntoIterator<Item = Child<I, O>>) -> Self {
        Seq { items: children.into_iter().map(Item::Child).collect() }
    }

    /// Adds a component (or a [`Child`]) to run after everything before it.
    pub fn then(mut self, child: impl Into<Child<I, O>>) -> Self {
        self.items.push(Item::Child(child.into()));
        self
    }

    /// Adds a line of text, logged at `info` when the sequence reaches it (Kamaelia printed the
    /// strings in a sequence; see the module docs).
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.items.push(Item::Text(text.into()));
        self
    }

    /// The number of items (children and text) in the sequence.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True if the sequence has no items.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Reads one control message: a `ShutdownMicroprocess` is remembered (the first one), anything
/// else is ignored. Returns true if it was a new shutdown request.
fn note_control(shutdown: &mut Option<Ipc>, msg: Ipc) -> bool {
    if msg.is_shutdown_microprocess() && shutdown.is_none() {
        *shutdown = Some(msg);
        true
    } else {
        log::debug!("Seq: ignoring control message {msg:?}");
        false
    }
}

impl<I: Send + 'static, O: Send + 'static> Component for Seq<I, O> {
    type Inbox = I;
    type Outbox = O;

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .outbox::<Ipc>("_signal", "internal use: passes a ShutdownMicroprocess on to the current child's control")
            .describe(BoxKind::Inbox, "inbox", "passed through to the current child's inbox")
            .describe(
                BoxKind::Inbox,
                "control",
                "ShutdownMicroprocess: stop the current child and the sequence; anything else is read and ignored",
            )
            .describe(BoxKind::Outbox, "outbox", "what the current child sends out of its outbox")
            .describe(
                BoxKind::Outbox,
                "signal",
                "ProducerFinished when the sequence is done, or the ShutdownMicroprocess that stopped it",
            );
    }

    async fn main(self, mut ctx: Context<I, O>) -> ComponentResult {
        let mut to_child = ctx.take_outbox::<Ipc>("_signal")?;
        let me = ctx.me().clone();
        let mut shutdown: Option<Ipc> = None;

        for item in self.items {
            while let Ok(m) = ctx.control.try_recv() {
                note_control(&mut shutdown, m);
            }
            if shutdown.is_some() {
                break;
            }
            let child = match item {
                Item::Text(text) => {
                    log::info!("{text}");
                    continue;
                }
                Item::Child(child) => child,
            };
            let c = child.component().clone();
            ctx.link_passthrough((&me, "inbox"), (&c, "inbox"), Passthrough::Inbound)?;
            ctx.link_passthrough((&c, "outbox"), (&me, "outbox"), Passthrough::Outbound)?;
            ctx.link((&me, "_signal"), (&c, "control"))?;
            ctx.add_child(&c);
            child.activate(&ctx);
            log::debug!("{}: started {}", ctx.name(), c.name());

            loop {
                let control_open = !ctx.control.is_closed();
                tokio::select! {
                    biased;
                    m = ctx.control.recv(), if control_open => {
                        if let Some(m) = m {
                            if note_control(&mut shutdown, m.clone()) {
                                to_child.send(m).await;
                            }
                        }
                    }
                    _ = c.join() => break,
                }
            }
            // Unwires it (the linkages the Seq made to it) and forgets it.
            ctx.remove_child(&c);
        }
        let end = shutdown.unwrap_or_else(|| ProducerFinished::from(ctx.id()).into());
        ctx.signal.send(end).await;
        Ok(())
    }
}
