//! [`Footprint`]: what a body hosted in another component's boxes could leave behind there,
//! counted (see [`host`](crate::host)). The component core keeps the least counts seen, so this
//! stands below it.

/// Counts that a hosted body changes if it keeps a handle or a reference (see
/// `Context::host_is_clean`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Footprint {
    /// References to the component (`ComponentRef`s, contexts).
    pub(crate) refs: usize,
    /// References to each of its four standard boxes (handles, linkages into them).
    pub(crate) nodes: [usize; 4],
    /// The capacities of its `inbox` and `control`.
    pub(crate) capacities: [Option<usize>; 2],
}

impl Footprint {
    /// Keeps, count by count, the lesser of this and `other` (the capacities stay the first
    /// seen).
    pub(crate) fn keep_least(&mut self, other: &Footprint) {
        self.refs = self.refs.min(other.refs);
        for (mine, theirs) in self.nodes.iter_mut().zip(other.nodes) {
            *mine = (*mine).min(theirs);
        }
    }
}
