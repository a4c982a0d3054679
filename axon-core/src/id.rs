//! [`ComponentId`]: a component's number, unique in the process (Axon's `idGen`).

use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

/// A component's unique id (unique in the process, like Axon's `idGen`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ComponentId(NonZeroU64);

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl ComponentId {
    /// A new id, never handed out before.
    pub(crate) fn next() -> Self {
        ComponentId(NonZeroU64::new(NEXT_ID.fetch_add(1, Ordering::Relaxed)).expect("ids start at 1 and never wrap"))
    }

    /// The number.
    pub fn get(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}
