//! [`Declarations`]: the boxes a component will have, declared before it is made (Axon's
//! `Inboxes` and `Outboxes` class dicts).
//!
//! [`Component::declare`](crate::Component::declare) adds to the standard four; the component's
//! boxes are then built from the declarations, each box made with its message type.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::boxes::{CONTROL_DESCRIPTION, INBOX_DESCRIPTION, OUTBOX_DESCRIPTION, SIGNAL_DESCRIPTION};
use crate::component_ref::ComponentRef;
use crate::error::LinkError;
use crate::identity::Identity;
use crate::ipc::Ipc;
use crate::kinds::{BoxKind, BoxName};
use crate::node::{ErasedNode, Node, NodeMeta};
use crate::queue::DEFAULT_CAPACITY;

type MakeNode = fn(NodeMeta, Option<usize>) -> Arc<dyn ErasedNode>;

/// The largest emptied list of box declarations a thread keeps for its next component.
const SPARE_SPECS_MAX: usize = 16;

// Thread-local: a per-thread cache of one empty allocation (no lock); no data passes through it.
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
        template: &ComponentRef,
        template_kind: BoxKind,
        template_name: &str,
        description: Option<Cow<'static, str>>,
    ) -> Result<&mut Self, LinkError> {
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
    /// capacities (what a component can be hosted (`Context::host`) with). Nothing is
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
