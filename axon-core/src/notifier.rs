//! [`Notifier`]: a component's doorbell, what wakes it from `pause` (Axon's `unpause()` target).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use crate::sync::lock;

/// A component's "pause" doorbell: Axon's `unpause()` target.
///
/// Deliveries into any of the component's inboxes, the end of a child and explicit
/// [`Unpauser::unpause`](crate::Unpauser::unpause) calls all ring it. It keeps one *permit*: a ring
/// that arrives while the component is busy is remembered, so the Axon idiom "if nothing is ready,
/// pause" can never sleep through a delivery (Axon guarantees the same by applying pause requests
/// before wake requests).
#[derive(Default)]
pub(crate) struct Notifier {
    permit: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Notifier {
    pub(crate) fn notify(&self) {
        // Fast path while streaming: the permit is already set and nobody is asleep.
        if self.permit.load(Ordering::SeqCst) {
            return;
        }
        self.permit.store(true, Ordering::SeqCst);
        let w = lock(&self.waker).take();
        if let Some(w) = w {
            w.wake();
        }
    }

    /// Consumes the permit if set; otherwise registers `cx` and returns `Pending`.
    pub(crate) fn poll_wait(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.permit.swap(false, Ordering::SeqCst) {
            return Poll::Ready(());
        }
        *lock(&self.waker) = Some(cx.waker().clone());
        // A notify between the swap and the registration would have found no waker: look again.
        if self.permit.swap(false, Ordering::SeqCst) {
            lock(&self.waker).take();
            return Poll::Ready(());
        }
        Poll::Pending
    }
}
