//! The storage behind every inbox: a bounded FIFO with wakers.
//!
//! One `Queue` belongs to each inbox. Outboxes have no storage: a linkage resolves an outbox to
//! the queue of the inbox at the end of its chain, and sending is one push into that queue (Axon's
//! "append to the final destination"). This module knows nothing about linkages; it offers the
//! operations the box handles need:
//!
//! * `push` / `poll_push`: deliver or, when full, wait for space (a waker is kept in
//!   `send_waiters`). Delivery wakes the receiving task and rings the owner's doorbell (its
//!   [`Notifier`]; Axon: a delivery wakes the paused owner).
//! * `pop` / `poll_pop`: collect, waking every sender that was waiting for space (Axon's
//!   wake-on-pop, but only for senders that are actually waiting).
//! * `senders`: how many live outboxes currently resolve to this queue. When it falls back to zero
//!   after having been positive, an empty queue reports "closed" to its receiver, which is how a
//!   component notices that everything upstream has gone. A mid-chain inbox (one whose messages
//!   are forwarded onward) has no senders of its own but is not closed: its input still flows,
//!   past it, and comes back to it if the chain is cut.
//! * `redirect`: a mid-chain inbox forwards whatever still reaches it to the end of its chain, a
//!   box this module knows only as a [`ChainEnd`] (something with a queue and a doorbell: the box
//!   nodes a floor up), so that a sender with a stale destination strands nothing.
//!
//! A std `Mutex` guards each queue: critical sections are a few instructions, never span an
//! `.await`, and never call user code (messages are dropped and wakers woken after unlocking).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::notifier::Notifier;
use crate::sync::lock;

/// How many messages an inbox holds before senders must wait, unless declared otherwise.
///
/// When an inbox is full, [`Outbox::send`](crate::Outbox::send) waits until the receiver collects
/// a message and [`Outbox::try_send`](crate::Outbox::try_send) returns
/// [`NoSpaceInBox`](crate::NoSpaceInBox) with the message. 64 matches kameo's default mailbox; it
/// is large enough for a pass-through chain to batch its work and small enough that a slow
/// consumer holds back its producer quickly. Queues allocate as they fill, so an inbox that has
/// never held a message costs no buffer at all, and one that has can give its buffer back (see
/// [`tuning`](crate::tuning)).
pub const DEFAULT_CAPACITY: usize = 64;

/// The box at the end of a chain, to which a mid-chain queue forwards what still reaches it: it
/// has a queue of its own, and a doorbell to ring when a message lands there. (The box nodes a
/// floor up are the one kind; the queue needs no more of them than this.)
pub(crate) trait ChainEnd<T>: Sized {
    /// The queue messages land in.
    fn queue(&self) -> &Queue<T, Self>;
    /// The doorbell of the component that owns the queue.
    fn doorbell(&self) -> &Notifier;
}

/// What happened to a message offered to a queue.
pub(crate) enum Push<T> {
    /// It is in the queue.
    Delivered,
    /// The queue's owner has ended; the message is handed back to be dropped.
    Discarded(T),
    /// The queue is at capacity; the message is handed back.
    Full(T),
}

/// What a receiver found.
pub(crate) enum Pop<T> {
    Item(T),
    Empty,
    /// Empty, and every sender that was ever linked has gone (or the owner ended).
    Closed,
}

/// The capacity of an unbounded queue.
const UNBOUNDED: usize = usize::MAX;

struct State<T, E> {
    buf: VecDeque<T>,
    /// The most messages held; [`UNBOUNDED`] for no limit (not an `Option`: the queue is part of
    /// every inbox, and this saves its share of a cache line).
    capacity: usize,
    recv_waker: Option<Waker>,
    send_waiters: Vec<Waker>,
    senders: u32,
    ever_linked: bool,
    dead: bool,
    /// Set while this inbox is mid-chain: anything pushed here (by a sender whose cached
    /// destination is stale) goes on to the current end of the chain instead of being stranded.
    forward: Option<Arc<E>>,
}

impl<T, E> State<T, E> {
    /// Changes the count of senders by `delta`; returns the receiver's waker when none is left
    /// (so that it sees its inbox close), to be woken once the lock is released.
    fn change_senders(&mut self, delta: isize) -> Option<Waker> {
        let senders = i64::from(self.senders).saturating_add(delta as i64);
        self.senders = u32::try_from(senders.max(0)).unwrap_or(u32::MAX);
        if delta > 0 {
            self.ever_linked = true;
        }
        if self.senders == 0 {
            self.recv_waker.take()
        } else {
            None
        }
    }

    /// Nothing can arrive once empty: the owner ended, or every sender that was ever linked has
    /// gone. A mid-chain inbox is never closed for want of senders of its own: its senders'
    /// messages go past it, and come to it again if the chain is cut.
    fn closing(&self) -> bool {
        self.dead || (self.ever_linked && self.senders == 0 && self.forward.is_none())
    }
}

/// An inbox's storage. See the module docs.
///
/// The operations that deliver take the doorbell of the component that owns the inbox (a
/// delivery rings it) from the caller, which has it in the inbox's node: not stored here a second
/// time, in every inbox. `E` is what a mid-chain queue forwards to (see [`ChainEnd`]).
pub(crate) struct Queue<T, E> {
    state: Mutex<State<T, E>>,
}

fn wake_all(ws: Vec<Waker>) {
    for w in ws {
        w.wake();
    }
}

impl<T, E: ChainEnd<T>> Queue<T, E> {
    pub(crate) fn new(capacity: Option<usize>) -> Self {
        Self {
            state: Mutex::new(State {
                buf: VecDeque::new(),
                capacity: capacity.unwrap_or(UNBOUNDED),
                recv_waker: None,
                send_waiters: Vec::new(),
                senders: 0,
                ever_linked: false,
                dead: false,
                forward: None,
            }),
        }
    }

    /// Offers `msg` without waiting.
    pub(crate) fn push(&self, doorbell: &Notifier, msg: T) -> Push<T> {
        let st = lock(&self.state);
        if let Some(f) = st.forward.clone() {
            drop(st);
            return f.queue().push(f.doorbell(), msg);
        }
        if st.dead {
            return Push::Discarded(msg);
        }
        if st.buf.len() >= st.capacity {
            return Push::Full(msg);
        }
        deliver(doorbell, st, msg);
        Push::Delivered
    }

    /// Like [`push`](Self::push) but ignores the capacity (used when a linkage moves messages
    /// that were already accepted into another box: they are never lost for lack of room).
    pub(crate) fn push_over_capacity(&self, doorbell: &Notifier, msgs: Vec<T>) -> Vec<T> {
        let mut st = lock(&self.state);
        if let Some(f) = st.forward.clone() {
            drop(st);
            return f.queue().push_over_capacity(f.doorbell(), msgs);
        }
        if st.dead {
            return msgs;
        }
        let before = st.buf.len();
        st.buf.extend(msgs);
        let woke = st.buf.len() > before;
        let w = if woke { st.recv_waker.take() } else { None };
        drop(st);
        if let Some(w) = w {
            w.wake();
        }
        if woke {
            doorbell.notify();
        }
        Vec::new()
    }

    /// Offers the message in `slot`, registering `cx` to be woken when space frees up if the
    /// queue is full. Leaves `slot` empty once the message is delivered; a queue whose owner has
    /// ended leaves it in `slot` (`Discarded`), for the caller to drop or give back. One lock.
    pub(crate) fn poll_push(&self, doorbell: &Notifier, slot: &mut Option<T>, cx: &mut Context<'_>) -> Poll<Push<()>> {
        let mut st = lock(&self.state);
        if let Some(f) = st.forward.clone() {
            drop(st);
            return f.queue().poll_push(f.doorbell(), slot, cx);
        }
        if st.dead {
            return Poll::Ready(Push::Discarded(()));
        }
        if st.buf.len() >= st.capacity {
            if !st.send_waiters.iter().any(|w| w.will_wake(cx.waker())) {
                st.send_waiters.push(cx.waker().clone());
            }
            return Poll::Pending;
        }
        if let Some(msg) = slot.take() {
            deliver(doorbell, st, msg);
        }
        Poll::Ready(Push::Delivered)
    }

    /// Takes the oldest message without waiting.
    pub(crate) fn pop(&self) -> Pop<T> {
        let mut st = lock(&self.state);
        match st.buf.pop_front() {
            Some(m) => {
                let waiters =
                    if st.send_waiters.is_empty() { Vec::new() } else { std::mem::take(&mut st.send_waiters) };
                drop(st);
                wake_all(waiters);
                Pop::Item(m)
            }
            None if st.closing() => Pop::Closed,
            None => Pop::Empty,
        }
    }

    /// Takes the oldest message, or registers `cx` to be woken by the next delivery. One lock.
    /// `Ready(None)` means closed (see [`Pop::Closed`]).
    pub(crate) fn poll_pop(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut st = lock(&self.state);
        if let Some(m) = st.buf.pop_front() {
            let waiters = if st.send_waiters.is_empty() { Vec::new() } else { std::mem::take(&mut st.send_waiters) };
            drop(st);
            wake_all(waiters);
            return Poll::Ready(Some(m));
        }
        if st.closing() {
            return Poll::Ready(None);
        }
        if !st.recv_waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            st.recv_waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Like [`poll_pop`](Self::poll_pop), but an inbox that has never been linked counts as
    /// closed when empty: for a box that may be left unwired (a component's `control` in a chain
    /// wired outbox to inbox only), once the component's data has ended.
    pub(crate) fn poll_pop_or_unlinked(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        {
            let st = lock(&self.state);
            if st.buf.is_empty() && !st.ever_linked && st.forward.is_none() {
                return Poll::Ready(None);
            }
        }
        self.poll_pop(cx)
    }

    /// Registers `cx` to be woken by the next delivery, without taking anything. Returns true if
    /// there is already something to take (or the queue is closed).
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>) -> bool {
        let mut st = lock(&self.state);
        if !st.buf.is_empty() || st.closing() {
            return true;
        }
        if !st.recv_waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            st.recv_waker = Some(cx.waker().clone());
        }
        false
    }

    /// What `f` makes of the oldest message (`None`: nothing is waiting), without taking it.
    pub(crate) fn peek<R>(&self, f: impl FnOnce(Option<&T>) -> R) -> R {
        let st = lock(&self.state);
        f(st.buf.front())
    }

    /// Registers `cx` to be woken when a slot frees up; true if there is room now.
    pub(crate) fn poll_space(&self, cx: &mut Context<'_>) -> bool {
        let mut st = lock(&self.state);
        if st.dead || st.buf.len() < st.capacity {
            return true;
        }
        if !st.send_waiters.iter().any(|w| w.will_wake(cx.waker())) {
            st.send_waiters.push(cx.waker().clone());
        }
        false
    }

    /// Gives back the memory the buffer holds beyond what is waiting and beyond room for `keep`
    /// messages (all of it when empty and `keep` is 0): a `VecDeque` keeps the capacity it grew
    /// to. A buffer already that small is left as it is (no reallocation).
    pub(crate) fn shrink_to(&self, keep: usize) {
        let mut st = lock(&self.state);
        if st.buf.capacity() <= keep.max(st.buf.len()) {
            return;
        }
        if st.buf.is_empty() && keep == 0 {
            // Freed outside the lock.
            let old = std::mem::take(&mut st.buf);
            drop(st);
            drop(old);
        } else {
            st.buf.shrink_to(keep);
        }
    }

    /// True once the owner has ended (everything pushed is discarded).
    pub(crate) fn is_dead(&self) -> bool {
        lock(&self.state).dead
    }

    /// Number of messages waiting.
    pub(crate) fn len(&self) -> usize {
        lock(&self.state).buf.len()
    }

    pub(crate) fn capacity(&self) -> Option<usize> {
        let capacity = lock(&self.state).capacity;
        (capacity != UNBOUNDED).then_some(capacity)
    }

    /// Changes the capacity (`None` = unbounded). Senders waiting for space retry.
    pub(crate) fn set_capacity(&self, capacity: Option<usize>) {
        let mut st = lock(&self.state);
        st.capacity = capacity.unwrap_or(UNBOUNDED);
        let waiters = std::mem::take(&mut st.send_waiters);
        drop(st);
        wake_all(waiters);
    }

    pub(crate) fn is_full(&self) -> bool {
        let st = lock(&self.state);
        st.buf.len() >= st.capacity
    }

    /// True when a receiver would be told "closed".
    pub(crate) fn is_closed(&self) -> bool {
        let st = lock(&self.state);
        st.buf.is_empty() && st.closing()
    }

    /// Adjusts the count of live senders resolving to this queue by `delta`.
    pub(crate) fn add_senders(&self, doorbell: &Notifier, delta: isize) {
        if delta == 0 {
            return;
        }
        let w = lock(&self.state).change_senders(delta);
        if let Some(w) = w {
            w.wake();
            doorbell.notify();
        }
    }

    /// True if a sender has ever resolved to this queue.
    pub(crate) fn was_linked(&self) -> bool {
        lock(&self.state).ever_linked
    }

    /// Counts as linked from now on, as if a sender had come and gone: with no sender left,
    /// its receiver is told "closed" once the queue is empty (and woken to see it). For the end
    /// of a chain that an inbox joins after that inbox's own senders had already gone.
    pub(crate) fn note_linked(&self, doorbell: &Notifier) {
        let mut st = lock(&self.state);
        if st.ever_linked {
            return;
        }
        st.ever_linked = true;
        let w = if st.senders == 0 { st.recv_waker.take() } else { None };
        drop(st);
        if let Some(w) = w {
            w.wake();
            doorbell.notify();
        }
    }

    /// Makes this inbox mid-chain (`Some`: from now on forward to that end of the chain, and
    /// move what is waiting there) or the end of its chain again (`None`).
    ///
    /// The move happens under this queue's lock, so a sender with a stale destination that
    /// pushes here meanwhile is forwarded *after* the messages already waiting: order is kept.
    /// (Locks are taken downstream, this queue then the end of its chain; chains have no cycles.)
    /// Returns messages that could not be delivered (the destination has ended), to be dropped by
    /// the caller outside its locks.
    pub(crate) fn redirect(&self, to: Option<Arc<E>>) -> Vec<T> {
        let mut st = lock(&self.state);
        let mut undeliverable = Vec::new();
        if let Some(dest) = &to {
            if st.buf.capacity() > 0 {
                // Mid-chain from now on, this inbox holds nothing: not even the buffer it had.
                let held: Vec<T> = std::mem::take(&mut st.buf).into();
                if !held.is_empty() {
                    undeliverable = dest.queue().push_over_capacity(dest.doorbell(), held);
                }
            }
        }
        st.forward = to;
        let waiters = std::mem::take(&mut st.send_waiters);
        drop(st);
        wake_all(waiters);
        undeliverable
    }

    /// A box whose messages came here now goes elsewhere: it stops counting as a sender if it was
    /// one (`sender`), and every sender waiting for space is woken to re-resolve its destination.
    /// `add_senders(-1)` and a wake of the waiting senders, in one visit.
    pub(crate) fn leave(&self, doorbell: &Notifier, sender: bool) {
        let mut st = lock(&self.state);
        let w = if sender { st.change_senders(-1) } else { None };
        let waiters = std::mem::take(&mut st.send_waiters);
        drop(st);
        if let Some(w) = w {
            w.wake();
            doorbell.notify();
        }
        wake_all(waiters);
    }

    /// The owner has ended: refuse (discard) what comes later, release every waiting sender and
    /// receiver, and hand back what was queued so the caller can drop it outside its locks (a
    /// message's `Drop` may itself touch the wiring).
    pub(crate) fn kill(&self) -> VecDeque<T> {
        let mut st = lock(&self.state);
        st.dead = true;
        st.forward = None;
        let items = std::mem::take(&mut st.buf);
        let waiters = std::mem::take(&mut st.send_waiters);
        let w = st.recv_waker.take();
        drop(st);
        wake_all(waiters);
        if let Some(w) = w {
            w.wake();
        }
        items
    }
}

/// Appends `msg` under the lock `st`, then (unlocked) wakes the receiver and rings the owner's
/// doorbell.
fn deliver<T, E>(doorbell: &Notifier, mut st: MutexGuard<'_, State<T, E>>, msg: T) {
    st.buf.push_back(msg);
    let w = st.recv_waker.take();
    drop(st);
    if let Some(w) = w {
        w.wake();
    }
    doorbell.notify();
}
