//! PureTransformer and Filter: one function applied to a stream (ports
//! `Kamaelia.Util.PureTransformer` and `Kamaelia.Util.Filter`).
//!
//! A [`PureTransformer`] sends out of its `outbox` what its function makes of each message on its
//! `inbox`; a [`Filter`] passes on the messages its predicate accepts. Either is a reusable stage
//! for a pipeline in one line, with shutdown handled as every component should handle it: the
//! end of the stream is passed on after the last message, never before.
//!
//! # Example
//!
//! ```
//! use axon_core::prelude::*;
//! use kamaelia_chassis::{pipeline, Filter, PureTransformer};
//!
//! let (tx, rx) = std::sync::mpsc::channel();
//! let numbers = from_fn("Numbers", |mut ctx: Context<(), u64>| async move {
//!     for n in 1..=10 {
//!         ctx.outbox.send(n).await;
//!     }
//!     ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
//!     Ok(())
//! });
//! let collect = from_fn("Collect", move |mut ctx: Context<String, ()>| async move {
//!     while let Some(event) = ctx.next_event().await {
//!         match event {
//!             Event::Data(text) => tx.send(text).unwrap(),
//!             Event::Control(msg) if msg.is_shutdown_request() => break,
//!             Event::Control(_) => {}
//!         }
//!     }
//!     Ok(())
//! });
//! pipeline![
//!     numbers,
//!     Filter::new(|n: &u64| n % 2 == 0),
//!     PureTransformer::new(|n: u64| format!("{n} squared is {}", n * n)),
//!     collect,
//! ]
//! .run()
//! .unwrap();
//! let lines: Vec<String> = rx.try_iter().collect();
//! assert_eq!(lines.len(), 5);
//! assert_eq!(lines[0], "2 squared is 4");
//! ```
//!
//! # How it works
//!
//! Both wait with [`Context::next_event`](axon_core::Context::next_event), which hands over a
//! `ProducerFinished` only once every message queued before it has been taken. For each message on
//! `inbox` the function is called and what it makes (if anything) is sent out of `outbox`, waiting
//! while the next inbox is full, so a slow consumer slows the producer down. A shutdown request
//! on `control` (`ProducerFinished`, or `ShutdownMicroprocess`, which comes at once, ahead of
//! queued data) is passed on out of `signal`, and the component ends; other control messages are
//! passed on too, and it carries on. It also ends, sending a `ProducerFinished` of its own, when
//! its `inbox` closes (everything upstream has gone).
//!
//! The function runs in the component's task: it should be quick and not block (use a
//! [`Threaded`](axon_core::Threaded) component for blocking work). A function that panics ends
//! this component alone, as any component's panic does.
//!
//! # Inboxes and outboxes
//!
//! Listed on [`PureTransformer`] and on [`Filter`], with what each carries, as Kamaelia lists
//! them on the class.
//!
//! # Porting from Kamaelia
//!
//! * `PureTransformer(function)` is `PureTransformer::new(function)`. Kamaelia's function
//!   returned `None` to send nothing; here that is [`PureTransformer::filter_map`], whose function
//!   returns an `Option`.
//! * Kamaelia's `Filter(filter=obj)` called `obj.filter(message)` and passed on what it returned
//!   unless `None`: [`PureTransformer::filter_map`] is that. [`Filter::new`] takes the common
//!   case, a predicate that keeps or drops each message as it is.
//! * Both are typed: a stage between neighbours of other types does not compile in a
//!   [`pipeline!`](crate::pipeline!).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use axon_core::ipc::ProducerFinished;
use axon_core::{BoxKind, Component, ComponentResult, Context, Declarations, Event};

/// Applies a function to every message; see the [module docs](self).
///
/// # Inboxes
///
/// | box       | carries | what arrives          |
/// |-----------|---------|-----------------------|
/// | `inbox`   | `I`     | Messages to transform |
/// | `control` | `Ipc`   | Shutdown signalling   |
///
/// # Outboxes
///
/// | box      | carries | what leaves                                               |
/// |----------|---------|-----------------------------------------------------------|
/// | `outbox` | `O`     | What the function made of each message                    |
/// | `signal` | `Ipc`   | Shutdown signalling: what arrived on `control`, passed on |
pub struct PureTransformer<I, O, F> {
    function: F,
    _types: PhantomData<fn(I) -> O>,
}

impl<I, O, F> fmt::Debug for PureTransformer<I, O, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PureTransformer")
            .field("from", &std::any::type_name::<I>())
            .field("to", &std::any::type_name::<O>())
            .finish_non_exhaustive()
    }
}

impl<I, O, F: FnMut(I) -> Option<O>> PureTransformer<I, O, F> {
    /// Sends what `function` returns for each message, and nothing when it returns `None`
    /// (Kamaelia's `PureTransformer`, whose function returned `None` to send nothing).
    pub fn filter_map(function: F) -> Self {
        PureTransformer { function, _types: PhantomData }
    }
}

impl<I, O> PureTransformer<I, O, ()> {
    /// Sends `function(message)` for each message (Kamaelia's `PureTransformer(function)`).
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        mut function: impl FnMut(I) -> O + Send + 'static,
    ) -> PureTransformer<I, O, impl FnMut(I) -> Option<O> + Send>
    where
        I: 'static,
        O: 'static,
    {
        PureTransformer::filter_map(move |m| Some(function(m)))
    }
}

impl<I, O, F> Component for PureTransformer<I, O, F>
where
    I: Send + 'static,
    O: Send + 'static,
    F: FnMut(I) -> Option<O> + Send + 'static,
{
    type Inbox = I;
    type Outbox = O;

    fn declare(&self, boxes: &mut Declarations) {
        describe(boxes, "Messages to transform", "What the function made of each message");
    }

    fn class_name(&self) -> Cow<'static, str> {
        "PureTransformer".into()
    }

    async fn main(self, ctx: Context<I, O>) -> ComponentResult {
        run(ctx, self.function).await
    }
}

/// Passes on the messages a predicate accepts; see the [module docs](self).
///
/// # Inboxes
///
/// | box       | carries | what arrives          |
/// |-----------|---------|-----------------------|
/// | `inbox`   | `T`     | Messages to filter    |
/// | `control` | `Ipc`   | Shutdown signalling   |
///
/// # Outboxes
///
/// | box      | carries | what leaves                                               |
/// |----------|---------|-----------------------------------------------------------|
/// | `outbox` | `T`     | The messages that pass                                    |
/// | `signal` | `Ipc`   | Shutdown signalling: what arrived on `control`, passed on |
pub struct Filter<T, P> {
    predicate: P,
    _carries: PhantomData<fn(T) -> T>,
}

impl<T, P> fmt::Debug for Filter<T, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Filter").field("carries", &std::any::type_name::<T>()).finish_non_exhaustive()
    }
}

impl<T, P: FnMut(&T) -> bool> Filter<T, P> {
    /// Passes on each message for which `predicate` returns true, and drops the others.
    pub fn new(predicate: P) -> Self {
        Filter { predicate, _carries: PhantomData }
    }
}

impl<T, P> Component for Filter<T, P>
where
    T: Send + 'static,
    P: FnMut(&T) -> bool + Send + 'static,
{
    type Inbox = T;
    type Outbox = T;

    fn declare(&self, boxes: &mut Declarations) {
        describe(boxes, "Messages to filter", "The messages that pass");
    }

    fn class_name(&self) -> Cow<'static, str> {
        "Filter".into()
    }

    async fn main(self, ctx: Context<T, T>) -> ComponentResult {
        let mut predicate = self.predicate;
        run(ctx, move |m| predicate(&m).then_some(m)).await
    }
}

fn describe(boxes: &mut Declarations, inbox: &'static str, outbox: &'static str) {
    boxes
        .describe(BoxKind::Inbox, "inbox", inbox)
        .describe(BoxKind::Inbox, "control", "Shutdown signalling")
        .describe(BoxKind::Outbox, "outbox", outbox)
        .describe(BoxKind::Outbox, "signal", "Shutdown signalling: what arrived on control, passed on");
}

/// The loop both run (see "How it works").
async fn run<I, O>(mut ctx: Context<I, O>, mut function: impl FnMut(I) -> Option<O>) -> ComponentResult
where
    I: Send + 'static,
    O: Send + 'static,
{
    while let Some(event) = ctx.next_event().await {
        match event {
            Event::Data(m) => {
                if let Some(out) = function(m) {
                    ctx.outbox.send(out).await;
                }
            }
            Event::Control(msg) => {
                let done = msg.is_shutdown_request();
                ctx.signal.send(msg).await;
                if done {
                    return Ok(());
                }
            }
        }
    }
    ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
    Ok(())
}
