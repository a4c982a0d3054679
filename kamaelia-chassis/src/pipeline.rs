//! Components in a line: [`Pipeline`] (Kamaelia's `Kamaelia.Chassis.Pipeline`).
//!
//! A `Pipeline` wires its children one after another, each one's `outbox` to the next one's
//! `inbox` and each one's `signal` to the next one's `control`, and wraps the chain up as a single
//! component: what reaches the Pipeline's `inbox` goes to the first child, and what the last child
//! sends comes out of the Pipeline's `outbox`.
//!
//! # Example
//!
//! Kamaelia's `Pipeline(Numbers(), Double(), Collect()).run()`:
//!
//! ```
//! use axon_core::prelude::*;
//! use kamaelia_chassis::pipeline;
//!
//! // Sends 1, 2, 3, then says it has finished.
//! let numbers = from_fn("Numbers", |mut ctx: Context<(), u32>| async move {
//!     for n in 1..=3 {
//!         ctx.outbox.send(n).await;
//!     }
//!     ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
//!     Ok(())
//! });
//! // Doubles what arrives, until told on `control` that its producer has finished (which
//! // comes after everything it sent); then passes the message on.
//! let double = from_fn("Double", |mut ctx: Context<u32, u32>| async move {
//!     while let Some(event) = ctx.next_event().await {
//!         match event {
//!             Event::Data(n) => ctx.outbox.send(n * 2).await,
//!             Event::Control(msg) => {
//!                 ctx.signal.send(msg).await;
//!                 break;
//!             }
//!         }
//!     }
//!     Ok(())
//! });
//! // Hands everything to the test, until its input ends.
//! let (tx, rx) = std::sync::mpsc::channel();
//! let collect = from_fn("Collect", move |mut ctx: Context<u32, ()>| async move {
//!     while let Some(n) = ctx.inbox.recv().await {
//!         tx.send(n).unwrap();
//!     }
//!     Ok(())
//! });
//!
//! pipeline![numbers, double, collect].run().unwrap();
//! assert_eq!(rx.try_iter().collect::<Vec<_>>(), [2, 4, 6]);
//! ```
//!
//! The builder form is the same pipeline: `Pipeline::new(numbers).then(double).then(collect)`.
//! Each step takes a behaviour value or a ready [`Instance`] (for example a
//! [`Graphline`](crate::graphline::Graphline) instance).
//!
//! Neighbours must agree on the type that passes between them. A mismatch does not compile:
//!
//! ```compile_fail,E0271
//! use axon_core::prelude::*;
//! use kamaelia_chassis::pipeline;
//!
//! let numbers = from_fn("Numbers", |_ctx: Context<(), u32>| async { Ok(()) });
//! let shout = from_fn("Shout", |_ctx: Context<String, String>| async { Ok(()) });
//! let _ = pipeline![numbers, shout]; // `u32` leaves Numbers, `String` enters Shout
//! ```
//!
//! # How it works
//!
//! Nothing is wired when the Pipeline is made; everything happens in its body, when it is
//! activated (as in Kamaelia, whose `Pipeline.main` does the wiring):
//!
//! 1. The children are made its children (Axon's `addChildren`).
//! 2. For each pair of neighbours `(a, b)`: `(a, "outbox")` → `(b, "inbox")` and
//!    `(a, "signal")` → `(b, "control")`.
//! 3. The Pipeline's `inbox` and `control` are passed through to the first child's `inbox` and
//!    `control` ([`Passthrough::Inbound`]).
//! 4. The last child's `outbox` and `signal` are passed through to the Pipeline's `outbox` and
//!    `signal` ([`Passthrough::Outbound`]). A [circular](Pipeline::circular) Pipeline instead links
//!    the last child's `outbox` to the first child's `inbox` and its `signal` to the first child's
//!    `control`, and leaves its own `outbox` and `signal` unwired.
//! 5. Every child is activated; children therefore start only when the Pipeline does.
//!
//! The linkages belong to the Pipeline. A message crosses a passthrough in one hop (it lands
//! straight in the child's inbox), and the Pipeline itself never reads or sends anything: it
//! does not intercept its boxes. It knows only the children it was given, not the components
//! those children start.
//!
//! # Inboxes and outboxes
//!
//! Listed on [`Pipeline`], with what each carries, as Kamaelia lists them on the class.
//!
//! # Shutdown
//!
//! Shutdown travels only along the chain: a `ProducerFinished` or `ShutdownMicroprocess` sent to
//! the Pipeline's `control` reaches the first child, which passes it on out of its `signal` to the
//! next child's `control`, and so on; the last child's `signal` comes out of the Pipeline's
//! `signal`. The Pipeline ends when, and only when, **all** its children have ended, and sends no
//! message of its own. A child that panics or fails ends alone (it is logged, and
//! [`Scheduler::run`](axon_core::Scheduler::run) reports it); the Pipeline keeps waiting for the
//! others.
//!
//! # Limitations
//!
//! A child given as an [`Instance`] whose standard boxes were already linked elsewhere cannot be
//! wired again (one source box feeds one destination): the Pipeline then ends with
//! [`Exit::Failed`](axon_core::Exit::Failed), naming the linkage, and stops its children, which
//! never ran.
//!
//! # Porting from Kamaelia
//!
//! * `Pipeline(a, b, c)` is `pipeline![a, b, c]` or `Pipeline::new(a).then(b).then(c)`;
//!   `Pipeline(a, b, circular=True)` is `pipeline![a, b].circular()`.
//! * The types between neighbours are checked by the compiler; an empty pipeline cannot be
//!   written (Kamaelia raises `IndexError` in `main`).
//! * Only a Pipeline whose two ends carry the same type can be circular (the last child feeds the
//!   first).
//! * The deprecated lower-case alias `pipeline(...)` is the macro `pipeline!`.

use std::fmt;
use std::marker::PhantomData;

use axon_core::{
    AnyInstance, BoxKind, Component, ComponentError, ComponentRef, ComponentResult, Context, Declarations, Instance,
    IntoInstance, Passthrough, RunError,
};

/// Children in a line; see the [module docs](self).
///
/// `I` is what its first child's `inbox` carries, `O` what its last child's `outbox` carries. Make
/// one with [`Pipeline::new`] and [`Pipeline::then`], or with the [`pipeline!`](crate::pipeline!)
/// macro.
///
/// # Inboxes
///
/// | box       | carries | what arrives                                  |
/// |-----------|---------|-----------------------------------------------|
/// | `inbox`   | `I`     | Passed through to the first child's `inbox`   |
/// | `control` | `Ipc`   | Passed through to the first child's `control` |
///
/// # Outboxes
///
/// | box      | carries | what leaves                                                       |
/// |----------|---------|-------------------------------------------------------------------|
/// | `outbox` | `O`     | What the last child sends from its `outbox` (unused if circular) |
/// | `signal` | `Ipc`   | What the last child sends from its `signal` (unused if circular) |
#[must_use = "a Pipeline does nothing until it is activated or run"]
pub struct Pipeline<I, O> {
    /// The children, first to last. Never empty: [`Pipeline::new`] takes the first one.
    children: Vec<Box<dyn AnyInstance>>,
    /// Kamaelia's `circular=True`: the last child feeds the first.
    circular: bool,
    _types: PhantomData<fn(I) -> O>,
}

impl<I, O> fmt::Debug for Pipeline<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.children.iter().map(|c| c.component().name()).collect();
        f.debug_struct("Pipeline").field("children", &names).field("circular", &self.circular).finish()
    }
}

impl<I: Send + 'static, O: Send + 'static> Pipeline<I, O> {
    /// A Pipeline of one child, `first`. Add more with [`then`](Self::then).
    ///
    /// `first` is a behaviour value or a ready [`Instance`].
    pub fn new<C>(first: impl IntoInstance<Component = C>) -> Self
    where
        C: Component<Inbox = I, Outbox = O>,
    {
        Pipeline { children: vec![first.into_instance().boxed()], circular: false, _types: PhantomData }
    }

    /// Adds `next` after the last child: the last child's `outbox` will feed `next`'s `inbox`
    /// (so `next` must take what the last child sends), and its `signal` `next`'s `control`.
    pub fn then<C>(self, next: impl IntoInstance<Component = C>) -> Pipeline<I, C::Outbox>
    where
        C: Component<Inbox = O>,
    {
        let mut children = self.children;
        children.push(next.into_instance().boxed());
        Pipeline { children, circular: self.circular, _types: PhantomData }
    }

    /// The children, first to last, as components (to link or watch them before the Pipeline
    /// runs).
    pub fn children(&self) -> Vec<ComponentRef> {
        self.children.iter().map(|c| c.component().clone()).collect()
    }

    /// Whether the last child feeds the first (see [`circular`](Self::circular)).
    pub fn is_circular(&self) -> bool {
        self.circular
    }

    /// Runs this Pipeline, and everything it starts, to completion on a scheduler of its own
    /// (Kamaelia's `Pipeline(...).run()`). Blocks the calling thread; see
    /// [`Instance::run`].
    pub fn run(self) -> Result<(), RunError> {
        Instance::new(self).run()
    }
}

impl<T: Send + 'static> Pipeline<T, T> {
    /// Makes the Pipeline circular (Kamaelia's `circular=True`): the last child's `outbox` feeds
    /// the first child's `inbox` and its `signal` the first child's `control`; the Pipeline's own
    /// `outbox` and `signal` stay unwired. Only a Pipeline whose ends carry the same type can be
    /// circular.
    pub fn circular(mut self) -> Self {
        self.circular = true;
        self
    }
}

/// Children in a line, as Kamaelia writes it: `pipeline![a, b, c]` is
/// `Pipeline::new(a).then(b).then(c)`.
///
/// Each element is a behaviour value or a ready [`Instance`]; neighbours must agree on the type
/// between them, or it does not compile. See [`Pipeline`](crate::pipeline::Pipeline).
///
/// ```
/// use axon_core::prelude::*;
/// use kamaelia_chassis::pipeline;
///
/// let shout = from_fn("Shout", |mut ctx: Context<String, String>| async move {
///     while let Some(s) = ctx.inbox.recv().await {
///         ctx.outbox.send(s.to_uppercase()).await;
///     }
///     Ok(())
/// });
/// let count = from_fn("Count", |mut ctx: Context<String, usize>| async move {
///     while let Some(s) = ctx.inbox.recv().await {
///         ctx.outbox.send(s.len()).await;
///     }
///     Ok(())
/// });
/// let mut h = Handle::new(pipeline![shout, count], &Scheduler::new());
/// h.send_blocking("hello".to_owned());
/// assert_eq!(h.recv_blocking(), Some(5));
/// ```
#[macro_export]
macro_rules! pipeline {
    ($first:expr $(, $rest:expr)* $(,)?) => {
        $crate::pipeline::Pipeline::new($first)$(.then($rest))*
    };
}

/// Why wiring failed, as the Pipeline's exit reason (stops the children first: they never ran).
fn wiring_failed(children: &[ComponentRef], what: &str, e: axon_core::LinkError) -> ComponentError {
    for c in children {
        c.stop();
    }
    ComponentError::msg(format!("Pipeline could not link {what}: {e}"))
}

impl<I: Send + 'static, O: Send + 'static> Component for Pipeline<I, O> {
    type Inbox = I;
    type Outbox = O;

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .describe(BoxKind::Inbox, "inbox", "Passed through to the first child's inbox")
            .describe(BoxKind::Inbox, "control", "Passed through to the first child's control")
            .describe(BoxKind::Outbox, "outbox", "What the last child sends from its outbox (unused if circular)")
            .describe(BoxKind::Outbox, "signal", "What the last child sends from its signal (unused if circular)");
    }

    async fn main(self, mut ctx: Context<I, O>) -> ComponentResult {
        let refs = self.children();
        let (Some(first), Some(last)) = (refs.first(), refs.last()) else {
            // Unreachable through the public API (`new` takes the first child); kept so that a
            // Pipeline never panics.
            return Err(ComponentError::msg("a Pipeline needs at least one child"));
        };
        ctx.add_children(&refs);
        for (i, pair) in refs.windows(2).enumerate() {
            let (a, b) = (&pair[0], &pair[1]);
            ctx.link((a, "outbox"), (b, "inbox"))
                .map_err(|e| wiring_failed(&refs, &format!("child {i}'s outbox to child {}'s inbox", i + 1), e))?;
            ctx.link((a, "signal"), (b, "control"))
                .map_err(|e| wiring_failed(&refs, &format!("child {i}'s signal to child {}'s control", i + 1), e))?;
        }
        let me = ctx.me().clone();
        ctx.link_passthrough((&me, "inbox"), (first, "inbox"), Passthrough::Inbound)
            .map_err(|e| wiring_failed(&refs, "its inbox to the first child's inbox", e))?;
        ctx.link_passthrough((&me, "control"), (first, "control"), Passthrough::Inbound)
            .map_err(|e| wiring_failed(&refs, "its control to the first child's control", e))?;
        if self.circular {
            ctx.link((last, "outbox"), (first, "inbox"))
                .map_err(|e| wiring_failed(&refs, "the last child's outbox to the first child's inbox", e))?;
            ctx.link((last, "signal"), (first, "control"))
                .map_err(|e| wiring_failed(&refs, "the last child's signal to the first child's control", e))?;
        } else {
            ctx.link_passthrough((last, "outbox"), (&me, "outbox"), Passthrough::Outbound)
                .map_err(|e| wiring_failed(&refs, "the last child's outbox to its outbox", e))?;
            ctx.link_passthrough((last, "signal"), (&me, "signal"), Passthrough::Outbound)
                .map_err(|e| wiring_failed(&refs, "the last child's signal to its signal", e))?;
        }
        log::debug!("{} wired {} children (circular: {})", ctx.name(), refs.len(), self.circular);
        for child in self.children {
            ctx.activate_boxed(child);
        }
        // Stopping the Pipeline stops its children (see Graphline).
        let _stop_children = crate::graphline::StopOnDrop(refs.clone());
        for exit in ctx.wait_for_children().await {
            if exit.exit.is_failure() {
                log::warn!("{}: child {} {}", ctx.name(), exit.name, exit.exit);
            } else {
                log::debug!("{}: child {} {}", ctx.name(), exit.name, exit.exit);
            }
        }
        Ok(())
    }
}
