//! Threaded components: bodies that block, each on an OS thread of its own (Axon's
//! `threadedcomponent`).
//!
//! A [`ThreadedComponent`] has the same boxes as any component and uses the same handles; it
//! waits with their blocking forms ([`Inbox::recv_blocking`](crate::Inbox::recv_blocking),
//! [`Inbox::recv_timeout`](crate::Inbox::recv_timeout),
//! [`Outbox::send_blocking`](crate::Outbox::send_blocking)), which park the thread until a
//! delivery, a free slot or a deadline wakes it. Wrap it in [`Threaded`] to activate it, link it or
//! put it in a chassis like any other component.
//!
//! # Example
//!
//! ```
//! use axon_core::{ComponentResult, Context, Instance, Scheduler, Threaded, ThreadedComponent};
//!
//! /// Reads lines from a blocking source and sends them on.
//! struct Lines(Vec<&'static str>);
//!
//! impl ThreadedComponent for Lines {
//!     type Inbox = ();
//!     type Outbox = String;
//!     fn main(self, mut ctx: Context<(), String>) -> ComponentResult {
//!         for line in self.0 {
//!             ctx.outbox.send_blocking(line.to_owned()); // blocking is fine here
//!         }
//!         Ok(())
//!     }
//! }
//!
//! Instance::new(Threaded(Lines(vec!["a", "b"]))).run().unwrap();
//! ```
//!
//! Without the wrapper it does not compile, and the compiler says what to write
//! ("`Lines` is not a `Component`, nor an `Instance` of one ... a `ThreadedComponent` (a body
//! that blocks) runs on a thread of its own: pass `Threaded(Lines)`"):
//!
//! ```compile_fail,E0277
//! # use axon_core::{ComponentResult, Context, Handle, Scheduler, ThreadedComponent};
//! # struct Lines;
//! # impl ThreadedComponent for Lines {
//! #     type Inbox = ();
//! #     type Outbox = String;
//! #     fn main(self, _ctx: Context<(), String>) -> ComponentResult { Ok(()) }
//! # }
//! let lines = Handle::new(Lines, &Scheduler::new()); // should be Threaded(Lines)
//! ```
//!
//! # How it works
//!
//! [`Threaded`] is an ordinary [`Component`] whose boxes are the wrapped component's: the
//! standard four, typed by its `Inbox` and `Outbox`, and what its
//! [`declare`](ThreadedComponent::declare) adds. When it is activated, its body (a task, as every
//! component's) starts an OS thread named after the component, moves the component's
//! [`Context`] and the wrapped value there, and calls [`ThreadedComponent::main`] on that thread;
//! the task then waits, without blocking the runtime, for the thread to report how the body
//! ended. The component ends with that result; a panic on the thread is raised again in the
//! task, so it is reported like any component's panic. Introspection shows the component's kind
//! as a thread.
//!
//! # Porting from Axon
//!
//! Axon gives each threaded component a proxy in the scheduler and a second set of queues
//! (`queuelengths`, default 1000) between the thread and its boxes, so a sender sees the inbox
//! size *plus* the queue length. Here the thread uses its boxes directly: the capacity a sender
//! sees is the inbox's capacity, as for any component, and there is no proxy hop. The thread's
//! blocking receive returns `None` once its inbox closes (Axon's blocked forever), and when the
//! component is stopped its boxes close, so a thread waiting on them returns.

use std::thread;

use crate::component::Component;
use crate::context::Context;
use crate::declarations::Declarations;
use crate::error::{ComponentError, ComponentResult};
use crate::lifecycle::ComponentKind;

/// A component whose body blocks; see the [module docs](self).
pub trait ThreadedComponent: Send + Sized + 'static {
    /// What the standard `inbox` carries.
    type Inbox: Send + 'static;
    /// What the standard `outbox` carries.
    type Outbox: Send + 'static;

    /// Declares extra boxes, as [`Component::declare`].
    fn declare(&self, boxes: &mut Declarations) {
        let _ = boxes;
    }

    /// The body; runs on its own thread until it returns.
    fn main(self, ctx: Context<Self::Inbox, Self::Outbox>) -> ComponentResult;
}

/// Makes a [`ThreadedComponent`] a [`Component`]: activating it starts a thread named after the
/// component; the component ends when the thread's body returns (or panics). See the
/// [module docs](self).
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
/// These are the boxes of the wrapped component `T`: Axon's standard four, described as Axon
/// describes them ([`INBOX_DESCRIPTION`](crate::boxes::INBOX_DESCRIPTION) and its neighbours),
/// unless `T`'s [`declare`](ThreadedComponent::declare) describes them otherwise, and any it
/// declares.
#[derive(Debug)]
pub struct Threaded<T>(pub T);

impl<T: ThreadedComponent> Component for Threaded<T> {
    type Inbox = T::Inbox;
    type Outbox = T::Outbox;

    fn declare(&self, boxes: &mut Declarations) {
        self.0.declare(boxes)
    }

    fn class_name(&self) -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed(crate::component::short_type_name::<T>())
    }

    fn kind(&self) -> ComponentKind {
        ComponentKind::Thread
    }

    async fn main(self, ctx: Context<T::Inbox, T::Outbox>) -> ComponentResult {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let body = self.0;
        thread::Builder::new()
            .name(ctx.name().to_owned())
            .spawn(move || {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || body.main(ctx)));
                let _ = tx.send(r);
            })
            .map_err(|e| ComponentError::msg(format!("cannot start a thread: {e}")))?;
        match rx.await {
            Ok(Ok(r)) => r,
            // Re-raised here so that the panic is reported like any component's.
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => Err(ComponentError::msg("the component's thread vanished")),
        }
    }
}
