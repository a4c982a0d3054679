//! The kept host: a component that runs, one after another, the behaviours a
//! [`ChildHost`](super::ChildHost) hands it ([`HostComponent`]), and the parent's hold on it
//! ([`KeptHost`]), with the idle timer that lets it go.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use super::body::Hosted;
use super::slot::{Handover, HostSlot};
use crate::component::Component;
use crate::component_ref::ComponentRef;
use crate::context::Context;
use crate::declarations::Declarations;
use crate::error::ComponentResult;
use crate::kinds::BoxKind;
use crate::lifecycle::Exit;
use crate::tuning::IdleTimer;

/// What the kept host's `inbox` is for (see the boxes in the [module docs](super)).
pub(crate) const INBOX: &str = "What the parent sends the inbox of the child it runs";
/// What the kept host's `control` is for.
pub(crate) const CONTROL: &str = "What the parent sends the control of the child it runs";
/// What the kept host's `outbox` is for.
pub(crate) const OUTBOX: &str = "What the child it runs sends the parent from its outbox";
/// What the kept host's `signal` is for.
pub(crate) const SIGNAL: &str = "What the child it runs sends the parent from its signal";

/// The kept host: takes behaviours from its slot and runs them in its boxes
/// ([`Context::host`]) until it is retired or a behaviour leaves it unclean. Its boxes are
/// listed in the [module docs](super) ("The kept host").
pub(crate) struct HostComponent<I, O> {
    pub(crate) slot: Arc<HostSlot<I, O>>,
    /// Its class name (`HandlerHost`).
    pub(crate) class: Cow<'static, str>,
}

impl<I: Send + 'static, O: Send + 'static> Component for HostComponent<I, O> {
    type Inbox = I;
    type Outbox = O;

    fn class_name(&self) -> Cow<'static, str> {
        self.class.clone()
    }

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .describe(BoxKind::Inbox, "inbox", INBOX)
            .describe(BoxKind::Inbox, "control", CONTROL)
            .describe(BoxKind::Outbox, "outbox", OUTBOX)
            .describe(BoxKind::Outbox, "signal", SIGNAL);
    }

    // Not `async fn`: its arguments would be stored twice in the future (once as captured, once
    // as moved into the body's locals).
    #[allow(clippy::manual_async_fn)]
    fn main(self, mut ctx: Context<I, O>) -> impl Future<Output = ComponentResult> + Send {
        async move {
            while let Some(Handover { behaviour, stale }) = self.slot.next().await {
                // What the parent sent the previous child after it ended.
                for _ in 0..stale.0 {
                    let _ = ctx.inbox.try_recv();
                }
                for _ in 0..stale.1 {
                    let _ = ctx.control.try_recv();
                }
                let run = behaviour.run(&mut ctx);
                let (exit, clean) = match self.slot.run_until_cancelled(run).await {
                    Some(Hosted { exit, clean }) => (exit, clean),
                    // Dropped mid-body (a child that signalled and went on waiting, say): the
                    // host goes on if the body left nothing behind.
                    None => (Exit::Stopped, ctx.host_is_clean()),
                };
                self.slot.report(exit, !clean);
                if !clean {
                    log::debug!("{}: a child left something behind; this host ends", ctx.name());
                    break;
                }
            }
            Ok(())
        }
    }
}

/// The parent's hold on its kept host: the slot they share, the host component, and the idle
/// timer.
pub(crate) struct KeptHost<I, O> {
    pub(crate) slot: Arc<HostSlot<I, O>>,
    pub(crate) component: ComponentRef,
    /// Noted at each child handed over (a flag rather than a time: reading the clock per child
    /// costs more than the rest of the bookkeeping); the host goes after between one and two
    /// times `keep` of idleness.
    idle: IdleTimer,
}

impl<I, O> KeptHost<I, O> {
    pub(crate) fn new(slot: Arc<HostSlot<I, O>>, component: ComponentRef, keep: Duration) -> Self {
        let mut idle = IdleTimer::new(keep);
        idle.note_used();
        KeptHost { slot, component, idle }
    }

    /// Notes that a child was handed over: the host's idle time starts again.
    pub(crate) fn note_used(&mut self) {
        self.idle.note_used();
    }

    /// Ready once the host has been idle for `keep` (to `2 * keep`).
    pub(crate) fn poll_idle(&mut self, cx: &mut TaskContext<'_>) -> Poll<()> {
        self.idle.poll_idle(cx)
    }
}

impl<I, O> Drop for KeptHost<I, O> {
    fn drop(&mut self) {
        self.slot.retire();
    }
}
