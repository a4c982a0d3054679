//! Components: the [`Component`] trait. This module also gathers, at their old paths, the
//! [`Context`] a body receives, [`ComponentRef`] (the shared handle to a component that exists),
//! and the words of a component's life ([`ComponentId`], [`ComponentState`], [`Exit`], ...), each
//! defined in a file of its own below this one.
//!
//! # Life of a component
//!
//! 1. A *behaviour* value (your struct implementing [`Component`]) is made like any Rust value.
//! 2. [`Instance::new`](crate::Instance::new) gives it its boxes and an id; it can now be linked
//!    (Axon: `__init__` creates the boxes).
//! 3. Activation ([`Instance::activate`](crate::Instance::activate),
//!    [`Context::activate`]) spawns its body, `main`, as a tokio task (Axon: `activate()`).
//! 4. It ends when `main` returns, returns an error, panics, or is [stopped](ComponentRef::stop).
//!    Then, whatever the reason: its inboxes close (what is queued is dropped, later sends are
//!    discarded, waiting senders are released), its outboxes stop counting as senders, the
//!    linkages it made and those out of its outboxes are removed, its tracker services are
//!    withdrawn, and its parent and scheduler are told how it ended ([`Exit`]). A panic ends that
//!    component alone.

use std::borrow::Cow;
use std::future::Future;

pub use crate::component_ref::ComponentRef;
pub use crate::context::Context;
use crate::declarations::Declarations;
use crate::error::ComponentResult;
pub use crate::id::ComponentId;
pub use crate::identity::Unpauser;
pub use crate::lifecycle::{ChildExit, ComponentKind, ComponentState, Exit};

/// A component: a behaviour with boxes, whose body runs as a task.
///
/// Implement it for a struct holding the component's configuration, with `main` as an `async fn`
/// that awaits its inboxes and sends to its outboxes. `Inbox` and `Outbox` are the message types of
/// the standard `inbox` and `outbox`; `control` and `signal` carry [`Ipc`](crate::ipc::Ipc).
///
/// ```
/// use axon_core::{Component, ComponentResult, Context};
/// use axon_core::ipc::ProducerFinished;
///
/// /// Doubles every number it receives; ends when its input ends.
/// struct Doubler;
///
/// impl Component for Doubler {
///     type Inbox = i64;
///     type Outbox = i64;
///
///     async fn main(self, mut ctx: Context<i64, i64>) -> ComponentResult {
///         while let Some(n) = ctx.inbox.recv().await {
///             ctx.outbox.send(n * 2).await;
///         }
///         ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
///         Ok(())
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `Component`",
    label = "not a component",
    note = "a `ThreadedComponent` (a body that blocks) runs on a thread of its own: pass `Threaded({Self})`",
    note = "a `StepComponent` (Axon's initialiseComponent/mainBody style) is run as `Stepped({Self})`",
    note = "a closure becomes a component with `from_fn(\"Name\", |mut ctx: Context<In, Out>| async move {{ .. }})`"
)]
pub trait Component: Send + Sized + 'static {
    /// What the standard `inbox` carries (use `()` if unused).
    type Inbox: Send + 'static;
    /// What the standard `outbox` carries (use `()` if unused).
    type Outbox: Send + 'static;

    /// Declares boxes beyond the standard four, and may re-describe or resize the standard ones
    /// (Axon's `Inboxes`/`Outboxes` class dicts). Called once, when the component is made.
    fn declare(&self, boxes: &mut Declarations) {
        let _ = boxes;
    }

    /// The name that ids are appended to (`Doubler` gives `Doubler_12`). Defaults to the type's
    /// path without generic arguments, as Axon uses `module.Class`.
    fn class_name(&self) -> Cow<'static, str> {
        Cow::Borrowed(short_type_name::<Self>())
    }

    /// How it runs; only [`Threaded`](crate::Threaded) says otherwise. Shown by introspection.
    #[doc(hidden)]
    fn kind(&self) -> ComponentKind {
        ComponentKind::Task
    }

    /// The body. It runs once, as a task, from activation until it returns.
    fn main(self, ctx: Context<Self::Inbox, Self::Outbox>) -> impl Future<Output = ComponentResult> + Send;
}

/// The name of `T` without its generic arguments (`Threaded<my::Lines>` gives `Threaded`):
/// what [`Component::class_name`] returns by default.
pub(crate) fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    // A byte scan: `split` costs several times as much, and this runs for every component made
    // (and every hosted handler).
    full.bytes().position(|b| b == b'<').map_or(full, |end| &full[..end])
}
