//! Blocking on a future from a plain thread: what the blocking forms of the box handles
//! ([`Inbox::recv_blocking`](crate::Inbox::recv_blocking),
//! [`Outbox::send_blocking`](crate::Outbox::send_blocking), ...) and [`Handle`](crate::Handle) run.
//!
//! The thread parks between wake-ups; a delivery, a free slot or a deadline unparks it. No tokio
//! runtime is needed (threaded components run on threads of their own).

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Instant;

/// Wakes a parked thread.
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Drives `fut` to completion on the calling thread, parking it between wake-ups.
pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
    match block_on_deadline(fut, None) {
        Some(v) => v,
        None => unreachable!("no deadline was given"),
    }
}

/// Like [`block_on`], but gives up (returning `None`) at `deadline`.
pub(crate) fn block_on_deadline<F: Future>(fut: F, deadline: Option<Instant>) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return Some(v);
        }
        match deadline {
            None => thread::park(),
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return None;
                }
                thread::park_timeout(d - now);
            }
        }
    }
}
