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

use std::sync::Arc;

use crate::component_ref::ComponentRef;
use crate::error::LinkError;
pub use crate::kinds::Passthrough;
use crate::link;
pub use crate::link::{LinkOptions, Linkage};
use crate::node::ErasedNode;
pub use crate::node::LinkId;

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
    link::check_nodes(&source, &sink, options)
}

/// Links `from` to `to` by name, the linkage belonging to `owner` (if any): what
/// [`Context::link_with`](crate::Context::link_with) and
/// [`Scheduler::link_with`](crate::Scheduler::link_with) do.
pub(crate) fn link_endpoints(
    owner: Option<&ComponentRef>,
    from: Endpoint<'_>,
    to: Endpoint<'_>,
    options: LinkOptions,
) -> Result<Linkage, LinkError> {
    let (sk, dk) = options.passthrough.kinds();
    let source = from.component.find_box(sk, from.name)?;
    let sink = to.component.find_box(dk, to.name)?;
    link_nodes(owner, source, sink, options)
}

/// Makes a linkage between two box nodes. `owner` is the component the linkage belongs to, and
/// records it.
pub(crate) fn link_nodes(
    owner: Option<&ComponentRef>,
    source: Arc<dyn ErasedNode>,
    sink: Arc<dyn ErasedNode>,
    options: LinkOptions,
) -> Result<Linkage, LinkError> {
    let linkage = link::link_nodes(owner.map(ComponentRef::id), source, sink, options)?;
    if let Some(o) = owner {
        o.record_owned_link(linkage.clone());
    }
    Ok(linkage)
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
        made.push(Linkage::unmade(source, sink, options.passthrough));
    }
    link::make_all(owner.id(), &mut made, options)?;
    owner.record_owned_links(made);
    Ok(())
}
