//! [`Instance`]: a component that has its boxes and can be linked, but has not started; and
//! [`NewComponent`], a request to activate instances (Axon's `newComponent`).

use std::fmt;
use std::sync::Arc;

use crate::component::Component;
use crate::component_ref::{ComponentRef, Core};
use crate::context::Context;
use crate::declarations::Declarations;
use crate::error::RunError;
use crate::id::ComponentId;
use crate::identity::Identity;
use crate::linkage::Endpoint;
use crate::run::run_body;
use crate::scheduler::Scheduler;

/// A component made and given its boxes, ready to be linked and then activated.
///
/// Axon creates a component's boxes in its constructor; here the behaviour value (your struct)
/// stays a plain value, and `Instance::new` adds the boxes, the id and the name. Parents link
/// instances to each other, then activate them.
///
/// ```
/// use axon_core::{Component, ComponentResult, Context, Instance, Scheduler};
///
/// struct Source(Vec<u32>);
/// impl Component for Source {
///     type Inbox = ();
///     type Outbox = u32;
///     async fn main(self, mut ctx: Context<(), u32>) -> ComponentResult {
///         for n in self.0 { ctx.outbox.send(n).await; }
///         Ok(())
///     }
/// }
///
/// struct Sum(std::sync::mpsc::Sender<u32>);
/// impl Component for Sum {
///     type Inbox = u32;
///     type Outbox = ();
///     async fn main(self, mut ctx: Context<u32, ()>) -> ComponentResult {
///         let mut total = 0;
///         while let Some(n) = ctx.inbox.recv().await { total += n; }
///         self.0.send(total).unwrap();
///         Ok(())
///     }
/// }
///
/// let (tx, rx) = std::sync::mpsc::channel();
/// let scheduler = Scheduler::new();
/// let source = Instance::new(Source(vec![1, 2, 3]));
/// let sum = Instance::new(Sum(tx));
/// scheduler.link((&source, "outbox"), (&sum, "inbox")).unwrap();
/// source.activate(&scheduler);
/// sum.activate(&scheduler);
/// scheduler.run().unwrap();
/// assert_eq!(rx.recv().unwrap(), 6);
/// ```
pub struct Instance<C: Component> {
    behaviour: C,
    ctx: Context<C::Inbox, C::Outbox>,
}

impl<C: Component> fmt::Debug for Instance<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Instance").field("component", self.ctx.me()).finish_non_exhaustive()
    }
}

impl<C: Component> From<C> for Instance<C> {
    fn from(behaviour: C) -> Self {
        Instance::new(behaviour)
    }
}

impl<C: Component> Instance<C> {
    /// Gives `behaviour` its boxes (the standard four plus those it declares), an id and a name.
    ///
    /// # Panics
    /// If its [`declare`](Component::declare) declares one box name twice.
    pub fn new(behaviour: C) -> Self {
        let mut decl = Declarations::standard::<C::Inbox, C::Outbox>();
        behaviour.declare(&mut decl);
        let id = ComponentId::next();
        let ident = Identity::new(id, component_name(&behaviour.class_name(), id.get()));
        let nodes = decl.build(&ident);
        let me = ComponentRef(Arc::new(Core::new(ident, nodes, behaviour.kind())));
        let ctx = Context::new(me);
        Instance { behaviour, ctx }
    }

    /// The component, to link its boxes or keep a reference after activation.
    pub fn component(&self) -> &ComponentRef {
        self.ctx.me()
    }

    /// Its id.
    pub fn id(&self) -> ComponentId {
        self.component().id()
    }

    /// Its name.
    pub fn name(&self) -> &str {
        self.component().name()
    }

    /// The behaviour value.
    pub fn behaviour(&self) -> &C {
        &self.behaviour
    }

    /// Starts its body as a task on `scheduler` (Axon's `activate()`), and returns the component.
    /// A component stopped before activation stays ended.
    ///
    /// [`main`](Component::main) is called here, on the calling thread, and the component already
    /// knows its scheduler when it is: a `main` written as a plain `fn` returning an `async`
    /// block can use [`Context::scheduler`] and [`Context::tracker`] before that block, so what
    /// it does there is done by the time `activate` returns. That is how a component takes its
    /// place at once, for example a backplane's subscriber, which must be subscribed before
    /// anything activated after it publishes:
    ///
    /// ```
    /// use std::future::Future;
    /// use axon_core::{Component, ComponentResult, Context, Scheduler};
    ///
    /// /// Offers its inbox as the service "greeter" as soon as it is activated.
    /// struct Greeter;
    /// impl Component for Greeter {
    ///     type Inbox = String;
    ///     type Outbox = ();
    ///     fn main(self, mut ctx: Context<String, ()>) -> impl Future<Output = ComponentResult> + Send {
    ///         let registered = ctx.tracker().register_service("greeter", ctx.me(), "inbox");
    ///         async move {
    ///             registered?;
    ///             while let Some(name) = ctx.inbox.recv().await {
    ///                 println!("hello, {name}");
    ///             }
    ///             Ok(())
    ///         }
    ///     }
    /// }
    ///
    /// let scheduler = Scheduler::new();
    /// scheduler.activate(Greeter);
    /// // Registered already, whether or not its body has started.
    /// assert!(scheduler.tracker().retrieve_service("greeter").is_ok());
    /// ```
    pub fn activate(self, scheduler: &Scheduler) -> ComponentRef {
        let me = self.ctx.me().clone();
        if me.has_ended() {
            return me;
        }
        // Attached first, so that `main` finds its scheduler (see above); `spawn_body` relies on
        // it.
        scheduler.attach(&me);
        let body = self.behaviour.main(self.ctx);
        scheduler.spawn_body(&me, run_body(me.0.clone(), body, scheduler.slowmo()));
        me
    }

    /// Runs this component, and everything it starts, to completion on a scheduler of its own
    /// (Axon's `component.run()`). Blocks the calling thread; see [`Scheduler::run`].
    pub fn run(self) -> Result<(), RunError> {
        let scheduler = Scheduler::new();
        self.activate(&scheduler);
        scheduler.run()
    }

    /// Erases the behaviour's type, to keep instances of different components together.
    pub fn boxed(self) -> Box<dyn AnyInstance> {
        Box::new(self)
    }
}

/// `(&instance, "box")` names a box of an instance not yet activated, as `(component, "box")` does.
impl<'a, C: Component> From<(&'a Instance<C>, &'a str)> for Endpoint<'a> {
    fn from((inst, name): (&'a Instance<C>, &'a str)) -> Self {
        Endpoint { component: inst.component(), name }
    }
}

/// `class_id`, as `format!("{class}_{id}")` writes it, in one allocation of the exact size (the
/// name is kept as a `Box<str>`, which would otherwise reallocate it).
fn component_name(class: &str, id: u64) -> String {
    use std::fmt::Write as _;
    let digits = id.checked_ilog10().map_or(1, |d| d as usize + 1);
    let mut name = String::with_capacity(class.len() + 1 + digits);
    let _ = write!(name, "{class}_{id}");
    name
}

/// An [`Instance`] of some component type: what chassis hold as children.
pub trait AnyInstance: Send {
    /// The component.
    fn component(&self) -> &ComponentRef;
    /// Activates it on `scheduler`.
    fn activate_boxed(self: Box<Self>, scheduler: &Scheduler) -> ComponentRef;
}

impl<C: Component> AnyInstance for Instance<C> {
    fn component(&self) -> &ComponentRef {
        Instance::component(self)
    }

    fn activate_boxed(self: Box<Self>, scheduler: &Scheduler) -> ComponentRef {
        (*self).activate(scheduler)
    }
}

impl fmt::Debug for dyn AnyInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AnyInstance").field(self.component()).finish()
    }
}

/// "Please activate these components" (Axon's `newComponent(*components)`).
///
/// Axon yields it to the scheduler; with `async` bodies a component calls
/// [`Context::activate`](crate::Context::activate) instead. The type remains for components that
/// ask *another* component (a parent, a spawner service) to start components for them: the
/// receiver calls [`NewComponent::into_components`] and activates each.
#[derive(Default)]
pub struct NewComponent {
    components: Vec<Box<dyn AnyInstance>>,
}

impl NewComponent {
    /// A request to activate `components`, in order.
    pub fn new(components: impl IntoIterator<Item = Box<dyn AnyInstance>>) -> Self {
        Self { components: components.into_iter().collect() }
    }

    /// The components to activate (Axon's `components()`).
    pub fn components(&self) -> &[Box<dyn AnyInstance>] {
        &self.components
    }

    /// Takes the components out, to activate them.
    pub fn into_components(self) -> Vec<Box<dyn AnyInstance>> {
        self.components
    }
}

impl fmt::Debug for NewComponent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.components.iter().map(|c| c.component().name().to_owned()).collect();
        f.debug_struct("NewComponent").field("components", &names).finish()
    }
}

/// What can be made into an [`Instance`]: a component (its boxes are made) or an instance already
/// made (a [`Graphline`]-style prefab that was built, checked and returned ready to activate).
///
/// Chassis that take factories (a server's protocol factory, for instance) accept either, so a
/// factory may return `MyProtocol { .. }` or a prefab's `Instance<..>` alike.
///
/// [`Graphline`]: https://docs.rs/kamaelia-chassis
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `Component`, nor an `Instance` of one",
    label = "not a component",
    note = "a `ThreadedComponent` (a body that blocks) runs on a thread of its own: pass `Threaded({Self})`",
    note = "a `StepComponent` (Axon's initialiseComponent/mainBody style) is run as `Stepped({Self})`",
    note = "a closure becomes a component with `from_fn(\"Name\", |mut ctx: Context<In, Out>| async move {{ .. }})`"
)]
pub trait IntoInstance: Send + 'static {
    /// The component type of the instance.
    type Component: Component;
    /// Makes (or returns) the instance.
    fn into_instance(self) -> Instance<Self::Component>;

    /// The behaviour itself if no instance has been made of it yet (so that it can be
    /// [hosted](crate::host) instead), otherwise the instance.
    fn into_behaviour(self) -> Result<Self::Component, Instance<Self::Component>>
    where
        Self: Sized,
    {
        Err(self.into_instance())
    }
}

impl<C: Component> IntoInstance for C {
    type Component = C;
    fn into_instance(self) -> Instance<C> {
        Instance::new(self)
    }

    fn into_behaviour(self) -> Result<C, Instance<C>> {
        Ok(self)
    }
}

impl<C: Component> IntoInstance for Instance<C> {
    type Component = C;
    fn into_instance(self) -> Instance<C> {
        self
    }
}

// ----- activation seen from a scheduler and from a running component: written here, where
// instances are known -----

impl Scheduler {
    /// Activates a component on this scheduler (Axon's `activate()`).
    pub fn activate(&self, component: impl IntoInstance) -> ComponentRef {
        component.into_instance().activate(self)
    }
}

impl<I: Send + 'static, O: Send + 'static> Context<I, O> {
    /// Activates `child` on this component's scheduler (Axon: `child.activate()`, or yielding
    /// `newComponent`). Does not make it a child: see [`add_children`](Self::add_children).
    pub fn activate(&self, child: impl IntoInstance) -> ComponentRef {
        child.into_instance().activate(&self.scheduler())
    }

    /// Activates a type-erased instance (e.g. from a [`NewComponent`]).
    pub fn activate_boxed(&self, child: Box<dyn AnyInstance>) -> ComponentRef {
        child.activate_boxed(&self.scheduler())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn component_names_are_class_underscore_id() {
        for id in [1, 9, 10, 12345, u64::MAX] {
            assert_eq!(super::component_name("Doubler", id), format!("Doubler_{id}"));
        }
    }
}
