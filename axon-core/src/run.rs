//! The run loop: how a component's body is run as a task. Every poll records the component's
//! state; a panic ends that component alone; and however the task ends (its body finished, failed,
//! panicked, or the task was dropped) the end-of-life bookkeeping runs, once.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::component_ref::Core;
use crate::error::ComponentResult;
use crate::lifecycle::{panic_message, ComponentState, Exit};

/// Runs a component body: records its state on every poll, contains a panic, and does the
/// end-of-life bookkeeping however the task ends (finished, failed, panicked, or dropped).
///
/// The returned future does the bookkeeping when dropped, so a task stopped before it ever ran
/// still ends with its bookkeeping done.
pub(crate) fn run_body<F>(
    core: Arc<Core>,
    body: F,
    slowmo: Option<std::time::Duration>,
) -> impl Future<Output = ()> + Send + 'static
where
    F: Future<Output = ComponentResult> + Send + 'static,
{
    // The body is pinned on the heap, and this wrapper is a plain struct rather than an async
    // block: an async block would store the body twice (once as the captured argument and once
    // as the pinned local; the compiler does not overlap the two), and its other locals too. A
    // component's wrapper lives as long as the component: 48 bytes now, against 128 for the async
    // block (docs/benchmarks.md).
    RunBody { core, body: Some(Box::pin(body)), slowmo, delay: None }
}

/// See [`run_body`].
struct RunBody<F> {
    core: Arc<Core>,
    /// `None` once the body has ended and the bookkeeping is done.
    body: Option<Pin<Box<F>>>,
    /// Debugging aid: wait this long before every step of the body
    /// ([`Scheduler::set_slowmo`](crate::Scheduler::set_slowmo)).
    slowmo: Option<std::time::Duration>,
    delay: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<F: Future<Output = ComponentResult>> Future for RunBody<F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let Some(body) = this.body.as_mut() else { return Poll::Ready(()) };
        if let Some(d) = this.slowmo {
            let delay = this.delay.get_or_insert_with(|| Box::pin(tokio::time::sleep(d)));
            if delay.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.delay = None;
        }
        this.core.set_state(ComponentState::Running);
        let exit = match catch_unwind(AssertUnwindSafe(|| body.as_mut().poll(cx))) {
            Ok(Poll::Pending) => {
                this.core.set_state(ComponentState::Paused);
                return Poll::Pending;
            }
            Ok(Poll::Ready(Ok(()))) => Exit::Finished,
            Ok(Poll::Ready(Err(e))) => Exit::Failed(e.to_string()),
            Err(panic) => Exit::Panicked(panic_message(&*panic)),
        };
        // The bookkeeping first, then the (ended) body is dropped.
        let body = this.body.take();
        this.core.finish(exit);
        drop(body);
        Poll::Ready(())
    }
}

impl<F> Drop for RunBody<F> {
    fn drop(&mut self) {
        if let Some(body) = self.body.take() {
            // Dropped mid-body (stopped, or the runtime shut down): the body goes first, then
            // the end-of-life bookkeeping.
            drop(body);
            self.core.finish(Exit::Stopped);
        }
    }
}
