//! Components written as closures, for small jobs, tests and teaching: [`from_fn`] makes a
//! [`FnComponent`].
//!
//! # Example
//!
//! A closure that shouts what it is sent, driven by a [`Handle`](crate::Handle):
//!
//! ```
//! use axon_core::{from_fn, Context, Handle, Instance, Scheduler};
//!
//! let shout = || {
//!     from_fn("Shout", |mut ctx: Context<String, String>| async move {
//!         while let Some(s) = ctx.inbox.recv().await {
//!             ctx.outbox.send(s.to_uppercase()).await;
//!         }
//!         Ok(())
//!     })
//! };
//! assert!(Instance::new(shout()).name().starts_with("Shout_"));
//!
//! let mut shout = Handle::new(shout(), &Scheduler::new());
//! shout.send_blocking("hello".to_owned());
//! assert_eq!(shout.recv_blocking().as_deref(), Some("HELLO"));
//! ```
//!
//! A closure whose component needs more boxes than the standard four declares them with
//! [`FnComponent::with_boxes`], and takes them from its context by name:
//!
//! ```
//! use axon_core::{from_fn, Context, Handle, Instance, Scheduler};
//!
//! let add = from_fn("Add", |mut ctx: Context<u32, u32>| async move {
//!     let mut addend = ctx.take_inbox::<u32>("addend")?;
//!     while let (Some(a), Some(b)) = (ctx.inbox.recv().await, addend.recv().await) {
//!         ctx.outbox.send(a + b).await;
//!     }
//!     Ok(())
//! })
//! .with_boxes(|boxes| {
//!     boxes.inbox::<u32>("addend", "What to add to the next number on inbox");
//! });
//! let forty = from_fn("Forty", |mut ctx: Context<(), u32>| async move {
//!     ctx.outbox.send(40).await;
//!     Ok(())
//! });
//!
//! let scheduler = Scheduler::new();
//! let (add, forty) = (Instance::new(add), Instance::new(forty));
//! scheduler.link((&forty, "outbox"), (&add, "addend")).unwrap();
//! forty.activate(&scheduler);
//! let mut add = Handle::new(add, &scheduler);
//! add.send_blocking(2);
//! assert_eq!(add.recv_blocking(), Some(42));
//! ```
//!
//! # How it works
//!
//! [`from_fn`] keeps the name and the closure; [`with_boxes`](FnComponent::with_boxes) keeps a
//! declaration too. When the component is made, its boxes are the standard four, typed by the
//! closure's `Context<I, O>`, and whatever that declaration adds or re-describes (it runs as
//! [`Component::declare`] does); its class name is the name given, so its instances are named
//! `Shout_<id>`. When it is activated the closure is called once, with the component's
//! [`Context`], and the future it returns is the component's body: the component ends when that
//! future completes, with its result, as any component's `main`.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use crate::component::Component;
use crate::context::Context;
use crate::declarations::Declarations;
use crate::error::ComponentResult;

type DeclareFn = Box<dyn Fn(&mut Declarations) + Send>;

/// A component whose body is a closure; made by [`from_fn`]. See the [module docs](self).
///
/// # Inboxes
///
/// | box       | carries | what arrives                                                                |
/// |-----------|---------|-----------------------------------------------------------------------------|
/// | `inbox`   | `I`     | Default inbox for bulk data. Used in a pipeline much like stdin             |
/// | `control` | `Ipc`   | Secondary inbox often used for signals. The closest analogy is unix signals |
///
/// # Outboxes
///
/// | box      | carries | what leaves                                                                                  |
/// |----------|---------|----------------------------------------------------------------------------------------------|
/// | `outbox` | `O`     | Default data out outbox, used in a pipeline much like stdout                                 |
/// | `signal` | `Ipc`   | The default signal based outbox - kinda like stderr, but more for sending singal type signals |
///
/// These are Axon's standard boxes, described as Axon describes them
/// ([`INBOX_DESCRIPTION`](crate::boxes::INBOX_DESCRIPTION) and its neighbours), with `I` and `O`
/// the types of the closure's `Context<I, O>`. [`with_boxes`](Self::with_boxes) may add more, and
/// describe these otherwise.
pub struct FnComponent<I, O, F> {
    name: Cow<'static, str>,
    body: F,
    declare: Option<DeclareFn>,
    _types: PhantomData<fn(I) -> O>,
}

impl<I, O, F> fmt::Debug for FnComponent<I, O, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnComponent").field("name", &self.name).finish_non_exhaustive()
    }
}

/// A component named `name` whose body is `body`.
pub fn from_fn<I, O, F, Fut>(name: impl Into<Cow<'static, str>>, body: F) -> FnComponent<I, O, F>
where
    F: FnOnce(Context<I, O>) -> Fut + Send + 'static,
    Fut: Future<Output = ComponentResult> + Send,
{
    FnComponent { name: name.into(), body, declare: None, _types: PhantomData }
}

impl<I, O, F> FnComponent<I, O, F> {
    /// Declares extra boxes, as [`Component::declare`] does.
    pub fn with_boxes(mut self, declare: impl Fn(&mut Declarations) + Send + 'static) -> Self {
        self.declare = Some(Box::new(declare));
        self
    }
}

impl<I, O, F, Fut> Component for FnComponent<I, O, F>
where
    I: Send + 'static,
    O: Send + 'static,
    F: FnOnce(Context<I, O>) -> Fut + Send + 'static,
    Fut: Future<Output = ComponentResult> + Send,
{
    type Inbox = I;
    type Outbox = O;

    fn declare(&self, boxes: &mut Declarations) {
        if let Some(d) = &self.declare {
            d(boxes)
        }
    }

    fn class_name(&self) -> Cow<'static, str> {
        self.name.clone()
    }

    fn main(self, ctx: Context<I, O>) -> impl Future<Output = ComponentResult> + Send {
        (self.body)(ctx)
    }
}
