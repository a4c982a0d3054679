//! [`Handle`]: drive a component from ordinary code (Axon's `Handle`, successor of `LikeFile`).
//!
//! A handle activates a component and links four boxes of its own to the component's standard
//! ones:
//!
//! | handle side            | component side |
//! |------------------------|----------------|
//! | [`send`](Handle::send) / [`put`](Handle::put) → | `inbox`   |
//! | [`send_control`](Handle::send_control)        → | `control` |
//! | [`recv`](Handle::recv) / [`get`](Handle::get) ← | `outbox`  |
//! | [`recv_signal`](Handle::recv_signal)          ← | `signal`  |
//!
//! Every operation has an async form, a blocking form (for plain threads) and a non-waiting form
//! (Axon's `put`/`get`). Dropping the handle counts as its senders going away: the component's
//! `inbox` and `control` close once drained.
//!
//! # Ending the input
//!
//! [`close_input`](Handle::close_input) says "nothing more will be sent" while the handle goes on
//! reading: the component's `inbox` closes once it has taken what was sent, so a component that
//! reads `inbox` until it closes ends. A [`ProducerFinished`](crate::ipc::ProducerFinished) sent
//! to `control` ([`send_control`](Handle::send_control)) is a message like any other: it ends a
//! component that looks at `control` (after the data sent before it, see
//! [`events`](crate::events)), but one that only reads `inbox` never sees it. To end either kind,
//! send the `ProducerFinished` and close the input.
//!
//! # Boxes are bounded: read as you send
//!
//! The component's `inbox` holds at most its capacity ([`DEFAULT_CAPACITY`] unless it declares
//! another), and so does the handle's own box for what the component sends back. A thread that
//! sends more than both hold together without reading anything waits for ever: the component
//! waits for room to send its answer, the thread for room in the component's `inbox`. Read as
//! you send ([`get`](Handle::get) between sends), send from one thread while another reads (async
//! code: `tokio::join!` a sending and a reading future), send everything non-waiting with
//! [`put`](Handle::put) and read when it is full, or give up at a deadline with
//! [`send_timeout`](Handle::send_timeout). [`send_blocking`](Handle::send_blocking) logs a
//! warning naming the component when it sees this happen.
//!
//! ```
//! use axon_core::{Component, ComponentResult, Context, Handle, Scheduler};
//!
//! struct Reverser;
//! impl Component for Reverser {
//!     type Inbox = String;
//!     type Outbox = String;
//!     async fn main(self, mut ctx: Context<String, String>) -> ComponentResult {
//!         while let Some(s) = ctx.inbox.recv().await {
//!             ctx.outbox.send(s.chars().rev().collect()).await;
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let scheduler = Scheduler::new();
//! let mut h = Handle::new(Reverser, &scheduler);
//! h.send_blocking("abc".to_owned());
//! assert_eq!(h.recv_blocking().as_deref(), Some("cba"));
//! ```

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::block_on::{block_on, block_on_deadline};
use crate::boxes::{Inbox, Outbox};
use crate::component::Component;
use crate::component_ref::{ComponentRef, Core};
use crate::error::LinkError;
use crate::error::{NoSpaceInBox, RecvTimeoutError, TryRecvError};
use crate::id::ComponentId;
use crate::identity::Identity;
use crate::instance::{AnyInstance, IntoInstance};
use crate::ipc::Ipc;
use crate::kinds::BoxKind;
use crate::lifecycle::{ComponentKind, Exit};
use crate::linkage::{link_nodes, LinkOptions, Linkage};
use crate::node::{make_node, take_handle, ErasedNode};
use crate::queue::DEFAULT_CAPACITY;
use crate::scheduler::Scheduler;

/// How long [`Handle::send_blocking`] waits before it looks for the reason.
const STUCK_AFTER: Duration = Duration::from_secs(1);

/// Ordinary code's grip on one component; see the [module docs](self).
pub struct Handle<I, O> {
    input: HandleInput<I>,
    output: HandleOutput<O>,
    /// True once `send_blocking` has warned that it may wait for ever.
    warned: bool,
}

/// The sending half of a [`Handle`] ([`Handle::split`]): to the component's `inbox` and
/// `control`. Dropping it unlinks both: nothing can be sent any more, so the component's `inbox`
/// and `control` close once drained, and a component ends however it reads them.
pub struct HandleInput<I> {
    shared: Arc<Shared>,
    /// The linkage from `to_inbox` to the component's `inbox`; `None` once the input is closed.
    link: Option<Linkage>,
    /// The linkage from `to_control` to the component's `control`.
    control_link: Option<Linkage>,
    to_inbox: Outbox<I>,
    to_control: Outbox<Ipc>,
}

/// The receiving half of a [`Handle`] ([`Handle::split`]): from the component's `outbox` and
/// `signal`.
pub struct HandleOutput<O> {
    shared: Arc<Shared>,
    from_outbox: Inbox<O>,
    from_signal: Inbox<Ipc>,
}

/// What the two halves share: the handle's own component (its boxes' owner), ended when both
/// halves have gone, and the component driven.
struct Shared {
    me: ComponentRef,
    target: ComponentRef,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.me.0.finish(Exit::Finished);
    }
}

impl<I> Drop for HandleInput<I> {
    fn drop(&mut self) {
        for link in [self.link.take(), self.control_link.take()].into_iter().flatten() {
            crate::link::unlink(&link);
        }
    }
}

impl<I> fmt::Debug for HandleInput<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandleInput").field("component", &self.shared.target).finish_non_exhaustive()
    }
}

impl<O> fmt::Debug for HandleOutput<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandleOutput").field("component", &self.shared.target).finish_non_exhaustive()
    }
}

impl<I, O> fmt::Debug for Handle<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").field("component", &self.input.shared.target).finish_non_exhaustive()
    }
}

impl<I: Send + 'static, O: Send + 'static> Handle<I, O> {
    /// Activates `component` on `scheduler` and takes hold of its standard boxes.
    pub fn new<C>(component: impl IntoInstance<Component = C>, scheduler: &Scheduler) -> Self
    where
        C: Component<Inbox = I, Outbox = O>,
    {
        let inst = component.into_instance();
        let target = inst.component().clone();
        Self::wired(
            target,
            move |s| {
                inst.activate(s);
            },
            scheduler,
        )
        .expect("a handle's boxes match its component's standard boxes")
    }

    /// Like [`new`](Self::new), for a component whose type is not known here (an instance made
    /// elsewhere, type-erased, such as a handler a factory returned): its `inbox` must carry `I`
    /// and its `outbox` `O`, or the [`LinkError`] names the box and both types, and the component
    /// is not activated.
    pub fn for_any(instance: Box<dyn AnyInstance>, scheduler: &Scheduler) -> Result<Self, LinkError> {
        let target = instance.component().clone();
        Self::wired(
            target,
            move |s| {
                instance.activate_boxed(s);
            },
            scheduler,
        )
    }

    /// Makes the handle's boxes, links them to `target`'s standard boxes (all or none) and, if
    /// that works, registers the handle and `activate`s the target.
    fn wired(
        target: ComponentRef,
        activate: impl FnOnce(&Scheduler),
        scheduler: &Scheduler,
    ) -> Result<Self, LinkError> {
        let id = ComponentId::next();
        let ident = Identity::new(id, format!("Handle_{}", id.get()));
        let out_i =
            make_node::<I>(&ident, Cow::Borrowed("_outbox"), BoxKind::Outbox, "to the component's inbox".into(), None);
        let out_c = make_node::<Ipc>(
            &ident,
            Cow::Borrowed("_signal"),
            BoxKind::Outbox,
            "to the component's control".into(),
            None,
        );
        let in_o = make_node::<O>(
            &ident,
            Cow::Borrowed("_inbox"),
            BoxKind::Inbox,
            "from the component's outbox".into(),
            Some(DEFAULT_CAPACITY),
        );
        let in_s = make_node::<Ipc>(
            &ident,
            Cow::Borrowed("_control"),
            BoxKind::Inbox,
            "from the component's signal".into(),
            Some(DEFAULT_CAPACITY),
        );
        for n in [&out_i.meta, &out_c.meta, &in_o.meta, &in_s.meta] {
            take_handle(n);
        }
        let boxes: Vec<Arc<dyn ErasedNode>> = vec![in_o.clone(), in_s.clone(), out_i.clone(), out_c.clone()];
        let me = ComponentRef(Arc::new(Core::new(ident, boxes, ComponentKind::Handle)));
        use BoxKind::{Inbox as In, Outbox as Out};
        let plan = [
            (&me, Out, "_outbox", &target, In, "inbox"),
            (&me, Out, "_signal", &target, In, "control"),
            (&target, Out, "outbox", &me, In, "_inbox"),
            (&target, Out, "signal", &me, In, "_control"),
        ];
        let mut made = Vec::with_capacity(plan.len());
        for (from, fb, fname, to, tb, tname) in plan {
            let linked = from
                .find_box(fb, fname)
                .and_then(|s| to.find_box(tb, tname).map(|d| (s, d)))
                .and_then(|(s, d)| link_nodes(Some(&me), s, d, LinkOptions::default()));
            match linked {
                Ok(linkage) => made.push(linkage),
                Err(e) => {
                    crate::link::unlink_all(&made);
                    me.0.finish(Exit::Finished);
                    return Err(e);
                }
            }
        }
        scheduler.register(&me);
        activate(scheduler);
        let mut made = made.into_iter();
        let (link, control_link) = (made.next(), made.next());
        let shared = Arc::new(Shared { me, target });
        Ok(Handle {
            input: HandleInput {
                shared: shared.clone(),
                link,
                control_link,
                to_inbox: Outbox::from_node(out_i),
                to_control: Outbox::from_node(out_c),
            },
            output: HandleOutput { shared, from_outbox: Inbox::from_node(in_o), from_signal: Inbox::from_node(in_s) },
            warned: false,
        })
    }

    /// The component being driven.
    pub fn component(&self) -> &ComponentRef {
        &self.input.shared.target
    }

    /// Splits the handle into its sending and receiving halves, to use from two tasks or threads
    /// at once (one sends while the other reads: what a component that answers as it reads
    /// needs, whatever the bound of its boxes). Dropping the sending half unlinks it from the
    /// component's `inbox` and `control`, which close once drained; the handle's own boxes go
    /// when both halves have gone.
    pub fn split(self) -> (HandleInput<I>, HandleOutput<O>) {
        (self.input, self.output)
    }

    /// Puts `msg` into the component's `inbox` if there is room (Axon's `put(data, "inbox")`).
    /// After [`close_input`](Self::close_input), `msg` is dropped with a warning.
    pub fn put(&mut self, msg: I) -> Result<(), NoSpaceInBox<I>> {
        self.input.put(msg)
    }

    /// Sends `msg` to the component's `inbox`, waiting for room (see the [module docs](self) on
    /// reading as you send). After [`close_input`](Self::close_input), `msg` is dropped with a
    /// warning.
    pub async fn send(&mut self, msg: I) {
        self.input.send(msg).await
    }

    /// Sends `msg` to the component's `inbox`, blocking the thread while it is full.
    ///
    /// The inbox holds at most its capacity ([`DEFAULT_CAPACITY`] unless the component declares
    /// another), and the handle's box for the component's answers as much: a thread that sends
    /// more than both hold without reading waits for ever (the [module docs](self) say what to
    /// do instead). If this wait lasts while the box of answers is full, a warning naming the
    /// component is logged, once per handle. After [`close_input`](Self::close_input), `msg` is
    /// dropped with a warning.
    pub fn send_blocking(&mut self, msg: I) {
        if self.input.closed() {
            return;
        }
        let mut slot = Some(msg);
        let Handle { input, output, warned } = self;
        let target = &input.shared.target;
        let to_inbox = &mut input.to_inbox;
        let mut sending = std::pin::pin!(std::future::poll_fn(|cx| to_inbox.poll_send(&mut slot, cx)));
        loop {
            if block_on_deadline(sending.as_mut(), Some(Instant::now() + STUCK_AFTER)).is_some() {
                return;
            }
            if !*warned && output.from_outbox.is_full() {
                *warned = true;
                log::warn!(
                    "Handle::send_blocking: {target}'s inbox is full and this handle has not read the {} message(s) \
                     {target} sent back, so {target} may be waiting to send more: this can wait for ever. Read as you \
                     send (Handle::get), read from another thread (Handle::split), or use Handle::send_timeout",
                    output.from_outbox.data_ready()
                );
            }
        }
    }

    /// Sends `msg` to the component's `inbox`, blocking the thread while it is full, for at most
    /// `timeout`; if there is still no room then, `msg` comes back inside [`NoSpaceInBox`].
    pub fn send_timeout(&mut self, msg: I, timeout: Duration) -> Result<(), NoSpaceInBox<I>> {
        self.input.send_timeout(msg, timeout)
    }

    /// Says that nothing more will be sent to the component's `inbox`, while the handle goes on
    /// reading: the inbox closes once the component has taken what was sent, so a component that
    /// reads its `inbox` until it closes ends. Later sends are dropped with a warning.
    /// Idempotent. (A `ProducerFinished` sent to `control` does not close the input: see the
    /// [module docs](self).)
    pub fn close_input(&mut self) {
        self.input.close()
    }

    /// Puts `msg` into the component's `control` if there is room (Axon's `put(msg, "control")`).
    pub fn put_control(&mut self, msg: impl Into<Ipc>) -> Result<(), NoSpaceInBox<Ipc>> {
        self.input.put_control(msg)
    }

    /// Sends `msg` to the component's `control`, waiting for room.
    pub async fn send_control(&mut self, msg: impl Into<Ipc>) {
        self.input.send_control(msg).await
    }

    /// Sends `msg` to the component's `control`, blocking while it is full.
    pub fn send_control_blocking(&mut self, msg: impl Into<Ipc>) {
        self.input.send_control_blocking(msg)
    }

    /// The oldest message from the component's `outbox`, if any (Axon's `get("outbox")`).
    pub fn get(&mut self) -> Result<O, TryRecvError> {
        self.output.get()
    }

    /// Waits for the next message from `outbox`; `None` once the component has ended and
    /// everything it sent has been taken.
    pub async fn recv(&mut self) -> Option<O> {
        self.output.recv().await
    }

    /// Blocking form of [`recv`](Self::recv).
    pub fn recv_blocking(&mut self) -> Option<O> {
        self.output.recv_blocking()
    }

    /// Like [`recv_blocking`](Self::recv_blocking) with a deadline.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<O, RecvTimeoutError> {
        self.output.recv_timeout(timeout)
    }

    /// The oldest message from the component's `signal`, if any (Axon's `get("signal")`).
    pub fn get_signal(&mut self) -> Result<Ipc, TryRecvError> {
        self.output.get_signal()
    }

    /// Waits for the next message from `signal`.
    pub async fn recv_signal(&mut self) -> Option<Ipc> {
        self.output.recv_signal().await
    }

    /// Blocking form of [`recv_signal`](Self::recv_signal), with a deadline.
    pub fn recv_signal_timeout(&mut self, timeout: Duration) -> Result<Ipc, RecvTimeoutError> {
        self.output.recv_signal_timeout(timeout)
    }

    /// Waits for the component to end.
    pub async fn join(&self) -> Exit {
        self.output.join().await
    }

    /// Blocks until the component ends.
    pub fn join_blocking(&self) -> Exit {
        self.output.join_blocking()
    }
}

impl<I: Send + 'static> HandleInput<I> {
    /// The component being driven.
    pub fn component(&self) -> &ComponentRef {
        &self.shared.target
    }

    /// True (and a warning logged) if the input is closed.
    fn closed(&self) -> bool {
        let closed = self.link.is_none();
        if closed {
            log::warn!("Handle: a message sent to {} after its input was closed is dropped", self.shared.target);
        }
        closed
    }

    /// [`Handle::put`].
    pub fn put(&mut self, msg: I) -> Result<(), NoSpaceInBox<I>> {
        if self.closed() {
            return Ok(());
        }
        self.to_inbox.try_send(msg)
    }

    /// [`Handle::send`].
    pub async fn send(&mut self, msg: I) {
        if self.closed() {
            return;
        }
        self.to_inbox.send(msg).await
    }

    /// Sends `msg` to the component's `inbox`, blocking the thread while it is full.
    pub fn send_blocking(&mut self, msg: I) {
        if self.closed() {
            return;
        }
        self.to_inbox.send_blocking(msg)
    }

    /// [`Handle::send_timeout`].
    pub fn send_timeout(&mut self, msg: I, timeout: Duration) -> Result<(), NoSpaceInBox<I>> {
        if self.closed() {
            return Ok(());
        }
        self.to_inbox.send_timeout(msg, timeout)
    }

    /// [`Handle::close_input`]; dropping the half does it too.
    pub fn close(&mut self) {
        if let Some(link) = self.link.take() {
            crate::link::unlink(&link);
        }
    }

    /// Poll form of [`send`](Self::send), for hand-written futures and bodies: moves the message
    /// out of `slot` into the component's `inbox` once there is room (ready with `slot` empty),
    /// or registers `cx` to be woken when there is. After [`close`](Self::close) the message is
    /// dropped with a warning.
    pub fn poll_send(&mut self, slot: &mut Option<I>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if slot.is_none() {
            return std::task::Poll::Ready(());
        }
        if self.closed() {
            slot.take();
            return std::task::Poll::Ready(());
        }
        self.to_inbox.poll_send(slot, cx)
    }

    /// [`Handle::put_control`].
    pub fn put_control(&mut self, msg: impl Into<Ipc>) -> Result<(), NoSpaceInBox<Ipc>> {
        self.to_control.try_send(msg.into())
    }

    /// [`Handle::send_control`].
    pub async fn send_control(&mut self, msg: impl Into<Ipc>) {
        self.to_control.send(msg.into()).await
    }

    /// [`Handle::send_control_blocking`].
    pub fn send_control_blocking(&mut self, msg: impl Into<Ipc>) {
        self.to_control.send_blocking(msg.into())
    }
}

impl<O: Send + 'static> HandleOutput<O> {
    /// The component being driven.
    pub fn component(&self) -> &ComponentRef {
        &self.shared.target
    }

    /// [`Handle::get`].
    pub fn get(&mut self) -> Result<O, TryRecvError> {
        self.from_outbox.try_recv()
    }

    /// [`Handle::recv`].
    pub async fn recv(&mut self) -> Option<O> {
        self.from_outbox.recv().await
    }

    /// [`Handle::recv_blocking`].
    pub fn recv_blocking(&mut self) -> Option<O> {
        self.from_outbox.recv_blocking()
    }

    /// Poll form of [`recv`](Self::recv), for hand-written futures and bodies.
    pub fn poll_recv(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<O>> {
        self.from_outbox.poll_recv(cx)
    }

    /// Poll form of [`recv_signal`](Self::recv_signal).
    pub fn poll_recv_signal(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Ipc>> {
        self.from_signal.poll_recv(cx)
    }

    /// [`Handle::recv_timeout`].
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<O, RecvTimeoutError> {
        self.from_outbox.recv_timeout(timeout)
    }

    /// [`Handle::get_signal`].
    pub fn get_signal(&mut self) -> Result<Ipc, TryRecvError> {
        self.from_signal.try_recv()
    }

    /// [`Handle::recv_signal`].
    pub async fn recv_signal(&mut self) -> Option<Ipc> {
        self.from_signal.recv().await
    }

    /// [`Handle::recv_signal_timeout`].
    pub fn recv_signal_timeout(&mut self, timeout: Duration) -> Result<Ipc, RecvTimeoutError> {
        self.from_signal.recv_timeout(timeout)
    }

    /// [`Handle::join`].
    pub async fn join(&self) -> Exit {
        self.shared.target.join().await
    }

    /// [`Handle::join_blocking`].
    pub fn join_blocking(&self) -> Exit {
        block_on(self.shared.target.join())
    }
}
