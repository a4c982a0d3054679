//! A box as the wiring graph holds it: a [`Node`] with its metadata, its storage (inboxes only)
//! and its links, seen by name and type-erased through [`ErasedNode`].
//!
//! Every box of every component is one node. A node links onward to at most one node (its
//! *target*) and is linked into by any number (its *sources*); each caches the inbox at the end
//! of its chain (its *sink*), so that a send is one push into that inbox's queue whatever
//! passthroughs lie between (see [`crate::linkage`] for the rules). The graph operations at the
//! end of this module keep those caches right as links are made and removed; the caller holds
//! the one wiring lock while they run (`link.rs` takes it).

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};

use crate::id::ComponentId;
use crate::identity::Identity;
use crate::kinds::{BoxKind, BoxName};
use crate::notifier::Notifier;
use crate::queue::{ChainEnd, Push, Queue, DEFAULT_CAPACITY};
use crate::sync::lock;

/// Identifies one linkage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkId(pub(crate) u64);

/// What the graph remembers about a linkage, in its source box. (Its kind is not stored: the
/// kinds of the two boxes say it, see [`Passthrough::between`](crate::kinds::Passthrough::between).
/// Every box that is linked holds one of these, so it is kept to 16 bytes.)
#[derive(Debug, Clone)]
pub(crate) struct LinkInfo {
    pub(crate) id: LinkId,
    pub(crate) owner: Option<ComponentId>,
}

/// A new box carrying `T`, belonging to the component `owner` is.
pub(crate) fn make_node<T: Send + 'static>(
    owner: &Arc<Identity>,
    name: BoxName,
    kind: BoxKind,
    description: Cow<'static, str>,
    capacity: Option<usize>,
) -> Arc<Node<T>> {
    let meta = NodeMeta::new(owner.clone(), name, kind, description);
    Node::<T>::new(meta, capacity)
}

/// What every box knows about itself.
pub(crate) struct NodeMeta {
    pub(crate) owner: Arc<Identity>,
    pub(crate) name: BoxName,
    pub(crate) kind: BoxKind,
    pub(crate) description: Cow<'static, str>,
    /// Outboxes: true while the owner lives (a live outbox counts as a sender of its destination).
    pub(crate) producing: AtomicBool,
    /// True once a handle has been made for this box.
    pub(crate) taken: AtomicBool,
    // The last three are the node's, not metadata; they live here because they fit in what would
    // be this struct's padding, which makes every box 16 bytes smaller (a node is allocated for
    // every box of every component).
    /// True when the end of the chain is this box itself (an inbox with no onward linkage).
    /// Changed only under the node's wiring lock.
    pub(crate) self_sink: AtomicBool,
    /// Bumped whenever the wiring's `sink` changes, so outbox handles can cache the sink cheaply.
    pub(crate) generation: AtomicU32,
    /// True once the box has been deleted ([`Context::delete_box`](crate::Context::delete_box)).
    pub(crate) deleted: AtomicBool,
}

impl NodeMeta {
    pub(crate) fn new(owner: Arc<Identity>, name: BoxName, kind: BoxKind, description: Cow<'static, str>) -> Self {
        Self {
            owner,
            name,
            kind,
            description,
            producing: AtomicBool::new(kind == BoxKind::Outbox),
            taken: AtomicBool::new(false),
            // An inbox is the end of its own chain until linked onward; an outbox has no end
            // until linked.
            self_sink: AtomicBool::new(kind == BoxKind::Inbox),
            generation: AtomicU32::new(0),
            deleted: AtomicBool::new(false),
        }
    }

    /// `component_name.box_name`
    pub(crate) fn label(&self) -> String {
        format!("{}.{}", self.owner.name, self.name)
    }
}

/// A box in the wiring graph. See [`crate::linkage`] for how linkages change it, and the graph
/// operations at the end of this module.
pub(crate) struct Node<T> {
    pub(crate) meta: NodeMeta,
    /// The box's own storage (inboxes only).
    pub(crate) own: Option<Box<Queue<T, Node<T>>>>,
    pub(crate) wiring: Mutex<Wiring<T>>,
}

pub(crate) struct Wiring<T> {
    /// Where this box's messages go next, and the linkage that says so.
    pub(crate) target: Option<(Arc<Node<T>>, LinkInfo)>,
    /// Boxes linked into this one.
    pub(crate) sources: Vec<Weak<Node<T>>>,
    /// The inbox at the end of the chain (resolved when linkages change), when it is another box
    /// (when it is the box itself, `meta.self_sink` says so).
    pub(crate) sink: Option<Arc<Node<T>>>,
}

impl<T> Wiring<T> {
    /// The end of `node`'s chain; `self` is `node`'s wiring, locked. (A node does not keep a
    /// reference to itself, weak or strong, for when it is its own end: the caller's is used.)
    pub(crate) fn resolved(&self, node: &Arc<Node<T>>) -> Option<Arc<Node<T>>> {
        if node.meta.self_sink.load(Ordering::Acquire) {
            Some(node.clone())
        } else {
            self.sink.clone()
        }
    }
}

impl<T: Send + 'static> Node<T> {
    pub(crate) fn new(meta: NodeMeta, capacity: Option<usize>) -> Arc<Self> {
        let own = (meta.kind == BoxKind::Inbox).then(|| Box::new(Queue::new(capacity)));
        Arc::new(Node { meta, own, wiring: Mutex::new(Wiring { target: None, sources: Vec::new(), sink: None }) })
    }

    /// Makes a box of this message type (what a declaration keeps, to make one later).
    pub(crate) fn make(meta: NodeMeta, capacity: Option<usize>) -> Arc<dyn ErasedNode> {
        Node::<T>::new(meta, capacity)
    }

    pub(crate) fn queue(&self) -> &Queue<T, Node<T>> {
        self.own.as_ref().expect("only inboxes have storage")
    }

    pub(crate) fn sink(self: &Arc<Self>) -> Option<Arc<Node<T>>> {
        lock(&self.wiring).resolved(self)
    }
}

/// The type-erased face of a [`Node`], used where boxes are handled by name.
pub(crate) trait ErasedNode: Any + Send + Sync {
    fn meta(&self) -> &NodeMeta;
    fn message_type(&self) -> TypeId;
    /// The name of the message type (for errors and introspection).
    fn type_name(&self) -> &'static str;
    fn depth(&self) -> usize;
    fn capacity(&self) -> Option<usize>;
    fn set_capacity(&self, capacity: Option<usize>);
    fn target(&self) -> Option<(Arc<dyn ErasedNode>, LinkInfo)>;
    /// True if this box links onward (cheaper than [`target`](Self::target)).
    fn is_linked_onward(&self) -> bool;
    /// The other ends of linkages into this box.
    fn sources(&self) -> Vec<Arc<dyn ErasedNode>>;
    /// A new, unlinked box of the same message type.
    fn new_like(
        &self,
        owner: &Arc<Identity>,
        name: BoxName,
        kind: BoxKind,
        description: Cow<'static, str>,
    ) -> Arc<dyn ErasedNode>;
    /// Graph operations, called with the wiring lock held (see `linkage`).
    fn link_to(self: Arc<Self>, sink: Arc<dyn ErasedNode>, info: LinkInfo);
    fn unlink_target(self: Arc<Self>) -> Option<LinkInfo>;
    /// Removes the linkage out of this box if it is the linkage `id`.
    fn unlink_target_if(self: Arc<Self>, id: LinkId);
    /// The owner ended: an inbox discards from now on; an outbox stops counting as a sender.
    /// Returns what the inbox held, for the caller to drop once it has released its locks.
    fn retire(&self) -> Option<Box<dyn Any + Send>>;
    /// Puts an already-boxed message into this box (dynamic delivery; `msg` must be a `T`).
    fn deliver_any(&self, msg: Box<dyn Any + Send>) -> Result<(), Box<dyn Any + Send>>;
}

impl<T: Send + 'static> ErasedNode for Node<T> {
    fn meta(&self) -> &NodeMeta {
        &self.meta
    }

    fn message_type(&self) -> TypeId {
        TypeId::of::<T>()
    }

    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }

    fn depth(&self) -> usize {
        self.own.as_ref().map_or(0, |q| q.len())
    }

    fn capacity(&self) -> Option<usize> {
        self.own.as_ref().and_then(|q| q.capacity())
    }

    fn set_capacity(&self, capacity: Option<usize>) {
        if let Some(q) = &self.own {
            q.set_capacity(capacity);
        }
    }

    fn target(&self) -> Option<(Arc<dyn ErasedNode>, LinkInfo)> {
        lock(&self.wiring).target.as_ref().map(|(n, i)| (n.clone() as Arc<dyn ErasedNode>, i.clone()))
    }

    fn is_linked_onward(&self) -> bool {
        lock(&self.wiring).target.is_some()
    }

    fn sources(&self) -> Vec<Arc<dyn ErasedNode>> {
        lock(&self.wiring).sources.iter().filter_map(|w| w.upgrade()).map(|n| n as Arc<dyn ErasedNode>).collect()
    }

    fn new_like(
        &self,
        owner: &Arc<Identity>,
        name: BoxName,
        kind: BoxKind,
        description: Cow<'static, str>,
    ) -> Arc<dyn ErasedNode> {
        make_node::<T>(owner, name, kind, description, (kind == BoxKind::Inbox).then_some(DEFAULT_CAPACITY))
    }

    fn link_to(self: Arc<Self>, sink: Arc<dyn ErasedNode>, info: LinkInfo) {
        let sink: Arc<Node<T>> = (sink as Arc<dyn Any + Send + Sync>)
            .downcast()
            .unwrap_or_else(|_| unreachable!("message types are checked before linking"));
        graph_link(&self, &sink, info);
    }

    fn unlink_target(self: Arc<Self>) -> Option<LinkInfo> {
        graph_unlink(&self, None)
    }

    fn unlink_target_if(self: Arc<Self>, id: LinkId) {
        graph_unlink(&self, Some(id));
    }

    fn retire(&self) -> Option<Box<dyn Any + Send>> {
        graph_retire(self)
    }

    fn deliver_any(&self, msg: Box<dyn Any + Send>) -> Result<(), Box<dyn Any + Send>> {
        let msg: Box<T> = msg.downcast()?;
        // The end of the chain: this box itself, another, or none (an unlinked outbox).
        let sink = {
            let w = lock(&self.wiring);
            if self.meta.self_sink.load(Ordering::Acquire) {
                None
            } else {
                match &w.sink {
                    Some(sink) => Some(sink.clone()),
                    None => return Ok(()),
                }
            }
        };
        let end = sink.as_deref().unwrap_or(self);
        if let Push::Full(m) = end.queue().push(&end.meta.owner.notifier, *msg) {
            return Err(Box::new(m));
        }
        Ok(())
    }
}

impl<T> ChainEnd<T> for Node<T> {
    fn queue(&self) -> &Queue<T, Self> {
        self.own.as_ref().expect("only inboxes have storage")
    }

    fn doorbell(&self) -> &Notifier {
        &self.meta.owner.notifier
    }
}

/// Checks out the handle of `node` (each box has at most one).
pub(crate) fn take_handle(node: &NodeMeta) -> bool {
    !node.taken.swap(true, Ordering::AcqRel)
}

// ----- graph operations on typed nodes; the caller holds the wiring lock (see `link`) -----

fn graph_link<T: Send + 'static>(src: &Arc<Node<T>>, dst: &Arc<Node<T>>, info: LinkInfo) {
    let new_sink = {
        let mut w = lock(&dst.wiring);
        push_small(&mut w.sources, Arc::downgrade(src));
        w.resolved(dst)
    };
    retarget(src, new_sink, Some((dst.clone(), info)));
}

/// Removes the linkage out of `src`, if there is one and (when `only` is given) it is that one.
fn graph_unlink<T: Send + 'static>(src: &Arc<Node<T>>, only: Option<LinkId>) -> Option<LinkInfo> {
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

fn graph_retire<T: Send + 'static>(node: &Node<T>) -> Option<Box<dyn std::any::Any + Send>> {
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
                    s.queue().add_senders(&s.meta.owner.notifier, -1);
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
            n.queue().add_senders(&n.meta.owner.notifier, 1);
        }
    }
    if let Some(o) = &old {
        // One visit to the old end: it loses a sender (if this box was one), and its waiting
        // senders re-resolve where their messages go.
        o.queue().leave(&o.meta.owner.notifier, producing);
    }
    for s in sources {
        retarget(&s, new_sink.clone(), None);
    }
    // An inbox whose senders came and went before it was passed on (a Pipeline whose upstream
    // ended before the Pipeline linked its inbox to its first child) hands that on: the new end
    // of the chain closes as this inbox would have, instead of waiting for a sender that will
    // never come. Only now, once the live boxes upstream count as the new end's senders, so that
    // its receiver never sees it closed in between.
    if let (Some(q), false, Some(n)) = (&node.own, becomes_end, &new_sink) {
        if q.was_linked() {
            n.queue().note_linked(&n.meta.owner.notifier);
        }
    }
    // An inbox that becomes the end of its chain again stops forwarding only now, once the boxes
    // upstream count as its senders: its receiver never sees it closed in between.
    if let (Some(q), true) = (&node.own, becomes_end) {
        drop(q.redirect(None));
    }
}

/// Pushes onto a list that is usually short and lives as long as a box or a component (a box's
/// sources, the linkages a component owns): grown one element at a time while it is short, rather
/// than to four (or double) at once, so that the common one or two cost no more than they need.
pub(crate) fn push_small<T>(list: &mut Vec<T>, item: T) {
    const SHORT: usize = 16;
    if list.len() == list.capacity() && list.len() < SHORT {
        list.reserve_exact(1);
    }
    list.push(item);
}
