//! One body run in another component's boxes: [`Context::host`], with [`hostable`] (can this
//! behaviour be run so?) and [`Hosted`] (how the run ended, and whether the host is still as it
//! was). Crate-private: the public face is [`ChildHost`](super::ChildHost), which runs each of
//! a parent's children this way when it can.
//!
//! A hosted body runs as if it were a new component made and linked like the host:
//!
//! * its `inbox`, `control`, `outbox` and `signal` are the host's, with their linkages;
//! * its id, name and [`me`](Context::me) are the host's;
//! * children it activates are the host's children.
//!
//! Only a behaviour that needs nothing more can be hosted ([`hostable`]): one that declares no box
//! beyond the standard four, changes none of their capacities, and runs as a task (not
//! [`Threaded`](crate::Threaded)). A body can still leave something behind in its host: children
//! running or reported, linkages it made, boxes added or deleted, a service, a handle to a box or a
//! [`ComponentRef`](crate::ComponentRef) to the host kept somewhere. [`Hosted::clean`] says whether
//! it left none of these, so that the host can decide to run the next body, or to end and be
//! replaced by a new host. The messages a body did not read stay in the host's inboxes.

use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::task::Poll;

use crate::component::Component;
use crate::context::Context;
use crate::declarations::Declarations;
use crate::footprint::Footprint;
use crate::lifecycle::{panic_message, ChildExit, ComponentKind, Exit};

/// How a hosted body ended ([`Context::host`]). A failure (an error or a panic) is logged and
/// reported to the scheduler ([`Scheduler::failures`](crate::Scheduler::failures)) as a
/// component's would be, named `Class (hosted by Host_12)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hosted {
    /// How its body ended, as for a component of its own.
    pub(crate) exit: Exit,
    /// True if the host can run another body: the body did not panic, and
    /// [`Context::host_is_clean`] (no children, linkages, added boxes, services or stop request,
    /// and no handle or reference kept, as far as counting them can tell). False after a panic.
    pub(crate) clean: bool,
}

/// True if `behaviour` can be run by [`Context::host`]: it declares no box beyond the standard
/// four, keeps their default capacities, and runs as a task.
pub(crate) fn hostable<C: Component>(behaviour: &C) -> bool {
    if behaviour.kind() != ComponentKind::Task {
        return false;
    }
    Declarations::probe_is_standard::<C::Inbox, C::Outbox>(|d| behaviour.declare(d))
}

impl<I: Send + 'static, O: Send + 'static> Context<I, O> {
    /// Runs `behaviour`'s body in this component, with a context over this component's four
    /// standard boxes, and returns how it ended (see the [module docs](self)). While it runs,
    /// this context is borrowed: the body has the boxes to itself. A panic in the body is caught
    /// and reported as [`Exit::Panicked`]. Dropping the returned future drops the body, as
    /// stopping a component does.
    ///
    /// `behaviour`'s [`declare`](Component::declare) is not consulted: check [`hostable`] first
    /// (debug builds assert it). The body gets the host's boxes as they are, with their
    /// capacities.
    pub(crate) fn host<C>(&mut self, behaviour: C) -> impl Future<Output = Hosted> + Send + '_
    where
        C: Component<Inbox = I, Outbox = O>,
    {
        debug_assert!(hostable(&behaviour), "{} cannot be hosted: check `hostable` first", behaviour.class_name());
        self.me().note_host_baseline(self.footprint());
        let class = behaviour.class_name();
        let lent = self.lend();
        async move {
            let exit = {
                // The body is made in its pinned place, not made outside and moved in (a body
                // holds its behaviour: a request, for an HTTP handler).
                let mut body = pin!(behaviour.main(lent));
                poll_fn(|cx| match catch_unwind(AssertUnwindSafe(|| body.as_mut().poll(cx))) {
                    Ok(Poll::Pending) => Poll::Pending,
                    Ok(Poll::Ready(Ok(()))) => Poll::Ready(Exit::Finished),
                    Ok(Poll::Ready(Err(e))) => Poll::Ready(Exit::Failed(e.to_string())),
                    Err(panic) => Poll::Ready(Exit::Panicked(panic_message(&*panic))),
                })
                .await
                // The body, and the context it was given, are dropped here.
            };
            if exit.is_failure() {
                // Reported as a component's failure would be, under the name of the behaviour.
                let name = format!("{class} (hosted by {})", self.name());
                match &exit {
                    Exit::Panicked(m) => log::error!("component {name} panicked: {m}"),
                    e => log::warn!("component {name} {e}"),
                }
                if let Some(scheduler) = self.me().scheduler() {
                    scheduler.record_failure(ChildExit { id: self.id(), name, exit: exit.clone() });
                }
            }
            let clean = !matches!(exit, Exit::Panicked(_)) && self.host_is_clean();
            Hosted { exit, clean }
        }
    }

    /// True if the bodies this component hosted have left nothing behind: it has no children,
    /// no linkages it made, no boxes added or deleted, no service, has not been told to stop,
    /// its inboxes have the capacities they had when it first hosted, and the references to it
    /// and handles to its boxes are as few as they were when the fewest were seen at the start
    /// of a hosted body. [`host`](Self::host) asks this when a
    /// body ends ([`Hosted::clean`]); a host that dropped a body before its end (its answer was
    /// no longer wanted) asks it to see whether it can go on.
    ///
    /// A reference counted here but held elsewhere all along (a snapshot of the scheduler's
    /// components, taken before the first body and dropped later) makes the check answer
    /// `false`: the safe way. It is a check against accidents, not against a body that means
    /// harm: a body could keep a reference while something else drops one at the same moment.
    pub(crate) fn host_is_clean(&self) -> bool {
        let now = self.footprint();
        self.me().host_baseline().is_none_or(|least| least == now) && self.me().is_plain()
    }

    /// What a hosted body could leave behind in this component, counted.
    fn footprint(&self) -> Footprint {
        self.me().footprint([self.inbox.capacity(), self.control.capacity()])
    }
}
