//! One linkage as the wiring graph holds it: the [`Linkage`] value, and checking, making and
//! removing it between two box nodes under the one wiring lock.
//!
//! This is the mechanism under [`crate::linkage`], which says what linkages mean and links
//! components' boxes by name. Here a linkage joins two [`ErasedNode`]s, and the only thing known
//! of its owner is the id.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::LinkError;
use crate::id::ComponentId;
use crate::kinds::{BoxKind, Passthrough};
use crate::node::{ErasedNode, LinkId, LinkInfo};
use crate::sync::lock;

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

    /// A linkage to be made between `source` and `sink` (found, not yet checked; no id yet), for
    /// [`make_all`].
    pub(crate) fn unmade(source: Arc<dyn ErasedNode>, sink: Arc<dyn ErasedNode>, passthrough: Passthrough) -> Self {
        Linkage { id: LinkId(0), source, sink, passthrough }
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

/// Serialises every change to the wiring graph (see [`crate::linkage`]). Only linking, unlinking
/// and a component's end take it; sends and receives never do.
static WIRING: Mutex<()> = Mutex::new(());
static NEXT_LINK: AtomicU64 = AtomicU64::new(1);

fn next_link_id() -> LinkId {
    LinkId(NEXT_LINK.fetch_add(1, Ordering::Relaxed))
}

/// Takes the wiring lock: held while the graph changes (and while it is read for a decision that
/// must not race a change).
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

/// Checks that a linkage between `source` and `sink` could be made now, without making it.
pub(crate) fn check_nodes(
    source: &Arc<dyn ErasedNode>,
    sink: &Arc<dyn ErasedNode>,
    options: LinkOptions,
) -> Result<(), LinkError> {
    let _g = wiring();
    validate(source, sink, options)
}

/// Makes a linkage between two box nodes, belonging to the component `owner` (if any). The caller
/// records it with its owner.
pub(crate) fn link_nodes(
    owner: Option<ComponentId>,
    source: Arc<dyn ErasedNode>,
    sink: Arc<dyn ErasedNode>,
    options: LinkOptions,
) -> Result<Linkage, LinkError> {
    let guard = wiring();
    let mut linkage = Linkage::unmade(source, sink, options.passthrough);
    make_in_place(owner, &mut linkage, options, next_link_id())?;
    drop(guard);
    Ok(linkage)
}

/// Makes `linkage` (its boxes found, its id not yet given) in the graph, as `id`; the caller
/// holds the wiring lock.
fn make_in_place(
    owner: Option<ComponentId>,
    linkage: &mut Linkage,
    options: LinkOptions,
    id: LinkId,
) -> Result<(), LinkError> {
    validate(&linkage.source, &linkage.sink, options)?;
    if let Some(width) = options.pipewidth {
        linkage.sink.set_capacity(Some(width));
    }
    linkage.id = id;
    linkage.source.clone().link_to(linkage.sink.clone(), LinkInfo { id, owner });
    log::trace!("linked {linkage}");
    Ok(())
}

/// Makes every one of `made` ([`Linkage::unmade`], all of kind `options`), belonging to `owner`,
/// under one acquisition of the wiring lock: all of them, or none (if one cannot be made, those
/// made before it are removed again and its error returned).
pub(crate) fn make_all(owner: ComponentId, made: &mut [Linkage], options: LinkOptions) -> Result<(), LinkError> {
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

/// Removes the linkage `id` out of `source`, if it is still there; the caller holds the wiring
/// lock.
pub(crate) fn unlink_locked(source: &Arc<dyn ErasedNode>, id: LinkId) {
    source.clone().unlink_target_if(id);
}
