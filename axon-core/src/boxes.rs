//! Inboxes and outboxes: declaring them, and the handles a component body uses.
//!
//! Every component has four standard boxes (Axon's defaults, with Axon's descriptions):
//!
//! | box       | kind   | carries                 | description |
//! |-----------|--------|-------------------------|-------------|
//! | `inbox`   | inbox  | `Component::Inbox`      | "Default inbox for bulk data. Used in a pipeline much like stdin" |
//! | `control` | inbox  | [`Ipc`]                 | "Secondary inbox often used for signals. The closest analogy is unix signals" |
//! | `outbox`  | outbox | `Component::Outbox`     | "Default data out outbox, used in a pipeline much like stdout" |
//! | `signal`  | outbox | [`Ipc`]                 | "The default signal based outbox - kinda like stderr, but more for sending singal type signals" |
//!
//! A component declares more in [`Component::declare`](crate::Component::declare) with
//! [`Declarations::inbox`] / [`Declarations::outbox`], each with a message type and a
//! description (Axon's `Inboxes`/`Outboxes` dicts), and takes their handles in its body with
//! [`Context::take_inbox`](crate::Context::take_inbox) / [`Context::take_outbox`](crate::Context::take_outbox).
//!
//! Every inbox is bounded: [`DEFAULT_CAPACITY`] unless declared otherwise or changed with
//! [`Inbox::set_capacity`] or a linkage's `pipewidth`.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::fmt;
use std::future::{poll_fn, Future};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use crate::block_on::{block_on, block_on_deadline};
use crate::error::{NoSpaceInBox, RecvTimeoutError, TryRecvError};
use crate::identity::Identity;
use crate::ipc::Ipc;
pub use crate::kinds::{BoxKind, BoxName};
use crate::linkage::{LinkId, LinkInfo};
use crate::queue::{Pop, Push, Queue};
use crate::sync::lock;

/// How many messages an inbox holds before senders must wait, unless declared otherwise.
///
/// When an inbox is full, [`Outbox::send`] waits until the receiver collects a message and
/// [`Outbox::try_send`] returns [`NoSpaceInBox`] with the message. 64 matches kameo's default
/// mailbox; it is large enough for a pass-through chain to batch its work and small enough that
/// a slow consumer holds back its producer quickly. Queues allocate as they fill, so an inbox
/// that has never held a message costs no buffer at all, and one that has can give its buffer
/// back with [`Inbox::shrink_to_fit`].
pub const DEFAULT_CAPACITY: usize = 64;

/// How many messages an inbox's storage first has room for (for messages of up to 1 KiB: a
/// `VecDeque`'s first allocation). A component that waits between short bursts (a keep-alive
/// connection between requests) calls [`Inbox::shrink_to`] with this, so that a large burst's
/// storage is given back but the next small burst allocates none.
pub const FIRST_BUFFER_ROOM: usize = 4;

/// Axon's description of the standard `inbox`.
pub const INBOX_DESCRIPTION: &str = "Default inbox for bulk data. Used in a pipeline much like stdin";
/// Axon's description of the standard `control` inbox.
pub const CONTROL_DESCRIPTION: &str = "Secondary inbox often used for signals. The closest analogy is unix signals";
/// Axon's description of the standard `outbox`.
pub const OUTBOX_DESCRIPTION: &str = "Default data out outbox, used in a pipeline much like stdout";
/// Axon's description of the standard `signal` outbox (typo included, as users know it).
pub const SIGNAL_DESCRIPTION: &str =
    "The default signal based outbox - kinda like stderr, but more for sending singal type signals";

type MakeNode = fn(NodeMeta, Option<usize>) -> Arc<dyn ErasedNode>;

/// The largest emptied list of box declarations a thread keeps for its next component.
const SPARE_SPECS_MAX: usize = 16;

thread_local! {
    /// An emptied list of box declarations, kept for the next component this thread makes.
    static SPARE_SPECS: std::cell::Cell<Vec<BoxSpec>> = const { std::cell::Cell::new(Vec::new()) };
}

/// One declared box.
pub(crate) struct BoxSpec {
    pub(crate) name: BoxName,
    pub(crate) kind: BoxKind,
    pub(crate) description: Cow<'static, str>,
    pub(crate) capacity: Option<usize>,
    pub(crate) type_name: &'static str,
    make: Make,
}

/// How to make a declared box: from its static type, or like an existing box (same type).
enum Make {
    Typed(MakeNode),
    Like(Arc<dyn ErasedNode>),
}

/// The boxes a component will have: the four standard ones plus any it declares.
///
/// Passed to [`Component::declare`](crate::Component::declare).
///
/// ```
/// use axon_core::{BoxKind, Declarations};
/// # fn declare(d: &mut Declarations) {
/// d.inbox::<String>("_socketactivity", "Notifications of new connections")
///     .outbox::<u64>("stats", "Running totals, one per second")
///     .describe(BoxKind::Inbox, "inbox", "NOT USED")
///     .capacity("_socketactivity", Some(8));
/// # }
/// ```
pub struct Declarations {
    pub(crate) specs: Vec<BoxSpec>,
    /// Set when the declarations are only looked at to see whether they are the standard four
    /// ([`Declarations::probe_is_standard`]): nothing is recorded then.
    probe: Option<Probe>,
}

/// What a probe keeps: the standard boxes' message types, and whether anything beyond them was
/// asked for.
struct Probe {
    inbox_type: &'static str,
    outbox_type: &'static str,
    standard: bool,
}

impl Probe {
    /// The message type of the standard box of that kind and name, if it is one.
    fn standard_type(&self, kind: BoxKind, name: &str) -> Option<&'static str> {
        match (kind, name) {
            (BoxKind::Inbox, "inbox") => Some(self.inbox_type),
            (BoxKind::Outbox, "outbox") => Some(self.outbox_type),
            (BoxKind::Inbox, "control") | (BoxKind::Outbox, "signal") => Some(std::any::type_name::<Ipc>()),
            _ => None,
        }
    }
}

impl fmt::Debug for Declarations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.specs.iter().map(|s| (s.kind, &s.name, s.type_name))).finish()
    }
}

impl Declarations {
    pub(crate) fn standard<I: Send + 'static, O: Send + 'static>() -> Self {
        // The list of the last component this thread made, emptied, if there is one: one
        // allocation fewer per component.
        let mut specs = SPARE_SPECS.try_with(std::cell::Cell::take).unwrap_or_default();
        specs.reserve(4);
        let mut d = Declarations { specs, probe: None };
        // Four distinct names: no need to check for duplicates.
        d.push_unchecked::<I>(BoxKind::Inbox, Cow::Borrowed("inbox"), Cow::Borrowed(INBOX_DESCRIPTION));
        d.push_unchecked::<Ipc>(BoxKind::Inbox, Cow::Borrowed("control"), Cow::Borrowed(CONTROL_DESCRIPTION));
        d.push_unchecked::<O>(BoxKind::Outbox, Cow::Borrowed("outbox"), Cow::Borrowed(OUTBOX_DESCRIPTION));
        d.push_unchecked::<Ipc>(BoxKind::Outbox, Cow::Borrowed("signal"), Cow::Borrowed(SIGNAL_DESCRIPTION));
        d
    }

    fn push<T: Send + 'static>(&mut self, kind: BoxKind, name: BoxName, description: Cow<'static, str>) {
        if self.probe_beyond() {
            return;
        }
        if self.specs.iter().any(|s| s.kind == kind && s.name == name) {
            panic!("the {} `{name}` is declared twice; box names are unique per kind", kind.word());
        }
        self.push_unchecked::<T>(kind, name, description);
    }

    fn push_unchecked<T: Send + 'static>(&mut self, kind: BoxKind, name: BoxName, description: Cow<'static, str>) {
        self.specs.push(BoxSpec {
            name,
            kind,
            description,
            capacity: (kind == BoxKind::Inbox).then_some(DEFAULT_CAPACITY),
            type_name: std::any::type_name::<T>(),
            make: Make::Typed(Node::<T>::make),
        });
    }

    /// Declares an inbox carrying `T`.
    ///
    /// # Panics
    /// If an inbox of that name is already declared (the standard ones included): a box name is
    /// unique per kind, and this is a programming error caught when the component is made.
    pub fn inbox<T: Send + 'static>(
        &mut self,
        name: impl Into<BoxName>,
        description: impl Into<Cow<'static, str>>,
    ) -> &mut Self {
        self.push::<T>(BoxKind::Inbox, name.into(), description.into());
        self
    }

    /// Declares an outbox carrying `T`. Panics as [`inbox`](Self::inbox) does.
    pub fn outbox<T: Send + 'static>(
        &mut self,
        name: impl Into<BoxName>,
        description: impl Into<Cow<'static, str>>,
    ) -> &mut Self {
        self.push::<T>(BoxKind::Outbox, name.into(), description.into());
        self
    }

    /// Declares a box that carries the same type as `template`'s box `template_name` (and, unless
    /// `description` is given, has its description). This is how a chassis exposes a child's box
    /// as its own, as Kamaelia's Graphline does with `("self", "name")` linkages; the type is
    /// known when the child is made, not when the chassis is written.
    ///
    /// # Errors
    /// [`LinkError::NoSuchBox`](crate::LinkError::NoSuchBox) if the template has no such box.
    ///
    /// # Panics
    /// If a box of that kind and name is already declared.
    pub fn like(
        &mut self,
        kind: BoxKind,
        name: impl Into<BoxName>,
        template: &crate::ComponentRef,
        template_kind: BoxKind,
        template_name: &str,
        description: Option<Cow<'static, str>>,
    ) -> Result<&mut Self, crate::LinkError> {
        if self.probe_beyond() {
            return Ok(self);
        }
        let node = template.find_box(template_kind, template_name)?;
        let name = name.into();
        if self.specs.iter().any(|s| s.kind == kind && s.name == name) {
            panic!("the {} `{name}` is declared twice; box names are unique per kind", kind.word());
        }
        self.specs.push(BoxSpec {
            description: description.unwrap_or_else(|| node.meta().description.clone()),
            name,
            kind,
            capacity: (kind == BoxKind::Inbox).then_some(DEFAULT_CAPACITY),
            type_name: node.type_name(),
            make: Make::Like(node),
        });
        Ok(self)
    }

    /// True if a box of that kind and name is declared.
    pub fn has(&self, kind: BoxKind, name: &str) -> bool {
        if let Some(p) = &self.probe {
            return p.standard_type(kind, name).is_some();
        }
        self.specs.iter().any(|s| s.kind == kind && s.name == name)
    }

    /// The message type's name of a declared box, if declared (for checks before linking).
    pub fn type_name_of(&self, kind: BoxKind, name: &str) -> Option<&'static str> {
        if let Some(p) = &self.probe {
            return p.standard_type(kind, name);
        }
        self.specs.iter().find(|s| s.kind == kind && s.name == name).map(|s| s.type_name)
    }

    /// Replaces the description of a declared box (for instance `"NOT USED"` on a standard box,
    /// as Kamaelia components say of the boxes they ignore).
    ///
    /// # Panics
    /// If no such box is declared.
    pub fn describe(&mut self, kind: BoxKind, name: &str, description: impl Into<Cow<'static, str>>) -> &mut Self {
        if let Some(p) = self.probe.as_mut() {
            // A description changes nothing a host needs; a box that is not one of the four does.
            if p.standard_type(kind, name).is_none() {
                p.standard = false;
            }
            return self;
        }
        self.spec_mut(kind, name).description = description.into();
        self
    }

    /// Sets the capacity of a declared inbox (`None` = unbounded; use sparingly).
    ///
    /// # Panics
    /// If no such inbox is declared.
    pub fn capacity(&mut self, inbox: &str, capacity: Option<usize>) -> &mut Self {
        if let Some(p) = self.probe.as_mut() {
            if capacity != Some(DEFAULT_CAPACITY) || p.standard_type(BoxKind::Inbox, inbox).is_none() {
                p.standard = false;
            }
            return self;
        }
        self.spec_mut(BoxKind::Inbox, inbox).capacity = capacity;
        self
    }

    fn spec_mut(&mut self, kind: BoxKind, name: &str) -> &mut BoxSpec {
        match self.specs.iter_mut().find(|s| s.kind == kind && s.name == name) {
            Some(s) => s,
            None => panic!("no {} named `{name}` is declared", kind.word()),
        }
    }

    /// True if `declare` asks for nothing beyond the standard four boxes at their default
    /// capacities (what a component can be [hosted](crate::Context::host) with). Nothing is
    /// built: a declaration that adds a box, sets a capacity or names a box that is not one of
    /// the four answers `false`, and what would be wrong with it (a name declared twice, a
    /// missing template) is found when the component is made.
    pub(crate) fn probe_is_standard<I: 'static, O: 'static>(declare: impl FnOnce(&mut Declarations)) -> bool {
        let probe =
            Probe { inbox_type: std::any::type_name::<I>(), outbox_type: std::any::type_name::<O>(), standard: true };
        let mut d = Declarations { specs: Vec::new(), probe: Some(probe) };
        declare(&mut d);
        d.probe.is_some_and(|p| p.standard)
    }

    /// In a probe: notes a declaration beyond the standard four; true if this is a probe.
    fn probe_beyond(&mut self) -> bool {
        match self.probe.as_mut() {
            Some(p) => {
                p.standard = false;
                true
            }
            None => false,
        }
    }

    pub(crate) fn build(mut self, owner: &Arc<Identity>) -> Vec<Arc<dyn ErasedNode>> {
        // Not `.collect()`: collecting a `vec::IntoIter` reuses the source allocation in place, and
        // the component would keep the specs' buffer (96 bytes a box) for 16-byte handles all its
        // life: 320 of the bytes of an idle component with the standard four boxes.
        let mut nodes = Vec::with_capacity(self.specs.len());
        nodes.extend(self.specs.drain(..).map(|s| {
            let meta = NodeMeta::new(owner.clone(), s.name, s.kind, s.description);
            match s.make {
                Make::Typed(make) => make(meta, s.capacity),
                Make::Like(template) => template.new_like(&meta.owner, meta.name, meta.kind, meta.description),
            }
        }));
        // The emptied list serves the next component this thread makes (a small one only).
        if self.specs.capacity() <= SPARE_SPECS_MAX {
            let spare = std::mem::take(&mut self.specs);
            // (Not kept if the thread is ending.)
            let _ = SPARE_SPECS.try_with(|c| c.set(spare));
        }
        nodes
    }
}

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
    fn new(owner: Arc<Identity>, name: BoxName, kind: BoxKind, description: Cow<'static, str>) -> Self {
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

/// A box in the wiring graph. See [`crate::linkage`] for how linkages change it.
pub(crate) struct Node<T> {
    pub(crate) meta: NodeMeta,
    /// The box's own storage (inboxes only).
    pub(crate) own: Option<Box<Queue<T>>>,
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

    fn make(meta: NodeMeta, capacity: Option<usize>) -> Arc<dyn ErasedNode> {
        Node::<T>::new(meta, capacity)
    }

    pub(crate) fn queue(&self) -> &Queue<T> {
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
        crate::linkage::graph_link(&self, &sink, info);
    }

    fn unlink_target(self: Arc<Self>) -> Option<LinkInfo> {
        crate::linkage::graph_unlink(&self, None)
    }

    fn unlink_target_if(self: Arc<Self>, id: LinkId) {
        crate::linkage::graph_unlink(&self, Some(id));
    }

    fn retire(&self) -> Option<Box<dyn Any + Send>> {
        crate::linkage::graph_retire(self)
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
        if let Push::Full(m) = end.queue().push(&end.meta.owner, *msg) {
            return Err(Box::new(m));
        }
        Ok(())
    }
}

/// Checks out the handle of `node` (each box has at most one).
pub(crate) fn take_handle(node: &NodeMeta) -> bool {
    !node.taken.swap(true, Ordering::AcqRel)
}

/// The receiving end of an inbox, held by the component that owns it.
///
/// Messages arrive in order (FIFO); from several senders (fan-in) they interleave in the order
/// they were sent. [`recv`](Self::recv) returns `None` once the inbox is *closed*: it is empty,
/// and every outbox that was ever linked to it has gone (its component ended or the linkage was
/// removed), or the owner itself has ended. An inbox that has never been linked never closes, so a
/// component activated before its parent wires it does not see a spurious end. Nor does an inbox
/// passed on to a child (linked onward by a passthrough): it holds nothing while its messages go
/// past it to the end of the chain, but it is not closed, and receives again if the chain is cut.
pub struct Inbox<T> {
    node: Arc<Node<T>>,
}

impl<T> fmt::Debug for Inbox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Inbox({})", self.node.meta.label())
    }
}

impl<T: Send + 'static> Inbox<T> {
    pub(crate) fn from_node(node: Arc<Node<T>>) -> Self {
        Self { node }
    }

    /// A second handle to the same box, for a hosted body (see [`crate::Context::host`]).
    pub(crate) fn lend(&self) -> Self {
        Self { node: self.node.clone() }
    }

    fn q(&self) -> &Queue<T> {
        self.node.queue()
    }

    /// The box's name.
    pub fn name(&self) -> &str {
        &self.node.meta.name
    }

    /// Notes, for the owner's end-of-life report, a shutdown message taken from this box (see
    /// [`Identity::heard`]). Only boxes of [`Ipc`] look: for any other type the test is a
    /// constant, and the call compiles to nothing.
    #[inline]
    fn note(&self, m: &T) {
        if TypeId::of::<T>() == TypeId::of::<Ipc>() {
            if let Some(ipc) = (m as &dyn Any).downcast_ref::<Ipc>() {
                self.node.meta.owner.heard(ipc);
            }
        }
    }

    /// What `f` makes of the oldest message waiting (`None`: none is), without taking it.
    pub(crate) fn peek<R>(&self, f: impl FnOnce(Option<&T>) -> R) -> R {
        self.q().peek(f)
    }

    /// Registers `cx` to be woken by the next delivery, taking nothing; true if a message is
    /// waiting or the inbox is closed.
    pub(crate) fn poll_ready(&self, cx: &mut TaskContext<'_>) -> bool {
        self.q().poll_ready(cx)
    }

    /// Waits for the next message; `None` once the inbox is closed (see the type docs).
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Poll form of [`recv`](Self::recv), for hand-written futures and `select`s.
    pub fn poll_recv(&mut self, cx: &mut TaskContext<'_>) -> Poll<Option<T>> {
        let coop = std::task::ready!(tokio::task::coop::poll_proceed(cx));
        let r = self.poll_take(cx);
        if r.is_ready() {
            coop.made_progress();
        }
        r
    }

    /// [`poll_recv`](Self::poll_recv) without the task's budget: for helpers that take one unit
    /// of budget for a look at several boxes.
    pub(crate) fn poll_take(&mut self, cx: &mut TaskContext<'_>) -> Poll<Option<T>> {
        let r = self.q().poll_pop(cx);
        if let Poll::Ready(Some(m)) = &r {
            self.note(m);
        }
        r
    }

    /// Takes the next message if one is waiting (Axon's `recv`, which raises `IndexError` when
    /// empty).
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        match self.q().pop() {
            Pop::Item(m) => {
                self.note(&m);
                Ok(m)
            }
            Pop::Empty => Err(TryRecvError::Empty),
            Pop::Closed => Err(TryRecvError::Closed),
        }
    }

    /// Blocks the calling thread until a message arrives; for threaded components. Do not call
    /// it from async code (use [`recv`](Self::recv)).
    pub fn recv_blocking(&mut self) -> Option<T> {
        block_on(self.recv())
    }

    /// Blocks the calling thread for at most `timeout`; for threaded components.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        match block_on_deadline(self.recv(), Some(Instant::now() + timeout)) {
            Some(Some(m)) => Ok(m),
            Some(None) => Err(RecvTimeoutError::Closed),
            None => Err(RecvTimeoutError::Timeout),
        }
    }

    /// Waits until a message is waiting or the inbox is closed, without taking anything.
    pub async fn ready(&self) {
        poll_fn(|cx| if self.q().poll_ready(cx) { Poll::Ready(()) } else { Poll::Pending }).await
    }

    /// How many messages are waiting (Axon's `dataReady`, which is a count).
    pub fn data_ready(&self) -> usize {
        self.q().len()
    }

    /// True when nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.data_ready() == 0
    }

    /// True when the inbox is empty and can receive nothing more (see the type docs).
    pub fn is_closed(&self) -> bool {
        self.q().is_closed()
    }

    /// Takes everything waiting now (Axon's `Inbox(box)` generator).
    pub fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        std::iter::from_fn(move || self.try_recv().ok())
    }

    /// The capacity (`None` = unbounded).
    pub fn capacity(&self) -> Option<usize> {
        self.q().capacity()
    }

    /// Changes the capacity (Axon's `setInboxSize` / `setSize`); `None` makes it unbounded.
    /// Senders waiting for space re-check at once. Shrinking below the current depth keeps what is
    /// there; senders wait until the depth is below the new capacity.
    pub fn set_capacity(&self, capacity: Option<usize>) {
        self.q().set_capacity(capacity)
    }

    /// True when at capacity.
    pub fn is_full(&self) -> bool {
        self.q().is_full()
    }

    /// Gives back the memory this inbox kept from earlier messages: all of it if none is
    /// waiting, else what is beyond the messages waiting. An inbox's storage grows as messages
    /// queue up and keeps that size when they have been taken (a busy inbox so allocates once,
    /// not for every burst); a component about to wait for a long time (an idle connection)
    /// calls this so that waiting costs no buffer. The capacity (the limit) is unchanged.
    pub fn shrink_to_fit(&self) {
        self.q().shrink_to(0)
    }

    /// Like [`shrink_to_fit`](Self::shrink_to_fit), but keeps room for `keep` messages: a
    /// component that waits between short bursts (a keep-alive connection between requests)
    /// so gives back what a large burst made its inbox grow to without allocating again for
    /// the next small one. A buffer no larger than that is left as it is.
    ///
    /// ```
    /// # use axon_core::prelude::*;
    /// # fn f(ctx: &Context<u32, ()>) {
    /// // Between requests: no more buffer kept than the first allocation.
    /// ctx.inbox.shrink_to(axon_core::FIRST_BUFFER_ROOM);
    /// # }
    /// ```
    pub fn shrink_to(&self, keep: usize) {
        self.q().shrink_to(keep)
    }
}

/// The sending end of an outbox, held by the component that owns it.
///
/// Sending puts the message straight into the inbox at the end of the linkage chain (one hop, no
/// copy, whatever passthroughs lie between). An outbox that is not linked discards what it is
/// sent, as in Axon, and so does one whose destination's component has ended.
pub struct Outbox<T> {
    node: Arc<Node<T>>,
    seen: u32,
    sink: Option<Arc<Node<T>>>,
}

impl<T> fmt::Debug for Outbox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Outbox({})", self.node.meta.label())
    }
}

impl<T: Send + 'static> Outbox<T> {
    pub(crate) fn from_node(node: Arc<Node<T>>) -> Self {
        // Resolved at the first use (`seen` matches no generation yet).
        Self { node, seen: u32::MAX, sink: None }
    }

    /// A second handle to the same box, with the same cached destination, for a hosted body
    /// (see [`crate::Context::host`]).
    pub(crate) fn lend(&self) -> Self {
        Self { node: self.node.clone(), seen: self.seen, sink: self.sink.clone() }
    }

    #[inline]
    fn refresh(&mut self) -> Option<&Arc<Node<T>>> {
        let g = self.node.meta.generation.load(Ordering::Acquire);
        if g != self.seen {
            // Read the generation before the sink: a change racing with this read bumps the
            // generation again and the next send refreshes once more.
            self.sink = self.node.sink();
            self.seen = g;
        }
        self.sink.as_ref()
    }

    /// The box's name.
    pub fn name(&self) -> &str {
        &self.node.meta.name
    }

    /// Sends `msg`, waiting while the destination is full (the async form of Axon's "catch
    /// `noSpaceInBox`, pause, retry"). Discards it if the outbox is not linked or the destination
    /// has ended.
    ///
    /// (Not an `async fn`: that would store the message twice in the future, as the argument and
    /// as the slot; this future is the outbox and the slot, and is part of the future of every
    /// component that awaits it.)
    pub fn send(&mut self, msg: T) -> impl Future<Output = ()> + Send + '_ {
        let mut slot = Some(msg);
        poll_fn(move |cx| self.poll_send(&mut slot, cx))
    }

    pub(crate) fn poll_send(&mut self, slot: &mut Option<T>, cx: &mut TaskContext<'_>) -> Poll<()> {
        let coop = std::task::ready!(tokio::task::coop::poll_proceed(cx));
        let Some(sink) = self.refresh() else {
            log::trace!("{}: not linked; message discarded", self.node.meta.label());
            slot.take();
            // Counts against the task's budget like a delivery: a loop sending into an unlinked
            // outbox still yields to other tasks now and then instead of spinning for ever.
            coop.made_progress();
            return Poll::Ready(());
        };
        match sink.queue().poll_push(&sink.meta.owner, slot, cx) {
            Poll::Ready(_) => {
                coop.made_progress();
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }

    /// Sends `msg` if there is room now; otherwise gives it back inside [`NoSpaceInBox`]
    /// (Axon's `send`, which raises `noSpaceInBox`).
    pub fn try_send(&mut self, msg: T) -> Result<(), NoSpaceInBox<T>> {
        let Some(sink) = self.refresh() else { return Ok(()) };
        match sink.queue().push(&sink.meta.owner, msg) {
            Push::Delivered | Push::Discarded(_) => Ok(()),
            Push::Full(message) => Err(NoSpaceInBox {
                message,
                destination: sink.meta.label(),
                capacity: sink.queue().capacity().unwrap_or(usize::MAX),
            }),
        }
    }

    /// Blocks the calling thread until `msg` is delivered; for threaded components.
    pub fn send_blocking(&mut self, msg: T) {
        block_on(self.send(msg))
    }

    /// Blocks the calling thread until `msg` is delivered or `timeout` has passed; for threaded
    /// components and plain threads. If the destination is still full at the deadline, the
    /// message comes back inside [`NoSpaceInBox`]: nothing is lost.
    pub fn send_timeout(&mut self, msg: T, timeout: Duration) -> Result<(), NoSpaceInBox<T>> {
        let mut slot = Some(msg);
        let sent = block_on_deadline(poll_fn(|cx| self.poll_send(&mut slot, cx)), Some(Instant::now() + timeout));
        match (sent, slot) {
            (Some(()), _) | (None, None) => Ok(()),
            (None, Some(message)) => {
                let (destination, capacity) = match self.refresh() {
                    Some(sink) => (sink.meta.label(), sink.queue().capacity().unwrap_or(usize::MAX)),
                    None => (self.node.meta.label(), usize::MAX),
                };
                Err(NoSpaceInBox { message, destination, capacity })
            }
        }
    }

    /// Waits until the destination has room (or the outbox is unlinked).
    pub async fn ready(&mut self) {
        poll_fn(|cx| match self.refresh() {
            None => Poll::Ready(()),
            Some(sink) => {
                if sink.queue().poll_space(cx) {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// True if the outbox leads to an inbox. Like a send, it brings the outbox's cached
    /// destination up to date, so an outbox that was unlinked no longer keeps its old
    /// destination's box alive (a component that relinks an outbox now and then, to short-lived
    /// children say, can call it for that alone).
    pub fn is_linked(&mut self) -> bool {
        self.refresh().is_some()
    }

    /// How many messages wait in the destination inbox (Axon's `len(outbox)`, which Kamaelia's
    /// `Minimal` uses for back-pressure). 0 when unlinked.
    pub fn destination_len(&mut self) -> usize {
        self.refresh().map_or(0, |s| s.queue().len())
    }

    /// True if the outbox is linked and the component owning its destination has ended, so that
    /// whatever is sent is discarded (for instance, a socket adapter whose client has gone).
    pub fn destination_ended(&mut self) -> bool {
        self.refresh().is_some_and(|s| s.queue().is_dead())
    }

    /// True if the destination is at capacity (Axon's `isFull`).
    pub fn is_full(&mut self) -> bool {
        self.refresh().is_some_and(|s| s.queue().is_full())
    }
}
