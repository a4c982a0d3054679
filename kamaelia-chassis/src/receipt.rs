//! Receipts: how a component that sends to a socket adapter learns what the adapter has written.
//!
//! A socket adapter takes messages from its `inbox` and writes them; once a message is taken, its
//! sender cannot see it any more. A sender that must know when what it sent has reached the
//! kernel (so as not to make more while the peer reads nothing, or to time something from the end
//! of a reply) puts a [`Receipt`] in the stream, as a [`Payload::Receipt`](crate::payload::Payload::Receipt),
//! after the messages it is about. The adapter writes nothing for it: once every byte before it
//! has been handed to the kernel, it *signs* it, and the sender's [`Written`] moves on to the
//! receipt's position.
//!
//! Positions are the sender's to choose; they only have to grow: the number of bytes sent so far
//! is the natural one (the HTTP request handler's). A receipt that is dropped unsigned, because
//! the adapter ended first (what it had not written is dropped with it), marks its [`Written`]
//! [abandoned](Written::abandoned) and wakes the sender all the same, so that a sender waiting
//! for a receipt finds out that it never will be signed.
//!
//! ```
//! use kamaelia_chassis::receipt::Written;
//!
//! let written = Written::new();
//! let receipt = written.receipt(1200);
//! assert_eq!(written.position(), 0);
//! receipt.sign(); // what the adapter does once the 1200 bytes before it are written
//! assert_eq!(written.position(), 1200);
//! assert!(written.last_signed().is_some());
//! ```
//!
//! A receipt costs its sender no allocation (a [`Written`] is made once, and each receipt shares
//! it), and the adapter an atomic update and a clock read when it signs one.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;
use tokio::time::Instant;

/// How far an adapter has written a stream of payloads, as the [`Receipt`]s in it say, and when it
/// last signed one: the sender's half (see the [module docs](self)).
pub struct Written {
    /// The highest position signed.
    position: AtomicU64,
    /// When the last receipt was signed, in nanoseconds after `epoch`, plus one (0: never).
    signed_at: AtomicU64,
    /// A receipt was dropped unsigned.
    abandoned: AtomicBool,
    epoch: Instant,
    /// Rung when a receipt is signed, or dropped unsigned.
    rung: Notify,
}

impl fmt::Debug for Written {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Written").field("position", &self.position()).finish_non_exhaustive()
    }
}

impl Written {
    /// A stream of which nothing is written yet (position 0).
    pub fn new() -> Arc<Written> {
        Arc::new(Written {
            position: AtomicU64::new(0),
            signed_at: AtomicU64::new(0),
            abandoned: AtomicBool::new(false),
            epoch: Instant::now(),
            rung: Notify::new(),
        })
    }

    /// A receipt for `position`: put it in the stream after the messages that bring the stream to
    /// that position.
    pub fn receipt(self: &Arc<Self>, position: u64) -> Receipt {
        Receipt { written: Arc::clone(self), position, signed: false }
    }

    /// The highest position of a signed receipt (0 if none is).
    pub fn position(&self) -> u64 {
        self.position.load(Ordering::Acquire)
    }

    /// When the last receipt was signed (`None`: none has been).
    pub fn last_signed(&self) -> Option<Instant> {
        match self.signed_at.load(Ordering::Acquire) {
            0 => None,
            n => Some(self.epoch + std::time::Duration::from_nanos(n - 1)),
        }
    }

    /// True once a receipt has been dropped unsigned: its adapter ended (or the message never
    /// reached one) before everything before it was written, and no later receipt will be
    /// signed either.
    pub fn abandoned(&self) -> bool {
        self.abandoned.load(Ordering::Acquire)
    }

    /// Waits until a receipt is signed or dropped unsigned, or returns at once if one was since
    /// the last wait. A waiter checks what it waits for (a [`position`](Self::position), its
    /// adapter's end) before it waits, and again after.
    pub async fn changed(&self) {
        self.rung.notified().await;
    }
}

/// A mark in a stream of payloads: signed by the adapter once everything before it is written
/// (see the [module docs](self)). Clones share the [`Written`] they report to.
pub struct Receipt {
    written: Arc<Written>,
    position: u64,
    signed: bool,
}

impl Receipt {
    /// The position it stands for.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Says that everything before it is written: its [`Written`] moves on to its position (if
    /// that is further), notes the time, and wakes its waiter.
    pub fn sign(mut self) {
        self.signed = true;
        let written = &self.written;
        let since = written.epoch.elapsed().as_nanos();
        written.signed_at.store(u64::try_from(since).unwrap_or(u64::MAX - 1) + 1, Ordering::Release);
        written.position.fetch_max(self.position, Ordering::AcqRel);
        written.rung.notify_one();
    }
}

impl Drop for Receipt {
    /// A receipt dropped unsigned (its adapter has ended) marks its [`Written`] abandoned, and
    /// wakes its waiter too.
    fn drop(&mut self) {
        if !self.signed {
            self.written.abandoned.store(true, Ordering::Release);
            self.written.rung.notify_one();
        }
    }
}

/// A clone is another receipt for the same position, with the same duty: to be signed, or to
/// mark its [`Written`] abandoned when dropped unsigned.
impl Clone for Receipt {
    fn clone(&self) -> Self {
        Receipt { written: Arc::clone(&self.written), position: self.position, signed: false }
    }
}

impl PartialEq for Receipt {
    /// Equal when they report to the same [`Written`] for the same position.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.written, &other.written) && self.position == other.position
    }
}

impl Eq for Receipt {}

impl fmt::Debug for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receipt").field("position", &self.position).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn signing_moves_the_position_on_and_wakes_the_waiter_and_so_does_a_dropped_receipt() {
        let written = Written::new();
        let (first, second) = (written.receipt(10), written.receipt(25));
        second.sign();
        first.sign(); // late, and lower: the position stays
        assert_eq!(written.position(), 25);
        assert!(!written.abandoned());
        written.changed().await; // the signatures rang
        let unsigned = written.receipt(40);
        let waiter = {
            let written = written.clone();
            tokio::spawn(async move { written.changed().await })
        };
        drop(unsigned);
        waiter.await.unwrap();
        assert_eq!(written.position(), 25, "a dropped receipt moves nothing");
        assert!(written.abandoned());
    }
}
