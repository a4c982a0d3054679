//! Axon's old style of component: `initialiseComponent`, then `mainBody` until it says stop, then
//! `closeDownComponent`.
//!
//! Many Kamaelia components were written this way before generators took over. Implement
//! [`StepComponent`] and wrap it in [`Stepped`] to port one without restructuring it. Between two
//! steps the component yields to the runtime (Axon: one `yield` per `mainBody` call), so a busy
//! step loop does not starve other components.
//!
//! # Example
//!
//! ```
//! use axon_core::{ComponentResult, ComponentError, Context, Instance, StepComponent, Stepped};
//!
//! /// Counts to three, sending each number.
//! struct Counter(u32);
//!
//! impl StepComponent for Counter {
//!     type Inbox = ();
//!     type Outbox = u32;
//!     async fn main_body(&mut self, ctx: &mut Context<(), u32>) -> Result<bool, ComponentError> {
//!         self.0 += 1;
//!         ctx.outbox.send(self.0).await;
//!         Ok(self.0 < 3) // keep going?
//!     }
//! }
//!
//! Instance::new(Stepped(Counter(0))).run().unwrap();
//! ```
//!
//! # How it works
//!
//! [`Stepped`] is an ordinary [`Component`] with the standard four boxes, typed by the wrapped
//! component's `Inbox` and `Outbox`. Its body, a task as every component's, calls
//! [`initialise_component`](StepComponent::initialise_component) once, then
//! [`main_body`](StepComponent::main_body) for as long as it returns `Ok(true)`, yielding to the
//! runtime between two calls, then [`close_down_component`](StepComponent::close_down_component)
//! once. A step that returns an error ends the component at once with that error (the last step
//! is then not called). Each step borrows the component's [`Context`], so it reads and sends as
//! any component does.

use std::future::Future;

use crate::component::Component;
use crate::context::Context;
use crate::error::{ComponentError, ComponentResult};

/// A component written as three steps; see the [module docs](self).
pub trait StepComponent: Send + Sized + 'static {
    /// What the standard `inbox` carries.
    type Inbox: Send + 'static;
    /// What the standard `outbox` carries.
    type Outbox: Send + 'static;

    /// Runs once, first (Axon's `initialiseComponent`).
    fn initialise_component(
        &mut self,
        ctx: &mut Context<Self::Inbox, Self::Outbox>,
    ) -> impl Future<Output = ComponentResult> + Send {
        let _ = ctx;
        async { Ok(()) }
    }

    /// Runs repeatedly while it returns `Ok(true)` (Axon's `mainBody`, which returned a truthy
    /// value to continue).
    fn main_body(
        &mut self,
        ctx: &mut Context<Self::Inbox, Self::Outbox>,
    ) -> impl Future<Output = Result<bool, ComponentError>> + Send;

    /// Runs once, last, unless a step failed (Axon's `closeDownComponent`).
    fn close_down_component(
        &mut self,
        ctx: &mut Context<Self::Inbox, Self::Outbox>,
    ) -> impl Future<Output = ComponentResult> + Send {
        let _ = ctx;
        async { Ok(()) }
    }
}

/// Makes a [`StepComponent`] a [`Component`]. See the [module docs](self).
///
/// # Inboxes
///
/// | box       | carries    | what arrives                                                                |
/// |-----------|------------|-----------------------------------------------------------------------------|
/// | `inbox`   | `T::Inbox` | Default inbox for bulk data. Used in a pipeline much like stdin             |
/// | `control` | `Ipc`      | Secondary inbox often used for signals. The closest analogy is unix signals |
///
/// # Outboxes
///
/// | box      | carries     | what leaves                                                                                  |
/// |----------|-------------|----------------------------------------------------------------------------------------------|
/// | `outbox` | `T::Outbox` | Default data out outbox, used in a pipeline much like stdout                                 |
/// | `signal` | `Ipc`       | The default signal based outbox - kinda like stderr, but more for sending singal type signals |
///
/// These are Axon's standard four, described as Axon describes them
/// ([`INBOX_DESCRIPTION`](crate::boxes::INBOX_DESCRIPTION) and its neighbours), with the wrapped
/// component's message types.
#[derive(Debug)]
pub struct Stepped<T>(pub T);

impl<T: StepComponent> Component for Stepped<T> {
    type Inbox = T::Inbox;
    type Outbox = T::Outbox;

    fn class_name(&self) -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed(crate::component::short_type_name::<T>())
    }

    async fn main(mut self, mut ctx: Context<T::Inbox, T::Outbox>) -> ComponentResult {
        self.0.initialise_component(&mut ctx).await?;
        while self.0.main_body(&mut ctx).await? {
            tokio::task::yield_now().await;
        }
        self.0.close_down_component(&mut ctx).await
    }
}
