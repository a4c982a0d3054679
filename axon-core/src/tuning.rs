//! Tuning: what the workspace's own crates use to keep less memory between bursts of work, kept
//! out of the everyday API of the boxes. Nothing here changes what a component does or receives;
//! each knob trades a little work now for memory that would otherwise stay allocated (or the
//! reverse), and says which.
//!
//! | knob | saves | costs |
//! |------|-------|-------|
//! | [`InboxTuning::shrink_to_fit`] | the whole buffer of an empty inbox (up to its capacity times the message size: a `VecDeque` never shrinks by itself) | one lock now; the next message allocates again |
//! | [`InboxTuning::shrink_to`] with [`FIRST_BUFFER_ROOM`] | what a large burst made the buffer grow to | one lock, and a reallocation if it shrinks; the next short burst allocates nothing |
//! | [`OutboxTuning::refresh_destination`] | an unlinked destination's box, released now rather than at the next send | one atomic load; a lock when the wiring changed |
//! | [`OutboxTuning::destination_len`] | a send that would only wait (back-pressure by hand), or messages known to be stale | one lock on the destination's queue |
//!
//! A component that waits between short bursts (a keep-alive connection between requests) is
//! the one that gains: while it waits, each of its inboxes would otherwise keep the buffer of its
//! largest burst. Bring the traits into scope to call them:
//!
//! ```
//! use axon_core::prelude::*;
//! use axon_core::tuning::{InboxTuning, FIRST_BUFFER_ROOM};
//!
//! # fn between_requests(ctx: &Context<u32, ()>) {
//! // Between requests: no more buffer kept than the first allocation.
//! ctx.inbox.shrink_to(FIRST_BUFFER_ROOM);
//! # }
//! ```

use crate::boxes::{Inbox, Outbox};

/// How many messages an inbox's storage first has room for (for messages of up to 1 KiB: a
/// `VecDeque`'s first allocation). A component that waits between short bursts (a keep-alive
/// connection between requests) calls [`InboxTuning::shrink_to`] with this, so that a large
/// burst's storage is given back but the next small burst allocates none.
pub const FIRST_BUFFER_ROOM: usize = 4;

/// Giving back an inbox's spare buffer; see the [module docs](self).
pub trait InboxTuning: sealed::Sealed {
    /// Gives back the memory this inbox kept from earlier messages: all of it if none is
    /// waiting, else what is beyond the messages waiting. An inbox's storage grows as messages
    /// queue up and keeps that size when they have been taken (a busy inbox so allocates once,
    /// not for every burst); a component about to wait for a long time (an idle connection)
    /// calls this so that waiting costs no buffer. The capacity (the limit) is unchanged.
    fn shrink_to_fit(&self);

    /// Like [`shrink_to_fit`](Self::shrink_to_fit), but keeps room for `keep` messages: a
    /// component that waits between short bursts (a keep-alive connection between requests)
    /// so gives back what a large burst made its inbox grow to without allocating again for the
    /// next small one. A buffer no larger than that is left as it is.
    fn shrink_to(&self, keep: usize);
}

impl<T: Send + 'static> InboxTuning for Inbox<T> {
    fn shrink_to_fit(&self) {
        self.q().shrink_to(0)
    }

    fn shrink_to(&self, keep: usize) {
        self.q().shrink_to(keep)
    }
}

/// Looking past an outbox at its destination; see the [module docs](self).
pub trait OutboxTuning: sealed::Sealed {
    /// Brings the outbox's cached destination up to date, as a send does, so that an outbox
    /// that was unlinked no longer keeps its old destination's box alive. A component that
    /// relinks an outbox now and then (to short-lived children, say) calls it when it is done
    /// with one, rather than waiting for its next send.
    fn refresh_destination(&mut self);

    /// How many messages wait in the destination inbox (Axon's `len(outbox)`, which Kamaelia's
    /// `Minimal` uses for back-pressure). 0 when unlinked.
    fn destination_len(&mut self) -> usize;
}

impl<T: Send + 'static> OutboxTuning for Outbox<T> {
    fn refresh_destination(&mut self) {
        self.refresh();
    }

    fn destination_len(&mut self) -> usize {
        self.refresh().map_or(0, |s| s.queue().len())
    }
}

/// The traits above are for the box handles only.
mod sealed {
    pub trait Sealed {}
    impl<T> Sealed for crate::boxes::Inbox<T> {}
    impl<T> Sealed for crate::boxes::Outbox<T> {}
}
