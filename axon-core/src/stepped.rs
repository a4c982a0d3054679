//! Axon's old style of component: `initialiseComponent`, then `mainBody` until it says stop, then
//! `closeDownComponent`.
//!
//! Many Kamaelia components were written this way before generators took over. Implement
//! [`StepComponent`] and wrap it in [`Stepped`] to port one without restructuring it. Between two
//! steps the component yields to the runtime (Axon: one `yield` per `mainBody` call), so a busy
//! step loop does not starve other components.
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

/// Makes a [`StepComponent`] a [`Component`].
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
