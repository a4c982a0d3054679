//! How each request's handler runs: in the connection's handler host ([`crate::host`]), or as a
//! component of its own, a child of the request handler.
//!
//! Everything the request handler does with the core's machinery for short-lived children is
//! here, behind a few functions: [`start_handler`], [`let_handler_answer`], [`stop_handler`]
//! (and [`abandon_handler`]), [`retire_host`], [`poll_host_idle`] and [`tidy_between_requests`].
//! The rest of the request handler sees a [`Running`] handler and the [`Wires`] to it.

use std::borrow::Cow;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use axon_core::ipc::Ipc;
use axon_core::tuning::{InboxTuning, OutboxTuning};
use axon_core::{ComponentId, ComponentRef, Context, Exit, Inbox, Outbox};
use bytes::{Bytes, BytesMut};
use http::StatusCode;
use kamaelia_chassis::socket::Payload;

use crate::error_pages::ErrorPages;
use crate::host::{HandlerHost, HostSlot};
use crate::parser::Parsed;
use crate::request::Request;
use crate::resource::{Handler, HostedJob, Resource};

/// The internal boxes to and from the current handler.
pub(super) struct Wires {
    pub(super) from_handler: Inbox<Resource>,
    pub(super) handler_done: Inbox<Ipc>,
    pub(super) to_handler: Outbox<Bytes>,
    pub(super) body_done: Outbox<Ipc>,
}

impl Wires {
    /// The four internal boxes, taken from the request handler's context.
    pub(super) fn take(ctx: &mut Context<Parsed, Payload>) -> Result<Self, axon_core::BoxError> {
        Ok(Wires {
            from_handler: ctx.take_inbox("_handlerinbox")?,
            handler_done: ctx.take_inbox("_handlercontrol")?,
            to_handler: ctx.take_outbox("_handleroutbox")?,
            body_done: ctx.take_outbox("_handlersignal")?,
        })
    }
}

/// The handler answering the current request, and where it runs.
pub(super) enum Running {
    /// In the connection's handler host, through its slot.
    Hosted(Arc<HostSlot>),
    /// As a component of its own, a child of the request handler.
    Own(ComponentRef),
}

/// A handler started: how it runs, the id its end is reported under (its host's, if hosted),
/// and its class name, for the log (a hosted handler has no name of its own).
pub(super) struct Started {
    pub(super) running: Running,
    pub(super) id: ComponentId,
    pub(super) class: Cow<'static, str>,
}

/// The connection's handler host, while it has one.
pub(super) struct KeptHost {
    slot: Arc<HostSlot>,
    component: ComponentRef,
    /// A request was served since `idle` was last set (a flag rather than a time: reading the
    /// clock per request costs more than the rest of the bookkeeping).
    used: bool,
    /// How long the host is kept idle.
    keep: Duration,
    /// Goes off `keep` after it was set; set again if the host was used meanwhile. So the host
    /// goes after between one and two times `keep` of idleness.
    idle: Pin<Box<tokio::time::Sleep>>,
}

impl KeptHost {
    fn new(slot: Arc<HostSlot>, component: ComponentRef, keep: Duration) -> Self {
        KeptHost { slot, component, used: true, keep, idle: Box::pin(tokio::time::sleep(keep)) }
    }

    /// Notes that a request was served: the host's idle time starts again.
    pub(super) fn note_used(&mut self) {
        self.used = true;
    }

    /// Ready once the connection has been idle for `keep` (to `2 * keep`).
    fn poll_idle(&mut self, cx: &mut std::task::Context<'_>) -> Poll<()> {
        loop {
            std::task::ready!(self.idle.as_mut().poll(cx));
            if !std::mem::take(&mut self.used) {
                return Poll::Ready(());
            }
            let now = tokio::time::Instant::now();
            // (A `keep` too long to add is as good as for ever: a year.)
            let due = now.checked_add(self.keep).unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600));
            self.idle.as_mut().reset(due);
        }
    }
}

impl Drop for KeptHost {
    fn drop(&mut self) {
        self.slot.retire();
    }
}

/// Ready once the connection's handler host, if it has one, has been idle long enough to let it
/// go (see [`HttpSettings::handler_host_idle`](crate::HttpSettings::handler_host_idle)).
pub(super) fn poll_host_idle(host: &mut Option<KeptHost>, cx: &mut std::task::Context<'_>) -> Poll<()> {
    match host.as_mut().map(|h| h.poll_idle(cx)) {
        Some(Poll::Ready(())) => Poll::Ready(()),
        _ => Poll::Pending,
    }
}

/// Between requests, perhaps idle for long: the queues keep a few messages' worth of buffer
/// while a host is kept (so that a request allocates none), none once it has gone (and the
/// write buffer `out` goes too); and, with no host, the outboxes to the last handler look their
/// destination up again (`is_linked` does), so that they no longer keep that handler's boxes,
/// now unlinked, alive.
#[inline]
pub(super) fn tidy_between_requests(
    ctx: &mut Context<Parsed, Payload>,
    wires: &mut Wires,
    host: &Option<KeptHost>,
    out: &mut BytesMut,
) {
    let keep = if host.is_some() { axon_core::tuning::FIRST_BUFFER_ROOM } else { 0 };
    if keep == 0 {
        *out = BytesMut::new();
    }
    ctx.inbox.shrink_to(keep);
    wires.from_handler.shrink_to(keep);
    wires.handler_done.shrink_to(keep);
    if host.is_none() {
        // (With a host kept, they lead to it, as they have since it was made.)
        wires.to_handler.is_linked();
        wires.body_done.is_linked();
    }
}

/// Links a handler's (or a host's) four standard boxes to the four internal ones: all at once (all
/// or none), under one acquisition of the wiring lock.
fn link_handler(ctx: &Context<Parsed, Payload>, component: &ComponentRef) -> Result<(), axon_core::LinkError> {
    ctx.link_all([
        ((component, "outbox"), (ctx.me(), "_handlerinbox")),
        ((component, "signal"), (ctx.me(), "_handlercontrol")),
        ((ctx.me(), "_handleroutbox"), (component, "inbox")),
        ((ctx.me(), "_handlersignal"), (component, "control")),
    ])
}

/// Makes a handler host, links it and starts it; `None` if it cannot be linked.
fn new_host(ctx: &mut Context<Parsed, Payload>, wires: &mut Wires, keep: Duration) -> Option<KeptHost> {
    let slot = Arc::new(HostSlot::default());
    let instance = axon_core::Instance::new(HandlerHost { slot: slot.clone() });
    let component = instance.component().clone();
    if let Err(e) = link_handler(ctx, &component) {
        log::error!("{}: cannot link a handler host: {e}", ctx.name());
        return None;
    }
    ctx.add_child(&component);
    ctx.activate(instance);
    // The outboxes to the host look it up now, not during its first handler: a hosted handler
    // is checked for references it leaves behind by counting them.
    wires.to_handler.is_linked();
    wires.body_done.is_linked();
    Some(KeptHost::new(slot, component, keep))
}

/// Ends the host, if there is one, and removes the linkages to it.
pub(super) fn retire_host(ctx: &mut Context<Parsed, Payload>, host: &mut Option<KeptHost>) {
    if let Some(h) = host.take() {
        ctx.remove_child(&h.component);
    }
}

/// Makes the handler for `request` with `create` (a 500 page if the factory panics) and starts
/// it: in the connection's handler host if it can be hosted and hosts are kept (`keep`),
/// otherwise as a component of its own, linked to the request handler and made its child.
pub(super) fn start_handler(
    ctx: &mut Context<Parsed, Payload>,
    wires: &mut Wires,
    host: &mut Option<KeptHost>,
    keep: Option<Duration>,
    create: &(dyn Fn(Request) -> Handler + Send + Sync),
    request: Box<Request>,
) -> Started {
    let handler = match catch_unwind(AssertUnwindSafe(|| create(*request))) {
        Ok(handler) => handler,
        Err(panic) => {
            let why = panic_text(&*panic);
            log::error!("{}: the request handler factory panicked: {why}", ctx.name());
            Handler::from(ErrorPages::website_error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The server could not make a handler for this request.",
            ))
        }
    };
    if host.as_ref().is_some_and(|h| h.component.has_ended()) {
        retire_host(ctx, host);
    }
    let (instance, class) = match handler.into_kind() {
        Ok(job) => {
            let class = job.class_name();
            match keep {
                Some(keep) if !keep.is_zero() => match host_job(ctx, wires, host, job, keep) {
                    Ok((slot, id)) => return Started { running: Running::Hosted(slot), id, class },
                    Err(job) => (job.into_instance(), class),
                },
                _ => (job.into_instance(), class),
            }
        }
        Err(instance) => (instance, Cow::Borrowed("")),
    };
    // A component of its own, linked to the boxes the host was linked to.
    retire_host(ctx, host);
    let component = instance.component().clone();
    if let Err(e) = link_handler(ctx, &component) {
        // Cannot happen for a `Handler` (its box types are checked when it is made); if it
        // does, the handler's answer would be lost, so it is stopped and the client told.
        log::error!("{}: cannot link handler {}: {e}", ctx.name(), component.name());
        component.stop();
    }
    ctx.add_child(&component);
    let id = component.id();
    Started { running: Running::Own(ctx.activate_boxed(instance)), id, class }
}

/// Hands `job` to the connection's handler host, making the host first if there is none (or
/// the one there cannot take it); gives `job` back if no host can be made.
fn host_job(
    ctx: &mut Context<Parsed, Payload>,
    wires: &mut Wires,
    host: &mut Option<KeptHost>,
    mut job: Box<dyn HostedJob>,
    keep: Duration,
) -> Result<(Arc<HostSlot>, ComponentId), Box<dyn HostedJob>> {
    // The connection's host, or (if it cannot take the job: still busy with a handler it
    // was told to drop, or ending) a new one.
    for _ in 0..2 {
        if host.is_none() {
            *host = new_host(ctx, wires, keep);
        }
        let Some(h) = host.as_ref() else { return Err(job) };
        // This component is the only sender to the host's inboxes, so what waits there now
        // was sent to the previous handler (after it ended): the host drops that much.
        let stale = (wires.to_handler.destination_len(), wires.body_done.destination_len());
        match h.slot.hand_over(job, stale) {
            Ok(()) => return Ok((h.slot.clone(), h.component.id())),
            Err(back) => {
                job = back;
                retire_host(ctx, host);
            }
        }
    }
    // (A new host takes any job: not reached.)
    Err(job)
}

/// Gives a hosted handler, ready to run, its turn now, in the connection's group: it usually
/// answers in that one turn, so its answer is there when the request handler looks (rather than
/// every box looked at, found empty, and a wake-up later).
pub(super) fn let_handler_answer() -> impl Future<Output = ()> {
    axon_core::group::yield_now()
}

/// Ready with how a hosted handler ended; pending for a handler of its own (its end is reported
/// as a child's).
pub(super) fn poll_hosted_end(running: Option<&Running>, cx: &mut std::task::Context<'_>) -> Poll<Exit> {
    match running {
        Some(Running::Hosted(slot)) => slot.poll_ended(cx),
        _ => Poll::Pending,
    }
}

/// Ready with the end of a child of the request handler (the current handler's, or an earlier
/// one's reported late).
pub(super) fn poll_child_end(
    ctx: &mut Context<Parsed, Payload>,
    cx: &mut std::task::Context<'_>,
) -> Poll<Option<axon_core::ChildExit>> {
    pin!(ctx.child_exited()).poll(cx)
}

/// Stops the handler, which has answered or whose answer is no longer wanted: a hosted one is
/// dropped if it is still running (the host stays, linked); one of its own is unlinked and
/// removed, and stopped if it is still running.
pub(super) fn stop_handler(ctx: &mut Context<Parsed, Payload>, running: Running) {
    match running {
        Running::Hosted(slot) => slot.cancel(),
        Running::Own(handler) => {
            ctx.remove_child(&handler);
            if !handler.has_ended() {
                handler.stop();
            }
        }
    }
}

/// Stops the handler without the request handler's context (which is going): the request
/// handler was stopped mid-request.
pub(super) fn abandon_handler(running: Running) {
    match running {
        Running::Hosted(slot) => slot.cancel(),
        Running::Own(handler) => {
            if !handler.has_ended() {
                handler.stop();
            }
        }
    }
}

/// The handler's name, for the log.
pub(super) fn handler_name(running: Option<&Running>, class: &str, host: &Option<KeptHost>) -> String {
    match (running, host) {
        (Some(Running::Own(own)), _) => own.name().to_owned(),
        (_, Some(h)) => format!("{class} (hosted by {})", h.component.name()),
        (_, None) => class.to_owned(),
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-text panic payload".to_owned())
}
