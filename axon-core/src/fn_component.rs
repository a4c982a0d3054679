//! Components written as closures, for small jobs, tests and teaching.
//!
//! ```
//! use axon_core::{from_fn, Context, Instance};
//!
//! let shout = from_fn("Shout", |mut ctx: Context<String, String>| async move {
//!     while let Some(s) = ctx.inbox.recv().await {
//!         ctx.outbox.send(s.to_uppercase()).await;
//!     }
//!     Ok(())
//! });
//! let shout = Instance::new(shout);
//! assert!(shout.name().starts_with("Shout_"));
//! ```

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use crate::component::Component;
use crate::context::Context;
use crate::declarations::Declarations;
use crate::error::ComponentResult;

type DeclareFn = Box<dyn Fn(&mut Declarations) + Send>;

/// A component whose body is a closure; made by [`from_fn`].
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
