//! [`Answered`]: how far a connection's requests are answered, shared by its parser (which
//! times the keep-alive wait) and its request handler (which answers them).
//!
//! A connection is idle when every request it has read is answered and the answer written: the
//! keep-alive timeout counts from then, not from the end of the last request, so that a response
//! slower to make or to read than the timeout (a large file to a slow client) is followed by the
//! next request, not by a close. The request handler knows when an answer is complete, and learns
//! from the receipts its socket adapter signs ([`Written`]) when it has been handed to the
//! kernel; the parser, when its keep-alive wait gives up, asks [`Answered::idle_since`] whether
//! the connection was in fact idle all that time, and if not waits again from the end of the
//! last response.
//!
//! [`HTTPServer`](crate::HTTPServer) makes one for each connection and hands it to both (state
//! the Graphline's owner passes down, as the design allows; nothing travels per request but two
//! atomic stores). A parser used without one times the wait from the end of each request.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use kamaelia_chassis::socket::Written;
use tokio::time::Instant;

/// How far a connection's requests are answered (see the [module docs](self)).
pub(crate) struct Answered {
    /// What the socket adapter has written, as the receipts it signed say.
    written: Arc<Written>,
    /// Requests answered in full: their response complete and a receipt for it sent.
    count: AtomicU64,
    /// The position of the receipt of the last response answered.
    position: AtomicU64,
}

/// Whether a connection is idle, as [`Answered::idle_since`] sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idle {
    /// A response is being made, or has not all been written yet.
    Busy,
    /// Every request is answered and written: since the last receipt was signed (`None`: no
    /// response has been written yet).
    Since(Option<Instant>),
}

impl Answered {
    /// Nothing answered yet.
    pub(crate) fn new() -> Arc<Answered> {
        Arc::new(Answered { written: Written::new(), count: AtomicU64::new(0), position: AtomicU64::new(0) })
    }

    /// What the socket adapter signs: the receipts go in the stream of responses.
    pub(crate) fn written(&self) -> &Arc<Written> {
        &self.written
    }

    /// The request handler: `count` requests are answered, the last one's response ending at
    /// `position` (a receipt for which is on its way to the adapter).
    pub(crate) fn answered(&self, count: u64, position: u64) {
        self.position.store(position, Ordering::Release);
        // After the position: whoever sees the count sees the position that goes with it.
        self.count.store(count, Ordering::Release);
    }

    /// The parser, which has read `requests` requests: whether the connection is idle, and since
    /// when.
    pub(crate) fn idle_since(&self, requests: u64) -> Idle {
        if self.count.load(Ordering::Acquire) < requests {
            return Idle::Busy;
        }
        if self.written.position() < self.position.load(Ordering::Acquire) {
            return Idle::Busy;
        }
        Idle::Since(self.written.last_signed())
    }
}

impl fmt::Debug for Answered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Answered")
            .field("count", &self.count.load(Ordering::Relaxed))
            .field("position", &self.position.load(Ordering::Relaxed))
            .field("written", &self.written.position())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_connection_is_busy_until_every_request_is_answered_and_written() {
        let answered = Answered::new();
        assert_eq!(answered.idle_since(0), Idle::Since(None), "no request yet: idle since it began");
        assert_eq!(answered.idle_since(1), Idle::Busy, "a request read, not answered");
        let receipt = answered.written().receipt(500);
        answered.answered(1, 500);
        assert_eq!(answered.idle_since(1), Idle::Busy, "answered, not yet written");
        receipt.sign();
        assert!(matches!(answered.idle_since(1), Idle::Since(Some(_))));
        assert_eq!(answered.idle_since(2), Idle::Busy, "the next request, read");
    }
}
