//! Linkages: which outbox feeds which inbox.
//!
//! A linkage joins a *source* box to a *sink* box. As in Axon there are three kinds:
//!
//! | [`Passthrough`] | Axon `passthrough=` | source → sink      | typical use                          |
//! |-----------------|---------------------|--------------------|--------------------------------------|
//! | `Normal`        | 0                   | outbox → inbox     | sibling wiring                       |
//! | `Inbound`       | 1                   | inbox → inbox      | a parent's inbox to a child's inbox  |
//! | `Outbound`      | 2                   | outbox → outbox    | a child's outbox to a parent's outbox|
//!
//! # How it works
//!
//! Boxes form a many-to-one tree: any number of boxes may link into one box (fan-in), but a box
//! links onward to at most one ([`LinkError::AlreadyLinked`], Axon's
//! `BoxAlreadyLinkedToDestination`). Every box caches the inbox at the *end* of its chain; making
//! or removing a linkage re-resolves that cache for the whole upstream tree, so a message crosses
//! any number of passthroughs in one push into the final inbox (Axon does the same with its
//! `_retarget`). Messages waiting in an inbox that becomes mid-chain move on to the new final inbox
//! (never dropped for lack of room: they had already been accepted). Removing a linkage makes the
//! cut box the end of its chain again: messages already delivered stay where they are, later ones
//! stop at the cut.
//!
//! A linkage is checked completely before anything changes: the two boxes must carry the same
//! message type ([`LinkError::TypeMismatch`], naming both ends and both types), the source must
//! be free, and the linkage must not close a loop. Linkages are changed under one lock, so
//! concurrent wiring is safe; sending never takes that lock.
//!
//! # Ownership
//!
//! A linkage made from inside a component ([`Context::link`](crate::Context::link)) belongs to it,
//! as in Axon: when that component ends, its linkages are removed, and
//! [`Context::remove_child`](crate::Context::remove_child) removes those that involve the child.
//! Linkages made from outside any component ([`Scheduler::link`](crate::Scheduler::link)) belong to
//! no one and last until unlinked or until their source's component ends.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::boxes::{BoxKind, ErasedNode, Node};
use crate::component::ComponentRef;
use crate::error::LinkError;
use crate::id::ComponentId;
pub use crate::kinds::Passthrough;
use crate::sync::lock;

/// Identifies one linkage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkId(u64);

/// What the graph remembers about a linkage, in its source box. (Its kind is not stored: the
/// kinds of the two boxes say it, see [`Passthrough::between`]. Every box that is linked holds
/// one of these, so it is kept to 16 bytes.)
#[derive(Debug, Clone)]
pub(crate) struct LinkInfo {
    pub(crate) id: LinkId,
    pub(crate) owner: Option<ComponentId>,
}

/// One end of a linkage: a component and one of its boxes by name, written as Axon writes it,
/// `(component, "box")`.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint<'a> {
    /// The component.
    pub component: &'a ComponentRef,
    /// The box's name.
    pub name: &'a str,
}

impl<'a> From<(&'a ComponentRef, &'a str)> for Endpoint<'a> {
    fn from((component, name): (&'a ComponentRef, &'a str)) -> Self {
        Endpoint { component, name }
    }
}

impl<'a, C: crate::Component> From<(&'a crate::Instance<C>, &'a str)> for Endpoint<'a> {
    fn from((inst, name): (&'a crate::Instance<C>, &'a str)) -> Self {
        Endpoint { component: inst.component(), name }
    }
}

/// Options for [`Context::link_with`](crate::Context::link_with).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkOptions {
    /// The kind of linkage.
    pub passthrough: Passthrough,
    /// Sets the capacity of the sink box (Axon's `pipewidth`; `synchronous=True` is `Some(1)`).
    pub pipewidth: Option<usize>,
}

impl LinkOptions {
    /// Options for a linkage of `passthrough` kind.
    pub fn passthrough(passthrough: Passthrough) -> Self {
        Self { passthrough, pipewidth: None }
    }

    /// Also set the sink box's capacity.
    pub fn pipewidth(mut self, width: usize) -> Self {
        self.pipewidth = Some(width);
        self
    }
}

/// A linkage that was made: the handle to [unlink](crate::Context::unlink) it, and Axon's
/// `linkage` accessors.
///
/// ```
/// use axon_core::{Passthrough, Scheduler};
/// # use axon_core::{Component, ComponentResult, Context};
/// # struct Nop;
/// # impl Component for Nop { type Inbox = (); type Outbox = ();
/// #   async fn main(self, _c: Context<(), ()>) -> ComponentResult { Ok(()) } }
/// let (a, b) = (axon_core::Instance::new(Nop), axon_core::Instance::new(Nop));
/// let link = Scheduler::new().link((&a, "signal"), (&b, "control")).unwrap();
/// assert_eq!(link.source_pair(), (a.id(), "signal"));
/// assert_eq!(link.sink_pair(), (b.id(), "control"));
/// assert_eq!(link.passthrough(), Passthrough::Normal);
/// assert!(link.to_string().starts_with("Link( source:["));
/// ```
#[derive(Clone)]
pub struct Linkage {
    id: LinkId,
    source: Arc<dyn ErasedNode>,
    sink: Arc<dyn ErasedNode>,
    passthrough: Passthrough,
}

impl Linkage {
    /// This linkage's id.
    pub fn id(&self) -> LinkId {
        self.id
    }

    /// The kind of linkage.
    pub fn passthrough(&self) -> Passthrough {
        self.passthrough
    }

    /// `(source component, source box)` (Axon's `sourcePair()`).
    pub fn source_pair(&self) -> (ComponentId, &str) {
        (self.source.meta().owner.id, &self.source.meta().name)
    }

    /// `(sink component, sink box)` (Axon's `sinkPair()`).
    pub fn sink_pair(&self) -> (ComponentId, &str) {
        (self.sink.meta().owner.id, &self.sink.meta().name)
    }

    /// True while the linkage is in place.
    pub fn is_linked(&self) -> bool {
        let _g = wiring();
        self.source.target().is_some_and(|(_, info)| info.id == self.id)
    }

    pub(crate) fn source_node(&self) -> &Arc<dyn ErasedNode> {
        &self.source
    }
}

impl fmt::Display for Linkage {
    /// Axon's `linkage.__str__`: `Link( source:[name,box], sink:[name,box] )`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s, d) = (self.source.meta(), self.sink.meta());
        write!(f, "Link( source:[{},{}], sink:[{},{}] )", s.owner.name, s.name, d.owner.name, d.name)
    }
}

impl fmt::Debug for Linkage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self} ({:?}, {:?})", self.id, self.passthrough)
    }
}

/// Serialises every change to the wiring graph (see the module docs). Only linking, unlinking and
/// a component's end take it; sends and receives never do.
static WIRING: Mutex<()> = Mutex::new(());
static NEXT_LINK: AtomicU64 = AtomicU64::new(1);

fn next_link_id() -> LinkId {
    LinkId(NEXT_LINK.fetch_add(1, Ordering::Relaxed))
}

pub(crate) fn wiring() -> std::sync::MutexGuard<'static, ()> {
    lock(&WIRING)
}

/// Everything a linkage must satisfy, checked before anything changes (the caller holds the
/// wiring lock).
fn validate(source: &Arc<dyn ErasedNode>, sink: &Arc<dyn ErasedNode>, options: LinkOptions) -> Result<(), LinkError> {
    let (sm, dm) = (source.meta(), sink.meta());
    let (sk, dk) = options.passthrough.kinds();
    if sm.kind != sk || dm.kind != dk {
        return Err(LinkError::BadPassthrough {
            passthrough: options.passthrough,
            source_box: sm.label(),
            sink: dm.label(),
        });
    }
    if source.message_type() != sink.message_type() {
        return Err(LinkError::TypeMismatch {
            source_box: sm.label(),
            source_type: source.type_name(),
            sink: dm.label(),
            sink_type: sink.type_name(),
        });
    }
    if source.is_linked_onward() {
        let existing = source.target().map_or_else(String::new, |(existing, _)| existing.meta().label());
        return Err(LinkError::AlreadyLinked { source_box: sm.label(), existing, requested: dm.label() });
    }
    // Walking on from the sink must not come back to the source. From an inbox the walk only
    // meets inboxes (only an `Inbound` linkage leaves an inbox, and it ends in an inbox), so an
    // outbox linked to an inbox (`Normal`, the usual case) can close no loop.
    if sm.kind == BoxKind::Outbox && dm.kind == BoxKind::Inbox {
        return Ok(());
    }
    let mut next = Some(sink.clone());
    while let Some(n) = next {
        if Arc::ptr_eq(&n, source) {
            return Err(LinkError::Cycle { source_box: sm.label(), sink: dm.label() });
        }
        next = n.target().map(|(t, _)| t);
    }
    Ok(())
}

/// Checks that a linkage could be made now, without making it: both boxes exist with the right
/// kinds, carry the same type, the source is free and no loop would form. Chassis use it to
/// report every bad linkage of a declaration when it is built.
pub fn check<'a>(
    from: impl Into<Endpoint<'a>>,
    to: impl Into<Endpoint<'a>>,
    options: LinkOptions,
) -> Result<(), LinkError> {
    let (from, to) = (from.into(), to.into());
    let (sk, dk) = options.passthrough.kinds();
    let source = from.component.find_box(sk, from.name)?;
    let sink = to.component.find_box(dk, to.name)?;
    let _g = wiring();
    validate(&source, &sink, options)
}

/// Makes a linkage between two box nodes. `owner` is the component the linkage belongs to.
pub(crate) fn link_nodes(
    owner: Option<&ComponentRef>,
    source: Arc<dyn ErasedNode>,
    sink: Arc<dyn ErasedNode>,
    options: LinkOptions,
) -> Result<Linkage, LinkError> {
    let guard = wiring();
    let linkage = link_locked(owner, source, sink, options)?;
    drop(guard);
    if let Some(o) = owner {
        o.record_owned_link(linkage.clone());
    }
    Ok(linkage)
}

/// Makes one linkage; the caller holds the wiring lock and records the linkage with its owner.
fn link_locked(
    owner: Option<&ComponentRef>,
    source: Arc<dyn ErasedNode>,
    sink: Arc<dyn ErasedNode>,
    options: LinkOptions,
) -> Result<Linkage, LinkError> {
    let mut linkage = Linkage { id: LinkId(0), source, sink, passthrough: options.passthrough };
    make_in_place(owner, &mut linkage, options, next_link_id())?;
    Ok(linkage)
}

/// Makes `linkage` (its boxes found, its id not yet given) in the graph, as `id`; the caller
/// holds the wiring lock.
fn make_in_place(
    owner: Option<&ComponentRef>,
    linkage: &mut Linkage,
    options: LinkOptions,
    id: LinkId,
) -> Result<(), LinkError> {
    validate(&linkage.source, &linkage.sink, options)?;
    if let Some(width) = options.pipewidth {
        linkage.sink.set_capacity(Some(width));
    }
    linkage.id = id;
    linkage.source.clone().link_to(linkage.sink.clone(), LinkInfo { id, owner: owner.map(|o| o.id()) });
    log::trace!("linked {linkage}");
    Ok(())
}

/// Makes several normal (outbox → inbox) linkages, all belonging to `owner`, under one
/// acquisition of the wiring lock: all of them, or none (if one cannot be made, those made before
/// it are removed again and its error returned). The linkages are recorded with the owner.
pub(crate) fn link_all<'a, F, T>(owner: &ComponentRef, links: impl IntoIterator<Item = (F, T)>) -> Result<(), LinkError>
where
    F: Into<Endpoint<'a>>,
    T: Into<Endpoint<'a>>,
{
    let options = LinkOptions::default();
    let (sk, dk) = options.passthrough.kinds();
    // The boxes are found first, outside the wiring lock (which every thread's wiring takes):
    // finding a box by name looks at each box before it. They go straight into the linkages to
    // be (without ids yet), the list recorded with the owner once they are made.
    let links = links.into_iter();
    let mut made: Vec<Linkage> = Vec::with_capacity(links.size_hint().0);
    for (from, to) in links {
        let (from, to) = (from.into(), to.into());
        let (source, sink) = (from.component.find_box(sk, from.name)?, to.component.find_box(dk, to.name)?);
        made.push(Linkage { id: LinkId(0), source, sink, passthrough: options.passthrough });
    }
    let guard = wiring();
    // Ids for the whole batch at once (the counter is shared by every thread), under the wiring
    // lock as every id is taken: ids follow the order linkages are made in.
    let first = NEXT_LINK.fetch_add(made.len() as u64, Ordering::Relaxed);
    for n in 0..made.len() {
        if let Err(e) = make_in_place(Some(owner), &mut made[n], options, LinkId(first + n as u64)) {
            for l in made[..n].iter().rev() {
                unlink_locked(&l.source, l.id);
            }
            drop(guard);
            return Err(e);
        }
    }
    drop(guard);
    owner.record_owned_links(made);
    Ok(())
}

/// Removes `linkage` if it is still in place; an unknown or already removed one is ignored, as in
/// Axon.
pub(crate) fn unlink(linkage: &Linkage) {
    let _g = wiring();
    unlink_locked(&linkage.source, linkage.id);
}

/// Removes every one of `linkages` still in place, under one acquisition of the wiring lock.
pub(crate) fn unlink_all(linkages: &[Linkage]) {
    if linkages.is_empty() {
        return;
    }
    let _g = wiring();
    for l in linkages {
        unlink_locked(&l.source, l.id);
    }
}

pub(crate) fn unlink_locked(source: &Arc<dyn ErasedNode>, id: LinkId) {
    source.clone().unlink_target_if(id);
}

// ----- graph operations on typed nodes; the caller holds the wiring lock -----

pub(crate) fn graph_link<T: Send + 'static>(src: &Arc<Node<T>>, dst: &Arc<Node<T>>, info: LinkInfo) {
    let new_sink = {
        let mut w = lock(&dst.wiring);
        push_small(&mut w.sources, Arc::downgrade(src));
        w.resolved(dst)
    };
    retarget(src, new_sink, Some((dst.clone(), info)));
}

/// Removes the linkage out of `src`, if there is one and (when `only` is given) it is that one.
pub(crate) fn graph_unlink<T: Send + 'static>(src: &Arc<Node<T>>, only: Option<LinkId>) -> Option<LinkInfo> {
    let (dst, info) = {
        let mut w = lock(&src.wiring);
        match &w.target {
            Some((_, info)) if only.is_none_or(|id| id == info.id) => w.target.take()?,
            _ => return None,
        }
    };
    lock(&dst.wiring).sources.retain(|w| !std::ptr::eq(w.as_ptr(), Arc::as_ptr(src)));
    let new_sink = src.own.is_some().then(|| src.clone());
    retarget(src, new_sink, None);
    Some(info)
}

pub(crate) fn graph_retire<T: Send + 'static>(node: &Node<T>) -> Option<Box<dyn std::any::Any + Send>> {
    match &node.own {
        Some(q) => {
            // Only what it held needs dropping later, outside the locks (an empty queue has no
            // message whose `Drop` could run user code).
            let held = q.kill();
            (!held.is_empty()).then(|| Box::new(held) as Box<dyn std::any::Any + Send>)
        }
        None => {
            if node.meta.producing.swap(false, Ordering::AcqRel) {
                // An outbox is never the end of its own chain: its end is the wiring's sink.
                let sink = lock(&node.wiring).sink.clone();
                if let Some(s) = sink {
                    s.queue().add_senders(&s.meta.owner, -1);
                }
            }
            None
        }
    }
}

/// Where a box links to next, and the linkage that says so.
type Target<T> = (Arc<Node<T>>, LinkInfo);

/// Points `node` and everything upstream of it at `new_sink`; with `target`, first sets where
/// `node` itself links to (in the same critical section).
fn retarget<T: Send + 'static>(node: &Arc<Node<T>>, new_sink: Option<Arc<Node<T>>>, target: Option<Target<T>>) {
    let same = |a: &Option<Arc<Node<T>>>, b: &Option<Arc<Node<T>>>| match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    };
    let (old, sources) = {
        let mut w = lock(&node.wiring);
        if let Some(t) = target {
            w.target = Some(t);
        }
        let old = w.resolved(node);
        if new_sink.as_ref().is_some_and(|s| Arc::ptr_eq(s, node)) {
            node.meta.self_sink.store(true, Ordering::Release);
            w.sink = None;
        } else {
            node.meta.self_sink.store(false, Ordering::Release);
            w.sink = new_sink.clone();
        }
        let sources: Vec<_> = w.sources.iter().filter_map(|s| s.upgrade()).collect();
        (old, sources)
    };
    if same(&old, &new_sink) {
        return;
    }
    node.meta.generation.fetch_add(1, Ordering::AcqRel);
    // An inbox that stops being the end of its chain passes on what it holds, and forwards
    // whatever a sender with a stale destination still pushes into it. This happens before the
    // upstream boxes are re-pointed, so what it held arrives ahead of anything sent later.
    let becomes_end = node.own.is_some() && new_sink.as_ref().is_some_and(|n| Arc::ptr_eq(n, node));
    if let (Some(q), false) = (&node.own, becomes_end) {
        drop(q.redirect(new_sink.clone()));
    }
    let producing = node.meta.producing.load(Ordering::Acquire);
    if producing {
        if let Some(n) = &new_sink {
            n.queue().add_senders(&n.meta.owner, 1);
        }
    }
    if let Some(o) = &old {
        // One visit to the old end: it loses a sender (if this box was one), and its waiting
        // senders re-resolve where their messages go.
        o.queue().leave(&o.meta.owner, producing);
    }
    for s in sources {
        retarget(&s, new_sink.clone(), None);
    }
    // An inbox that becomes the end of its chain again stops forwarding only now, once the boxes
    // upstream count as its senders: its receiver never sees it closed in between.
    if let (Some(q), true) = (&node.own, becomes_end) {
        drop(q.redirect(None));
    }
}

/// Pushes onto a list that is usually short and lives as long as a box or a component (a box's
/// sources, the linkages a component owns): grown one element at a time while it is short, rather than
/// to four (or double) at once, so that the common one or two cost no more than they need.
pub(crate) fn push_small<T>(list: &mut Vec<T>, item: T) {
    const SHORT: usize = 16;
    if list.len() == list.capacity() && list.len() < SHORT {
        list.reserve_exact(1);
    }
    list.push(item);
}
