//! [`ComponentRef`]: a component that exists, shared by everyone who holds it; and `Core`, what
//! it shares: its identity, its boxes, where it is in its life, its family (children, what it
//! heard of their ends, the linkages it made) and the end-of-life bookkeeping (`Core::finish`,
//! what the [`component`](crate::component) docs promise happens when a component ends).
//!
//! A component knows the scheduler it was activated on only as a [`Home`]: the scheduler stands a
//! floor up, and this floor tells it of the component's end through that trait.

use std::any::Any;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::{Context as TaskContext, Poll};

use crate::error::{BoxError, LinkError};
use crate::footprint::Footprint;
use crate::group::Slot;
use crate::id::ComponentId;
use crate::identity::{Identity, Unpauser};
use crate::kinds::{BoxKind, BoxName};
use crate::lifecycle::{ChildExit, ComponentKind, ComponentState, Exit, LostMessages};
use crate::link::{self, Linkage};
use crate::node::{push_small, ErasedNode};
use crate::notifier::Notifier;
use crate::sync::lock;

/// The scheduler a component was activated on, as this floor sees it: what the component's end
/// tells it. [`Scheduler`](crate::Scheduler), a floor up, is the one implementation; the
/// component holds it behind this trait so that this floor need not know the scheduler's type.
pub(crate) trait Home: Send + Sync + 'static {
    /// `core` has ended, its bookkeeping done: it no longer counts as live, its services go, and
    /// a failure is kept for [`Scheduler::run`](crate::Scheduler::run).
    fn component_ended(&self, core: &Arc<Core>, exit: &Exit);
    /// A component ended with messages unread after a `ProducerFinished`.
    fn record_lost(&self, report: LostMessages);
    /// The scheduler itself, for the floor that knows its type.
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

/// What changes over a component's life, under one lock.
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
    /// For a component that hosts bodies (`Context::host`): the least of
    /// the counts seen as each began, what its counts are when no hosted body has left anything
    /// behind.
    hosted: Option<Box<Footprint>>,
    /// Set when it is complete.
    exit: Option<Exit>,
}

/// Its children, what it heard of their ends, the linkages it made, and who waits for its end.
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

/// A component's boxes: those it was made with, which never change (so finding one takes no lock),
/// and those added at run time ([`Context::add_inbox`](crate::Context::add_inbox) and the like),
/// under a lock.
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

    /// Adds a box of that kind named `name` or, if the name is taken, `name` with a number
    /// appended until it is free; `make` makes the box, given the name chosen
    /// ([`Context::add_inbox`](crate::Context::add_inbox) and the like).
    pub(crate) fn add_unique<N: ErasedNode>(
        &self,
        kind: BoxKind,
        name: &str,
        make: impl FnOnce(BoxName) -> Arc<N>,
    ) -> Arc<N> {
        let mut added = lock(&self.added);
        let taken = |added: &[Arc<dyn ErasedNode>], n: &str| {
            self.fixed_live().chain(added).any(|b| b.meta().kind == kind && b.meta().name == n)
        };
        let mut chosen = name.to_owned();
        while taken(&added, &chosen) {
            chosen = format!("{name}{}", ComponentId::next().get());
        }
        let node = make(Cow::Owned(chosen));
        added.push(node.clone());
        self.any_added.store(true, Ordering::Release);
        node
    }

    /// The name of its box of that kind named `name`, if it has one; otherwise adds the box that
    /// `make` makes, under that name ([`Context::add_box_like`](crate::Context::add_box_like)).
    pub(crate) fn add_unless_present(
        &self,
        kind: BoxKind,
        name: &str,
        make: impl FnOnce() -> Arc<dyn ErasedNode>,
    ) -> BoxName {
        let mut added = lock(&self.added);
        if let Some(b) = self.fixed_live().chain(added.iter()).find(|b| b.meta().kind == kind && b.meta().name == name)
        {
            return b.meta().name.clone();
        }
        added.push(make());
        self.any_added.store(true, Ordering::Release);
        Cow::Owned(name.to_owned())
    }

    /// Forgets a box (after [`Context::delete_box`](crate::Context::delete_box) has unlinked and
    /// retired it).
    pub(crate) fn remove(&self, node: &Arc<dyn ErasedNode>) {
        // Under the lock of the added boxes, so that adding a box sees a consistent set.
        let mut added = lock(&self.added);
        if self.fixed.iter().any(|b| Arc::ptr_eq(b, node)) {
            node.meta().deleted.store(true, Ordering::Release);
        } else {
            added.retain(|b| !Arc::ptr_eq(b, node));
        }
    }
}

/// What everyone holding a [`ComponentRef`] to one component shares (see the module docs).
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
    /// Which shard of its scheduler's registry it is in. (A byte: it sits with the four above,
    /// in what would be padding.)
    pub(crate) registry_shard: AtomicU8,
    pub(crate) boxes: Boxes,
    /// The scheduler it was activated on (see [`Home`]). Set once, under the `life` lock (so
    /// that it is read consistently with the rest of `life`), and read without cloning it.
    home: OnceLock<Arc<dyn Home>>,
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
            registry_shard: AtomicU8::new(0),
            boxes: Boxes::new(boxes),
            home: OnceLock::new(),
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
    pub(crate) fn home(&self) -> Option<&Arc<dyn Home>> {
        self.home.get()
    }

    /// The pause doorbell (see [`Notifier`]).
    pub(crate) fn notifier(&self) -> &Notifier {
        &self.ident.notifier
    }

    /// Records where it is in its life.
    pub(crate) fn set_state(&self, s: ComponentState) {
        self.state.store(s as u8, Ordering::Relaxed);
    }

    /// How it runs.
    pub(crate) fn kind(&self) -> ComponentKind {
        match self.kind.load(Ordering::Relaxed) {
            0 => ComponentKind::Task,
            1 => ComponentKind::Thread,
            _ => ComponentKind::Handle,
        }
    }

    /// Notes that it offers (or is about to offer) a service
    /// ([`Tracker::register_service`](crate::Tracker::register_service)).
    pub(crate) fn mark_provides_services(&self) {
        self.services.store(true, Ordering::SeqCst);
    }

    /// True if it may have registered a service.
    pub(crate) fn provides_services(&self) -> bool {
        self.services.load(Ordering::SeqCst)
    }

    /// A component that was told the stream had ended (`ProducerFinished`) is ending with messages
    /// still in its inboxes: they were sent before the end and will never be read. Silent loss made
    /// visible: a warning naming the component, each box and its count, and a record in the
    /// scheduler's introspection ([`Snapshot::lost`](crate::introspect::Snapshot::lost)).
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
            if let Some(s) = self.home.get() {
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
            (self.home.get(), owned, children)
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

    /// Stops it from outside (Axon's `stop()`): its body is dropped at its next `.await` and it
    /// ends with [`Exit::Stopped`], with the full end-of-life bookkeeping (unlike Axon, whose
    /// `stop()` skipped it). A component that was never activated ends at once. A threaded
    /// component's thread cannot be interrupted: its boxes close, so its blocking receives return
    /// `None`, and it is expected to return.
    pub fn stop(&self) {
        let (abort, created) = {
            let mut life = lock(&self.0.life);
            life.stop_requested = true;
            (life.abort.clone(), self.0.home.get().is_none())
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

    /// A handle that wakes it from [`Context::pause`](crate::Context::pause) (Axon's `unpause()`
    /// called by others).
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

    /// Records a linkage this component made (see [`Context::link`](crate::Context::link)); if it
    /// is ending, removes it instead.
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

    /// Forgets a linkage it made (removed by [`Context::unlink`](crate::Context::unlink)).
    pub(crate) fn forget_owned_link(&self, l: &Linkage) {
        if let Some(f) = lock(&self.0.life).family.as_mut() {
            f.owned_links.retain(|o| o.id() != l.id());
        }
    }

    /// Makes it a child of `parent` (used by
    /// [`Context::add_children`](crate::Context::add_children)).
    pub(crate) fn adopt_by(&self, parent: &ComponentRef) {
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

    /// Notes the scheduler it runs on (only the first is kept), and how to stop its body.
    pub(crate) fn attach<H: Home>(&self, home: &Arc<H>, abort: Option<Abort>) {
        let mut life = lock(&self.0.life);
        self.0.home.get_or_init(|| home.clone());
        if !life.finishing {
            life.abort = abort;
        }
    }

    /// Takes out the linkages it made that involve component `id`, to be removed.
    pub(crate) fn take_links_involving(&self, id: ComponentId) -> Vec<Linkage> {
        let mut life = lock(&self.0.life);
        let Some(family) = life.family.as_mut() else { return Vec::new() };
        take_links_involving(&mut family.owned_links, id)
    }

    /// Stops treating `child` as a child and removes the linkages it made that involve it (what
    /// [`Context::remove_child`](crate::Context::remove_child) does).
    pub(crate) fn disown(&self, child: &ComponentRef) {
        let hit = {
            let mut life = lock(&self.0.life);
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
            if clife.parent.as_ref().is_some_and(|p| std::ptr::eq(p.as_ptr(), Arc::as_ptr(&self.0))) {
                clife.parent = None;
            }
        }
        link::unlink_all(&hit);
    }

    /// The next report of a child's end, or `None` when it has no children; `Pending` (and `cx`
    /// woken by the next end) while its children all run.
    pub(crate) fn poll_child_exit(&self, cx: &mut TaskContext<'_>) -> Poll<Option<ChildExit>> {
        let mut life = lock(&self.0.life);
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
    }

    /// The report of the end of child `id` (a child's own, reported as it ended), taken from the
    /// reports waiting; `Pending` (and `cx` woken by the next report) until there is one. Reports
    /// of components that are no longer children (they ended as they were let go) are dropped;
    /// those of other children are left for [`poll_child_exit`](Self::poll_child_exit).
    pub(crate) fn poll_exit_of(&self, id: ComponentId, cx: &mut TaskContext<'_>) -> Poll<ChildExit> {
        let mut life = lock(&self.0.life);
        let Some(family) = life.family.as_mut() else { return Poll::Pending };
        loop {
            let Family { children, child_exits, .. } = &mut **family;
            if !child_exits.is_empty() {
                child_exits.retain(|e| e.id == id || children.iter().any(|c| c.id() == e.id));
                if let Some(exit) = child_exits.iter().position(|e| e.id == id).and_then(|i| child_exits.remove(i)) {
                    return Poll::Ready(exit);
                }
            }
            // A ring means a report came before this look (it is made under the same lock): the
            // look has seen it; then wait for the next.
            if family.children_changed.poll_wait(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }

    // ----- for hosting (see `host/`) -----

    /// Notes `now`, the counts as a hosted body begins, into the least seen so far (see
    /// `Context::host_is_clean`).
    pub(crate) fn note_host_baseline(&self, now: Footprint) {
        let mut life = lock(&self.0.life);
        match life.hosted.as_mut() {
            Some(least) => least.keep_least(&now),
            None => life.hosted = Some(Box::new(now)),
        }
    }

    /// The least counts noted by [`note_host_baseline`](Self::note_host_baseline).
    pub(crate) fn host_baseline(&self) -> Option<Footprint> {
        lock(&self.0.life).hosted.as_deref().copied()
    }

    /// What a hosted body could leave behind in this component, counted, with the capacities of
    /// its `inbox` and `control` (see `Context::host`).
    pub(crate) fn footprint(&self, capacities: [Option<usize>; 2]) -> Footprint {
        let core = &self.0;
        let mut nodes = [0; 4];
        for (n, b) in nodes.iter_mut().zip(core.boxes.fixed.iter()) {
            *n = Arc::strong_count(b);
        }
        Footprint { refs: Arc::strong_count(core), nodes, capacities }
    }

    /// True if it has no children, no exit reports waiting, no linkages it made, no boxes added
    /// or deleted, no services, and has not ended or been told to stop: what a component made
    /// afresh would be.
    pub(crate) fn is_plain(&self) -> bool {
        let core = &self.0;
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
            && !self.has_ended()
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
    Member(Arc<Slot>),
}

impl Abort {
    /// Stops the body.
    fn abort(&self) {
        match self {
            Abort::Task(handle) => handle.abort(),
            Abort::Member(slot) => slot.abort(),
        }
    }
}
