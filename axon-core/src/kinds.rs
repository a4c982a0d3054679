//! The kinds of box ([`BoxKind`]: inbox or outbox) and of linkage ([`Passthrough`]: which kind of
//! box it joins to which), and a box's name ([`BoxName`]).

use std::borrow::Cow;

/// A box's name: `"inbox"`, `"control"`, or one a component declared.
pub type BoxName = Cow<'static, str>;

/// Whether a box receives or sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BoxKind {
    /// Receives messages.
    Inbox,
    /// Sends messages.
    Outbox,
}

impl BoxKind {
    /// `"inbox"` or `"outbox"`, for messages.
    pub(crate) fn word(self) -> &'static str {
        match self {
            BoxKind::Inbox => "inbox",
            BoxKind::Outbox => "outbox",
        }
    }
}

/// The kind of a linkage (Axon's `passthrough` argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum Passthrough {
    /// Outbox → inbox (Axon 0).
    #[default]
    Normal = 0,
    /// Inbox → inbox, a parent passing its input to a child (Axon 1).
    Inbound = 1,
    /// Outbox → outbox, a child's output leaving through its parent (Axon 2).
    Outbound = 2,
}

impl Passthrough {
    /// The kind of a linkage from a box of kind `source` to one of kind `sink` (the inverse of
    /// [`kinds`](Self::kinds); an inbox never links to an outbox, and is taken as `Inbound`).
    pub(crate) fn between(source: BoxKind, sink: BoxKind) -> Self {
        match (source, sink) {
            (BoxKind::Outbox, BoxKind::Inbox) => Passthrough::Normal,
            (BoxKind::Outbox, BoxKind::Outbox) => Passthrough::Outbound,
            (BoxKind::Inbox, _) => Passthrough::Inbound,
        }
    }

    /// The kinds of box at each end: (source, sink).
    pub fn kinds(self) -> (BoxKind, BoxKind) {
        match self {
            Passthrough::Normal => (BoxKind::Outbox, BoxKind::Inbox),
            Passthrough::Inbound => (BoxKind::Inbox, BoxKind::Inbox),
            Passthrough::Outbound => (BoxKind::Outbox, BoxKind::Outbox),
        }
    }
}
