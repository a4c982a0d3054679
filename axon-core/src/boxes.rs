//! Inboxes and outboxes: the handles a component body uses, and the four standard boxes.
//!
//! Every component has four standard boxes (Axon's defaults, with Axon's descriptions):
//!
//! | box       | kind   | carries                 | description |
//! |-----------|--------|-------------------------|-------------|
//! | `inbox`   | inbox  | `Component::Inbox`      | "Default inbox for bulk data. Used in a pipeline much like stdin" |
//! | `control` | inbox  | [`Ipc`]                 | "Secondary inbox often used for signals. The closest analogy is unix signals" |
//! | `outbox`  | outbox | `Component::Outbox`     | "Default data out outbox, used in a pipeline much like stdout" |
//! | `signal`  | outbox | [`Ipc`]                 | "The default signal based outbox - kinda like stderr, but more for sending singal type signals" |
//!
//! A component declares more in [`Component::declare`](crate::Component::declare) with
//! [`Declarations::inbox`](crate::Declarations::inbox) /
//! [`Declarations::outbox`](crate::Declarations::outbox), each with a message type and a
//! description (Axon's `Inboxes`/`Outboxes` dicts), and takes their handles in its body with
//! [`Context::take_inbox`](crate::Context::take_inbox) /
//! [`Context::take_outbox`](crate::Context::take_outbox).
//!
//! Every inbox is bounded: [`DEFAULT_CAPACITY`] unless declared otherwise or changed with
//! [`Inbox::set_capacity`] or a linkage's `pipewidth`.

use std::any::{Any, TypeId};
use std::fmt;
use std::future::{poll_fn, Future};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use crate::block_on::{block_on, block_on_deadline};
use crate::error::{NoSpaceInBox, RecvTimeoutError, TryRecvError};
use crate::ipc::Ipc;
pub use crate::kinds::{BoxKind, BoxName};
use crate::node::Node;
pub use crate::queue::DEFAULT_CAPACITY;
use crate::queue::{Pop, Push, Queue};

/// Axon's description of the standard `inbox`.
pub const INBOX_DESCRIPTION: &str = "Default inbox for bulk data. Used in a pipeline much like stdin";
/// Axon's description of the standard `control` inbox.
pub const CONTROL_DESCRIPTION: &str = "Secondary inbox often used for signals. The closest analogy is unix signals";
/// Axon's description of the standard `outbox`.
pub const OUTBOX_DESCRIPTION: &str = "Default data out outbox, used in a pipeline much like stdout";
/// Axon's description of the standard `signal` outbox (typo included, as users know it).
pub const SIGNAL_DESCRIPTION: &str =
    "The default signal based outbox - kinda like stderr, but more for sending singal type signals";

/// The receiving end of an inbox, held by the component that owns it.
///
/// Messages arrive in order (FIFO); from several senders (fan-in) they interleave in the order
/// they were sent. [`recv`](Self::recv) returns `None` once the inbox is *closed*: it is empty,
/// and every outbox that was ever linked to it has gone (its component ended or the linkage was
/// removed), or the owner itself has ended. An inbox that has never been linked never closes, so a
/// component activated before its parent wires it does not see a spurious end. Nor does an inbox
/// passed on to a child (linked onward by a passthrough): it holds nothing while its messages go
/// past it to the end of the chain, but it is not closed, and receives again if the chain is cut.
pub struct Inbox<T> {
    node: Arc<Node<T>>,
}

impl<T> fmt::Debug for Inbox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Inbox({})", self.node.meta.label())
    }
}

impl<T: Send + 'static> Inbox<T> {
    pub(crate) fn from_node(node: Arc<Node<T>>) -> Self {
        Self { node }
    }

    /// A second handle to the same box, for a hosted body (see `Context::host`).
    pub(crate) fn lend(&self) -> Self {
        Self { node: self.node.clone() }
    }

    /// Its storage.
    pub(crate) fn q(&self) -> &Queue<T, Node<T>> {
        self.node.queue()
    }

    /// The box's name.
    pub fn name(&self) -> &str {
        &self.node.meta.name
    }

    /// Notes, for the owner's end-of-life report, a shutdown message taken from this box (see
    /// [`Identity::heard`]). Only boxes of [`Ipc`] look: for any other type the test is a
    /// constant, and the call compiles to nothing.
    #[inline]
    fn note(&self, m: &T) {
        if TypeId::of::<T>() == TypeId::of::<Ipc>() {
            if let Some(ipc) = (m as &dyn Any).downcast_ref::<Ipc>() {
                self.node.meta.owner.heard(ipc);
            }
        }
    }

    /// [`poll_take`](Self::poll_take), except that a box never linked counts as closed when empty
    /// (see `Queue::poll_pop_or_unlinked`).
    pub(crate) fn poll_take_or_unlinked(&mut self, cx: &mut TaskContext<'_>) -> Poll<Option<T>> {
        let r = self.q().poll_pop_or_unlinked(cx);
        if let Poll::Ready(Some(m)) = &r {
            self.note(m);
        }
        r
    }

    /// What `f` makes of the oldest message waiting (`None`: none is), without taking it.
    pub(crate) fn peek<R>(&self, f: impl FnOnce(Option<&T>) -> R) -> R {
        self.q().peek(f)
    }

    /// Registers `cx` to be woken by the next delivery, taking nothing; true if a message is
    /// waiting or the inbox is closed.
    pub(crate) fn poll_ready(&self, cx: &mut TaskContext<'_>) -> bool {
        self.q().poll_ready(cx)
    }

    /// Waits for the next message; `None` once the inbox is closed (see the type docs).
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Poll form of [`recv`](Self::recv), for hand-written futures and `select`s.
    pub fn poll_recv(&mut self, cx: &mut TaskContext<'_>) -> Poll<Option<T>> {
        let coop = std::task::ready!(tokio::task::coop::poll_proceed(cx));
        let r = self.poll_take(cx);
        if r.is_ready() {
            coop.made_progress();
        }
        r
    }

    /// [`poll_recv`](Self::poll_recv) without the task's budget: for helpers that take one unit
    /// of budget for a look at several boxes.
    pub(crate) fn poll_take(&mut self, cx: &mut TaskContext<'_>) -> Poll<Option<T>> {
        let r = self.q().poll_pop(cx);
        if let Poll::Ready(Some(m)) = &r {
            self.note(m);
        }
        r
    }

    /// Takes the next message if one is waiting (Axon's `recv`, which raises `IndexError` when
    /// empty).
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        match self.q().pop() {
            Pop::Item(m) => {
                self.note(&m);
                Ok(m)
            }
            Pop::Empty => Err(TryRecvError::Empty),
            Pop::Closed => Err(TryRecvError::Closed),
        }
    }

    /// Blocks the calling thread until a message arrives; for threaded components. Do not call
    /// it from async code (use [`recv`](Self::recv)).
    pub fn recv_blocking(&mut self) -> Option<T> {
        block_on(self.recv())
    }

    /// Blocks the calling thread for at most `timeout`; for threaded components.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        match block_on_deadline(self.recv(), Some(Instant::now() + timeout)) {
            Some(Some(m)) => Ok(m),
            Some(None) => Err(RecvTimeoutError::Closed),
            None => Err(RecvTimeoutError::Timeout),
        }
    }

    /// Waits until a message is waiting or the inbox is closed, without taking anything.
    pub async fn ready(&self) {
        poll_fn(|cx| if self.q().poll_ready(cx) { Poll::Ready(()) } else { Poll::Pending }).await
    }

    /// How many messages are waiting (Axon's `dataReady`, which is a count).
    pub fn data_ready(&self) -> usize {
        self.q().len()
    }

    /// True when nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.data_ready() == 0
    }

    /// True when the inbox is empty and can receive nothing more (see the type docs).
    pub fn is_closed(&self) -> bool {
        self.q().is_closed()
    }

    /// Takes everything waiting now (Axon's `Inbox(box)` generator).
    pub fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(move || self.try_recv().ok())
    }

    /// The capacity (`None` = unbounded).
    pub fn capacity(&self) -> Option<usize> {
        self.q().capacity()
    }

    /// Changes the capacity (Axon's `setInboxSize` / `setSize`); `None` makes it unbounded.
    /// Senders waiting for space re-check at once. Shrinking below the current depth keeps what is
    /// there; senders wait until the depth is below the new capacity.
    pub fn set_capacity(&self, capacity: Option<usize>) {
        self.q().set_capacity(capacity)
    }

    /// True when at capacity.
    pub fn is_full(&self) -> bool {
        self.q().is_full()
    }
}

/// The sending end of an outbox, held by the component that owns it.
///
/// Sending puts the message straight into the inbox at the end of the linkage chain (one hop, no
/// copy, whatever passthroughs lie between). An outbox that is not linked discards what it is
/// sent, as in Axon, and so does one whose destination's component has ended.
pub struct Outbox<T> {
    node: Arc<Node<T>>,
    seen: u32,
    sink: Option<Arc<Node<T>>>,
}

impl<T> fmt::Debug for Outbox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Outbox({})", self.node.meta.label())
    }
}

impl<T: Send + 'static> Outbox<T> {
    pub(crate) fn from_node(node: Arc<Node<T>>) -> Self {
        // Resolved at the first use (`seen` matches no generation yet).
        Self { node, seen: u32::MAX, sink: None }
    }

    /// A second handle to the same box, with the same cached destination, for a hosted body
    /// (see `Context::host`).
    pub(crate) fn lend(&self) -> Self {
        Self { node: self.node.clone(), seen: self.seen, sink: self.sink.clone() }
    }

    /// The end of its chain, looked up again if the wiring changed since the last look.
    #[inline]
    pub(crate) fn refresh(&mut self) -> Option<&Arc<Node<T>>> {
        let g = self.node.meta.generation.load(Ordering::Acquire);
        if g != self.seen {
            // Read the generation before the sink: a change racing with this read bumps the
            // generation again and the next send refreshes once more.
            self.sink = self.node.sink();
            self.seen = g;
        }
        self.sink.as_ref()
    }

    /// The box's name.
    pub fn name(&self) -> &str {
        &self.node.meta.name
    }

    /// Sends `msg`, waiting while the destination is full (the async form of Axon's "catch
    /// `noSpaceInBox`, pause, retry"). Discards it if the outbox is not linked or the destination
    /// has ended.
    ///
    /// (Not an `async fn`: that would store the message twice in the future, as the argument and
    /// as the slot; this future is the outbox and the slot, and is part of the future of every
    /// component that awaits it.)
    pub fn send(&mut self, msg: T) -> impl Future<Output = ()> + Send + '_ {
        let mut slot = Some(msg);
        poll_fn(move |cx| self.poll_send(&mut slot, cx))
    }

    pub(crate) fn poll_send(&mut self, slot: &mut Option<T>, cx: &mut TaskContext<'_>) -> Poll<()> {
        if std::task::ready!(self.poll_send_live(slot, cx)).is_err() {
            // Its destination has ended: discarded, as a send into an ended box is.
            slot.take();
        }
        Poll::Ready(())
    }

    /// As [`poll_send`](Self::poll_send), but a destination whose component has ended gives the
    /// message back: `Err` with the destination's label, the message still in `slot`. (An
    /// outbox that is not linked discards it, as `poll_send` does: no error, as in Axon.) The
    /// check is the delivery's own, under the queue's one lock, so no end can slip in between.
    pub(crate) fn poll_send_live(
        &mut self,
        slot: &mut Option<T>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Result<(), String>> {
        let coop = std::task::ready!(tokio::task::coop::poll_proceed(cx));
        let Some(sink) = self.refresh() else {
            log::trace!("{}: not linked; message discarded", self.node.meta.label());
            slot.take();
            // Counts against the task's budget like a delivery: a loop sending into an unlinked
            // outbox still yields to other tasks now and then instead of spinning for ever.
            coop.made_progress();
            return Poll::Ready(Ok(()));
        };
        match sink.queue().poll_push(&sink.meta.owner.notifier, slot, cx) {
            Poll::Ready(push) => {
                coop.made_progress();
                Poll::Ready(match push {
                    Push::Discarded(()) => Err(sink.meta.label()),
                    _ => Ok(()),
                })
            }
            Poll::Pending => Poll::Pending,
        }
    }

    /// Sends `msg` if there is room now; otherwise gives it back inside [`NoSpaceInBox`]
    /// (Axon's `send`, which raises `noSpaceInBox`).
    pub fn try_send(&mut self, msg: T) -> Result<(), NoSpaceInBox<T>> {
        let Some(sink) = self.refresh() else { return Ok(()) };
        match sink.queue().push(&sink.meta.owner.notifier, msg) {
            Push::Delivered | Push::Discarded(_) => Ok(()),
            Push::Full(message) => Err(NoSpaceInBox {
                message,
                destination: sink.meta.label(),
                capacity: sink.queue().capacity().unwrap_or(usize::MAX),
            }),
        }
    }

    /// Blocks the calling thread until `msg` is delivered; for threaded components.
    pub fn send_blocking(&mut self, msg: T) {
        block_on(self.send(msg))
    }

    /// Blocks the calling thread until `msg` is delivered or `timeout` has passed; for threaded
    /// components and plain threads. If the destination is still full at the deadline, the
    /// message comes back inside [`NoSpaceInBox`]: nothing is lost.
    pub fn send_timeout(&mut self, msg: T, timeout: Duration) -> Result<(), NoSpaceInBox<T>> {
        let mut slot = Some(msg);
        let sent = block_on_deadline(poll_fn(|cx| self.poll_send(&mut slot, cx)), Some(Instant::now() + timeout));
        match (sent, slot) {
            (Some(()), _) | (None, None) => Ok(()),
            (None, Some(message)) => {
                let (destination, capacity) = match self.refresh() {
                    Some(sink) => (sink.meta.label(), sink.queue().capacity().unwrap_or(usize::MAX)),
                    None => (self.node.meta.label(), usize::MAX),
                };
                Err(NoSpaceInBox { message, destination, capacity })
            }
        }
    }

    /// Waits until the destination has room (or the outbox is unlinked).
    pub async fn ready(&mut self) {
        poll_fn(|cx| match self.refresh() {
            None => Poll::Ready(()),
            Some(sink) => {
                if sink.queue().poll_space(cx) {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// True if the outbox leads to an inbox. Like a send, it brings the outbox's cached
    /// destination up to date (see
    /// [`OutboxTuning::refresh_destination`](crate::tuning::OutboxTuning::refresh_destination)).
    pub fn is_linked(&mut self) -> bool {
        self.refresh().is_some()
    }

    /// True if the outbox is linked and the component owning its destination has ended, so that
    /// whatever is sent is discarded (for instance, a socket adapter whose client has gone).
    pub fn destination_ended(&mut self) -> bool {
        self.refresh().is_some_and(|s| s.queue().is_dead())
    }

    /// True if the destination is at capacity (Axon's `isFull`).
    pub fn is_full(&mut self) -> bool {
        self.refresh().is_some_and(|s| s.queue().is_full())
    }
}
