//! [`PublishTo`]: publishes what reaches its `inbox` on a named backplane, counted among the
//! backplane's publishers until it ends.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use axon_core::{
    linkage, BoxKind, Component, ComponentError, ComponentResult, Context, Declarations, Event, Ipc, LinkOptions,
    Outbox, Passthrough,
};

use super::error::BackplaneError;
use super::hub::{inbox_service, Hub, Publishing};

/// Publishes what reaches its `inbox` on a named [`Backplane`](super::Backplane); see the
/// [module docs](crate::backplane).
///
/// It attaches to the backplane when it is activated, and counts as one of its publishers until
/// it ends (see [`Backplane::end_after_publishers`](super::Backplane::end_after_publishers)).
///
/// # Inboxes
///
/// | box       | carries | what arrives                                                               |
/// |-----------|---------|----------------------------------------------------------------------------|
/// | `inbox`   | `T`     | what to publish: linked straight to the backplane's `inbox`                  |
/// | `control` | `Ipc`   | echoed out of `signal`; `ProducerFinished` or `ShutdownMicroprocess` ends it |
///
/// # Outboxes
///
/// | box       | carries | what leaves                                                                |
/// |-----------|---------|----------------------------------------------------------------------------|
/// | `outbox`  | `T`     | NOT USED                                                                   |
/// | `signal`  | `Ipc`   | every control message, passed on                                           |
/// | `_outbox` | `T`     | internal use: with `forwarder`, to the backplane's `inbox`                  |
///
/// A [`forwarder`](PublishTo::forwarder) reads its `inbox` itself, and describes its boxes so:
/// `inbox`, "what to publish; each message is also sent out of outbox"; `outbox`, "a copy of
/// everything published".
pub struct PublishTo<T> {
    name: String,
    forwarder: bool,
    _type: PhantomData<fn(T)>,
}

impl<T> fmt::Debug for PublishTo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublishTo").field("name", &self.name).field("forwarder", &self.forwarder).finish()
    }
}

impl<T: Clone + Send + 'static> PublishTo<T> {
    /// Publishes to the backplane called `name` (Kamaelia's `PublishTo(destination)`).
    pub fn new(name: impl Into<String>) -> Self {
        PublishTo { name: name.into(), forwarder: false, _type: PhantomData }
    }

    /// Publishes to `name` and also sends everything out of its own `outbox` (Kamaelia's
    /// `PublishTo(destination, forwarder=True)`); data then passes through the component.
    pub fn forwarder(name: impl Into<String>) -> Self {
        PublishTo { name: name.into(), forwarder: true, _type: PhantomData }
    }

    /// Attaches to the backplane, when activated: counted among its publishers, and linked to its
    /// `inbox`. Returns the guard that counts it out again, and with `forwarder` the outbox to
    /// the backplane.
    fn attach(&self, ctx: &Context<T, T>) -> Result<(Publishing, Option<Outbox<T>>), ComponentError> {
        let service_name = inbox_service(&self.name);
        let tracker = ctx.tracker();
        let service = tracker
            .retrieve_service(&service_name)
            .map_err(|_| BackplaneError::NotFound { name: self.name.clone(), service: service_name })?;
        let me = ctx.me();
        let (from, options) = if self.forwarder {
            ((me, "_outbox"), LinkOptions::default())
        } else {
            ((me, "inbox"), LinkOptions::passthrough(Passthrough::Inbound))
        };
        let link_error = |source| BackplaneError::Link { name: self.name.clone(), source };
        // Checked before it is counted: a publisher that cannot link never publishes.
        linkage::check(from, service.endpoint(), options).map_err(link_error)?;
        // No hub: its body has ended (the tracker forgets its services as its end completes), or
        // a backplane of that name registered since has replaced it.
        let publishing = Hub::of(&tracker, &self.name, service.component())
            .and_then(|hub| hub.attach())
            .ok_or_else(|| BackplaneError::Ended { name: self.name.clone() })?;
        ctx.link_with(from, service.endpoint(), options).map_err(link_error)?;
        let to_backplane = if self.forwarder { Some(ctx.take_outbox::<T>("_outbox")?) } else { None };
        Ok((publishing, to_backplane))
    }
}

/// Says whether `msg` ends a PublishTo or SubscribeTo.
fn ends(msg: &Ipc) -> bool {
    msg.is_producer_finished() || msg.is_shutdown_microprocess()
}

impl<T: Clone + Send + 'static> Component for PublishTo<T> {
    type Inbox = T;
    type Outbox = T;

    fn declare(&self, boxes: &mut Declarations) {
        let (inbox, outbox) = if self.forwarder {
            ("what to publish; each message is also sent out of outbox", "a copy of everything published")
        } else {
            ("what to publish: linked straight to the backplane's inbox", "NOT USED")
        };
        boxes
            .outbox::<T>("_outbox", "internal use: with forwarder, to the backplane's inbox")
            .describe(BoxKind::Inbox, "inbox", inbox)
            .describe(
                BoxKind::Inbox,
                "control",
                "echoed out of signal; ProducerFinished or ShutdownMicroprocess ends it",
            )
            .describe(BoxKind::Outbox, "outbox", outbox)
            .describe(BoxKind::Outbox, "signal", "every control message, passed on");
    }

    // Not `async fn`: it attaches to the backplane when it is activated, before its body starts.
    fn main(self, mut ctx: Context<T, T>) -> impl Future<Output = ComponentResult> + Send {
        let attached = self.attach(&ctx);
        async move {
            // Counts it as finished when the body ends, however it ends.
            let (_publishing, to_backplane) = attached?;
            let Some(mut to_backplane) = to_backplane else {
                while let Some(msg) = ctx.control.recv().await {
                    let stop = ends(&msg);
                    ctx.signal.send(msg).await;
                    if stop {
                        break;
                    }
                }
                return Ok(());
            };
            while let Some(event) = ctx.next_event().await {
                match event {
                    Event::Data(msg) => {
                        to_backplane.send(msg.clone()).await;
                        ctx.outbox.send(msg).await;
                    }
                    Event::Control(msg) => {
                        let stop = ends(&msg);
                        if msg.is_producer_finished() {
                            while let Ok(m) = ctx.inbox.try_recv() {
                                to_backplane.send(m.clone()).await;
                                ctx.outbox.send(m).await;
                            }
                        }
                        ctx.signal.send(msg).await;
                        if stop {
                            break;
                        }
                    }
                }
            }
            Ok(())
        }
    }
}
