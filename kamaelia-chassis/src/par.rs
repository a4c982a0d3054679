//! PAR: run components side by side (ports `Kamaelia.Chassis.PAR`).
//!
//! A [`PAR`] starts all its children at once and ends when every one of them has ended. What
//! they send out of their `outbox`es leaves through the PAR's `outbox`; each message on the
//! PAR's `inbox` goes, as a copy, to every child; and each message on its `control` goes to every
//! child's `control`.
//!
//! # Example
//!
//! Two senders side by side; the PAR finishes once both have:
//!
//! ```
//! use std::time::Duration;
//! use axon_core::prelude::*;
//! use kamaelia_chassis::par::PAR;
//!
//! /// Sends each of `items`, then ends.
//! fn send_all(items: &'static [u32]) -> impl Component<Inbox = (), Outbox = u32> {
//!     from_fn("Sender", move |mut ctx: Context<(), u32>| async move {
//!         for &n in items {
//!             ctx.outbox.send(n).await;
//!         }
//!         Ok(())
//!     })
//! }
//!
//! let par = PAR::new().with(send_all(&[1, 2, 3])).with(send_all(&[10, 20]));
//! let mut h = Handle::new(par, &Scheduler::new());
//! let mut got: Vec<u32> = (0..5).map(|_| h.recv_blocking().unwrap()).collect();
//! got.sort();
//! assert_eq!(got, [1, 2, 3, 10, 20]);
//! let end = h.recv_signal_timeout(Duration::from_secs(10)).unwrap();
//! assert!(end.is_producer_finished());
//! assert_eq!(h.join_blocking(), axon_core::Exit::Finished);
//! ```
//!
//! # How it works
//!
//! When it starts, the PAR wires each child, in order, then makes them its children and starts
//! them:
//!
//! * child `outbox` → PAR `outbox` (passthrough outbound): the children's output fans in;
//! * PAR `_cs<n>` → child `control` (an outbox per child, made when the PAR starts);
//! * PAR `_co<n>` → child `inbox`, when the PAR copies its `inbox` (see below);
//! * the child's `signal` is **not** wired: a child finishing says nothing outside the PAR.
//!
//! It then loops: every message on `control` is sent to every child still running; every
//! message on `inbox` is cloned to every child (`PAR::new`, which needs `I: Clone`) or dropped
//! (`PAR::discarding_inbox`, for message types that cannot be cloned); and it ends when the
//! last child has ended. While a child's `inbox` is full the PAR waits for room (back-pressure to
//! whatever feeds the PAR), still passing on control messages meanwhile. When the PAR's `inbox`
//! closes (everything feeding it has gone), it unlinks its `_co<n>` outboxes, so each child's
//! `inbox` closes in turn (and links them again if something feeds the PAR again).
//!
//! # Inboxes and outboxes
//!
//! Listed on [`PAR`], with what each carries, as Kamaelia lists them on the class.
//!
//! # Shutdown
//!
//! The PAR ends when, and only when, all its children have ended (however each ended), and then
//! sends exactly one message out of `signal`: the `ShutdownMicroprocess` it was sent, if it was
//! sent one, or else a `ProducerFinished` of its own. A `ShutdownMicroprocess` on `control` is
//! passed to every child and the PAR then waits for them; a child that ignores its `control`
//! keeps the PAR alive. A PAR with no children ends at once.
//!
//! # Porting from Kamaelia
//!
//! * `PAR(comp1, comp2)` is `PAR::new().with(comp1).with(comp2)` (or `PAR::from_children`). Every
//!   child's `inbox`/`outbox` types must match the PAR's, checked when it compiles.
//! * **It waits for its children after a shutdown.** Kamaelia's PAR forwarded a
//!   `shutdownMicroprocess` and then exited at once, with children still running (its docstring
//!   said it waited). Here it waits, then passes the shutdown on.
//! * **A child's `producerFinished` does not leak out.** Kamaelia linked every child's `signal` to
//!   the PAR's `signal`, so the first child to finish told the component downstream to stop while
//!   the others were still running. Here the children's `signal`s are not wired, and the PAR sends
//!   one message when all have ended.
//! * **`inbox` is copied to every child** (what Kamaelia's docstring promised; its code discarded
//!   everything on `inbox`). This needs `I: Clone`; for other types, `PAR::discarding_inbox` keeps
//!   Kamaelia's behaviour (read and dropped, so senders never wait on it).
//! * Kamaelia's `policy` argument (any value other than `None` made the PAR ignore its boxes) and
//!   its unused `_co` outbox are not ported; `_cs`/`_co` are one outbox per child here rather than
//!   one box relinked for each message.

use std::fmt;

use axon_core::ipc::ProducerFinished;
use axon_core::{
    BoxKind, Component, ComponentRef, ComponentResult, Context, Declarations, Ipc, Linkage, Outbox, Passthrough,
    TryRecvError,
};

use crate::carousel::{send_or_control, Child, Sent};

/// Runs its children side by side and ends when all have ended; see the [module docs](self).
///
/// `I` and `O` are what the PAR's and every child's `inbox` and `outbox` carry. The name is
/// Kamaelia's (an occam `PAR`), capitals included.
///
/// # Inboxes
///
/// | box       | carries | what arrives                                                                |
/// |-----------|---------|-----------------------------------------------------------------------------|
/// | `inbox`   | `I`     | data, a copy of which goes to every child's `inbox`                          |
/// | `control` | `Ipc`   | control messages, each passed to every child's `control`; a `ShutdownMicroprocess` is also remembered for the end |
///
/// # Outboxes
///
/// | box       | carries | what leaves                                                                 |
/// |-----------|---------|-----------------------------------------------------------------------------|
/// | `outbox`  | `O`     | what every child sends out of its `outbox`, interleaved                      |
/// | `signal`  | `Ipc`   | once every child has ended: the `ShutdownMicroprocess` received, else a new `ProducerFinished` |
///
/// A PAR made with [`discarding_inbox`](PAR::discarding_inbox) describes its `inbox` as
/// `NOT USED: read and dropped`. When it starts it adds, for each child `n`, an outbox `_cs<n>`
/// (`Ipc`, internal use: control messages to child `n`) and, if it copies its `inbox`, an outbox
/// `_co<n>` (`I`, internal use: copies of `inbox` to child `n`).
#[allow(clippy::upper_case_acronyms)]
pub struct PAR<I, O> {
    children: Vec<Child<I, O>>,
    /// How to copy an `inbox` message for each child; `None`: drop what arrives on `inbox`.
    copy: Option<fn(&I) -> I>,
}

impl<I, O> fmt::Debug for PAR<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.children.iter().map(|c| c.component().name()).collect();
        f.debug_struct("PAR").field("children", &names).field("copies_inbox", &self.copy.is_some()).finish()
    }
}

impl<I: Clone + Send + 'static, O: Send + 'static> Default for PAR<I, O> {
    fn default() -> Self {
        Self::new()
    }
}

impl<I: Clone + Send + 'static, O: Send + 'static> PAR<I, O> {
    /// A PAR with no children yet, that copies every `inbox` message to every child.
    pub fn new() -> Self {
        PAR { children: Vec::new(), copy: Some(I::clone) }
    }

    /// A PAR of these children, that copies every `inbox` message to every child.
    pub fn from_children(children: impl IntoIterator<Item = Child<I, O>>) -> Self {
        PAR { children: children.into_iter().collect(), copy: Some(I::clone) }
    }
}

impl<I: Send + 'static, O: Send + 'static> PAR<I, O> {
    /// A PAR with no children yet, that reads its `inbox` and drops what arrives there
    /// (Kamaelia's behaviour; for message types that cannot be cloned).
    pub fn discarding_inbox() -> Self {
        PAR { children: Vec::new(), copy: None }
    }

    /// Adds a component (or a [`Child`]) to run alongside the others.
    pub fn with(mut self, child: impl Into<Child<I, O>>) -> Self {
        self.children.push(child.into());
        self
    }

    /// The number of children.
    pub fn len(&self) -> usize {
        self.children.len()
    }

    /// True if it has no children.
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }
}

/// A running child, as the PAR sees it.
struct Running<I> {
    component: ComponentRef,
    /// `_cs<n>`, linked to the child's `control`.
    control: Outbox<Ipc>,
    /// `_co<n>`, linked to the child's `inbox`, and that linkage, when the PAR copies its inbox.
    data: Option<(Outbox<I>, Linkage)>,
}

/// Passes a control message to every child still running, remembering a shutdown request.
async fn broadcast<I: Send + 'static>(running: &mut [Running<I>], shutdown: &mut Option<Ipc>, msg: Ipc) {
    if msg.is_shutdown_microprocess() && shutdown.is_none() {
        *shutdown = Some(msg.clone());
    }
    for r in running.iter_mut().filter(|r| !r.component.has_ended()) {
        r.control.send(msg.clone()).await;
    }
}

impl<I: Send + 'static, O: Send + 'static> Component for PAR<I, O> {
    type Inbox = I;
    type Outbox = O;

    fn declare(&self, boxes: &mut Declarations) {
        let inbox = if self.copy.is_some() {
            "data, a copy of which goes to every child's inbox"
        } else {
            "NOT USED: read and dropped"
        };
        boxes
            .describe(BoxKind::Inbox, "inbox", inbox)
            .describe(
                BoxKind::Inbox,
                "control",
                "control messages, each passed to every child's control; a ShutdownMicroprocess is also remembered \
                 for the end",
            )
            .describe(BoxKind::Outbox, "outbox", "what every child sends out of its outbox, interleaved")
            .describe(
                BoxKind::Outbox,
                "signal",
                "once every child has ended: the ShutdownMicroprocess received, else a new ProducerFinished",
            );
    }

    async fn main(self, mut ctx: Context<I, O>) -> ComponentResult {
        let me = ctx.me().clone();
        let mut running: Vec<Running<I>> = Vec::with_capacity(self.children.len());
        let mut to_start = Vec::with_capacity(self.children.len());
        for (n, child) in self.children.into_iter().enumerate() {
            let c = child.component().clone();
            ctx.link_passthrough((&c, "outbox"), (&me, "outbox"), Passthrough::Outbound)?;
            let control =
                ctx.add_outbox::<Ipc>(&format!("_cs{n}"), format!("internal use: control messages to {}", c.name()));
            ctx.link((&me, control.name()), (&c, "control"))?;
            let data = match self.copy {
                Some(_) => {
                    let out = ctx
                        .add_outbox::<I>(&format!("_co{n}"), format!("internal use: copies of inbox to {}", c.name()));
                    let link = ctx.link((&me, out.name()), (&c, "inbox"))?;
                    Some((out, link))
                }
                None => None,
            };
            running.push(Running { component: c, control, data });
            to_start.push(child);
        }
        for child in to_start {
            ctx.add_child(child.component());
            child.activate(&ctx);
        }

        let mut shutdown: Option<Ipc> = None;
        let mut inbox_closed = false;
        loop {
            let mut busy = false;
            while let Ok(msg) = ctx.control.try_recv() {
                busy = true;
                broadcast(&mut running, &mut shutdown, msg).await;
            }
            match ctx.inbox.try_recv() {
                Ok(msg) => {
                    busy = true;
                    if inbox_closed {
                        // Something linked to the inbox again: feed the children again.
                        inbox_closed = false;
                        for r in running.iter_mut().filter(|r| !r.component.has_ended()) {
                            if let Some((out, link)) = r.data.as_mut() {
                                if let Ok(l) = ctx.link((&me, out.name()), (&r.component, "inbox")) {
                                    *link = l;
                                }
                            }
                        }
                    }
                    if let Some(copy) = self.copy {
                        // A copy to each running child; the last one gets the original.
                        let targets: Vec<usize> =
                            (0..running.len()).filter(|&i| !running[i].component.has_ended()).collect();
                        let mut items: Vec<I> = (1..targets.len()).map(|_| copy(&msg)).collect();
                        items.push(msg);
                        for (i, mut item) in targets.into_iter().zip(items) {
                            while let Some((out, _)) = running[i].data.as_mut() {
                                match send_or_control(out, item, &mut ctx.control).await {
                                    Sent::Delivered => break,
                                    Sent::Control(c, back) => {
                                        item = back;
                                        broadcast(&mut running, &mut shutdown, c).await;
                                    }
                                }
                            }
                        }
                    }
                }
                Err(TryRecvError::Closed) if !inbox_closed => {
                    // Nothing more can arrive: let each child's inbox close too.
                    inbox_closed = true;
                    for r in &mut running {
                        if let Some((_, link)) = &r.data {
                            ctx.unlink(link);
                        }
                    }
                }
                Err(_) => {}
            }
            if ctx.children_done() {
                break;
            }
            if !busy {
                ctx.pause().await;
            }
        }
        let end = shutdown.unwrap_or_else(|| ProducerFinished::from(ctx.id()).into());
        ctx.signal.send(end).await;
        Ok(())
    }
}
