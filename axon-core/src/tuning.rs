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
//! | [`IdleTimer`] | telling a busy spell from an idle one, so that buffers are kept while work follows work and given back once it stops | a flag set per use; a timer reset once per period while busy |
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

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

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

/// Tells a busy spell from an idle one, cheaply: [`note_used`](Self::note_used) at each piece
/// of work (a flag, not a clock read or a timer reset), and [`poll_idle`](Self::poll_idle) in
/// the wait between pieces is ready once `keep` (to twice `keep`) has passed with no use. What
/// it is for is keeping something (a buffer, a helper component) while work follows work, so
/// that each piece allocates or starts nothing, and giving it back once the work stops.
///
/// # How it works
///
/// One timer, made `keep` ahead at the first use after an idle spell. When it goes off, if
/// there was a use meanwhile it is set `keep` ahead again (once per period however many uses
/// there were); if not, the spell is over: `poll_idle` is ready, and the timer is dropped, so
/// that an idle `IdleTimer` holds no memory but its own few words, until the next use makes
/// one again. It needs a tokio runtime with time enabled, as every scheduler of this crate
/// has.
///
/// ```
/// use std::time::Duration;
/// use axon_core::tuning::IdleTimer;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let mut idle = IdleTimer::new(Duration::from_millis(100));
/// assert!(!idle.is_busy());
/// idle.note_used(); // a request: keep the buffers
/// assert!(idle.is_busy());
/// std::future::poll_fn(|cx| idle.poll_idle(cx)).await; // 100 to 200 ms without one
/// assert!(!idle.is_busy()); // give them back
/// # }
/// ```
#[derive(Debug)]
pub struct IdleTimer {
    keep: Duration,
    /// A use was noted since the timer was last set.
    used: bool,
    /// The timer, while a busy spell lasts (made at its first use, reset each period): `None`
    /// is idle.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl IdleTimer {
    /// A timer that calls a spell over after `keep` (to twice `keep`) with no use. Idle to begin
    /// with; nothing is allocated until the first use, and nothing is kept once idle again.
    pub fn new(keep: Duration) -> Self {
        IdleTimer { keep, used: false, timer: None }
    }

    /// Notes a use: the spell goes on (or starts again, setting the timer, after an idle one).
    #[inline]
    pub fn note_used(&mut self) {
        self.used = true;
        if self.timer.is_none() {
            self.timer = Some(Box::pin(tokio::time::sleep_until(due(self.keep))));
        }
    }

    /// True from a use until [`poll_idle`](Self::poll_idle) has said the spell is over.
    pub fn is_busy(&self) -> bool {
        self.timer.is_some()
    }

    /// Ready once a busy spell is over (no use for `keep` to twice `keep`); pending while it
    /// lasts, and while idle (until a use starts a spell and it ends).
    pub fn poll_idle(&mut self, cx: &mut TaskContext<'_>) -> Poll<()> {
        let Some(timer) = self.timer.as_mut() else { return Poll::Pending };
        loop {
            std::task::ready!(timer.as_mut().poll(cx));
            if !std::mem::take(&mut self.used) {
                // Idle: nothing kept, not even the timer (the next spell makes one).
                self.timer = None;
                return Poll::Ready(());
            }
            timer.as_mut().reset(due(self.keep));
        }
    }
}

/// `keep` from now (a `keep` too long to add is as good as for ever: a year).
fn due(keep: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(keep).unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600))
}

/// The traits above are for the box handles only.
mod sealed {
    pub trait Sealed {}
    impl<T> Sealed for crate::boxes::Inbox<T> {}
    impl<T> Sealed for crate::boxes::Outbox<T> {}
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;
    use std::task::Poll;
    use std::time::Duration;

    use super::IdleTimer;

    const KEEP: Duration = Duration::from_millis(100);

    /// Polls once: is the spell over now?
    async fn over(idle: &mut IdleTimer) -> bool {
        poll_fn(|cx| Poll::Ready(idle.poll_idle(cx).is_ready())).await
    }

    #[tokio::test(start_paused = true)]
    async fn a_spell_lasts_while_uses_come_closer_than_keep() {
        let mut idle = IdleTimer::new(KEEP);
        assert!(!over(&mut idle).await, "an idle timer never used has no spell to end");
        idle.note_used();
        for _ in 0..20 {
            tokio::time::advance(KEEP / 2).await;
            assert!(!over(&mut idle).await);
            idle.note_used();
            assert!(idle.is_busy());
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_spell_ends_between_keep_and_twice_keep_after_the_last_use() {
        let mut idle = IdleTimer::new(KEEP);
        idle.note_used();
        tokio::time::advance(KEEP / 2).await;
        idle.note_used();
        let last_use = tokio::time::Instant::now();
        poll_fn(|cx| idle.poll_idle(cx)).await;
        let after = last_use.elapsed();
        assert!(after >= KEEP && after <= 2 * KEEP, "idle after {after:?}");
        assert!(!idle.is_busy());
        // Over until the next use, which starts a spell of its own.
        tokio::time::advance(3 * KEEP).await;
        assert!(!over(&mut idle).await);
        idle.note_used();
        assert!(idle.is_busy());
        poll_fn(|cx| idle.poll_idle(cx)).await;
        assert!(!idle.is_busy());
    }
}
