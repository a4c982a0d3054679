//! Handles to one box of a component, any box: [`BoxSender`] into a named inbox, [`BoxReceiver`]
//! from a named outbox (Kamaelia's `LikeFile(component, extrainboxes, extraoutboxes)`).
//!
//! A [`Handle`](crate::Handle) takes the four standard boxes; these take the others, one each, by
//! name. Each is a small component of its own ([`ComponentKind::Handle`], shown by
//! introspection), with one box linked to the component's box: the bound of that box holds, a
//! full inbox makes [`BoxSender::send`] wait and [`BoxSender::try_send`] fail, and dropping the
//! handle removes its linkage, as dropping a `Handle` does.
//!
//! Make a [`BoxReceiver`] before the component is activated (from its
//! [`Instance`](crate::Instance)'s [`component`](crate::Instance::component)) if its first
//! messages matter: an outbox that is not linked yet discards what it is sent, as in Axon.

use std::borrow::Cow;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use futures_core::Stream;
use futures_sink::Sink;

use crate::block_on::block_on;
use crate::boxes::{Inbox, Outbox};
use crate::component_ref::{ComponentRef, Core};
use crate::error::{LinkError, NoSpaceInBox, RecvTimeoutError, TryRecvError};
use crate::handle::Shared;
use crate::id::ComponentId;
use crate::identity::Identity;
use crate::kinds::BoxKind;
use crate::lifecycle::{ComponentKind, Exit};
use crate::likefile::SendError;
use crate::linkage::{link_nodes, Endpoint, LinkOptions, Linkage};
use crate::node::{make_node, take_handle, ErasedNode, Node};
use crate::queue::DEFAULT_CAPACITY;
use crate::scheduler::Scheduler;

/// Makes a handle's component named `class_<id>` with one box, `own`, of `kind`, links it to
/// `far` (into it for an outbox, out of it for an inbox), and registers it with `scheduler`.
fn wire<T: Send + 'static>(
    class: &str,
    kind: BoxKind,
    far: Endpoint<'_>,
    scheduler: &Scheduler,
) -> Result<(Shared, Arc<Node<T>>, Linkage), LinkError> {
    let id = ComponentId::next();
    let ident = Identity::new(id, format!("{class}_{}", id.get()));
    let (name, description, capacity) = match kind {
        BoxKind::Outbox => ("_outbox", format!("to {}'s {}", far.component.name(), far.name), None),
        BoxKind::Inbox => ("_inbox", format!("from {}'s {}", far.component.name(), far.name), Some(DEFAULT_CAPACITY)),
    };
    let node = make_node::<T>(&ident, Cow::Borrowed(name), kind, description.into(), capacity);
    take_handle(&node.meta);
    let boxes: Vec<Arc<dyn ErasedNode>> = vec![node.clone()];
    let me = ComponentRef(Arc::new(Core::new(ident, boxes, ComponentKind::Handle)));
    let mine = me.find_box(kind, name);
    let linked = match kind {
        BoxKind::Outbox => mine.and_then(|s| {
            let d = far.component.find_box(BoxKind::Inbox, far.name)?;
            link_nodes(Some(&me), s, d, LinkOptions::default())
        }),
        BoxKind::Inbox => mine.and_then(|d| {
            let s = far.component.find_box(BoxKind::Outbox, far.name)?;
            link_nodes(Some(&me), s, d, LinkOptions::default())
        }),
    };
    match linked {
        Ok(linkage) => {
            scheduler.register(&me);
            Ok((Shared { me, target: far.component.clone() }, node, linkage))
        }
        Err(e) => {
            me.0.finish(Exit::Finished);
            Err(e)
        }
    }
}

/// A handle that sends into one inbox of a component, by name (Kamaelia's `LikeFile` extra
/// inboxes; see the [module docs](super)).
///
/// It is a small component of its own (shown by introspection as a handle), whose one outbox is
/// linked to the inbox.
///
/// It sends as an [`Outbox`] does: [`send`](Self::send) waits while the inbox is full,
/// [`try_send`](Self::try_send) gives the message back in [`NoSpaceInBox`], and the blocking
/// forms serve plain threads. It is also a [`Sink`] (holding at most one message). Dropping it, or
/// [`close`](Self::close), removes its linkage: an inbox with no other sender closes once drained.
///
/// ```
/// use axon_core::prelude::*;
/// use axon_core::likefile::BoxSender;
///
/// // Counts the words that reach its `words` inbox; says how many when that inbox closes.
/// let counter = from_fn("Counter", |mut ctx: Context<(), usize>| async move {
///     let mut words = ctx.take_inbox::<String>("words")?;
///     let mut n = 0;
///     while words.recv().await.is_some() {
///         n += 1;
///     }
///     ctx.outbox.send(n).await;
///     Ok(())
/// })
/// .with_boxes(|boxes| {
///     boxes.inbox::<String>("words", "Words to count");
/// });
///
/// let scheduler = Scheduler::new();
/// let counter = Instance::new(counter);
/// let mut words = BoxSender::<String>::new((counter.component(), "words"), &scheduler).unwrap();
/// let mut count = Handle::new(counter, &scheduler);
/// for w in ["one", "two", "three"] {
///     words.send_blocking(w.to_owned()).unwrap();
/// }
/// drop(words); // its inbox closes: the counter answers
/// assert_eq!(count.recv_blocking(), Some(3));
/// ```
pub struct BoxSender<T> {
    own: Shared,
    link: Option<Linkage>,
    outbox: Outbox<T>,
    slot: Option<T>,
}

impl<T> fmt::Debug for BoxSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoxSender").field("to", &self.link).finish_non_exhaustive()
    }
}

// The message held is never pinned (see `OutboxSink`).
impl<T> Unpin for BoxSender<T> {}

impl<T> Drop for BoxSender<T> {
    fn drop(&mut self) {
        if let Some(link) = self.link.take() {
            crate::link::unlink(&link);
        }
    }
}

impl<T: Send + 'static> BoxSender<T> {
    /// A sender linked to the inbox `to` (`(component, "name")`). The [`LinkError`] names the box
    /// and both types if it does not exist or carries another type than `T`.
    pub fn new<'a>(to: impl Into<Endpoint<'a>>, scheduler: &Scheduler) -> Result<Self, LinkError> {
        let (own, node, link) = wire::<T>("BoxSender", BoxKind::Outbox, to.into(), scheduler)?;
        Ok(BoxSender { own, link: Some(link), outbox: Outbox::from_node(node), slot: None })
    }

    /// The component whose inbox this sends to.
    pub fn component(&self) -> &ComponentRef {
        &self.own.target
    }

    /// The error for a send after [`close`](Self::close).
    fn closed(&self) -> SendError {
        SendError::InputClosed { component: self.own.target.name().to_owned() }
    }

    /// Poll form of [`send`](Self::send): delivers the message in `slot`, waiting for room;
    /// `Ready(Ok)` once `slot` is empty. On an error the message stays in `slot`.
    pub fn poll_send(&mut self, slot: &mut Option<T>, cx: &mut TaskContext<'_>) -> Poll<Result<(), SendError>> {
        if self.link.is_none() && slot.is_some() {
            return Poll::Ready(Err(self.closed()));
        }
        super::stream::poll_deliver(&mut self.outbox, slot, cx)
    }

    /// Sends `msg`, waiting while the inbox is full. Fails (the message is dropped) if the
    /// sender was closed or the component has ended.
    pub async fn send(&mut self, msg: T) -> Result<(), SendError> {
        let mut slot = Some(msg);
        std::future::poll_fn(|cx| self.poll_send(&mut slot, cx)).await
    }

    /// Sends `msg` if there is room now, else gives it back in [`NoSpaceInBox`] (Axon's
    /// `noSpaceInBox`). A message sent after [`close`](Self::close) or to a component that has
    /// ended is discarded, as an outbox discards.
    pub fn try_send(&mut self, msg: T) -> Result<(), NoSpaceInBox<T>> {
        if self.link.is_none() {
            return Ok(());
        }
        self.outbox.try_send(msg)
    }

    /// Sends `msg`, blocking the thread while the inbox is full (for plain threads).
    pub fn send_blocking(&mut self, msg: T) -> Result<(), SendError> {
        block_on(self.send(msg))
    }

    /// Like [`send_blocking`](Self::send_blocking) for at most `timeout`: if there is still no
    /// room then, the message comes back inside [`NoSpaceInBox`].
    pub fn send_timeout(&mut self, msg: T, timeout: Duration) -> Result<(), NoSpaceInBox<T>> {
        if self.link.is_none() {
            return Ok(());
        }
        self.outbox.send_timeout(msg, timeout)
    }

    /// Removes the linkage: nothing more will be sent (the inbox closes once drained, if nothing
    /// else is linked to it). A message the sink held is dropped. Idempotent.
    pub fn close(&mut self) {
        self.slot = None;
        if let Some(link) = self.link.take() {
            crate::link::unlink(&link);
        }
    }
}

impl<T: Send + 'static> Sink<T> for BoxSender<T> {
    type Error = SendError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<(), SendError>> {
        let this = self.get_mut();
        let mut slot = this.slot.take();
        let r = this.poll_send(&mut slot, cx);
        this.slot = slot;
        r
    }

    fn start_send(self: Pin<&mut Self>, item: T) -> Result<(), SendError> {
        let this = self.get_mut();
        if this.link.is_none() {
            return Err(this.closed());
        }
        this.slot = Some(item);
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<(), SendError>> {
        self.poll_ready(cx)
    }

    /// Delivers what it holds, then removes the linkage ([`close`](BoxSender::close)).
    fn poll_close(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Result<(), SendError>> {
        let this = self.get_mut();
        if this.link.is_none() {
            return Poll::Ready(Ok(()));
        }
        let mut slot = this.slot.take();
        let r = std::task::ready!(this.poll_send(&mut slot, cx));
        this.close();
        Poll::Ready(r)
    }
}

/// A handle that receives from one outbox of a component, by name (Kamaelia's `LikeFile` extra
/// outboxes; see the [module docs](super)).
///
/// It is a small component of its own (shown by introspection as a handle), whose one inbox the
/// outbox is linked to. Make it before the component is activated (from its
/// [`Instance`](crate::Instance)'s [`component`](crate::Instance::component)) if the first
/// messages matter: an outbox that is not linked yet discards what it is sent, as in Axon.
///
/// It receives as an [`Inbox`] does (async, blocking, non-waiting, with a deadline), into a box of
/// its own that holds [`DEFAULT_CAPACITY`] messages: when it is full, the component waits to send
/// more. It is also a [`Stream`], which ends once the component has ended and everything it sent
/// has been taken.
///
/// ```
/// use axon_core::prelude::*;
/// use axon_core::likefile::BoxReceiver;
///
/// // Sends its log lines out of a box of their own, and its data out of `outbox`.
/// let worker = from_fn("Worker", |mut ctx: Context<u32, u32>| async move {
///     let mut log = ctx.take_outbox::<String>("log")?;
///     while let Some(n) = ctx.inbox.recv().await {
///         log.send(format!("got {n}")).await;
///         ctx.outbox.send(n + 1).await;
///     }
///     Ok(())
/// })
/// .with_boxes(|boxes| {
///     boxes.outbox::<String>("log", "What it did");
/// });
///
/// let scheduler = Scheduler::new();
/// let worker = Instance::new(worker);
/// // Before activation, so that no line is sent before the box is linked.
/// let mut log = BoxReceiver::<String>::new((worker.component(), "log"), &scheduler).unwrap();
/// let mut h = Handle::new(worker, &scheduler);
/// h.send_blocking(1);
/// assert_eq!(h.recv_blocking(), Some(2));
/// assert_eq!(log.recv_blocking().as_deref(), Some("got 1"));
/// ```
pub struct BoxReceiver<T> {
    own: Shared,
    inbox: Inbox<T>,
    // Kept so that the linkage is listed while the handle lives; it goes with the source's owner
    // or with `own`'s end.
    _link: Linkage,
}

impl<T> fmt::Debug for BoxReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoxReceiver").field("from", &self._link).finish_non_exhaustive()
    }
}

impl<T: Send + 'static> BoxReceiver<T> {
    /// A receiver linked from the outbox `from` (`(component, "name")`). The [`LinkError`] names
    /// the box and both types if it does not exist or carries another type than `T`, and says so
    /// if the outbox is already linked elsewhere (an outbox has one destination).
    pub fn new<'a>(from: impl Into<Endpoint<'a>>, scheduler: &Scheduler) -> Result<Self, LinkError> {
        let (own, node, link) = wire::<T>("BoxReceiver", BoxKind::Inbox, from.into(), scheduler)?;
        Ok(BoxReceiver { own, inbox: Inbox::from_node(node), _link: link })
    }

    /// The component whose outbox this receives from.
    pub fn component(&self) -> &ComponentRef {
        &self.own.target
    }

    /// Waits for the next message; `None` once the component has ended and everything it sent
    /// has been taken.
    pub async fn recv(&mut self) -> Option<T> {
        self.inbox.recv().await
    }

    /// Poll form of [`recv`](Self::recv).
    pub fn poll_recv(&mut self, cx: &mut TaskContext<'_>) -> Poll<Option<T>> {
        self.inbox.poll_recv(cx)
    }

    /// The oldest message, if one is waiting.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.inbox.try_recv()
    }

    /// Blocking form of [`recv`](Self::recv), for plain threads.
    pub fn recv_blocking(&mut self) -> Option<T> {
        self.inbox.recv_blocking()
    }

    /// Like [`recv_blocking`](Self::recv_blocking) with a deadline.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.inbox.recv_timeout(timeout)
    }
}

impl<T: Send + 'static> Stream for BoxReceiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<T>> {
        self.get_mut().inbox.poll_recv(cx)
    }
}
