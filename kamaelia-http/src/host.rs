//! The connection's handler host: one component, linked to the request handler once, that runs
//! the handlers of a connection's requests one after another (see [`axon_core::host`]).
//!
//! Kamaelia makes a handler component per request: made, linked to four boxes of the request
//! handler, activated, then unlinked and removed. On a keep-alive connection that life is most
//! of what a small request costs (`docs/benchmarks.md`, round 4). A handler given as a plain
//! component value ([`axon_core::hostable`]) is instead run by the host, in the host's boxes,
//! which stay linked: to the handler nothing differs but its id and name (the host's).
//!
//! # Example
//!
//! Two requests on one connection: one host, a child of the request handler kept between them,
//! runs both handlers (with no host, `handler_host_idle: None`, each handler would have been a
//! child of its own, removed after its response):
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use axon_core::{Handle, Instance, Scheduler};
//! use kamaelia_http::http_server::shared_factory;
//! use kamaelia_http::{Handler, HelloHandler, HTTPRequestHandler, HttpSettings, Method, Parsed, Payload, Request};
//!
//! // A component value with the standard four boxes can be hosted; a component already made
//! // (an `Instance`) cannot.
//! let request = || Request::new(Method::GET, "/");
//! assert!(Handler::from(HelloHandler::new(request())).is_hostable());
//! assert!(!Handler::from(Instance::new(HelloHandler::new(request()))).is_hostable());
//!
//! let settings = HttpSettings { handler_host_idle: Some(Duration::from_secs(60)), ..HttpSettings::default() };
//! let handler = HTTPRequestHandler::new(shared_factory(HelloHandler::new), Arc::new(settings));
//! let scheduler = Scheduler::new();
//! let mut connection = Handle::new(handler, &scheduler);
//! for _ in 0..2 {
//!     connection.send_blocking(Parsed::Head(Box::new(Request::new(Method::GET, "/hello"))));
//!     connection.send_blocking(Parsed::End);
//!     let mut response = Vec::new();
//!     while !response.ends_with(b"0\r\n\r\n") {
//!         let Some(Payload::Bytes(bytes)) = connection.recv_blocking() else { panic!("bytes") };
//!         response.extend_from_slice(&bytes);
//!     }
//! }
//! let children = connection.component().children();
//! assert_eq!(children.len(), 1);
//! assert!(children[0].name().starts_with("HandlerHost"), "{}", children[0].name());
//! ```
//!
//! # How it works
//!
//! The request handler hands a handler over through a `HostSlot` shared with the host, and
//! hears how it ended there. A handler that leaves something behind in the host (children, a
//! linkage, a kept handle; [`axon_core::Hosted::clean`]) or panics makes the host end after it;
//! the next request gets a new one. The host ends, too, when the connection has been idle for one
//! to two times [`HttpSettings::handler_host_idle`](crate::HttpSettings::handler_host_idle), so
//! that an idle connection keeps no host; before a handler that needs the request handler's boxes
//! for itself (a prefab, or a component with boxes of its own); and when the request handler
//! ends.

use std::borrow::Cow;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

use axon_core::{BoxKind, Component, ComponentResult, Context, Declarations, Exit, Hosted};
use bytes::Bytes;

use crate::resource::{HostedJob, Resource};

/// A handler handed over, with how many stale messages to drop from the host's `inbox` and
/// `control` before it runs.
struct Job {
    job: Box<dyn HostedJob>,
    stale: (usize, usize),
}

/// What the request handler and its host share.
#[derive(Default)]
pub(crate) struct HostSlot {
    state: Mutex<SlotState>,
}

#[derive(Default)]
struct SlotState {
    /// Handed over, not yet taken by the host.
    job: Option<Job>,
    /// A job was handed over and the host has not reported its end.
    busy: bool,
    /// The request handler no longer wants the current job's answer: drop it.
    cancel: bool,
    /// The host is to end (or has ended): take no more jobs.
    retire: bool,
    /// How the last job ended, for the request handler.
    ended: Option<Exit>,
    /// Wakes the host.
    host: Option<Waker>,
    /// Wakes the request handler.
    owner: Option<Waker>,
}

fn store(slot: &mut Option<Waker>, waker: &Waker) {
    if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
        *slot = Some(waker.clone());
    }
}

impl HostSlot {
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands `job` over; gives it back if the host is busy or retiring (the caller then retires
    /// this host). `stale` counts the messages waiting in the host's `inbox` and `control` that
    /// were meant for the previous job.
    pub(crate) fn hand_over(&self, job: Box<dyn HostedJob>, stale: (usize, usize)) -> Result<(), Box<dyn HostedJob>> {
        let host = {
            let mut s = self.lock();
            if s.busy || s.retire {
                return Err(job);
            }
            s.job = Some(Job { job, stale });
            s.busy = true;
            s.cancel = false;
            s.ended = None;
            s.host.take()
        };
        if let Some(w) = host {
            w.wake();
        }
        Ok(())
    }

    /// Ready with how the current job ended.
    pub(crate) fn poll_ended(&self, cx: &mut std::task::Context<'_>) -> Poll<Exit> {
        let mut s = self.lock();
        match s.ended.take() {
            Some(exit) => Poll::Ready(exit),
            None => {
                store(&mut s.owner, cx.waker());
                Poll::Pending
            }
        }
    }

    /// Drops the current job, if it is still running.
    pub(crate) fn cancel(&self) {
        let host = {
            let mut s = self.lock();
            if !s.busy {
                return;
            }
            s.cancel = true;
            s.host.take()
        };
        if let Some(w) = host {
            w.wake();
        }
    }

    /// Ends the host (dropping a job still running).
    pub(crate) fn retire(&self) {
        let host = {
            let mut s = self.lock();
            s.retire = true;
            s.host.take()
        };
        if let Some(w) = host {
            w.wake();
        }
    }

    /// The host's side: the next job, or `None` when it is to end.
    async fn next_job(&self) -> Option<Job> {
        poll_fn(|cx| {
            let mut s = self.lock();
            if s.retire {
                return Poll::Ready(None);
            }
            if let Some(job) = s.job.take() {
                return Poll::Ready(Some(job));
            }
            store(&mut s.host, cx.waker());
            Poll::Pending
        })
        .await
    }

    /// The host's side: runs `run` until it ends, or until it is cancelled or the host retired
    /// (`None`; `run` is then dropped).
    async fn run_until_cancelled(&self, run: Pin<Box<dyn Future<Output = Hosted> + Send + '_>>) -> Option<Hosted> {
        let mut run = Some(run);
        poll_fn(|cx| {
            {
                let mut s = self.lock();
                if s.cancel || s.retire {
                    drop(s);
                    // Dropped outside the lock: dropping a body may do anything.
                    run = None;
                    return Poll::Ready(None);
                }
                store(&mut s.host, cx.waker());
            }
            match run.as_mut().map(|r| r.as_mut().poll(cx)) {
                Some(Poll::Ready(hosted)) => Poll::Ready(Some(hosted)),
                Some(Poll::Pending) => Poll::Pending,
                None => Poll::Ready(None),
            }
        })
        .await
    }

    /// The host's side: the job has ended (`exit`); `last` if the host ends after it.
    fn report(&self, exit: Exit, last: bool) {
        let owner = {
            let mut s = self.lock();
            s.busy = false;
            s.cancel = false;
            s.retire |= last;
            s.ended = Some(exit);
            s.owner.take()
        };
        if let Some(w) = owner {
            w.wake();
        }
    }
}

/// The host component: takes jobs from its slot and runs them in its boxes until it is retired
/// or a job leaves it unclean; see the [module docs](self).
///
/// # Inboxes
///
/// | box       | carries | what arrives |
/// |-----------|---------|--------------|
/// | `inbox`   | `Bytes` | The request body, for the handler it runs |
/// | `control` | `Ipc`   | `ProducerFinished` when the request body is complete, for the handler it runs |
///
/// # Outboxes
///
/// | box      | carries    | what leaves |
/// |----------|------------|-------------|
/// | `outbox` | `Resource` | The response of the handler it runs |
/// | `signal` | `Ipc`      | `ProducerFinished` when the handler it runs has answered |
///
/// # Shutdown
///
/// It ends when the request handler retires it (idle, before a handler that needs boxes of its
/// own, or as the request handler ends), or after a handler that leaves it unclean or panics;
/// a handler still running is dropped.
pub(crate) struct HandlerHost {
    pub(crate) slot: Arc<HostSlot>,
}

impl Component for HandlerHost {
    type Inbox = Bytes;
    type Outbox = Resource;

    fn class_name(&self) -> Cow<'static, str> {
        Cow::Borrowed("HandlerHost")
    }

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .describe(BoxKind::Inbox, "inbox", "The request body, for the handler it runs")
            .describe(
                BoxKind::Inbox,
                "control",
                "ProducerFinished when the request body is complete, for the handler it runs",
            )
            .describe(BoxKind::Outbox, "outbox", "The response of the handler it runs")
            .describe(BoxKind::Outbox, "signal", "ProducerFinished when the handler it runs has answered");
    }

    // Not `async fn`: see `HTTPRequestHandler::main`.
    #[allow(clippy::manual_async_fn)]
    fn main(self, mut ctx: Context<Bytes, Resource>) -> impl Future<Output = ComponentResult> + Send {
        async move {
            while let Some(Job { job, stale }) = self.slot.next_job().await {
                // What the request handler sent the previous job after it ended.
                for _ in 0..stale.0 {
                    let _ = ctx.inbox.try_recv();
                }
                for _ in 0..stale.1 {
                    let _ = ctx.control.try_recv();
                }
                let run = job.run(&mut ctx);
                let (exit, clean) = match self.slot.run_until_cancelled(run).await {
                    Some(Hosted { exit, clean }) => (exit, clean),
                    // Dropped mid-body (a handler that signalled and went on waiting, say): the
                    // host goes on if the body left nothing behind.
                    None => (Exit::Stopped, ctx.host_is_clean()),
                };
                self.slot.report(exit, !clean);
                if !clean {
                    log::debug!("{}: a handler left something behind; this host ends", ctx.name());
                    break;
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::box_tables::{check, declared_boxes};

    /// The host is crate-private, so `tests/component_docs.rs` cannot make one: its box tables
    /// are checked here, the same way.
    #[tokio::test]
    async fn the_host_lists_the_boxes_it_declares_word_for_word() {
        let declared = declared_boxes(HandlerHost { slot: Arc::default() });
        let problems = check("src/host.rs", include_str!("host.rs"), "HandlerHost", &declared);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
