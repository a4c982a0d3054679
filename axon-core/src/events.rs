//! Waiting on several inboxes without losing data: [`Event`] and [`Select`].
//!
//! # The rule: the end of a stream never overtakes its data
//!
//! A [`ProducerFinished`](crate::ipc::ProducerFinished) on `control` means "nothing comes after
//! what I sent". Its sender put every data message into the receiver's inboxes before it sent
//! the `ProducerFinished`, so when one is waiting on `control`, everything it closes is already
//! queued. A component that took the `ProducerFinished` first, passed it on and ended would drop
//! that data. The helpers here keep Kamaelia's order instead (empty the inboxes, then look at
//! `control`):
//!
//! * an **urgent** control message ([`Ipc::is_urgent`]: `ShutdownMicroprocess`, `Shutdown`) is
//!   handed over at once, ahead of any data (the component is being told to stop now; what is
//!   still queued when it ends is dropped, on purpose);
//! * any **other** control message (`ProducerFinished`, `Notify`, ...) is handed over only when
//!   every inbox watched is empty;
//! * data from several inboxes is taken in turn, so a busy inbox does not starve a quiet one.
//!
//! The order matters in one more place: the helpers look at `control` *before* they look at the
//! inboxes. Seen the other way round (inboxes empty, then a `ProducerFinished` on `control`), the
//! last data and the `ProducerFinished` could both have arrived between the two looks, on another
//! thread, and the data would be left behind.
//!
//! So the natural loop is correct: take data, and on a shutdown request pass it on and end.
//!
//! ```
//! use axon_core::prelude::*;
//!
//! struct Double;
//!
//! impl Component for Double {
//!     type Inbox = u64;
//!     type Outbox = u64;
//!
//!     async fn main(self, mut ctx: Context<u64, u64>) -> ComponentResult {
//!         while let Some(event) = ctx.next_event().await {
//!             match event {
//!                 Event::Data(n) => ctx.outbox.send(2 * n).await,
//!                 // Nothing is left in `inbox` when a ProducerFinished is handed over.
//!                 Event::Control(msg) if msg.is_shutdown_request() => {
//!                     ctx.signal.send(msg).await;
//!                     break;
//!                 }
//!                 Event::Control(_) => {}
//!             }
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let mut double = Handle::new(Double, &Scheduler::new());
//! for n in 0..50 {
//!     double.put(n).unwrap(); // all queued (the inbox holds 64) before the end...
//! }
//! double.put_control(ProducerFinished::new()).unwrap(); // ...of the stream
//! let out: Vec<u64> = std::iter::from_fn(|| double.recv_blocking()).collect();
//! assert_eq!(out, (0..50).map(|n| 2 * n).collect::<Vec<_>>());
//! ```
//!
//! # Several inboxes
//!
//! [`Context::select`](crate::Context::select) starts from `inbox` and `control`; [`Select::or`]
//! adds a declared inbox. Each inbox's messages are mapped into one type (an enum of your own),
//! so the loop is one `match`:
//!
//! ```
//! use axon_core::prelude::*;
//! use axon_core::Declarations;
//!
//! enum In {
//!     Number(u32),
//!     Word(String),
//! }
//!
//! /// Merges numbers from `inbox` and text from `words` into one stream of text.
//! struct Merge;
//!
//! impl Component for Merge {
//!     type Inbox = u32;
//!     type Outbox = String;
//!
//!     fn declare(&self, boxes: &mut Declarations) {
//!         boxes.inbox::<String>("words", "Text to pass on as it is");
//!     }
//!
//!     async fn main(self, mut ctx: Context<u32, String>) -> ComponentResult {
//!         let mut words = ctx.take_inbox::<String>("words")?;
//!         while let Some(event) = ctx.select(In::Number).or(&mut words, In::Word).next().await {
//!             match event {
//!                 Event::Data(In::Number(n)) => ctx.outbox.send(n.to_string()).await,
//!                 Event::Data(In::Word(w)) => ctx.outbox.send(w).await,
//!                 Event::Control(msg) if msg.is_shutdown_request() => {
//!                     ctx.signal.send(msg).await;
//!                     break;
//!                 }
//!                 Event::Control(_) => {}
//!             }
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let merge = Instance::new(Merge);
//! merge.component().deliver("words", "one".to_string()).unwrap();
//! let mut h = Handle::new(merge, &Scheduler::new());
//! h.put(2).unwrap();
//! h.put_control(ProducerFinished::new()).unwrap();
//! let mut out: Vec<String> = std::iter::from_fn(|| h.recv_blocking()).collect();
//! out.sort();
//! assert_eq!(out, ["2", "one"]);
//! ```
//!
//! # With `tokio::select!`
//!
//! A raw `tokio::select!` over the boxes picks a ready branch at random, so it can take a
//! `ProducerFinished` while data is still queued. Where one is needed (to wait on a timer or a
//! socket as well), write it `biased`, with `control` last, and take what is left in the inboxes
//! when a shutdown request comes:
//!
//! ```
//! # use axon_core::prelude::*;
//! # async fn body(mut ctx: Context<u32, u32>) -> ComponentResult {
//! let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
//! loop {
//!     tokio::select! {
//!         biased;
//!         Some(n) = ctx.inbox.recv() => ctx.outbox.send(n).await,
//!         _ = tick.tick() => { /* housekeeping */ }
//!         Some(msg) = ctx.control.recv() => {
//!             // Data sent before `msg` may have arrived after `inbox` was looked at.
//!             if !msg.is_urgent() {
//!                 while let Ok(n) = ctx.inbox.try_recv() {
//!                     ctx.outbox.send(n).await;
//!                 }
//!             }
//!             if msg.is_shutdown_request() {
//!                 ctx.signal.send(msg).await;
//!                 return Ok(());
//!             }
//!         }
//!         else => return Ok(()),
//!     }
//! }
//! # }
//! ```

use std::future::poll_fn;
use std::task::{Context as TaskContext, Poll};

use crate::boxes::Inbox;
use crate::ipc::Ipc;

/// What [`Context::next_event`](crate::Context::next_event) or [`Select::next`] found.
#[derive(Debug)]
pub enum Event<I> {
    /// A message on `control`.
    Control(Ipc),
    /// A message on a data inbox (`inbox`, or one added with [`Select::or`]).
    Data(I),
}

/// One or more data inboxes, each with the function that maps its messages into `M`. Built by
/// [`Context::select`](crate::Context::select) and [`Select::or`]; not implemented outside this
/// crate.
pub trait Sources<M>: sealed::Sealed {
    /// How many inboxes.
    #[doc(hidden)]
    fn count(&self) -> usize;

    /// Polls the `i`th inbox: `Ready(Some)` a message, `Ready(None)` closed, `Pending` empty
    /// (and `cx` registered).
    #[doc(hidden)]
    fn poll_at(&mut self, i: usize, cx: &mut TaskContext<'_>) -> Poll<Option<M>>;
}

mod sealed {
    pub trait Sealed {}
}

/// An inbox and the function that maps its messages (see [`Sources`]).
#[derive(Debug)]
pub struct Source<'a, T, F> {
    inbox: &'a mut Inbox<T>,
    map: F,
}

impl<'a, T, F> Source<'a, T, F> {
    pub(crate) fn new(inbox: &'a mut Inbox<T>, map: F) -> Self {
        Source { inbox, map }
    }
}

impl<T, F> sealed::Sealed for Source<'_, T, F> {}

impl<T: Send + 'static, M, F: FnMut(T) -> M> Sources<M> for Source<'_, T, F> {
    fn count(&self) -> usize {
        1
    }

    fn poll_at(&mut self, _i: usize, cx: &mut TaskContext<'_>) -> Poll<Option<M>> {
        self.inbox.poll_take(cx).map(|m| m.map(&mut self.map))
    }
}

/// Two lists of sources, one after the other.
#[derive(Debug)]
pub struct Chain<A, B>(A, B);

impl<A, B> sealed::Sealed for Chain<A, B> {}

impl<M, A: Sources<M>, B: Sources<M>> Sources<M> for Chain<A, B> {
    fn count(&self) -> usize {
        self.0.count() + self.1.count()
    }

    fn poll_at(&mut self, i: usize, cx: &mut TaskContext<'_>) -> Poll<Option<M>> {
        let first = self.0.count();
        if i < first {
            self.0.poll_at(i, cx)
        } else {
            self.1.poll_at(i - first, cx)
        }
    }
}

/// A wait on `control` and one or more data inboxes that keeps the order described in the
/// [module docs](self): made by [`Context::select`](crate::Context::select), extended with
/// [`or`](Self::or), consumed by [`next`](Self::next).
#[must_use = "a Select does nothing until `.next().await`"]
pub struct Select<'a, M, S> {
    control: &'a mut Inbox<Ipc>,
    sources: S,
    /// Where the turn starts (the component's own counter, so that turns go round from one
    /// `next` to the next).
    turn: &'a mut u32,
    _m: std::marker::PhantomData<fn() -> M>,
}

impl<M, S> std::fmt::Debug for Select<'_, M, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Select").field("control", &self.control).finish_non_exhaustive()
    }
}

impl<'a, M, S: Sources<M>> Select<'a, M, S> {
    pub(crate) fn new(control: &'a mut Inbox<Ipc>, sources: S, turn: &'a mut u32) -> Self {
        Select { control, sources, turn, _m: std::marker::PhantomData }
    }

    /// Watches `inbox` too, mapping its messages with `map`.
    pub fn or<T: Send + 'static, F: FnMut(T) -> M>(
        self,
        inbox: &'a mut Inbox<T>,
        map: F,
    ) -> Select<'a, M, Chain<S, Source<'a, T, F>>> {
        Select {
            control: self.control,
            sources: Chain(self.sources, Source { inbox, map }),
            turn: self.turn,
            _m: std::marker::PhantomData,
        }
    }

    /// The next event, waiting if there is none: an urgent control message first, then data
    /// (inbox by inbox in turn), then any other control message once the inboxes are empty.
    /// `None` once every inbox watched is closed and `control` is too (or was never linked).
    pub async fn next(mut self) -> Option<Event<M>> {
        poll_fn(|cx| poll_next(self.control, &mut self.sources, self.turn, cx)).await
    }
}

/// See [`Select::next`] and the module docs for the order kept, and why `control` is looked at
/// before the inboxes.
pub(crate) fn poll_next<M, S: Sources<M>>(
    control: &mut Inbox<Ipc>,
    sources: &mut S,
    turn: &mut u32,
    cx: &mut TaskContext<'_>,
) -> Poll<Option<Event<M>>> {
    // One unit of the task's budget for the whole look (tokio's cooperative scheduling): the
    // inboxes are then polled without it, so that "empty" never means "out of budget".
    let coop = std::task::ready!(tokio::task::coop::poll_proceed(cx));
    let event = poll_order(control, sources, turn, cx);
    if event.is_ready() {
        coop.made_progress();
    }
    event
}

fn poll_order<M, S: Sources<M>>(
    control: &mut Inbox<Ipc>,
    sources: &mut S,
    turn: &mut u32,
    cx: &mut TaskContext<'_>,
) -> Poll<Option<Event<M>>> {
    loop {
        // `None`: nothing on control; `Some(urgent)`: a message, urgent or not.
        let waiting = control.peek(|m| m.map(Ipc::is_urgent));
        if waiting == Some(true) {
            return Poll::Ready(control.try_recv().ok().map(Event::Control));
        }
        let n = sources.count();
        let mut all_closed = true;
        for k in 0..n {
            let i = (*turn as usize + k) % n;
            match sources.poll_at(i, cx) {
                Poll::Ready(Some(m)) => {
                    *turn = ((i + 1) % n) as u32;
                    return Poll::Ready(Some(Event::Data(m)));
                }
                Poll::Ready(None) => {}
                Poll::Pending => all_closed = false,
            }
        }
        // The inboxes were empty after the control message was seen: all the data sent before
        // it has been taken.
        if waiting.is_some() {
            return Poll::Ready(control.try_recv().ok().map(Event::Control));
        }
        // Every inbox watched has closed. A shutdown message may still come on control (its
        // sender is alive: a chassis passing on the end, a moment after our input's sender
        // ended), so control is waited for until it closes too; a control never linked (a chain
        // wired outbox to inbox only) counts as closed, so that such a component still ends.
        if all_closed {
            return control.poll_take_or_unlinked(cx).map(|m| m.map(Event::Control));
        }
        // Wait for control too. If a message came meanwhile, look at the inboxes once more:
        // data sent before it may have come after they were looked at.
        if !control.poll_ready(cx) || control.peek(|m| m.is_none()) {
            return Poll::Pending;
        }
    }
}
