//! A component's life as others see it: how it runs ([`ComponentKind`]), where it is
//! ([`ComponentState`]), how it ended ([`Exit`], [`ChildExit`]), and what it left unread
//! ([`LostMessages`]).

use std::fmt;

use crate::id::ComponentId;
use crate::kinds::BoxName;

/// How a component runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ComponentKind {
    /// A tokio task (the usual kind).
    Task = 0,
    /// A body that blocks, on its own OS thread ([`Threaded`](crate::Threaded)).
    Thread = 1,
    /// Ordinary code driving a component through a [`Handle`](crate::Handle).
    Handle = 2,
}

/// Where a component is in its life (see [`component`](crate::component)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ComponentState {
    /// Made, with its boxes, but not activated.
    Created = 0,
    /// Activated, and its body is being run right now.
    Running = 1,
    /// Activated, between two steps of its body: waiting for something (a message, space in a
    /// box, a child, a timer: Axon's paused) or woken and about to run again.
    Paused = 2,
    /// Ended; see [`ComponentRef::exit`](crate::ComponentRef::exit).
    Ended = 3,
}

impl ComponentState {
    pub(crate) fn from_u8(v: u8) -> Self {
        match v {
            0 => ComponentState::Created,
            1 => ComponentState::Running,
            2 => ComponentState::Paused,
            _ => ComponentState::Ended,
        }
    }
}

/// How a component ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// Its body returned `Ok(())`.
    Finished,
    /// Its body returned an error (the error's text).
    Failed(String),
    /// Its body panicked (the panic's message). Only this component ended.
    Panicked(String),
    /// It was stopped from outside ([`ComponentRef::stop`](crate::ComponentRef::stop),
    /// [`Scheduler::stop`](crate::Scheduler::stop)) before its body finished.
    Stopped,
}

impl Exit {
    /// True for `Failed` and `Panicked`.
    pub fn is_failure(&self) -> bool {
        matches!(self, Exit::Failed(_) | Exit::Panicked(_))
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Finished => f.write_str("finished"),
            Exit::Failed(e) => write!(f, "failed: {e}"),
            Exit::Panicked(e) => write!(f, "panicked: {e}"),
            Exit::Stopped => f.write_str("stopped"),
        }
    }
}

/// The end of a child, as its parent hears of it
/// ([`Context::child_exited`](crate::Context::child_exited)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildExit {
    /// The child's id.
    pub id: ComponentId,
    /// The child's name.
    pub name: String,
    /// How it ended.
    pub exit: Exit,
}

/// Messages a component left unread in one inbox as it ended, after it had been told the stream
/// was over (`ProducerFinished`): data sent before the end and never read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostMessages {
    /// The component's id.
    pub component: ComponentId,
    /// The component's name.
    pub component_name: String,
    /// The inbox they were queued in.
    pub inbox: BoxName,
    /// How many.
    pub count: usize,
}

impl fmt::Display for LostMessages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}: {} message(s) lost", self.component_name, self.inbox, self.count)
    }
}

/// The text of a panic's payload, for [`Exit::Panicked`].
pub(crate) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-text panic payload".to_owned()
    }
}
