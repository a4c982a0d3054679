//! Introspection: the running graph as data (Axon's `Introspector`).
//!
//! [`Scheduler::introspect`](crate::Scheduler::introspect) takes a [`Snapshot`]: every live
//! component (id, name, kind, state, parent and children), each of its boxes (name, kind, message
//! type, description, depth and capacity), and every linkage between boxes. A snapshot prints as a
//! table ([`Display`](std::fmt::Display)) and renders as a Graphviz graph
//! ([`Snapshot::to_dot`]), so the running system can be drawn.

use std::fmt;

use crate::component_ref::ComponentRef;
use crate::id::ComponentId;
use crate::kinds::{BoxKind, BoxName, Passthrough};
pub use crate::lifecycle::LostMessages;
use crate::lifecycle::{ComponentKind, ComponentState};
use crate::linkage::LinkId;

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
            let mut infos = Vec::with_capacity(boxes.len());
            for b in &boxes {
                let m = b.meta();
                infos.push(BoxInfo {
                    name: m.name.clone(),
                    kind: m.kind,
                    type_name: b.type_name(),
                    description: m.description.to_string(),
                    depth: b.depth(),
                    capacity: b.capacity(),
                });
                if let Some((t, info)) = b.target() {
                    let tm = t.meta();
                    snap.linkages.push(LinkageInfo {
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
                    });
                }
            }
            infos.sort_by_key(|b| b.kind == BoxKind::Outbox);
            snap.components.push(ComponentInfo {
                id: c.id(),
                name: c.name().to_owned(),
                kind: c.kind(),
                state: c.state(),
                parent: c.parent(),
                children: c.children().iter().map(|c| c.id()).collect(),
                boxes: infos,
            });
        }
        snap.linkages.sort_by_key(|l| l.id);
        snap
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
