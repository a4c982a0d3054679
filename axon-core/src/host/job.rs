//! [`Job`]: a child for a [`ChildHost`](super::ChildHost) to start, its component type erased: a
//! behaviour that can be hosted, or a component of its own (made now if it was not).

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use super::body::{hostable, Hosted};
use crate::component::Component;
use crate::context::Context;
use crate::instance::{AnyInstance, Instance, IntoInstance};

/// A child to start, whose `inbox` takes `I` and whose `outbox` sends `O`: any component value
/// or [`Instance`], its type erased, so that a parent can start children of any type the same
/// way ([`ChildHost::start`](super::ChildHost::start)).
///
/// Made from a component's value that can be hosted ([`is_hostable`](Self::is_hostable): it
/// declares no box beyond the standard four, keeps their capacities, and runs as a task), it
/// stays a behaviour, to be run in the parent's kept host. Any other is made into a component
/// now (an [`Instance`] is one already), to be linked and activated as a child of its own.
///
/// ```
/// use axon_core::host::Job;
/// use axon_core::prelude::*;
///
/// let plain = || from_fn("Plain", |_ctx: Context<u32, u32>| async { Ok(()) });
/// let job: Job<u32, u32> = plain().into();
/// assert!(job.is_hostable());
/// assert_eq!(job.name(), "Plain");
/// // Made already: it has its own boxes, id and name, and runs as a child of its own.
/// let made: Job<u32, u32> = Instance::new(plain()).into();
/// assert!(!made.is_hostable());
/// assert!(made.name().starts_with("Plain_"));
/// ```
pub struct Job<I, O> {
    kind: Kind<I, O>,
}

/// What a job holds.
pub(crate) enum Kind<I, O> {
    /// A behaviour that can be hosted.
    Behaviour(Behaviour<I, O>),
    /// A component of its own.
    Made(Box<dyn AnyInstance>),
}

impl<I, O, P> From<P> for Job<I, O>
where
    P: IntoInstance,
    P::Component: Component<Inbox = I, Outbox = O>,
    I: Send + 'static,
    O: Send + 'static,
{
    fn from(child: P) -> Self {
        let kind = match child.into_behaviour() {
            Ok(behaviour) if hostable(&behaviour) => Kind::Behaviour(Box::new(behaviour)),
            Ok(behaviour) => Kind::Made(Box::new(Instance::new(behaviour))),
            Err(instance) => Kind::Made(Box::new(instance)),
        };
        Job { kind }
    }
}

impl<I, O> Job<I, O> {
    /// True if it can run in a kept host, in boxes linked once (see the type's docs).
    pub fn is_hostable(&self) -> bool {
        matches!(self.kind, Kind::Behaviour(_))
    }

    /// Its component's name if it has been made into a component (`Pipeline_12`), otherwise its
    /// class name (`HelloHandler`).
    pub fn name(&self) -> String {
        match &self.kind {
            Kind::Behaviour(behaviour) => behaviour.class_name().into_owned(),
            Kind::Made(instance) => instance.component().name().to_owned(),
        }
    }

    /// The child as a component of its own (made now if it was not), to link and activate.
    pub fn into_instance(self) -> Box<dyn AnyInstance> {
        match self.kind {
            Kind::Behaviour(behaviour) => behaviour.into_instance(),
            Kind::Made(instance) => instance,
        }
    }

    /// The behaviour to host, or the component.
    pub(crate) fn into_kind(self) -> Kind<I, O> {
        self.kind
    }
}

impl<I, O> fmt::Debug for Job<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Job").field(&self.name()).finish()
    }
}

/// A behaviour that can be hosted, its type erased.
pub(crate) type Behaviour<I, O> = Box<dyn Hostable<I, O>>;

/// A behaviour that can be hosted: run in a host's boxes, or made into a component of its own.
pub(crate) trait Hostable<I, O>: Send {
    /// Runs it in the host's boxes ([`Context::host`]).
    fn run<'a>(self: Box<Self>, ctx: &'a mut Context<I, O>) -> Pin<Box<dyn Future<Output = Hosted> + Send + 'a>>;
    /// Makes it a component of its own.
    fn into_instance(self: Box<Self>) -> Box<dyn AnyInstance>;
    /// Its class name (`HelloHandler`).
    fn class_name(&self) -> Cow<'static, str>;
}

impl<C: Component> Hostable<C::Inbox, C::Outbox> for C {
    fn run<'a>(
        self: Box<Self>,
        ctx: &'a mut Context<C::Inbox, C::Outbox>,
    ) -> Pin<Box<dyn Future<Output = Hosted> + Send + 'a>> {
        Box::pin(ctx.host(*self))
    }

    fn into_instance(self: Box<Self>) -> Box<dyn AnyInstance> {
        Box::new(Instance::new(*self))
    }

    fn class_name(&self) -> Cow<'static, str> {
        Component::class_name(self)
    }
}
