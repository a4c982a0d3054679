//! Components: the [`Component`] trait, the [`Context`] its body receives, and [`ComponentRef`],
//! the shared handle to a component that exists.
//!
//! # Life of a component
//!
//! 1. A *behaviour* value (your struct implementing [`Component`]) is made like any Rust value.
//! 2. [`Instance::new`](crate::Instance::new) gives it its boxes and an id; it can now be linked
//!    (Axon: `__init__` creates the boxes).
//! 3. Activation ([`Instance::activate`](crate::Instance::activate),
//!    [`Context::activate`]) spawns its body, `main`, as a tokio task (Axon: `activate()`).
//! 4. It ends when `main` returns, returns an error, panics, or is [stopped](ComponentRef::stop).
//!    Then, whatever the reason: its inboxes close (what is queued is dropped, later sends are
//!    discarded, waiting senders are released), its outboxes stop counting as senders, the
//!    linkages it made and those out of its outboxes are removed, its tracker services are
//!    withdrawn, and its parent and scheduler are told how it ended ([`Exit`]). A panic ends that
//!    component alone.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::{Context as TaskContext, Poll};

use crate::boxes::{Inbox, Outbox};
use crate::declarations::Declarations;
use crate::error::{BoxError, ComponentResult, LinkError};
use crate::events::{Event, Select, Source};
pub use crate::id::ComponentId;
use crate::identity::Identity;
pub use crate::identity::Unpauser;
use crate::instance::AnyInstance;
use crate::ipc::Ipc;
use crate::kinds::{BoxKind, BoxName};
use crate::lifecycle::{panic_message, LostMessages};
pub use crate::lifecycle::{ChildExit, ComponentKind, ComponentState, Exit};
use crate::link;
use crate::linkage::{self, Endpoint, LinkOptions, Linkage, Passthrough};
use crate::node::{make_node, push_small, take_handle, ErasedNode, Node};
use crate::notifier::Notifier;
use crate::scheduler::Scheduler;
use crate::sync::lock;
use crate::tracker::Tracker;

/// A component: a behaviour with boxes, whose body runs as a task.
///
/// Implement it for a struct holding the component's configuration, with `main` as an
/// `async fn` that awaits its inboxes and sends to its outboxes. `Inbox` and `Outbox` are the
/// message types of the standard `inbox` and `outbox`; `control` and `signal` carry [`Ipc`].
///
/// ```
/// use axon_core::{Component, ComponentResult, Context};
/// use axon_core::ipc::ProducerFinished;
///
/// /// Doubles every number it receives; ends when its input ends.
/// struct Doubler;
///
/// impl Component for Doubler {
///     type Inbox = i64;
///     type Outbox = i64;
///
///     async fn main(self, mut ctx: Context<i64, i64>) -> ComponentResult {
///         while let Some(n) = ctx.inbox.recv().await {
///             ctx.outbox.send(n * 2).await;
///         }
///         ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
///         Ok(())
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `Component`",
    label = "not a component",
    note = "a `ThreadedComponent` (a body that blocks) runs on a thread of its own: pass `Threaded({Self})`",
    note = "a `StepComponent` (Axon's initialiseComponent/mainBody style) is run as `Stepped({Self})`",
    note = "a closure becomes a component with `from_fn(\"Name\", |mut ctx: Context<In, Out>| async move {{ .. }})`"
)]
pub trait Component: Send + Sized + 'static {
    /// What the standard `inbox` carries (use `()` if unused).
    type Inbox: Send + 'static;
    /// What the standard `outbox` carries (use `()` if unused).
    type Outbox: Send + 'static;

    /// Declares boxes beyond the standard four, and may re-describe or resize the standard ones
    /// (Axon's `Inboxes`/`Outboxes` class dicts). Called once, when the component is made.
    fn declare(&self, boxes: &mut Declarations) {
        let _ = boxes;
    }

    /// The name that ids are appended to (`Doubler` gives `Doubler_12`). Defaults to the type's
    /// path without generic arguments, as Axon uses `module.Class`.
    fn class_name(&self) -> Cow<'static, str> {
        Cow::Borrowed(short_type_name::<Self>())
    }

    /// How it runs; only [`Threaded`](crate::Threaded) says otherwise. Shown by introspection.
    #[doc(hidden)]
    fn kind(&self) -> ComponentKind {
        ComponentKind::Task
    }

    /// The body. It runs once, as a task, from activation until it returns.
    fn main(self, ctx: Context<Self::Inbox, Self::Outbox>) -> impl Future<Output = ComponentResult> + Send;
}

pub(crate) fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    // A byte scan: `split` costs several times as much, and this runs for every component made
    // (and every hosted handler).
    full.bytes().position(|b| b == b'<').map_or(full, |end| &full[..end])
}

struct Life {
    parent: Option<Weak<Core>>,
    /// Children, the linkages it made, and who waits for its end: most components have none of
    /// these, so they live out of line and are made on first use (an idle component is smaller).
    family: Option<Box<Family>>,
    abort: Option<Abort>,
    /// Set when the end-of-life bookkeeping starts (it runs once).
    finishing: bool,
    /// Set by [`ComponentRef::stop`]: its body will be dropped (a host must not take more work).
    stop_requested: bool,
    /// For a component that hosts bodies ([`Context::host`]): the least of the counts seen as
    /// each began, what its counts are when no hosted body has left anything behind.
    hosted: Option<Box<crate::host::Footprint>>,
    /// Set when it is complete.
    exit: Option<Exit>,
}

#[derive(Default)]
struct Family {
    children: Vec<ComponentRef>,
    child_exits: VecDeque<ChildExit>,
    children_changed: Notifier,
    owned_links: Vec<Linkage>,
    /// Made by the first `join`; rung when the component has ended.
    ended: Option<Arc<tokio::sync::Notify>>,
}

impl Life {
    fn family(&mut self) -> &mut Family {
        self.family.get_or_insert_with(Default::default)
    }
}

/// A component's boxes: those it was made with, which never change (so finding one takes no
/// lock), and those added at run time ([`Context::add_inbox`] and the like), under a lock.
pub(crate) struct Boxes {
    /// The boxes it was made with, in declaration order (the standard four first). A deleted one
    /// stays here, marked deleted.
    pub(crate) fixed: Box<[Arc<dyn ErasedNode>]>,
    /// Boxes added at run time, in order.
    added: Mutex<Vec<Arc<dyn ErasedNode>>>,
    /// Set once a box has been added: until then lookups need not look at `added`.
    any_added: AtomicBool,
}

impl Boxes {
    fn new(fixed: Vec<Arc<dyn ErasedNode>>) -> Self {
        Boxes { fixed: fixed.into_boxed_slice(), added: Mutex::new(Vec::new()), any_added: AtomicBool::new(false) }
    }

    /// The boxes it was made with and still has.
    fn fixed_live(&self) -> impl Iterator<Item = &Arc<dyn ErasedNode>> {
        self.fixed.iter().filter(|b| !b.meta().deleted.load(Ordering::Acquire))
    }

    /// Runs `f` over every box, in order (those it was made with, then those added).
    pub(crate) fn with_all<R>(&self, f: impl FnOnce(&mut dyn Iterator<Item = &Arc<dyn ErasedNode>>) -> R) -> R {
        if self.any_added.load(Ordering::Acquire) {
            let added = lock(&self.added);
            let r = f(&mut self.fixed_live().chain(added.iter()));
            r
        } else {
            f(&mut self.fixed_live().chain([].iter()))
        }
    }

    /// Every box, in order.
    pub(crate) fn all(&self) -> Vec<Arc<dyn ErasedNode>> {
        self.with_all(|boxes| boxes.cloned().collect())
    }

    /// The box of that kind and name.
    pub(crate) fn find(&self, kind: BoxKind, name: &str) -> Option<Arc<dyn ErasedNode>> {
        // One (dynamic) call for a box's metadata. (The four standard boxes come first, so they
        // are found first.) A deleted box is in `fixed` marked so, and gone from `added`.
        let is = |b: &&Arc<dyn ErasedNode>| {
            let meta = b.meta();
            meta.kind == kind && meta.name == name && !meta.deleted.load(Ordering::Acquire)
        };
        if let Some(b) = self.fixed.iter().find(is) {
            return Some(b.clone());
        }
        if self.any_added.load(Ordering::Acquire) {
            return lock(&self.added).iter().find(is).cloned();
        }
        None
    }

    /// Forgets a box (after [`Context::delete_box`] has unlinked and retired it).
    fn remove(&self, node: &Arc<dyn ErasedNode>) {
        // Under the lock of the added boxes, so that adding a box sees a consistent set.
        let mut added = lock(&self.added);
        if self.fixed.iter().any(|b| Arc::ptr_eq(b, node)) {
            node.meta().deleted.store(true, Ordering::Release);
        } else {
            added.retain(|b| !Arc::ptr_eq(b, node));
        }
    }
}

pub(crate) struct Core {
    pub(crate) ident: Arc<Identity>,
    kind: AtomicU8,
    state: AtomicU8,
    /// Set once the end-of-life bookkeeping is complete, so that `join` returns only when
    /// everything `finish` promises has happened.
    settled: AtomicBool,
    /// Set when one of its inboxes is registered as a service, so that its end withdraws
    /// services only if it may have some.
    services: AtomicBool,
    /// Which shard of its scheduler's registry it is in.
    pub(crate) registry_shard: AtomicUsize,
    pub(crate) boxes: Boxes,
    /// The scheduler it was activated on. Set once, under the `life` lock (so that it is read
    /// consistently with the rest of `life`), and read without cloning it.
    scheduler: OnceLock<Scheduler>,
    life: Mutex<Life>,
}

impl Core {
    pub(crate) fn new(ident: Arc<Identity>, boxes: Vec<Arc<dyn ErasedNode>>, kind: ComponentKind) -> Self {
        Core {
            ident,
            kind: AtomicU8::new(kind as u8),
            state: AtomicU8::new(ComponentState::Created as u8),
            settled: AtomicBool::new(false),
            services: AtomicBool::new(false),
            registry_shard: AtomicUsize::new(0),
            boxes: Boxes::new(boxes),
            scheduler: OnceLock::new(),
            life: Mutex::new(Life {
                parent: None,
                family: None,
                abort: None,
                finishing: false,
                stop_requested: false,
                hosted: None,
                exit: None,
            }),
        }
    }

    /// The scheduler it was activated on, if it has been.
    pub(crate) fn scheduler(&self) -> Option<&Scheduler> {
        self.scheduler.get()
    }

    /// The pause doorbell (see [`Notifier`]).
    pub(crate) fn notifier(&self) -> &Notifier {
        &self.ident.notifier
    }

    pub(crate) fn set_state(&self, s: ComponentState) {
        self.state.store(s as u8, Ordering::Relaxed);
    }

    pub(crate) fn kind(&self) -> ComponentKind {
        match self.kind.load(Ordering::Relaxed) {
            0 => ComponentKind::Task,
            1 => ComponentKind::Thread,
            _ => ComponentKind::Handle,
        }
    }

    /// Notes that it offers (or is about to offer) a service ([`Tracker::register_service`]).
    pub(crate) fn mark_provides_services(&self) {
        self.services.store(true, Ordering::SeqCst);
    }

    /// True if it may have registered a service.
    pub(crate) fn provides_services(&self) -> bool {
        self.services.load(Ordering::SeqCst)
    }

    /// A component that was told the stream had ended (`ProducerFinished`) is ending with
    /// messages still in its inboxes: they were sent before the end and will never be read.
    /// Silent loss made visible: a warning naming the component, each box and its count, and a
    /// record in the scheduler's introspection ([`Snapshot::lost`](crate::introspect::Snapshot::lost)).
    fn report_lost_messages(&self) {
        let mut lost = Vec::new();
        self.boxes.with_all(|boxes| {
            for b in boxes {
                let m = b.meta();
                if m.kind == BoxKind::Inbox && m.name != "control" {
                    let depth = b.depth();
                    if depth > 0 {
                        lost.push((m.name.clone(), depth));
                    }
                }
            }
        });
        for (inbox, count) in lost {
            log::warn!(
                "component {} ended after a ProducerFinished with {count} message(s) still queued in its inbox \
                 \"{inbox}\": they are dropped unread (read every inbox until it is empty before passing the \
                 ProducerFinished on; Context::next_event and Context::select do)",
                self.ident.name
            );
            if let Some(s) = self.scheduler.get() {
                s.record_lost(LostMessages {
                    component: self.ident.id,
                    component_name: self.ident.name.to_string(),
                    inbox,
                    count,
                });
            }
        }
    }

    /// Runs the end-of-life bookkeeping described in the module docs. Idempotent.
    pub(crate) fn finish(self: &Arc<Self>, exit: Exit) {
        let (scheduler, owned, children) = {
            let mut life = lock(&self.life);
            if life.finishing {
                return;
            }
            life.finishing = true;
            life.abort = None;
            let (owned, children) = match life.family.as_mut() {
                Some(f) => (std::mem::take(&mut f.owned_links), std::mem::take(&mut f.children)),
                None => (Vec::new(), Vec::new()),
            };
            (self.scheduler.get(), owned, children)
        };
        // (A handle is ordinary code's view of a component: what its user leaves unread is the
        // user's business.)
        if self.ident.heard_only_finished()
            && !matches!(exit, Exit::Stopped | Exit::Panicked(_))
            && self.kind() != ComponentKind::Handle
        {
            self.report_lost_messages();
        }
        let mut leftovers = Vec::new();
        {
            let _g = link::wiring();
            for l in &owned {
                link::unlink_locked(l.source_node(), l.id());
            }
            // The order of locks is the wiring lock, then the boxes'.
            self.boxes.with_all(|boxes| {
                for b in boxes {
                    // Linkages out of its boxes go; linkages others made into its inboxes stay (as
                    // in Axon), but those inboxes now discard, so no sender waits on them.
                    // (Unlinking a box that links nowhere does nothing.)
                    b.clone().unlink_target();
                    leftovers.extend(b.retire());
                }
            });
        }
        drop(leftovers);
        drop(owned);
        // Orphaned children keep running (as in Axon); they no longer report to us.
        for c in children {
            lock(&c.0.life).parent = None;
        }
        match &exit {
            Exit::Panicked(m) => log::error!("component {} panicked: {m}", self.ident.name),
            Exit::Failed(m) => log::warn!("component {} failed: {m}", self.ident.name),
            e => log::debug!("component {} {e}", self.ident.name),
        }
        // Only now, with the cleanup done, does the component count as ended. The exit and the
        // parent are read together, so a parent adopting it concurrently hears of its end exactly
        // once (see `adopt_by`).
        let parent = {
            let mut life = lock(&self.life);
            life.exit = Some(exit.clone());
            life.parent.take().and_then(|p| p.upgrade())
        };
        self.set_state(ComponentState::Ended);
        // The scheduler first: by the time a parent hears of the end, the component no longer
        // counts as live (a parent that checks `Scheduler::live` after `child_exited` sees it).
        if let Some(s) = scheduler {
            s.component_ended(self, &exit);
        }
        if let Some(p) = parent {
            let report = ChildExit { id: self.ident.id, name: self.ident.name.to_string(), exit };
            let mut plife = lock(&p.life);
            let family = plife.family();
            family.child_exits.push_back(report);
            family.children_changed.notify();
            drop(plife);
            p.notifier().notify();
        }
        self.settled.store(true, Ordering::Release);
        let ended = lock(&self.life).family.as_ref().and_then(|f| f.ended.clone());
        if let Some(n) = ended {
            n.notify_waiters();
        }
    }
}

/// A shared handle to a component that exists: its identity, its boxes (to link them), its
/// state, and the means to stop it or wait for it. Cheap to clone.
#[derive(Clone)]
pub struct ComponentRef(pub(crate) Arc<Core>);

impl PartialEq for ComponentRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for ComponentRef {}

impl fmt::Debug for ComponentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComponentRef")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("state", &self.state())
            .finish()
    }
}

impl fmt::Display for ComponentRef {
    /// Axon's `component.__str__`: `Component <name> [ inboxes : [...] outboxes : [...] ]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |kind| self.box_names(kind).iter().map(|n| format!("{n}")).collect::<Vec<_>>().join(", ");
        write!(
            f,
            "Component {} [ inboxes : [{}] outboxes : [{}] ]",
            self.name(),
            show(BoxKind::Inbox),
            show(BoxKind::Outbox)
        )
    }
}

impl ComponentRef {
    /// The id.
    pub fn id(&self) -> ComponentId {
        self.0.ident.id
    }

    /// The unique name, `ClassName_<id>`.
    pub fn name(&self) -> &str {
        &self.0.ident.name
    }

    /// How it runs.
    pub fn kind(&self) -> ComponentKind {
        self.0.kind()
    }

    /// Where it is in its life.
    pub fn state(&self) -> ComponentState {
        ComponentState::from_u8(self.0.state.load(Ordering::Relaxed))
    }

    /// True once it has ended (Axon's `_isStopped()`).
    pub fn has_ended(&self) -> bool {
        self.state() == ComponentState::Ended
    }

    /// How it ended, once it has.
    pub fn exit(&self) -> Option<Exit> {
        lock(&self.0.life).exit.clone()
    }

    /// The scheduler it was activated on.
    pub fn scheduler(&self) -> Option<Scheduler> {
        self.0.scheduler.get().cloned()
    }

    /// Stops it from outside (Axon's `stop()`): its body is dropped at its next `.await` and it
    /// ends with [`Exit::Stopped`], with the full end-of-life bookkeeping (unlike Axon, whose
    /// `stop()` skipped it). A component that was never activated ends at once. A threaded
    /// component's thread cannot be interrupted: its boxes close, so its blocking receives return
    /// `None`, and it is expected to return.
    pub fn stop(&self) {
        let (abort, created) = {
            let mut life = lock(&self.0.life);
            life.stop_requested = true;
            (life.abort.clone(), self.0.scheduler.get().is_none())
        };
        if let Some(a) = abort {
            a.abort();
        }
        if created || self.kind() == ComponentKind::Thread {
            self.0.finish(Exit::Stopped);
        }
    }

    /// Waits until it has ended, and says how. When it returns, the end-of-life bookkeeping is
    /// complete (boxes closed, linkages removed, services withdrawn, parent and scheduler told).
    pub async fn join(&self) -> Exit {
        let ended = lock(&self.0.life).family().ended.get_or_insert_with(Default::default).clone();
        loop {
            let notified = ended.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.0.settled.load(Ordering::Acquire) {
                if let Some(e) = self.exit() {
                    return e;
                }
            }
            notified.await;
        }
    }

    /// A handle that wakes it from [`Context::pause`] (Axon's `unpause()` called by others).
    pub fn unpauser(&self) -> Unpauser {
        Unpauser::new(self.0.ident.clone())
    }

    /// The id of its parent, if it was added as a child and the parent lives.
    pub fn parent(&self) -> Option<ComponentId> {
        lock(&self.0.life).parent.as_ref().and_then(|p| p.upgrade()).map(|p| p.ident.id)
    }

    /// Its current children.
    pub fn children(&self) -> Vec<ComponentRef> {
        lock(&self.0.life).family.as_ref().map(|f| f.children.clone()).unwrap_or_default()
    }

    /// The names of its boxes of one kind, in declaration order.
    pub fn box_names(&self, kind: BoxKind) -> Vec<BoxName> {
        self.0.boxes.with_all(|boxes| boxes.filter(|b| b.meta().kind == kind).map(|b| b.meta().name.clone()).collect())
    }

    /// True if it has a box of that kind and name.
    pub fn has_box(&self, kind: BoxKind, name: &str) -> bool {
        self.0.boxes.find(kind, name).is_some()
    }

    /// The message type of one of its boxes: its `TypeId` and name.
    pub fn box_type(&self, kind: BoxKind, name: &str) -> Result<(std::any::TypeId, &'static str), LinkError> {
        let node = self.find_box(kind, name)?;
        Ok((node.message_type(), node.type_name()))
    }

    /// How many messages wait in one of its inboxes (0 for an unknown name).
    pub fn data_ready(&self, inbox: &str) -> usize {
        self.find_box(BoxKind::Inbox, inbox).map_or(0, |b| b.depth())
    }

    /// Checks that it has (at least) these boxes (Axon's `util.testInterface`).
    pub fn has_interface(&self, inboxes: &[&str], outboxes: &[&str]) -> Result<(), LinkError> {
        for (kind, names) in [(BoxKind::Inbox, inboxes), (BoxKind::Outbox, outboxes)] {
            for n in names {
                self.find_box(kind, n)?;
            }
        }
        Ok(())
    }

    /// Puts `msg` straight into one of its inboxes (Axon's `_deliver`), landing at the end of
    /// that inbox's chain. For tests and for ordinary code; components talk through linkages.
    pub fn deliver<T: Send + 'static>(&self, inbox: &str, msg: T) -> Result<(), BoxError> {
        let node = self.find_box(BoxKind::Inbox, inbox).map_err(|_| BoxError::NoSuchBox {
            component: self.name().to_owned(),
            kind: "inbox",
            name: inbox.to_owned(),
        })?;
        let type_name = node.type_name();
        node.deliver_any(Box::new(msg)).map_err(|_| {
            // (The message given back is always a `T`: whether it was refused for its type is a
            // question for the box.)
            if node.message_type() == std::any::TypeId::of::<T>() {
                BoxError::Full {
                    component: self.name().to_owned(),
                    name: inbox.to_owned(),
                    capacity: node.capacity().unwrap_or(usize::MAX),
                }
            } else {
                BoxError::WrongType {
                    component: self.name().to_owned(),
                    name: inbox.to_owned(),
                    actual: type_name,
                    requested: std::any::type_name::<T>(),
                }
            }
        })
    }

    pub(crate) fn find_box(&self, kind: BoxKind, name: &str) -> Result<Arc<dyn ErasedNode>, LinkError> {
        match self.0.boxes.find(kind, name) {
            Some(b) => Ok(b),
            None => Err(LinkError::NoSuchBox {
                component: self.name().to_owned(),
                name: name.to_owned(),
                kind: kind.word(),
                available: self.box_names(kind).iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", "),
            }),
        }
    }

    /// The linkages this component made that are still in place (Axon's `postoffice.linkages`).
    pub fn owned_linkages(&self) -> Vec<Linkage> {
        let owned = lock(&self.0.life).family.as_ref().map(|f| f.owned_links.clone()).unwrap_or_default();
        owned.into_iter().filter(|l| l.is_linked()).collect()
    }

    /// Records a linkage this component made (see [`Context::link`]); if it is ending, removes
    /// it instead.
    pub(crate) fn record_owned_link(&self, l: Linkage) {
        let mut life = lock(&self.0.life);
        if life.finishing {
            drop(life);
            link::unlink(&l);
            return;
        }
        push_small(owned_links_with_room(&mut life), l);
    }

    /// Records linkages this component made, as [`record_owned_link`](Self::record_owned_link).
    pub(crate) fn record_owned_links(&self, mut links: Vec<Linkage>) {
        if links.is_empty() {
            return;
        }
        let mut life = lock(&self.0.life);
        if life.finishing {
            drop(life);
            link::unlink_all(&links);
            return;
        }
        let owned = owned_links_with_room(&mut life);
        if owned.is_empty() {
            // Take the new list whole (no copy).
            std::mem::swap(owned, &mut links);
        } else {
            owned.append(&mut links);
        }
    }

    fn forget_owned_link(&self, l: &Linkage) {
        if let Some(f) = lock(&self.0.life).family.as_mut() {
            f.owned_links.retain(|o| o.id() != l.id());
        }
    }

    /// Makes it a child of `parent` (used by [`Context::add_children`]).
    fn adopt_by(&self, parent: &ComponentRef) {
        let ended = {
            let mut life = lock(&self.0.life);
            if life.exit.is_none() {
                life.parent = Some(Arc::downgrade(&parent.0));
            }
            life.exit.clone()
        };
        let mut plife = lock(&parent.0.life);
        let family = plife.family();
        if !family.children.contains(self) {
            family.children.push(self.clone());
        }
        if let Some(exit) = ended {
            family.child_exits.push_back(ChildExit { id: self.id(), name: self.name().to_owned(), exit });
            family.children_changed.notify();
            drop(plife);
            parent.0.notifier().notify();
        }
    }

    pub(crate) fn attach(&self, scheduler: &Scheduler, abort: Option<Abort>) {
        let mut life = lock(&self.0.life);
        self.0.scheduler.get_or_init(|| scheduler.clone());
        if !life.finishing {
            life.abort = abort;
        }
    }
}

/// Takes out of `owned` the linkages that involve component `id`, keeping the others in order.
fn take_links_involving(owned: &mut Vec<Linkage>, id: ComponentId) -> Vec<Linkage> {
    let involves = |l: &Linkage| l.source_pair().0 == id || l.sink_pair().0 == id;
    if owned.iter().all(involves) {
        // The usual case (a parent that links only the child it is done with): the whole list,
        // without copying.
        return std::mem::take(owned);
    }
    let (hit, kept) = std::mem::take(owned).into_iter().partition(involves);
    *owned = kept;
    hit
}

/// The linkages a component made, first rid of those no longer in place whenever the list has
/// doubled (so a component that links and unlinks for ever keeps a bounded list).
fn owned_links_with_room(life: &mut Life) -> &mut Vec<Linkage> {
    let owned = &mut life.family().owned_links;
    if owned.len() >= 32 && owned.len().is_power_of_two() {
        owned.retain(|l| l.is_linked());
    }
    owned
}

/// How a running component is stopped: its task aborted, or its group told to drop it.
#[derive(Clone)]
pub(crate) enum Abort {
    Task(tokio::task::AbortHandle),
    Member(Arc<crate::group::Slot>),
}

impl Abort {
    fn abort(&self) {
        match self {
            Abort::Task(handle) => handle.abort(),
            Abort::Member(slot) => slot.abort(),
        }
    }
}

/// What a component body works with: its standard boxes (as public fields, so that each can be
/// used on its own), and the component's view of the system.
///
/// Axon's `self.send(msg, "outbox")` is `ctx.outbox.send(msg).await`; `self.recv("control")` is
/// `ctx.control.try_recv()` (or `ctx.control.recv().await` to wait); `self.dataReady("inbox")` is
/// `ctx.inbox.data_ready()`.
///
/// # Waiting on several inboxes
///
/// [`next_event`](Self::next_event) waits on `inbox` and `control`; [`select`](Self::select)
/// on `control` and any number of inboxes; [`wait_any`](Self::wait_any) names the inbox to read
/// next. All three keep the [rule](crate::events) that makes the natural loop correct: a
/// `ProducerFinished` is handed over only once the data queued before it has been taken, while
/// a `ShutdownMicroprocess` comes at once.
///
/// ```
/// use axon_core::prelude::*;
///
/// /// Squares numbers; passes the end of the stream on once every number is through.
/// struct Square;
///
/// impl Component for Square {
///     type Inbox = i64;
///     type Outbox = i64;
///
///     async fn main(self, mut ctx: Context<i64, i64>) -> ComponentResult {
///         while let Some(event) = ctx.next_event().await {
///             match event {
///                 Event::Data(n) => ctx.outbox.send(n * n).await,
///                 Event::Control(msg) if msg.is_shutdown_request() => {
///                     ctx.signal.send(msg).await;
///                     break;
///                 }
///                 Event::Control(_) => {}
///             }
///         }
///         Ok(())
///     }
/// }
///
/// let mut square = Handle::new(Square, &Scheduler::new());
/// for n in 1..=5 {
///     square.put(n).unwrap();
/// }
/// square.put_control(ProducerFinished::new()).unwrap();
/// let squares: Vec<i64> = std::iter::from_fn(|| square.recv_blocking()).collect();
/// assert_eq!(squares, [1, 4, 9, 16, 25]);
/// ```
pub struct Context<I, O> {
    /// The standard `inbox`.
    pub inbox: Inbox<I>,
    /// The standard `control` inbox.
    pub control: Inbox<Ipc>,
    /// The standard `outbox`.
    pub outbox: Outbox<O>,
    /// The standard `signal` outbox.
    pub signal: Outbox<Ipc>,
    me: ComponentRef,
    /// Which data inbox [`select`](Self::select) looks at first next time.
    turn: u32,
}

impl<I, O> fmt::Debug for Context<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context").field("component", &self.me).finish_non_exhaustive()
    }
}

fn typed<T: Send + 'static>(me: &ComponentRef, kind: BoxKind, name: &str) -> Result<Arc<Node<T>>, BoxError> {
    let node = me.find_box(kind, name).map_err(|_| BoxError::NoSuchBox {
        component: me.name().to_owned(),
        kind: kind.word(),
        name: name.to_owned(),
    })?;
    let actual = node.type_name();
    let node: Arc<Node<T>> =
        (node as Arc<dyn std::any::Any + Send + Sync>).downcast().map_err(|_| BoxError::WrongType {
            component: me.name().to_owned(),
            name: name.to_owned(),
            actual,
            requested: std::any::type_name::<T>(),
        })?;
    if !take_handle(&node.meta) {
        return Err(BoxError::AlreadyTaken { component: me.name().to_owned(), name: name.to_owned() });
    }
    Ok(node)
}

impl<I: Send + 'static, O: Send + 'static> Context<I, O> {
    pub(crate) fn new(me: ComponentRef) -> Self {
        fn standard<T: Send + 'static>(
            boxes: &[Arc<dyn ErasedNode>],
            i: usize,
            kind: BoxKind,
            name: &str,
        ) -> Arc<Node<T>> {
            // The standard boxes are the first four, in this order (`Declarations::standard`;
            // `declare` can only add boxes after them), and nothing has taken their handles yet.
            // (Not `typed`: its search and its `Result` cost 460 instructions more per component
            // made, under callgrind, and a component is made per HTTP request.)
            let node = boxes
                .get(i)
                .filter(|b| b.meta().kind == kind && b.meta().name == name)
                .cloned()
                .and_then(|b| (b as Arc<dyn std::any::Any + Send + Sync>).downcast::<Node<T>>().ok())
                .filter(|n| take_handle(&n.meta));
            node.unwrap_or_else(|| panic!("the standard {} `{name}` is missing or taken", kind.word()))
        }
        let (inbox, control, outbox, signal) = {
            let boxes = &me.0.boxes.fixed;
            (
                standard(boxes, 0, BoxKind::Inbox, "inbox"),
                standard(boxes, 1, BoxKind::Inbox, "control"),
                standard(boxes, 2, BoxKind::Outbox, "outbox"),
                standard(boxes, 3, BoxKind::Outbox, "signal"),
            )
        };
        Context {
            inbox: Inbox::from_node(inbox),
            control: Inbox::from_node(control),
            outbox: Outbox::from_node(outbox),
            signal: Outbox::from_node(signal),
            me,
            turn: 0,
        }
    }
}

impl<I: Send + 'static, O: Send + 'static> Context<I, O> {
    /// A second context over the same four boxes, for a body run by [`Context::host`] while this
    /// one is borrowed.
    pub(crate) fn lend(&self) -> Self {
        Context {
            inbox: self.inbox.lend(),
            control: self.control.lend(),
            outbox: self.outbox.lend(),
            signal: self.signal.lend(),
            me: self.me.clone(),
            turn: 0,
        }
    }

    /// Notes `now`, the counts as a hosted body begins, into the least seen so far (see
    /// [`Context::host_is_clean`]).
    pub(crate) fn note_host_baseline(&self, now: crate::host::Footprint) {
        let mut life = lock(&self.me.0.life);
        match life.hosted.as_mut() {
            Some(least) => least.keep_least(&now),
            None => life.hosted = Some(Box::new(now)),
        }
    }

    /// The least counts noted by [`note_host_baseline`](Self::note_host_baseline).
    pub(crate) fn host_baseline(&self) -> Option<crate::host::Footprint> {
        lock(&self.me.0.life).hosted.as_deref().copied()
    }

    /// What a hosted body could leave behind in its host, counted (see [`Context::host`]).
    pub(crate) fn footprint(&self) -> crate::host::Footprint {
        let core = &self.me.0;
        let mut nodes = [0; 4];
        for (n, b) in nodes.iter_mut().zip(core.boxes.fixed.iter()) {
            *n = Arc::strong_count(b);
        }
        crate::host::Footprint {
            refs: Arc::strong_count(core),
            nodes,
            capacities: [self.inbox.capacity(), self.control.capacity()],
        }
    }

    /// True if this component has no children, no exit reports waiting, no linkages it made, no
    /// boxes added or deleted, no services, and has not ended or been told to stop: what a
    /// component made afresh would be.
    pub(crate) fn is_plain(&self) -> bool {
        let core = &self.me.0;
        let fresh_family = {
            let life = lock(&core.life);
            let family_empty = life
                .family
                .as_ref()
                .is_none_or(|f| f.children.is_empty() && f.child_exits.is_empty() && f.owned_links.is_empty());
            family_empty && !life.finishing && !life.stop_requested
        };
        fresh_family
            && !core.boxes.any_added.load(Ordering::Acquire)
            && !core.provides_services()
            && !core.boxes.fixed.iter().any(|b| b.meta().deleted.load(Ordering::Acquire))
            && !self.me.has_ended()
    }
}

impl<I: Send + 'static, O: Send + 'static> Context<I, O> {
    /// This component's id.
    pub fn id(&self) -> ComponentId {
        self.me.id()
    }

    /// This component's name.
    pub fn name(&self) -> &str {
        self.me.name()
    }

    /// This component, as others see it (to link to its own boxes: `(ctx.me(), "inbox")`).
    pub fn me(&self) -> &ComponentRef {
        &self.me
    }

    /// The scheduler this component runs on.
    ///
    /// # Panics
    /// If called before activation (a body only runs once activated, so only hand-made contexts
    /// can see this).
    pub fn scheduler(&self) -> Scheduler {
        self.running_on().clone()
    }

    /// [`scheduler`](Self::scheduler), borrowed.
    fn running_on(&self) -> &Scheduler {
        self.me.0.scheduler.get().expect("a running component has a scheduler")
    }

    /// The services registry (Axon's Coordinating Assistant Tracker) of this component's
    /// scheduler.
    pub fn tracker(&self) -> Tracker {
        self.running_on().tracker().clone()
    }

    // ----- linkages -----

    /// Links an outbox to an inbox (Axon's `self.link((a, "outbox"), (b, "inbox"))`). The linkage
    /// belongs to this component: it is removed when this component ends.
    pub fn link<'a>(&self, from: impl Into<Endpoint<'a>>, to: impl Into<Endpoint<'a>>) -> Result<Linkage, LinkError> {
        self.link_with(from, to, LinkOptions::default())
    }

    /// Links with a passthrough kind: `Inbound` (an inbox to a child's inbox) or `Outbound` (a
    /// child's outbox to an outbox), Axon's `passthrough=1|2`.
    pub fn link_passthrough<'a>(
        &self,
        from: impl Into<Endpoint<'a>>,
        to: impl Into<Endpoint<'a>>,
        passthrough: Passthrough,
    ) -> Result<Linkage, LinkError> {
        self.link_with(from, to, LinkOptions::passthrough(passthrough))
    }

    /// Links with full [`LinkOptions`] (passthrough and pipewidth).
    pub fn link_with<'a>(
        &self,
        from: impl Into<Endpoint<'a>>,
        to: impl Into<Endpoint<'a>>,
        options: LinkOptions,
    ) -> Result<Linkage, LinkError> {
        linkage::link_endpoints(Some(&self.me), from.into(), to.into(), options)
    }

    /// Removes a linkage (one this component made, or any other). Unknown or already removed
    /// linkages are ignored, as in Axon.
    pub fn unlink(&self, linkage: &Linkage) {
        link::unlink(linkage);
        self.me.forget_owned_link(linkage);
    }

    /// Removes every linkage this component made that involves `component`.
    pub fn unlink_component(&self, component: &ComponentRef) {
        let hit = {
            let mut life = lock(&self.me.0.life);
            let Some(family) = life.family.as_mut() else { return };
            take_links_involving(&mut family.owned_links, component.id())
        };
        // One acquisition of the wiring lock for all of them; the linkages are dropped after.
        link::unlink_all(&hit);
    }

    /// Makes several linkages, outbox to inbox, all belonging to this component, at once: all of
    /// them, or none (if one cannot be made, for instance because a box does not exist or the
    /// types differ, those made before it are removed again and its error returned). The same as
    /// calling [`link`](Self::link) for each, but cheaper: what a component does when it links
    /// each child it makes.
    ///
    /// ```
    /// use axon_core::prelude::*;
    ///
    /// let parent = from_fn("Parent", |ctx: Context<u8, u8>| async move {
    ///     let child = Instance::new(from_fn("Child", |mut c: Context<u8, u8>| async move {
    ///         while let Some(n) = c.inbox.recv().await {
    ///             c.outbox.send(n + 1).await;
    ///         }
    ///         Ok(())
    ///     }));
    ///     ctx.link_all([((ctx.me(), "outbox"), (child.component(), "inbox"))])?;
    ///     // A box that does not exist: nothing is linked.
    ///     let err = ctx.link_all([
    ///         ((child.component(), "outbox"), (ctx.me(), "inbox")),
    ///         ((child.component(), "signal"), (ctx.me(), "nonesuch")),
    ///     ]);
    ///     assert!(err.is_err());
    ///     assert_eq!(ctx.me().owned_linkages().len(), 1);
    ///     Ok(())
    /// });
    /// Instance::new(parent).run().unwrap();
    /// ```
    pub fn link_all<'a, F, T>(&self, links: impl IntoIterator<Item = (F, T)>) -> Result<(), LinkError>
    where
        F: Into<Endpoint<'a>>,
        T: Into<Endpoint<'a>>,
    {
        linkage::link_all(&self.me, links)
    }

    // ----- children -----

    /// Activates `child` on this component's scheduler (Axon: `child.activate()`, or yielding
    /// `newComponent`). Does not make it a child: see [`add_children`](Self::add_children).
    pub fn activate(&self, child: impl crate::IntoInstance) -> ComponentRef {
        child.into_instance().activate(self.running_on())
    }

    /// Activates a type-erased instance (e.g. from a [`NewComponent`](crate::NewComponent)).
    pub fn activate_boxed(&self, child: Box<dyn AnyInstance>) -> ComponentRef {
        child.activate_boxed(self.running_on())
    }

    /// Makes these components children of this one (Axon's `addChildren`): this component is told
    /// when each ends ([`child_exited`](Self::child_exited)), and its `pause` is woken.
    pub fn add_children<'a>(&self, children: impl IntoIterator<Item = &'a ComponentRef>) {
        for c in children {
            c.adopt_by(&self.me);
        }
    }

    /// Makes one component a child (see [`add_children`](Self::add_children)).
    pub fn add_child(&self, child: &ComponentRef) {
        child.adopt_by(&self.me);
    }

    /// Stops treating `child` as a child and removes the linkages this component made that
    /// involve it (Axon's `removeChild`). It keeps running if it has not ended.
    pub fn remove_child(&self, child: &ComponentRef) {
        let hit = {
            let mut life = lock(&self.me.0.life);
            match life.family.as_mut() {
                Some(family) => {
                    family.children.retain(|c| c != child);
                    family.child_exits.retain(|e| e.id != child.id());
                    // A component that makes a child per task (a request handler) spends most of
                    // its life with none: it keeps no room for their exit reports (288 bytes)
                    // meanwhile.
                    if family.child_exits.is_empty() {
                        family.child_exits = VecDeque::new();
                    }
                    // The linkages to remove (as `unlink_component`), in the same visit.
                    take_links_involving(&mut family.owned_links, child.id())
                }
                None => Vec::new(),
            }
        };
        {
            let mut clife = lock(&child.0.life);
            if clife.parent.as_ref().is_some_and(|p| std::ptr::eq(p.as_ptr(), Arc::as_ptr(&self.me.0))) {
                clife.parent = None;
            }
        }
        link::unlink_all(&hit);
    }

    /// The current children (Axon's `childComponents()`).
    pub fn children(&self) -> Vec<ComponentRef> {
        self.me.children()
    }

    /// Waits for the next child to end and reaps it (removes it as a child, with the linkages
    /// this component made to it). `None` when there are no children.
    pub async fn child_exited(&mut self) -> Option<ChildExit> {
        let core = self.me.0.clone();
        let exit = poll_fn(|cx| {
            let mut life = lock(&core.life);
            let Some(family) = life.family.as_mut() else { return Poll::Ready(None) };
            if let Some(e) = family.child_exits.pop_front() {
                return Poll::Ready(Some(e));
            }
            if family.children.is_empty() {
                return Poll::Ready(None);
            }
            match family.children_changed.poll_wait(cx) {
                Poll::Ready(()) => {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                Poll::Pending => Poll::Pending,
            }
        })
        .await?;
        if let Some(c) = self.children().into_iter().find(|c| c.id() == exit.id) {
            self.remove_child(&c);
        }
        Some(exit)
    }

    /// Waits until every child has ended, reaping each; returns how they ended, in the order
    /// they did (Kamaelia's chassis loop `while not childrenDone(): pause()`).
    pub async fn wait_for_children(&mut self) -> Vec<ChildExit> {
        let mut exits = Vec::new();
        while let Some(e) = self.child_exited().await {
            exits.push(e);
        }
        exits
    }

    /// Reaps children that have ended and says whether none are left (Kamaelia's `childrenDone`).
    pub fn children_done(&mut self) -> bool {
        let ended: Vec<_> = self.children().into_iter().filter(|c| c.has_ended()).collect();
        for c in &ended {
            self.remove_child(c);
        }
        self.children().is_empty()
    }

    // ----- waiting -----

    /// Sleeps until something happens to this component: a delivery into any of its inboxes, the
    /// end of a child, or an [`Unpauser::unpause`] (Axon's `self.pause(); yield 1`). A wake that
    /// came while the component was busy makes `pause` return at once, so the Axon idiom
    /// `while !ready { ctx.pause().await }` never sleeps through a delivery.
    pub async fn pause(&self) {
        poll_fn(|cx| self.me.0.notifier().poll_wait(cx)).await
    }

    /// A handle that wakes this component from [`pause`](Self::pause).
    pub fn unpauser(&self) -> Unpauser {
        self.me.unpauser()
    }

    /// The name of an inbox with messages waiting, if any (Axon's `anyReady()`): the first in
    /// declaration order, except that `control` comes last unless its oldest message is urgent
    /// ([`Ipc::is_urgent`]), so that a `ProducerFinished` is named only once the data queued
    /// before it has been taken (see [`events`](crate::events)).
    pub fn any_ready(&self) -> Option<BoxName> {
        // Control is looked at before the other inboxes: see `events::poll_next`.
        let waiting = self.control.peek(|m| m.map(Ipc::is_urgent));
        if waiting == Some(true) {
            return Some(BoxName::Borrowed("control"));
        }
        let data = self.me.0.boxes.with_all(|mut boxes| {
            Iterator::find(&mut boxes, |b| {
                b.meta().kind == BoxKind::Inbox && b.meta().name != "control" && b.depth() > 0
            })
            .map(|b| b.meta().name.clone())
        });
        data.or_else(|| waiting.map(|_| BoxName::Borrowed("control")))
    }

    /// Waits until any inbox of this component has a message, and names one as
    /// [`any_ready`](Self::any_ready) does.
    pub async fn wait_any(&self) -> BoxName {
        loop {
            if let Some(name) = self.any_ready() {
                return name;
            }
            self.pause().await;
        }
    }

    /// The next message from `inbox` or `control`, waiting if neither has one: an urgent control
    /// message (`ShutdownMicroprocess`) at once, data next, and any other control message
    /// (`ProducerFinished`) only once `inbox` is empty, so that the end of the stream never
    /// overtakes its data (see [`events`](crate::events)). `None` once `inbox` is closed
    /// (everything upstream has gone) and `control` is empty.
    pub async fn next_event(&mut self) -> Option<Event<I>> {
        self.select(std::convert::identity).next().await
    }

    /// A wait on `control`, `inbox` (its messages mapped by `map`) and, with
    /// [`Select::or`](crate::events::Select::or), declared inboxes, in the order
    /// [`next_event`](Self::next_event) keeps; inboxes take turns. See [`events`](crate::events)
    /// for an example.
    pub fn select<M, F: FnMut(I) -> M>(&mut self, map: F) -> Select<'_, M, Source<'_, I, F>> {
        Select::new(&mut self.control, Source::new(&mut self.inbox, map), &mut self.turn)
    }

    // ----- declared and adaptive boxes -----

    /// The handle of a declared inbox (each box has one handle; take it once).
    pub fn take_inbox<T: Send + 'static>(&self, name: &str) -> Result<Inbox<T>, BoxError> {
        typed(&self.me, BoxKind::Inbox, name).map(Inbox::from_node)
    }

    /// The handle of a declared outbox (each box has one handle; take it once).
    pub fn take_outbox<T: Send + 'static>(&self, name: &str) -> Result<Outbox<T>, BoxError> {
        typed(&self.me, BoxKind::Outbox, name).map(Outbox::from_node)
    }

    /// Adds an inbox at run time (Axon's `AdaptiveCommsComponent.addInbox`). If the name is taken
    /// a number is appended until it is free; the handle's [`name`](Inbox::name) is the one used.
    pub fn add_inbox<T: Send + 'static>(&self, name: &str, description: impl Into<Cow<'static, str>>) -> Inbox<T> {
        let node = self.add_box::<T>(BoxKind::Inbox, name, description.into());
        take_handle(&node.meta);
        Inbox::from_node(node)
    }

    /// Adds an outbox at run time (Axon's `addOutbox`); naming as for [`add_inbox`](Self::add_inbox).
    pub fn add_outbox<T: Send + 'static>(&self, name: &str, description: impl Into<Cow<'static, str>>) -> Outbox<T> {
        let node = self.add_box::<T>(BoxKind::Outbox, name, description.into());
        take_handle(&node.meta);
        Outbox::from_node(node)
    }

    fn add_box<T: Send + 'static>(&self, kind: BoxKind, name: &str, description: Cow<'static, str>) -> Arc<Node<T>> {
        let all = &self.me.0.boxes;
        let mut added = lock(&all.added);
        let taken = |added: &[Arc<dyn ErasedNode>], n: &str| {
            all.fixed_live().chain(added).any(|b| b.meta().kind == kind && b.meta().name == n)
        };
        let mut chosen = name.to_owned();
        while taken(&added, &chosen) {
            chosen = format!("{name}{}", ComponentId::next().get());
        }
        let cap = (kind == BoxKind::Inbox).then_some(crate::DEFAULT_CAPACITY);
        let node = make_node::<T>(&self.me.0.ident, Cow::Owned(chosen), kind, description, cap);
        added.push(node.clone());
        all.any_added.store(true, Ordering::Release);
        node
    }

    /// Removes a box by name (Axon's `deleteInbox`/`deleteOutbox`): every linkage into or out of
    /// it is removed first (Axon left that to the caller), and what it held is dropped.
    pub fn delete_box(&self, kind: BoxKind, name: &str) -> Result<(), BoxError> {
        let node = self.me.find_box(kind, name).map_err(|_| BoxError::NoSuchBox {
            component: self.name().to_owned(),
            kind: kind.word(),
            name: name.to_owned(),
        })?;
        {
            let _g = link::wiring();
            if let Some((_, info)) = node.target() {
                link::unlink_locked(&node, info.id);
            }
            for s in node.sources() {
                if let Some((_, info)) = s.target() {
                    link::unlink_locked(&s, info.id);
                }
            }
            let leftovers = node.clone().retire();
            drop(_g);
            drop(leftovers);
        }
        self.me.0.boxes.remove(&node);
        Ok(())
    }

    /// Removes an inbox added with [`add_inbox`](Self::add_inbox) (see [`delete_box`](Self::delete_box)).
    pub fn delete_inbox<T: Send + 'static>(&self, inbox: Inbox<T>) -> Result<(), BoxError> {
        self.delete_box(BoxKind::Inbox, inbox.name())
    }

    /// Removes an outbox added with [`add_outbox`](Self::add_outbox) (see [`delete_box`](Self::delete_box)).
    pub fn delete_outbox<T: Send + 'static>(&self, outbox: Outbox<T>) -> Result<(), BoxError> {
        self.delete_box(BoxKind::Outbox, outbox.name())
    }

    /// Makes a box like an existing one of another component (same message type), for chassis
    /// that expose a child's box as their own (Kamaelia's Graphline). Returns the name used.
    pub fn add_box_like(
        &self,
        other: &ComponentRef,
        other_kind: BoxKind,
        other_name: &str,
        kind: BoxKind,
        name: &str,
    ) -> Result<BoxName, LinkError> {
        let template = other.find_box(other_kind, other_name)?;
        let all = &self.me.0.boxes;
        let mut added = lock(&all.added);
        if let Some(b) = all.fixed_live().chain(added.iter()).find(|b| b.meta().kind == kind && b.meta().name == name) {
            return Ok(b.meta().name.clone());
        }
        let node =
            template.new_like(&self.me.0.ident, Cow::Owned(name.to_owned()), kind, template.meta().description.clone());
        added.push(node);
        all.any_added.store(true, Ordering::Release);
        Ok(Cow::Owned(name.to_owned()))
    }
}

/// Runs a component body: records its state on every poll, contains a panic, and does the
/// end-of-life bookkeeping however the task ends (finished, failed, panicked, or dropped).
///
/// The returned future does the bookkeeping when dropped, so a task stopped before it ever ran
/// still ends with its bookkeeping done.
pub(crate) fn run_body<F>(
    core: Arc<Core>,
    body: F,
    slowmo: Option<std::time::Duration>,
) -> impl Future<Output = ()> + Send + 'static
where
    F: Future<Output = ComponentResult> + Send + 'static,
{
    // The body is pinned on the heap, and this wrapper is a plain struct rather than an async
    // block: an async block would store the body twice (once as the captured argument and once
    // as the pinned local; the compiler does not overlap the two), and its other locals too. A
    // component's wrapper lives as long as the component: 48 bytes now, against 128 for the async
    // block (docs/benchmarks.md).
    RunBody { core, body: Some(Box::pin(body)), slowmo, delay: None }
}

/// See [`run_body`].
struct RunBody<F> {
    core: Arc<Core>,
    /// `None` once the body has ended and the bookkeeping is done.
    body: Option<Pin<Box<F>>>,
    /// Debugging aid: wait this long before every step of the body ([`Scheduler::set_slowmo`]).
    slowmo: Option<std::time::Duration>,
    delay: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<F: Future<Output = ComponentResult>> Future for RunBody<F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        let this = &mut *self;
        let Some(body) = this.body.as_mut() else { return Poll::Ready(()) };
        if let Some(d) = this.slowmo {
            let delay = this.delay.get_or_insert_with(|| Box::pin(tokio::time::sleep(d)));
            if delay.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.delay = None;
        }
        this.core.set_state(ComponentState::Running);
        let exit = match catch_unwind(AssertUnwindSafe(|| body.as_mut().poll(cx))) {
            Ok(Poll::Pending) => {
                this.core.set_state(ComponentState::Paused);
                return Poll::Pending;
            }
            Ok(Poll::Ready(Ok(()))) => Exit::Finished,
            Ok(Poll::Ready(Err(e))) => Exit::Failed(e.to_string()),
            Err(panic) => Exit::Panicked(panic_message(&*panic)),
        };
        // The bookkeeping first, then the (ended) body is dropped.
        let body = this.body.take();
        this.core.finish(exit);
        drop(body);
        Poll::Ready(())
    }
}

impl<F> Drop for RunBody<F> {
    fn drop(&mut self) {
        if let Some(body) = self.body.take() {
            // Dropped mid-body (stopped, or the runtime shut down): the body goes first, then
            // the end-of-life bookkeeping.
            drop(body);
            self.core.finish(Exit::Stopped);
        }
    }
}
