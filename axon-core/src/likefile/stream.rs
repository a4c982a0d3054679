//! Boxes and handles as `futures` streams and sinks.
//!
//! * An [`Inbox`] is a [`Stream`] of its messages, ending when the inbox closes.
//! * An [`Outbox`] becomes a [`Sink`] with [`OutboxSink`], which holds at most one message.
//! * A [`Handle`] is a `Stream` of the component's `outbox` and a `Sink` into its `inbox`; so are
//!   its halves, [`HandleOutput`] and [`HandleInput`].
//!
//! A sink here holds at most one message it has accepted and not yet delivered (the `Sink`
//! contract: [`poll_ready`](Sink::poll_ready), [`start_send`](Sink::start_send), then
//! [`poll_flush`](Sink::poll_flush) to see it delivered): the bound of the box behind it still
//! holds, plus that one.

use std::pin::Pin;
use std::task::{ready, Context as TaskContext, Poll};

use futures_core::Stream;
use futures_sink::Sink;

use crate::boxes::{Inbox, Outbox};
use crate::handle::{Handle, HandleInput, HandleOutput};
use crate::ipc::ProducerFinished;
use crate::likefile::SendError;

impl<T: Send + 'static> Stream for Inbox<T> {
    type Item = T;

    /// The next message, as [`Inbox::recv`]; `None` once the inbox is closed.
    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<T>> {
        self.get_mut().poll_recv(cx)
    }
}

/// Checks that `outbox` can still deliver: `Err` if it leads to a component that has ended.
/// (An outbox that is not linked discards what it is sent, as in Axon: no error.)
pub(super) fn check_destination<T: Send + 'static>(outbox: &mut Outbox<T>) -> Result<(), SendError> {
    match outbox.refresh() {
        Some(sink) if sink.queue().is_dead() => Err(SendError::Ended { destination: sink.meta.label() }),
        _ => Ok(()),
    }
}

/// Delivers the message in `slot` through `outbox`, waiting for room; `Ready(Ok)` once `slot` is
/// empty. If the destination has ended (before or while waiting), the message is left in `slot`
/// and the error says where it was going.
pub(super) fn poll_deliver<T: Send + 'static>(
    outbox: &mut Outbox<T>,
    slot: &mut Option<T>,
    cx: &mut TaskContext<'_>,
) -> Poll<Result<(), SendError>> {
    if slot.is_none() {
        return Poll::Ready(Ok(()));
    }
    outbox.poll_send_live(slot, cx).map(|sent| sent.map_err(|destination| SendError::Ended { destination }))
}

/// An [`Outbox`] as a [`Sink`], for a component body that wants `SinkExt` (`send_all`,
/// `StreamExt::forward`, ...). It holds at most one message between
/// [`start_send`](Sink::start_send) and the delivery [`poll_flush`](Sink::poll_flush) completes.
///
/// Sending fails with [`SendError::Ended`] when the outbox leads to a component that has ended;
/// an outbox that is not linked discards, as [`Outbox::send`] does. Closing the sink flushes it
/// and nothing more: the component says it has finished on its `signal` as usual.
///
/// ```
/// use axon_core::prelude::*;
/// use axon_core::likefile::OutboxSink;
/// use futures_util::{SinkExt, StreamExt};
///
/// // Passes its inbox on to its outbox: a box as a stream, forwarded into a box as a sink.
/// let relay = from_fn("Relay", |ctx: Context<u32, u32>| async move {
///     let Context { inbox, outbox, .. } = ctx;
///     inbox.map(Ok).forward(OutboxSink::new(outbox)).await?;
///     Ok(())
/// });
/// let mut relay = Handle::new(relay, &Scheduler::new());
/// relay.put(7).unwrap();
/// assert_eq!(relay.recv_blocking(), Some(7));
/// ```
#[derive(Debug)]
pub struct OutboxSink<T> {
    outbox: Outbox<T>,
    slot: Option<T>,
}

impl<T: Send + 'static> OutboxSink<T> {
    /// The outbox, as a sink.
    pub fn new(outbox: Outbox<T>) -> Self {
        OutboxSink { outbox, slot: None }
    }

    /// The outbox back. A message accepted and not yet delivered (no flush since the last
    /// `start_send`) is dropped: flush first.
    pub fn into_inner(self) -> Outbox<T> {
        self.outbox
    }

    /// The outbox, to look at it (`is_linked`, `is_full`).
    pub fn get_mut(&mut self) -> &mut Outbox<T> {
        &mut self.outbox
    }
}

// A sink never pins the message it holds (it is moved in and out, never polled): it is `Unpin`
// whatever the message is, as the `Sink` methods (`Pin<&mut Self>`) need.
impl<T> Unpin for OutboxSink<T> {}
impl<I> Unpin for HandleInput<I> {}

impl<T: Send + 'static> From<Outbox<T>> for OutboxSink<T> {
    fn from(outbox: Outbox<T>) -> Self {
        Self::new(outbox)
    }
}

impl<T: Send + 'static> Sink<T> for OutboxSink<T> {
    type Error = SendError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<(), SendError>> {
        let this = self.get_mut();
        poll_deliver(&mut this.outbox, &mut this.slot, cx)
    }

    fn start_send(self: Pin<&mut Self>, item: T) -> Result<(), SendError> {
        let this = self.get_mut();
        check_destination(&mut this.outbox)?;
        this.slot = Some(item);
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<(), SendError>> {
        let this = self.get_mut();
        poll_deliver(&mut this.outbox, &mut this.slot, cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<(), SendError>> {
        self.poll_flush(cx)
    }
}

// ----- a handle's input: a sink into the component's inbox -----

impl<I: Send + 'static> HandleInput<I> {
    /// The error for a send after the input was closed.
    fn input_closed(&self) -> SendError {
        SendError::InputClosed { component: self.shared.target.name().to_owned() }
    }

    /// Like [`poll_send`](Self::poll_send), but says why a message cannot go instead of
    /// dropping it: delivers the message in `slot` to the component's `inbox`, registering `cx`
    /// to be woken when there is room if it is full; `Ready(Ok(()))` once `slot` is empty
    /// (delivered). If the input was closed or the component has ended, the message stays in
    /// `slot` and the [`SendError`] says which.
    ///
    /// Each caller brings its own slot, so several futures can wait for room at once (each is
    /// woken when a message is taken), and a future dropped while it waits leaves its message
    /// undelivered, in its own slot, and nothing else changed.
    pub fn poll_deliver(&mut self, slot: &mut Option<I>, cx: &mut TaskContext<'_>) -> Poll<Result<(), SendError>> {
        if self.link.is_none() && slot.is_some() {
            return Poll::Ready(Err(self.input_closed()));
        }
        poll_deliver(&mut self.to_inbox, slot, cx)
    }

    /// Closing as a sink does it: what the sink holds is delivered, then a `ProducerFinished` to
    /// `control`, then the input is closed ([`close`](Self::close)).
    fn poll_finish(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), SendError>> {
        if self.link.is_none() {
            // Closed already (by an earlier close, or `close`): what is left can go nowhere.
            if self.slot.take().is_some() {
                return Poll::Ready(Err(self.input_closed()));
            }
            return Poll::Ready(Ok(()));
        }
        let data = ready!(poll_deliver(&mut self.to_inbox, &mut self.slot, cx));
        // What could not be delivered goes now (the error says why).
        self.slot = None;
        // A component that has ended takes no ProducerFinished, and needs none.
        if data.is_ok() && check_destination(&mut self.to_control).is_ok() {
            // Made afresh at each poll until it is delivered: while `control` is full it stays in
            // this slot, which is dropped when this returns `Pending` (it is the same message
            // each time, and the waker is registered either way).
            let mut finished = Some(ProducerFinished::from(self.shared.me.id()).into());
            ready!(self.to_control.poll_send(&mut finished, cx));
        }
        self.close();
        Poll::Ready(data)
    }
}

impl<I: Send + 'static> Sink<I> for HandleInput<I> {
    type Error = SendError;

    /// Ready when the message accepted before has been delivered.
    fn poll_ready(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<(), SendError>> {
        let this = self.get_mut();
        let mut slot = this.slot.take();
        let r = this.poll_deliver(&mut slot, cx);
        this.slot = slot;
        r
    }

    /// Accepts `item`, to be delivered by the next `poll_flush` (or `poll_ready`). Fails if the
    /// input is closed or the component has ended.
    fn start_send(self: Pin<&mut Self>, item: I) -> Result<(), SendError> {
        let this = self.get_mut();
        if this.link.is_none() {
            return Err(this.input_closed());
        }
        check_destination(&mut this.to_inbox)?;
        this.slot = Some(item);
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<(), SendError>> {
        self.poll_ready(cx)
    }

    /// The end of the stream: delivers what is held, sends a `ProducerFinished` to the
    /// component's `control`, and closes the input (the component's `inbox` closes once drained),
    /// so a component ends whether it watches `control` or reads `inbox` until it closes.
    fn poll_close(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<(), SendError>> {
        self.get_mut().poll_finish(cx)
    }
}

impl<O: Send + 'static> Stream for HandleOutput<O> {
    type Item = O;

    /// The next message from the component's `outbox`, as [`recv`](HandleOutput::recv): `None`
    /// once the component has ended and everything it sent has been taken.
    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<O>> {
        self.get_mut().from_outbox.poll_recv(cx)
    }
}

impl<I: Send + 'static, O: Send + 'static> Stream for Handle<I, O> {
    type Item = O;

    /// As [`HandleOutput`]'s.
    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<O>> {
        self.get_mut().output.from_outbox.poll_recv(cx)
    }
}

impl<I: Send + 'static, O: Send + 'static> Sink<I> for Handle<I, O> {
    type Error = SendError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<(), SendError>> {
        Pin::new(&mut self.get_mut().input).poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: I) -> Result<(), SendError> {
        Pin::new(&mut self.get_mut().input).start_send(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<(), SendError>> {
        Pin::new(&mut self.get_mut().input).poll_flush(cx)
    }

    /// As [`HandleInput`]'s: delivers, sends `ProducerFinished` to `control`, closes the input.
    fn poll_close(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<(), SendError>> {
        Pin::new(&mut self.get_mut().input).poll_close(cx)
    }
}
