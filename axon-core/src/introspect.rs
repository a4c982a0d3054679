//! Introspection: the running graph as data (Axon's `Introspector`).
//!
//! [`Scheduler::introspect`](crate::Scheduler::introspect) takes a [`Snapshot`]: every live
//! component (id, name, kind, state, parent and children), each of its boxes (name, kind, message
//! type, description, depth and capacity), and every linkage between boxes. A snapshot prints as a
//! table ([`Display`](std::fmt::Display)) and renders as a Graphviz graph
//! ([`Snapshot::to_dot`]), so the running system can be drawn.

use std::fmt;
use std::sync::Arc;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::component_ref::ComponentRef;
use crate::id::ComponentId;
use crate::kinds::{BoxKind, BoxName, Passthrough};
pub use crate::lifecycle::LostMessages;
use crate::lifecycle::{ComponentKind, ComponentState};
use crate::linkage::LinkId;
use crate::node::{ErasedNode, LinkInfo};

/// One box of a live component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoxInfo {
    /// Its name.
    pub name: BoxName,
    /// Inbox or outbox.
    pub kind: BoxKind,
    /// The message type it carries.
    pub type_name: &'static str,
    /// What it is for.
    pub description: String,
    /// Messages waiting in it now (always 0 for outboxes, which hold nothing).
    pub depth: usize,
    /// Its capacity (`None`: unbounded; outboxes have none).
    pub capacity: Option<usize>,
}

/// One live component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentInfo {
    /// Its id.
    pub id: ComponentId,
    /// Its name.
    pub name: String,
    /// How it runs.
    pub kind: ComponentKind,
    /// Where it is in its life.
    pub state: ComponentState,
    /// Its parent, if any.
    pub parent: Option<ComponentId>,
    /// Its children.
    pub children: Vec<ComponentId>,
    /// Its boxes, inboxes first, in declaration order.
    pub boxes: Vec<BoxInfo>,
}

impl ComponentInfo {
    /// The box of that kind and name.
    pub fn find_box(&self, kind: BoxKind, name: &str) -> Option<&BoxInfo> {
        self.boxes.iter().find(|b| b.kind == kind && b.name == name)
    }
}

/// One end of a linkage.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BoxAddress {
    /// The component's id.
    pub component: ComponentId,
    /// The component's name.
    pub component_name: String,
    /// The box's name.
    pub name: BoxName,
    /// Inbox or outbox.
    pub kind: BoxKind,
}

impl fmt::Display for BoxAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.component_name, self.name)
    }
}

/// One linkage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkageInfo {
    /// Its id.
    pub id: LinkId,
    /// Where messages come from.
    pub source: BoxAddress,
    /// Where they go next.
    pub sink: BoxAddress,
    /// Its kind.
    pub passthrough: Passthrough,
    /// The component it belongs to (`None`: made from outside any component).
    pub owner: Option<ComponentId>,
}

/// The running graph at one moment; see the [module docs](self).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// The live components, in id order.
    pub components: Vec<ComponentInfo>,
    /// Every linkage out of a box of a live component.
    pub linkages: Vec<LinkageInfo>,
    /// The scheduler's most recent reports of messages lost by components that ended after a
    /// `ProducerFinished` with data still queued ([`Scheduler::lost_messages`]), oldest first.
    ///
    /// [`Scheduler::lost_messages`]: crate::Scheduler::lost_messages
    pub lost: Vec<LostMessages>,
}

impl Snapshot {
    pub(crate) fn take(components: &[ComponentRef]) -> Snapshot {
        let mut snap = Snapshot::default();
        for c in components {
            let boxes = c.0.boxes.all();
            for b in &boxes {
                if let Some((target, info)) = b.target() {
                    snap.linkages.push(linkage_info(c, b.as_ref(), target.as_ref(), &info));
                }
            }
            snap.components.push(component_info(c, &boxes));
        }
        snap.linkages.sort_by_key(|l| l.id);
        snap
    }

    /// Brings this snapshot (of the same scheduler, taken earlier) up to date with `components`
    /// (the scheduler's live components, in id order), and returns what changed, numbered `seq`:
    /// the delta [`GraphDelta::between`] gives between this snapshot and a new one, found without
    /// making the new one. Only components and linkages not seen before are copied, so a look at a
    /// graph that changed little allocates little: this is how the
    /// [`Introspector`](crate::introspector::Introspector), which looks often, looks. A
    /// component's `children` stay those of the look that first saw it (the deltas do not carry
    /// them); `lost` is left as it is.
    pub(crate) fn refresh(&mut self, components: &[ComponentRef], seq: u64) -> GraphDelta {
        let mut delta = GraphDelta { seq, ..GraphDelta::default() };
        let mut old = std::mem::take(&mut self.components).into_iter().peekable();
        let mut kept = Vec::with_capacity(components.len());
        // Each component's boxes, inboxes first (a buffer reused from one component to the next).
        let mut boxes: Vec<Arc<dyn ErasedNode>> = Vec::new();
        // The linkages still there (by id), and those not seen before.
        let mut seen = Vec::with_capacity(self.linkages.len());
        let mut made = Vec::new();
        for c in components {
            while let Some(gone) = old.next_if(|o| o.id < c.id()) {
                delta.removed.push(gone.id);
            }
            boxes.clear();
            c.0.boxes.with_all(|all| boxes.extend(all.cloned()));
            boxes.sort_by_key(|b| b.meta().kind == BoxKind::Outbox);
            for b in &boxes {
                if let Some((target, info)) = b.target() {
                    if self.linkages.binary_search_by_key(&info.id, |l| l.id).is_ok() {
                        seen.push(info.id);
                    } else {
                        made.push(linkage_info(c, b.as_ref(), target.as_ref(), &info));
                    }
                }
            }
            match old.next_if(|o| o.id == c.id()) {
                Some(mut known) => {
                    if delta.update(&mut known, c, &boxes) {
                        kept.push(known);
                    } else {
                        // Boxes added or deleted as it ran: sent again, whole.
                        delta.removed.push(known.id);
                        let info = component_info(c, &boxes);
                        delta.added.push(info.clone());
                        kept.push(info);
                    }
                }
                None => {
                    let info = component_info(c, &boxes);
                    delta.added.push(info.clone());
                    kept.push(info);
                }
            }
        }
        delta.removed.extend(old.map(|gone| gone.id));
        self.components = kept;

        seen.sort_unstable();
        let before = std::mem::take(&mut self.linkages);
        for l in before {
            if seen.binary_search(&l.id).is_ok() {
                self.linkages.push(l);
            } else {
                delta.links_removed.push(l.id);
            }
        }
        made.sort_by_key(|l| l.id);
        delta.links_added.clone_from(&made);
        self.linkages.extend(made);
        self.linkages.sort_by_key(|l| l.id);
        delta
    }

    /// The component with this id, if it was live.
    pub fn component(&self, id: ComponentId) -> Option<&ComponentInfo> {
        self.components.iter().find(|c| c.id == id)
    }

    /// The first component whose name starts with `prefix` (names are `Class_<id>`).
    pub fn component_named(&self, prefix: &str) -> Option<&ComponentInfo> {
        self.components.iter().find(|c| c.name.starts_with(prefix))
    }

    /// The graph in Graphviz `dot` form: one cluster per component, one node per box, one edge
    /// per linkage (dashed for passthroughs), each box labelled with its depth and capacity.
    pub fn to_dot(&self) -> String {
        let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        let node = |c: ComponentId, k: BoxKind, n: &str| {
            format!("\"{}:{}:{}\"", c.get(), if k == BoxKind::Inbox { "i" } else { "o" }, esc(n))
        };
        let mut out = String::from("digraph axon {\n  rankdir=LR;\n  node [shape=box, fontsize=10];\n");
        for c in &self.components {
            out.push_str(&format!(
                "  subgraph \"cluster_{}\" {{\n    label=\"{} ({:?})\";\n",
                c.id.get(),
                esc(&c.name),
                c.state
            ));
            for b in &c.boxes {
                let cap = b.capacity.map_or("∞".to_owned(), |c| c.to_string());
                let label = match b.kind {
                    BoxKind::Inbox => format!("{} [{}/{}]", b.name, b.depth, cap),
                    BoxKind::Outbox => b.name.to_string(),
                };
                let shape = if b.kind == BoxKind::Inbox { "box" } else { "ellipse" };
                out.push_str(&format!(
                    "    {} [label=\"{}\", shape={shape}];\n",
                    node(c.id, b.kind, &b.name),
                    esc(&label)
                ));
            }
            out.push_str("  }\n");
        }
        for l in &self.linkages {
            let style = if l.passthrough == Passthrough::Normal { "solid" } else { "dashed" };
            out.push_str(&format!(
                "  {} -> {} [style={style}];\n",
                node(l.source.component, l.source.kind, &l.source.name),
                node(l.sink.component, l.sink.kind, &l.sink.name)
            ));
        }
        out.push_str("}\n");
        out
    }
}

/// What a snapshot says of the live component `c`, whose boxes are `boxes`.
fn component_info(c: &ComponentRef, boxes: &[Arc<dyn ErasedNode>]) -> ComponentInfo {
    let mut infos: Vec<BoxInfo> = boxes
        .iter()
        .map(|b| {
            let m = b.meta();
            BoxInfo {
                name: m.name.clone(),
                kind: m.kind,
                type_name: b.type_name(),
                description: m.description.to_string(),
                depth: b.depth(),
                capacity: b.capacity(),
            }
        })
        .collect();
    infos.sort_by_key(|b| b.kind == BoxKind::Outbox);
    ComponentInfo {
        id: c.id(),
        name: c.name().to_owned(),
        kind: c.kind(),
        state: c.state(),
        parent: c.parent(),
        children: c.children().iter().map(|c| c.id()).collect(),
        boxes: infos,
    }
}

/// What a snapshot says of the linkage `info` from the box `source` of `c` to `sink`.
fn linkage_info(c: &ComponentRef, source: &dyn ErasedNode, sink: &dyn ErasedNode, info: &LinkInfo) -> LinkageInfo {
    let (m, tm) = (source.meta(), sink.meta());
    LinkageInfo {
        id: info.id,
        source: BoxAddress {
            component: c.id(),
            component_name: c.name().to_owned(),
            name: m.name.clone(),
            kind: m.kind,
        },
        sink: BoxAddress {
            component: tm.owner.id,
            component_name: tm.owner.name.to_string(),
            name: tm.name.clone(),
            kind: tm.kind,
        },
        passthrough: Passthrough::between(m.kind, tm.kind),
        owner: info.owner,
    }
}

impl fmt::Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.components {
            writeln!(f, "{} {} ({:?}, {:?})", c.id, c.name, c.kind, c.state)?;
            for b in &c.boxes {
                let cap = b.capacity.map_or("unbounded".to_owned(), |c| c.to_string());
                match b.kind {
                    BoxKind::Inbox => writeln!(f, "    in  {:<16} {:>4}/{:<9} {}", b.name, b.depth, cap, b.type_name)?,
                    BoxKind::Outbox => writeln!(f, "    out {:<16} {:>14} {}", b.name, "", b.type_name)?,
                }
            }
        }
        for l in &self.linkages {
            writeln!(f, "{} -> {} ({:?})", l.source, l.sink, l.passthrough)?;
        }
        for l in &self.lost {
            writeln!(f, "lost: {l}")?;
        }
        Ok(())
    }
}

// ----- what changed between two looks -----

/// A component whose state or parent changed between two looks (the depths of its inboxes are
/// in [`GraphDelta::depths`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComponentChange {
    /// Its id.
    pub id: ComponentId,
    /// Where it is in its life now.
    pub state: ComponentState,
    /// Its parent now.
    pub parent: Option<ComponentId>,
}

/// An inbox whose depth or capacity changed between two looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoxDepth {
    /// The component it belongs to.
    pub component: ComponentId,
    /// The inbox's name.
    pub name: BoxName,
    /// Messages waiting in it now.
    pub depth: usize,
    /// Its capacity now (`None`: unbounded).
    pub capacity: Option<usize>,
}

/// What changed in the running graph between two looks: what the
/// [`Introspector`](crate::introspector::Introspector) sends each time it looks and finds
/// something new. A *full* delta (the first one sent, or one that would be no shorter than the
/// graph itself) lists the whole graph: whoever keeps a copy starts again from it.
///
/// Applied in this order ([`Snapshot::apply`]): if `full`, forget everything; remove the
/// `removed` components and the `links_removed` linkages; add the `added` components (a
/// component in both `removed` and `added` has had its boxes replaced: a component can add and
/// delete boxes as it runs) and `links_added`; set the `changed` states and parents and the
/// `depths`.
///
/// Only what differs between two looks is seen: a component born and gone between them never
/// appears, and a depth that rose and fell again is not reported.
///
/// # Wire form
///
/// A delta is [`serde::Serialize`]: in JSON (`serde_json::to_string(&delta)`) it is one object,
/// every field always present, ids as numbers, the names of kinds and states in lower case. This
/// form is stable: fields may be added, none will be renamed or removed.
///
/// ```text
/// {"seq":1,"full":false,
///  "added":[{"id":12,"name":"HTTPParser_12","class":"HTTPParser","kind":"task","state":"paused",
///            "parent":10,"boxes":[{"name":"inbox","kind":"inbox","type":"bytes::bytes::Bytes",
///            "description":"Bytes from the client","depth":0,"capacity":64}, ...]}],
///  "changed":[{"id":3,"state":"running","parent":1}],
///  "removed":[7],
///  "depths":[{"component":3,"box":"inbox","depth":2,"capacity":64}],
///  "links_added":[{"id":16,"from":{"component":7,"box":"outbox","kind":"outbox"},
///                  "to":{"component":3,"box":"_handlerinbox","kind":"inbox"},
///                  "passthrough":"normal","owner":3}],
///  "links_removed":[15]}
/// ```
///
/// `kind` is `task`, `thread` or `handle`; `state` is `created`, `running`, `paused` or `ended`;
/// a box's `kind` is `inbox` or `outbox`, its `capacity` `null` when unbounded (an outbox holds
/// nothing: depth 0, capacity `null`); `passthrough` is `normal` (outbox to inbox), `inbound`
/// (inbox to a child's inbox) or `outbound` (a child's outbox to its parent's outbox); `owner` is
/// the component that made the linkage, `null` if made from outside any. `class` is the name
/// without its `_<id>`.
///
/// ```
/// use axon_core::introspect::{GraphDelta, Snapshot};
/// use axon_core::prelude::*;
///
/// let scheduler = Scheduler::new();
/// let before = scheduler.introspect();
/// let echo = Handle::new(from_fn("Echo", |mut ctx: Context<u8, u8>| async move {
///     while let Some(n) = ctx.inbox.recv().await {
///         ctx.outbox.send(n).await;
///     }
///     Ok(())
/// }), &scheduler);
/// let after = scheduler.introspect();
/// let delta = GraphDelta::between(&before, &after, 1);
/// assert!(delta.added.iter().any(|c| c.name.starts_with("Echo_")));
/// let json = serde_json::to_string(&delta).unwrap();
/// assert!(json.starts_with(r#"{"seq":1,"full":false,"added":[{"id":"#));
///
/// // A copy kept up to date with deltas is the graph.
/// let mut copy = before.clone();
/// copy.apply(&delta);
/// assert_eq!(copy.components.len(), after.components.len());
/// # drop(echo);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GraphDelta {
    /// Counts the deltas one introspector has sent, from 0.
    pub seq: u64,
    /// True if it lists the whole graph, to start again from.
    pub full: bool,
    /// Components that appeared (all of them, in a full delta), in id order.
    pub added: Vec<ComponentInfo>,
    /// Components whose state or parent changed.
    pub changed: Vec<ComponentChange>,
    /// Components that are gone.
    pub removed: Vec<ComponentId>,
    /// Inboxes whose depth or capacity changed.
    pub depths: Vec<BoxDepth>,
    /// Linkages made (all of them, in a full delta), in id order.
    pub links_added: Vec<LinkageInfo>,
    /// Linkages unmade.
    pub links_removed: Vec<LinkId>,
}

impl GraphDelta {
    /// The whole of `snapshot`, as a full delta numbered `seq`.
    pub fn full(snapshot: &Snapshot, seq: u64) -> GraphDelta {
        GraphDelta {
            seq,
            full: true,
            added: snapshot.components.clone(),
            links_added: snapshot.linkages.clone(),
            ..GraphDelta::default()
        }
    }

    /// What changed from `old` to `new` (two snapshots of one scheduler, `old` taken first), as a
    /// delta numbered `seq`.
    pub fn between(old: &Snapshot, new: &Snapshot, seq: u64) -> GraphDelta {
        let mut delta = GraphDelta { seq, ..GraphDelta::default() };
        // Both lists are in id order: one pass over each.
        let (mut a, mut b) = (old.components.iter().peekable(), new.components.iter().peekable());
        loop {
            match (a.peek(), b.peek()) {
                (None, None) => break,
                (Some(o), Some(n)) if o.id == n.id => {
                    delta.compare(o, n);
                    a.next();
                    b.next();
                }
                (Some(o), Some(n)) if o.id < n.id => {
                    delta.removed.push(o.id);
                    a.next();
                }
                (Some(o), None) => {
                    delta.removed.push(o.id);
                    a.next();
                }
                (_, Some(n)) => {
                    delta.added.push((*n).clone());
                    b.next();
                }
            }
        }
        let (mut a, mut b) = (old.linkages.iter().peekable(), new.linkages.iter().peekable());
        loop {
            match (a.peek(), b.peek()) {
                (None, None) => break,
                (Some(o), Some(n)) if o.id == n.id => {
                    a.next();
                    b.next();
                }
                (Some(o), Some(n)) if o.id < n.id => {
                    delta.links_removed.push(o.id);
                    a.next();
                }
                (Some(o), None) => {
                    delta.links_removed.push(o.id);
                    a.next();
                }
                (_, Some(n)) => {
                    delta.links_added.push((*n).clone());
                    b.next();
                }
            }
        }
        delta
    }

    /// Adds what changed in one component seen in both looks.
    fn compare(&mut self, old: &ComponentInfo, new: &ComponentInfo) {
        let same_boxes = old.boxes.len() == new.boxes.len()
            && old.boxes.iter().zip(&new.boxes).all(|(o, n)| {
                o.name == n.name && o.kind == n.kind && o.type_name == n.type_name && o.description == n.description
            });
        if !same_boxes {
            // Boxes added or deleted as it ran: the component is sent again, whole.
            self.removed.push(old.id);
            self.added.push(new.clone());
            return;
        }
        if old.state != new.state || old.parent != new.parent {
            self.changed.push(ComponentChange { id: new.id, state: new.state, parent: new.parent });
        }
        for (o, n) in old.boxes.iter().zip(&new.boxes) {
            if o.depth != n.depth || o.capacity != n.capacity {
                self.depths.push(BoxDepth {
                    component: new.id,
                    name: n.name.clone(),
                    depth: n.depth,
                    capacity: n.capacity,
                });
            }
        }
    }

    /// Adds what changed in `known` (a component seen at the last look) now that it is `c`, whose
    /// boxes are `boxes` (inboxes first), and brings `known` up to date. False, with nothing
    /// added, if its boxes are no longer those it had (their names, kinds, types or
    /// descriptions).
    fn update(&mut self, known: &mut ComponentInfo, c: &ComponentRef, boxes: &[Arc<dyn ErasedNode>]) -> bool {
        let same_boxes = known.boxes.len() == boxes.len()
            && known.boxes.iter().zip(boxes).all(|(k, b)| {
                let m = b.meta();
                k.name == m.name && k.kind == m.kind && k.type_name == b.type_name() && k.description == m.description
            });
        if !same_boxes {
            return false;
        }
        let (state, parent) = (c.state(), c.parent());
        if known.state != state || known.parent != parent {
            known.state = state;
            known.parent = parent;
            self.changed.push(ComponentChange { id: known.id, state, parent });
        }
        for (k, b) in known.boxes.iter_mut().zip(boxes) {
            let (depth, capacity) = (b.depth(), b.capacity());
            if k.depth != depth || k.capacity != capacity {
                k.depth = depth;
                k.capacity = capacity;
                self.depths.push(BoxDepth { component: known.id, name: k.name.clone(), depth, capacity });
            }
        }
        true
    }

    /// How many entries it holds (components, changes, depths and linkages).
    pub fn len(&self) -> usize {
        self.added.len()
            + self.changed.len()
            + self.removed.len()
            + self.depths.len()
            + self.links_added.len()
            + self.links_removed.len()
    }

    /// True if it holds no entry and is not full: nothing changed.
    pub fn is_empty(&self) -> bool {
        !self.full && self.len() == 0
    }
}

impl Snapshot {
    /// Brings this copy of the graph up to date with `delta` (see [`GraphDelta`] for the order).
    /// Each component's `children` are rebuilt from the parents, in id order; `lost` is left as
    /// it is (deltas do not carry it).
    pub fn apply(&mut self, delta: &GraphDelta) {
        if delta.full {
            self.components.clear();
            self.linkages.clear();
        }
        if !delta.removed.is_empty() {
            let removed: std::collections::HashSet<ComponentId> = delta.removed.iter().copied().collect();
            self.components.retain(|c| !removed.contains(&c.id));
        }
        if !delta.links_removed.is_empty() {
            let removed: std::collections::HashSet<LinkId> = delta.links_removed.iter().copied().collect();
            self.linkages.retain(|l| !removed.contains(&l.id));
        }
        for c in &delta.added {
            match self.components.binary_search_by_key(&c.id, |x| x.id) {
                Ok(at) => self.components[at] = c.clone(),
                Err(at) => self.components.insert(at, c.clone()),
            }
        }
        for l in &delta.links_added {
            match self.linkages.binary_search_by_key(&l.id, |x| x.id) {
                Ok(at) => self.linkages[at] = l.clone(),
                Err(at) => self.linkages.insert(at, l.clone()),
            }
        }
        for change in &delta.changed {
            if let Ok(at) = self.components.binary_search_by_key(&change.id, |x| x.id) {
                self.components[at].state = change.state;
                self.components[at].parent = change.parent;
            }
        }
        for depth in &delta.depths {
            if let Ok(at) = self.components.binary_search_by_key(&depth.component, |x| x.id) {
                if let Some(b) =
                    self.components[at].boxes.iter_mut().find(|b| b.kind == BoxKind::Inbox && b.name == depth.name)
                {
                    b.depth = depth.depth;
                    b.capacity = depth.capacity;
                }
            }
        }
        let mut children: std::collections::HashMap<ComponentId, Vec<ComponentId>> = std::collections::HashMap::new();
        for c in &self.components {
            if let Some(parent) = c.parent {
                children.entry(parent).or_default().push(c.id);
            }
        }
        for c in &mut self.components {
            c.children = children.remove(&c.id).unwrap_or_default();
        }
    }
}

// ----- the wire form (serde), described on `GraphDelta` -----

/// The class a component's name was made from: the name without its `_<id>`.
fn class_of(name: &str, id: ComponentId) -> &str {
    let suffix = format!("_{}", id.get());
    name.strip_suffix(suffix.as_str()).unwrap_or(name)
}

impl Serialize for ComponentId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.get())
    }
}

impl Serialize for LinkId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl Serialize for ComponentKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            ComponentKind::Task => "task",
            ComponentKind::Thread => "thread",
            ComponentKind::Handle => "handle",
        })
    }
}

impl Serialize for ComponentState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            ComponentState::Created => "created",
            ComponentState::Running => "running",
            ComponentState::Paused => "paused",
            ComponentState::Ended => "ended",
        })
    }
}

impl Serialize for BoxKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.word())
    }
}

impl Serialize for Passthrough {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            Passthrough::Normal => "normal",
            Passthrough::Inbound => "inbound",
            Passthrough::Outbound => "outbound",
        })
    }
}

impl Serialize for BoxInfo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut b = s.serialize_struct("BoxInfo", 6)?;
        b.serialize_field("name", &*self.name)?;
        b.serialize_field("kind", &self.kind)?;
        b.serialize_field("type", self.type_name)?;
        b.serialize_field("description", &self.description)?;
        b.serialize_field("depth", &self.depth)?;
        b.serialize_field("capacity", &self.capacity)?;
        b.end()
    }
}

impl Serialize for ComponentInfo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut c = s.serialize_struct("ComponentInfo", 7)?;
        c.serialize_field("id", &self.id)?;
        c.serialize_field("name", &self.name)?;
        c.serialize_field("class", class_of(&self.name, self.id))?;
        c.serialize_field("kind", &self.kind)?;
        c.serialize_field("state", &self.state)?;
        c.serialize_field("parent", &self.parent)?;
        c.serialize_field("boxes", &self.boxes)?;
        c.end()
    }
}

impl Serialize for BoxAddress {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut b = s.serialize_struct("BoxAddress", 3)?;
        b.serialize_field("component", &self.component)?;
        b.serialize_field("box", &*self.name)?;
        b.serialize_field("kind", &self.kind)?;
        b.end()
    }
}

impl Serialize for LinkageInfo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut l = s.serialize_struct("LinkageInfo", 5)?;
        l.serialize_field("id", &self.id)?;
        l.serialize_field("from", &self.source)?;
        l.serialize_field("to", &self.sink)?;
        l.serialize_field("passthrough", &self.passthrough)?;
        l.serialize_field("owner", &self.owner)?;
        l.end()
    }
}

impl Serialize for ComponentChange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut c = s.serialize_struct("ComponentChange", 3)?;
        c.serialize_field("id", &self.id)?;
        c.serialize_field("state", &self.state)?;
        c.serialize_field("parent", &self.parent)?;
        c.end()
    }
}

impl Serialize for BoxDepth {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut d = s.serialize_struct("BoxDepth", 4)?;
        d.serialize_field("component", &self.component)?;
        d.serialize_field("box", &*self.name)?;
        d.serialize_field("depth", &self.depth)?;
        d.serialize_field("capacity", &self.capacity)?;
        d.end()
    }
}

impl Serialize for GraphDelta {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut d = s.serialize_struct("GraphDelta", 8)?;
        d.serialize_field("seq", &self.seq)?;
        d.serialize_field("full", &self.full)?;
        d.serialize_field("added", &self.added)?;
        d.serialize_field("changed", &self.changed)?;
        d.serialize_field("removed", &self.removed)?;
        d.serialize_field("depths", &self.depths)?;
        d.serialize_field("links_added", &self.links_added)?;
        d.serialize_field("links_removed", &self.links_removed)?;
        d.end()
    }
}

/// The whole graph in the same wire form as a full [`GraphDelta`]'s entries:
/// `{"components":[...],"linkages":[...],"lost":[{"component":3,"inbox":"inbox","count":2}]}`.
impl Serialize for Snapshot {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Lost<'a>(&'a LostMessages);
        impl Serialize for Lost<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut l = s.serialize_struct("LostMessages", 3)?;
                l.serialize_field("component", &self.0.component)?;
                l.serialize_field("inbox", &*self.0.inbox)?;
                l.serialize_field("count", &self.0.count)?;
                l.end()
            }
        }
        let lost: Vec<Lost<'_>> = self.lost.iter().map(Lost).collect();
        let mut snap = s.serialize_struct("Snapshot", 3)?;
        snap.serialize_field("components", &self.components)?;
        snap.serialize_field("linkages", &self.linkages)?;
        snap.serialize_field("lost", &lost)?;
        snap.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::Declarations;

    /// A component that holds what it is sent until it is stopped.
    fn holder(name: &'static str) -> impl Component<Inbox = u32, Outbox = u32> {
        from_fn(name, |mut ctx: Context<u32, u32>| async move {
            ctx.control.recv().await;
            Ok(())
        })
    }

    /// Looks once by each way, and checks that they agree: the delta, and the snapshot kept.
    fn agree(scheduler: &Scheduler, kept: &mut Snapshot, seq: u64) {
        let before = kept.clone();
        let now = scheduler.introspect();
        let expected = GraphDelta::between(&before, &now, seq);
        let delta = kept.refresh(&scheduler.components(), seq);
        // States move between two looks (a component running now, paused a moment later): set
        // them aside, and compare the rest.
        let strip = |d: &GraphDelta| {
            let mut d = d.clone();
            d.changed.retain(|c| before.component(c.id).is_none_or(|b| b.parent != c.parent));
            for c in d.changed.iter_mut() {
                c.state = ComponentState::Created;
            }
            for c in d.added.iter_mut() {
                c.state = ComponentState::Created;
                c.children.clear();
            }
            d
        };
        assert_eq!(strip(&delta), strip(&expected));
        let names = |s: &Snapshot| s.components.iter().map(|c| (c.id, c.name.clone(), c.parent)).collect::<Vec<_>>();
        assert_eq!(names(kept), names(&now));
        assert_eq!(kept.linkages, now.linkages);
    }

    #[test]
    fn refreshing_in_place_finds_what_a_new_snapshot_would() {
        let scheduler = Scheduler::new();
        let mut kept = scheduler.introspect();
        let a = Instance::new(holder("A"));
        let b = Instance::new(holder("B"));
        let link = scheduler.link((&a, "outbox"), (&b, "inbox")).unwrap();
        let (a, b) = (a.activate(&scheduler), b.activate(&scheduler));
        agree(&scheduler, &mut kept, 1);
        for n in 0..3u32 {
            b.deliver("inbox", n).unwrap();
        }
        agree(&scheduler, &mut kept, 2);
        assert!(kept.component(b.id()).unwrap().find_box(BoxKind::Inbox, "inbox").unwrap().depth == 3);
        scheduler.unlink(&link);
        let c = scheduler.activate(
            from_fn("C", |mut ctx: Context<u32, u32>| async move {
                ctx.control.recv().await;
                Ok(())
            })
            .with_boxes(|boxes: &mut Declarations| {
                boxes.inbox::<u8>("extra", "One more box");
            }),
        );
        agree(&scheduler, &mut kept, 3);
        a.stop();
        let rt = scheduler.runtime_handle();
        rt.block_on(a.join());
        agree(&scheduler, &mut kept, 4);
        for x in [&b, &c] {
            x.stop();
            rt.block_on(x.join());
        }
        agree(&scheduler, &mut kept, 5);
        assert!(kept.component(c.id()).is_none());
    }
}
