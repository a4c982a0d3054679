//! Typed errors. Each names the thing that failed and the value that made it fail; callers may
//! match on the variants, not on the wording of the messages.

use std::fmt;

use crate::kinds::Passthrough;
use crate::lifecycle::ChildExit;

/// A message could not be delivered because the destination box is full (Axon's `noSpaceInBox`).
///
/// Returned by the non-waiting sends ([`Outbox::try_send`](crate::Outbox::try_send),
/// [`Handle::put`](crate::Handle::put)). The message comes back with the error, so nothing is
/// lost: wait with [`Outbox::send`](crate::Outbox::send) instead, or retry later.
pub struct NoSpaceInBox<T> {
    /// The message that was not delivered.
    pub message: T,
    /// The full box, as `component_name.box_name` (the *final* destination of the linkage chain).
    pub destination: String,
    /// Its capacity, which it has reached.
    pub capacity: usize,
}

impl<T> NoSpaceInBox<T> {
    /// Takes the undelivered message back.
    pub fn into_inner(self) -> T {
        self.message
    }
}

impl<T> fmt::Debug for NoSpaceInBox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoSpaceInBox")
            .field("destination", &self.destination)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for NoSpaceInBox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no space in box `{}`: it already holds {} messages, its capacity", self.destination, self.capacity)
    }
}

impl<T> std::error::Error for NoSpaceInBox<T> {}

/// Why a non-waiting receive returned nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TryRecvError {
    /// Nothing is waiting now; something may arrive later (Axon's `IndexError` from `recv`).
    #[error("the box is empty")]
    Empty,
    /// Nothing is waiting and nothing can arrive: every sender linked to the box has gone, or
    /// the box's component has ended.
    #[error("the box is empty and every sender has gone")]
    Closed,
}

/// Why a receive with a deadline returned nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecvTimeoutError {
    /// The deadline passed first.
    #[error("nothing arrived before the deadline")]
    Timeout,
    /// See [`TryRecvError::Closed`].
    #[error("the box is empty and every sender has gone")]
    Closed,
}

/// A linkage was refused when it was declared. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// The two boxes carry different message types.
    #[error("cannot link `{source_box}` (carries `{source_type}`) to `{sink}` (carries `{sink_type}`): the message types differ")]
    TypeMismatch {
        /// The source box, as `component.box`.
        source_box: String,
        /// The message type of the source box.
        source_type: &'static str,
        /// The sink box, as `component.box`.
        sink: String,
        /// The message type of the sink box.
        sink_type: &'static str,
    },
    /// The source box already feeds another box (Axon's `BoxAlreadyLinkedToDestination`): one box
    /// links to one destination; to fan out, place a splitter component there.
    #[error("`{source_box}` is already linked to `{existing}`; refusing a second linkage to `{requested}` (fan-out needs a splitter component)")]
    AlreadyLinked {
        /// The source box.
        source_box: String,
        /// Where it already goes.
        existing: String,
        /// Where this linkage wanted it to go.
        requested: String,
    },
    /// The named component has no such box of the kind this linkage needs.
    #[error("`{component}` has no {kind} named `{name}` (its {kind}es: {available})")]
    NoSuchBox {
        /// The component's name.
        component: String,
        /// The box name asked for.
        name: String,
        /// `inbox` or `outbox`.
        kind: &'static str,
        /// The boxes of that kind it does have, comma-separated.
        available: String,
    },
    /// The linkage would make a loop of boxes.
    #[error("linking `{source_box}` to `{sink}` would make a cycle of linkages")]
    Cycle {
        /// The source box.
        source_box: String,
        /// The sink box.
        sink: String,
    },
    /// A passthrough kind that does not fit the boxes (never produced by the typed API; kept so
    /// that the error set is complete for dynamic callers).
    #[error("passthrough {passthrough:?} cannot link `{source_box}` to `{sink}`")]
    BadPassthrough {
        /// The kind asked for.
        passthrough: Passthrough,
        /// The source box.
        source_box: String,
        /// The sink box.
        sink: String,
    },
}

/// A box could not be found, taken, added or removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoxError {
    /// No box of that kind and name.
    #[error("`{component}` has no {kind} named `{name}`")]
    NoSuchBox {
        /// The component's name.
        component: String,
        /// `inbox` or `outbox`.
        kind: &'static str,
        /// The name asked for.
        name: String,
    },
    /// The box exists but carries another type.
    #[error("`{component}.{name}` carries `{actual}`, not `{requested}`")]
    WrongType {
        /// The component's name.
        component: String,
        /// The box name.
        name: String,
        /// The type the box carries.
        actual: &'static str,
        /// The type asked for.
        requested: &'static str,
    },
    /// The inbox is at capacity (from [`ComponentRef::deliver`](crate::ComponentRef::deliver),
    /// which does not wait).
    #[error("`{component}.{name}` is full (capacity {capacity})")]
    Full {
        /// The component's name.
        component: String,
        /// The box name.
        name: String,
        /// Its capacity.
        capacity: usize,
    },
    /// The box's handle was already taken (each box has one handle, held by its component).
    #[error("the handle of `{component}.{name}` was already taken")]
    AlreadyTaken {
        /// The component's name.
        component: String,
        /// The box name.
        name: String,
    },
}

/// Why a component's body failed. Returned from a body with `?`; reported to the parent and to
/// whoever runs the system as [`Exit::Failed`](crate::Exit::Failed).
#[derive(Debug)]
pub struct ComponentError(Box<dyn std::error::Error + Send + Sync>);

impl ComponentError {
    /// A failure described by `message`.
    pub fn msg(message: impl Into<String>) -> Self {
        Self(message.into().into())
    }
}

impl fmt::Display for ComponentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for ComponentError {
    fn from(e: E) -> Self {
        Self(Box::new(e))
    }
}

/// What a component body returns.
pub type ComponentResult = Result<(), ComponentError>;

/// Why running a system did not end cleanly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// Every component ended, but these panicked or returned an error (the others ran on).
    #[error("{} component(s) failed: {}", .0.len(), describe_failures(.0))]
    ComponentsFailed(Vec<ChildExit>),
    /// [`Scheduler::run`](crate::Scheduler::run) blocks, and was called from async code; use
    /// [`Scheduler::run_async`](crate::Scheduler::run_async) there.
    #[error("Scheduler::run blocks the thread and cannot be called from async code; use run_async")]
    InsideRuntime,
}

/// Exit reports in the order they happened, for [`RunError`] display.
fn describe_failures(f: &[ChildExit]) -> String {
    f.iter().map(|e| format!("{} {}", e.name, e.exit)).collect::<Vec<_>>().join("; ")
}
