//! [`ChildHost`]: a parent's short-lived children, one at a time, each run in the kept host when
//! it can be and made, linked and removed when it cannot (see the [module docs](super)).

use std::borrow::Cow;
use std::future::{poll_fn, Future};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use super::job::{Behaviour, Job, Kind};
use super::kept::{HostComponent, KeptHost};
use super::slot::HostSlot;
use crate::boxes::{Inbox, Outbox};
use crate::component_ref::ComponentRef;
use crate::context::Context;
use crate::error::{BoxError, LinkError};
use crate::instance::{AnyInstance, Instance};
use crate::ipc::Ipc;
use crate::lifecycle::Exit;
use crate::linkage;
use crate::scheduler::Scheduler;
use crate::tuning::FIRST_BUFFER_ROOM;

/// How long a kept host stays while no child comes, unless
/// [`keep_host`](ChildHost::keep_host) says otherwise.
const DEFAULT_KEEP: Duration = Duration::from_millis(100);

/// The names of the parent's four boxes that a [`ChildHost`] works over: each child's four
/// standard boxes are linked to them (all four at once), and they are the [`ChildHost`]'s
/// fields of the same names. The parent declares them
/// ([`Declarations`](crate::Declarations)), with the message types of the children's boxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildBoxes {
    /// The parent's outbox linked to each child's `inbox`.
    pub to_inbox: &'static str,
    /// The parent's outbox linked to each child's `control`.
    pub to_control: &'static str,
    /// The parent's inbox linked from each child's `outbox`.
    pub from_outbox: &'static str,
    /// The parent's inbox linked from each child's `signal`.
    pub from_signal: &'static str,
}

/// A parent's short-lived children, one at a time, behind one entry point,
/// [`start`](Self::start): a child that can be hosted runs in the *kept host*, a child of the
/// parent linked to the four boxes once; any other is made, linked and activated as a child of
/// its own, and removed when it is stopped. The parent talks to either through the same four
/// boxes, the public fields. See the [module docs](super) for an example, what it costs and
/// saves, and how it works.
///
/// A parent keeps one for its life, made in its body over four boxes it declared
/// ([`new`](Self::new)). The children's ends are reported to it through
/// [`poll_ended`](Self::poll_ended) (or [`ended`](Self::ended)), not
/// [`Context::child_exited`]: a parent that also waits on `child_exited` could take a child's
/// end from it. Dropping it (the parent ends) stops the current child and lets the host go.
pub struct ChildHost<I, O> {
    /// To the current child's `inbox`.
    pub to_inbox: Outbox<I>,
    /// To the current child's `control`.
    pub to_control: Outbox<Ipc>,
    /// From the current child's `outbox`.
    pub from_outbox: Inbox<O>,
    /// From the current child's `signal`.
    pub from_signal: Inbox<Ipc>,
    parent: ComponentRef,
    names: ChildBoxes,
    /// How long the host is kept while no child comes; `None`: no host.
    keep: Option<Duration>,
    /// The kept host's class name.
    host_class: Cow<'static, str>,
    /// The kept host, while there is one.
    host: Option<KeptHost<I, O>>,
    /// The current child, until it is stopped.
    current: Option<Running<I, O>>,
    /// The current (or last) child's class name, for its name in the log: a hosted child has no
    /// name of its own.
    class: Cow<'static, str>,
}

/// Where the current child runs.
enum Running<I, O> {
    /// In the kept host, handed over through this slot.
    Hosted(Arc<HostSlot<I, O>>),
    /// As a component of its own.
    Own(ComponentRef),
}

impl<I: Send + 'static, O: Send + 'static> std::fmt::Debug for ChildHost<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildHost")
            .field("parent", &self.parent.name())
            .field("host", &self.host.as_ref().map(|h| h.component.name()))
            .field("child", &self.current.as_ref().map(|_| self.child_name()))
            .finish_non_exhaustive()
    }
}

impl<I: Send + 'static, O: Send + 'static> ChildHost<I, O> {
    /// Takes the handles of the parent's four boxes named in `boxes`, declared by the parent
    /// (see [`ChildBoxes`]). The host, made with the first child that can be hosted, is kept
    /// while no child comes for 100 ms (see [`keep_host`](Self::keep_host)) and named `Host`
    /// (see [`host_class`](Self::host_class)).
    ///
    /// # Errors
    /// A box does not exist, has another message type, or its handle was taken already.
    pub fn new<PI: Send + 'static, PO: Send + 'static>(
        ctx: &Context<PI, PO>,
        boxes: ChildBoxes,
    ) -> Result<Self, BoxError> {
        Ok(ChildHost {
            to_inbox: ctx.take_outbox(boxes.to_inbox)?,
            to_control: ctx.take_outbox(boxes.to_control)?,
            from_outbox: ctx.take_inbox(boxes.from_outbox)?,
            from_signal: ctx.take_inbox(boxes.from_signal)?,
            parent: ctx.me().clone(),
            names: boxes,
            keep: Some(DEFAULT_KEEP),
            host_class: Cow::Borrowed("Host"),
            host: None,
            current: None,
            class: Cow::Borrowed(""),
        })
    }

    /// Keeps the host while no child comes for `idle` (it goes after one to two times that), so
    /// that a parent waiting between bursts of children keeps none. `None`, or zero: no host,
    /// every child is a component of its own.
    pub fn keep_host(mut self, idle: Option<Duration>) -> Self {
        self.keep = idle.filter(|d| !d.is_zero());
        self
    }

    /// Names the kept host's class: it is named `class_12`, and a hosted child's failure is
    /// reported as `Child (hosted by class_12)`.
    pub fn host_class(mut self, class: impl Into<Cow<'static, str>>) -> Self {
        self.host_class = class.into();
        self
    }

    /// Starts `job` as the current child: in the kept host if it can be hosted (making the host
    /// first if there is none, or if the one there has ended), otherwise as a component of its
    /// own, linked to the four boxes and made a child of the parent (the host, if there is one,
    /// goes first: the boxes are linked to one child at a time). A child still current is
    /// stopped first, and what the last child sent that was not read is dropped.
    pub fn start(&mut self, job: impl Into<Job<I, O>>) {
        let job = job.into();
        self.stop();
        // Anything left from the previous child (its signal, if it ended before its signal was
        // read) must not be taken for this one's.
        while self.from_signal.try_recv().is_ok() {}
        while self.from_outbox.try_recv().is_ok() {}
        if self.host.as_ref().is_some_and(|h| h.component.has_ended()) {
            self.retire_host();
        }
        let (instance, class) = match job.into_kind() {
            Kind::Behaviour(behaviour) => {
                let class = behaviour.class_name();
                match self.keep {
                    Some(keep) => match self.hand_over(behaviour, keep) {
                        Ok(slot) => {
                            self.current = Some(Running::Hosted(slot));
                            self.class = class;
                            return;
                        }
                        Err(behaviour) => (behaviour.into_instance(), class),
                    },
                    None => (behaviour.into_instance(), class),
                }
            }
            Kind::Made(instance) => (instance, Cow::Borrowed("")),
        };
        self.class = class;
        self.retire_host();
        self.start_own(instance);
    }

    /// True if the current child runs in the kept host.
    pub fn is_hosted(&self) -> bool {
        matches!(self.current, Some(Running::Hosted(_)))
    }

    /// True while a host is kept.
    pub fn keeps_host(&self) -> bool {
        self.host.is_some()
    }

    /// Gives the child its turn now, then carries on: `children.let_child_run().await` right
    /// after [`start`](Self::start) or a message to it. In a co-scheduled group (the child joins
    /// its parent's) the child, ready to run, goes first in the same turn of the group's task, so
    /// that its answer is there when the parent looks, rather than every box looked at, found
    /// empty, and a wake-up later. Elsewhere it is [`yield_now`](crate::yield_now).
    pub fn let_child_run(&self) -> impl Future<Output = ()> + Send {
        crate::group::yield_now()
    }

    /// Ready with how the current child ended, whether it ran in the host (its body's end) or
    /// as a component of its own (its component's end, reported to the parent). Pending while it
    /// runs, and when there is no current child. Reports of earlier children, which ended as they
    /// were let go, are dropped; those of the parent's other children are left to it.
    pub fn poll_ended(&mut self, cx: &mut TaskContext<'_>) -> Poll<Exit> {
        let child = match &self.current {
            None => return Poll::Pending,
            Some(Running::Hosted(slot)) => {
                if let Poll::Ready(exit) = slot.poll_ended(cx) {
                    return Poll::Ready(exit);
                }
                // The host itself may end under the child (a child that stops its component):
                // that is the child's end.
                match &self.host {
                    Some(h) => &h.component,
                    None => return Poll::Pending,
                }
            }
            Some(Running::Own(child)) => child,
        };
        let exit = std::task::ready!(self.parent.poll_exit_of(child.id(), cx));
        // Reaped, as `Context::child_exited` does.
        self.parent.disown(child);
        Poll::Ready(exit.exit)
    }

    /// Waits for the current child's end (see [`poll_ended`](Self::poll_ended)).
    pub async fn ended(&mut self) -> Exit {
        poll_fn(|cx| self.poll_ended(cx)).await
    }

    /// Stops the current child, which has done its work or whose work is no longer wanted: a
    /// hosted one is dropped if it still runs (the host stays, linked, if the child left nothing
    /// behind); one of its own is unlinked and removed, and stopped if it still runs. Nothing if
    /// there is no current child.
    pub fn stop(&mut self) {
        match self.current.take() {
            None => {}
            Some(Running::Hosted(slot)) => slot.cancel(),
            Some(Running::Own(child)) => {
                self.parent.disown(&child);
                if !child.has_ended() {
                    child.stop();
                }
            }
        }
    }

    /// The current child's name, for the log: its component's (`Pipeline_12`) if it has one,
    /// otherwise its class name and its host's (`HelloHandler (hosted by HandlerHost_7)`). After
    /// a hosted child was stopped, the last child's class and the host.
    pub fn child_name(&self) -> String {
        match (&self.current, &self.host) {
            (Some(Running::Own(own)), _) => own.name().to_owned(),
            (_, Some(h)) => format!("{} (hosted by {})", self.class, h.component.name()),
            (_, None) => self.class.clone().into_owned(),
        }
    }

    /// Ready once the kept host has been idle long enough (see [`keep_host`](Self::keep_host))
    /// and has been let go; pending otherwise, and when there is none. A parent waiting between
    /// bursts of children polls it with what it waits for.
    pub fn poll_idle_host(&mut self, cx: &mut TaskContext<'_>) -> Poll<()> {
        match self.host.as_mut().map(|h| h.poll_idle(cx)) {
            Some(Poll::Ready(())) => {
                self.retire_host();
                Poll::Ready(())
            }
            _ => Poll::Pending,
        }
    }

    /// Tidies the boxes between children, when the parent may wait for long: the inboxes from
    /// the children keep a few messages' worth of buffer while a host is kept (so that the next
    /// child's messages allocate none), none once it has gone; and, with no host, the outboxes to
    /// the last child look their destination up again, so that they no longer keep that child's
    /// boxes, now unlinked, alive.
    #[inline]
    pub fn tidy(&mut self) {
        let keep = if self.host.is_some() { FIRST_BUFFER_ROOM } else { 0 };
        self.from_outbox.q().shrink_to(keep);
        self.from_signal.q().shrink_to(keep);
        if self.host.is_none() {
            // (With a host kept, they lead to it, as they have since it was made.)
            self.to_inbox.refresh();
            self.to_control.refresh();
        }
    }

    // ----- how -----

    /// Hands `behaviour` to the kept host, making the host first if there is none (or the one
    /// there cannot take it); gives `behaviour` back if no host can be made.
    fn hand_over(
        &mut self,
        mut behaviour: Behaviour<I, O>,
        keep: Duration,
    ) -> Result<Arc<HostSlot<I, O>>, Behaviour<I, O>> {
        // The host there, or (if it cannot take the child: still busy with a child it was told
        // to drop, or ending) a new one.
        for _ in 0..2 {
            if self.host.is_none() {
                self.host = self.new_host(keep);
            }
            let Some(h) = self.host.as_mut() else { return Err(behaviour) };
            // The parent is the only sender to the host's inboxes, so what waits there now was
            // sent to the previous child (after it ended): the host drops that much.
            let stale = (destination_len(&mut self.to_inbox), destination_len(&mut self.to_control));
            match h.slot.hand_over(behaviour, stale) {
                Ok(()) => {
                    h.note_used();
                    return Ok(h.slot.clone());
                }
                Err(back) => {
                    behaviour = back;
                    self.retire_host();
                }
            }
        }
        // (A new host takes any child: not reached.)
        Err(behaviour)
    }

    /// Makes a host, links it and starts it; `None` if it cannot be linked.
    fn new_host(&mut self, keep: Duration) -> Option<KeptHost<I, O>> {
        let slot = Arc::new(HostSlot::default());
        let instance = Instance::new(HostComponent { slot: slot.clone(), class: self.host_class.clone() });
        let component = instance.component().clone();
        if let Err(e) = self.link(&component) {
            log::error!("{}: cannot link a host: {e}", self.parent.name());
            return None;
        }
        component.adopt_by(&self.parent);
        instance.activate(&self.scheduler());
        // The outboxes to the host look it up now, not during its first child: a hosted child is
        // checked for references it leaves behind by counting them.
        self.to_inbox.refresh();
        self.to_control.refresh();
        Some(KeptHost::new(slot, component, keep))
    }

    /// Ends the host, if there is one, and removes the linkages to it.
    fn retire_host(&mut self) {
        if let Some(h) = self.host.take() {
            self.parent.disown(&h.component);
        }
    }

    /// Links `instance` to the four boxes, makes it a child and activates it.
    fn start_own(&mut self, instance: Box<dyn AnyInstance>) {
        let component = instance.component().clone();
        if let Err(e) = self.link(&component) {
            // Cannot happen for a `Job` (its box types are those of the four boxes, which exist);
            // if it does, the child's work would be lost, so it is stopped.
            log::error!("{}: cannot link child {}: {e}", self.parent.name(), component.name());
            component.stop();
        }
        component.adopt_by(&self.parent);
        self.current = Some(Running::Own(instance.activate_boxed(&self.scheduler())));
    }

    /// Links a child's (or the host's) four standard boxes to the four boxes: all at once (all or
    /// none), under one acquisition of the wiring lock.
    fn link(&self, child: &ComponentRef) -> Result<(), LinkError> {
        let (parent, names) = (&self.parent, &self.names);
        linkage::link_all(
            parent,
            [
                ((child, "outbox"), (parent, names.from_outbox)),
                ((child, "signal"), (parent, names.from_signal)),
                ((parent, names.to_inbox), (child, "inbox")),
                ((parent, names.to_control), (child, "control")),
            ],
        )
    }

    /// The parent's scheduler.
    fn scheduler(&self) -> Scheduler {
        self.parent.scheduler().expect("a running component has a scheduler")
    }
}

/// How many messages wait in `outbox`'s destination (0 when unlinked).
fn destination_len<T: Send + 'static>(outbox: &mut Outbox<T>) -> usize {
    outbox.refresh().map_or(0, |sink| sink.queue().len())
}

impl<I, O> Drop for ChildHost<I, O> {
    /// The parent is going: the current child goes with it, and the host (dropping its
    /// `KeptHost` retires it).
    fn drop(&mut self) {
        match self.current.take() {
            Some(Running::Hosted(slot)) => slot.cancel(),
            Some(Running::Own(child)) if !child.has_ended() => child.stop(),
            _ => {}
        }
    }
}
