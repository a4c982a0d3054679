//! [`SubscribeTo`]: receives, out of its `outbox`, everything published on a named backplane
//! after it was activated.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use axon_core::ipc::ProducerFinished;
use axon_core::{
    BoxKind, Component, ComponentError, ComponentRef, ComponentResult, Context, Declarations, Ipc, Outbox,
    DEFAULT_CAPACITY,
};

use crate::carousel::{send_or_control, Sent};

use super::error::BackplaneError;
use super::hub::configuration_service;
use super::subscription::Subscription;

/// Receives everything published on a named [`Backplane`](super::Backplane) after it was
/// activated, out of its `outbox`; see the [module docs](crate::backplane).
///
/// # Inboxes
///
/// | box       | carries | what arrives                                                               |
/// |-----------|---------|----------------------------------------------------------------------------|
/// | `inbox`   | `T`     | copies of what is published (the backplane links here), and anything else linked here; all sent on out of `outbox` |
/// | `control` | `Ipc`   | from its own upstream and from the backplane: echoed out of `signal`; `ProducerFinished` or `ShutdownMicroprocess` ends it |
///
/// # Outboxes
///
/// | box          | carries           | what leaves                                                  |
/// |--------------|-------------------|--------------------------------------------------------------|
/// | `outbox`     | `T`               | everything that reached `inbox`                               |
/// | `signal`     | `Ipc`             | control messages, passed on; the last is the one that ended it |
/// | `_configure` | `Subscription<T>` | internal use: asks the backplane to add (when activated), then to forget, this subscriber |
pub struct SubscribeTo<T> {
    name: String,
    capacity: usize,
    _type: PhantomData<fn(T)>,
}

impl<T> fmt::Debug for SubscribeTo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscribeTo").field("name", &self.name).field("capacity", &self.capacity).finish()
    }
}

impl<T: Clone + Send + 'static> SubscribeTo<T> {
    /// Subscribes to the backplane called `name` (Kamaelia's `SubscribeTo(source)`). Its `inbox`
    /// holds [`DEFAULT_CAPACITY`] messages; see [`with_capacity`](Self::with_capacity).
    pub fn new(name: impl Into<String>) -> Self {
        SubscribeTo { name: name.into(), capacity: DEFAULT_CAPACITY, _type: PhantomData }
    }

    /// Sets how many messages its `inbox` holds before the backplane waits for it (default
    /// [`DEFAULT_CAPACITY`]; at least 1). See the module docs on slow subscribers.
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// Subscribes, when activated: links `_configure` to the backplane's `configuration` and puts
    /// the request there. Returns the backplane and `_configure`.
    fn subscribe(&self, ctx: &Context<T, T>) -> Result<(ComponentRef, Outbox<Subscription<T>>), ComponentError> {
        let service_name = configuration_service(&self.name);
        let service = ctx
            .tracker()
            .retrieve_service(&service_name)
            .map_err(|_| BackplaneError::NotFound { name: self.name.clone(), service: service_name })?;
        let me = ctx.me();
        ctx.link((me, "_configure"), service.endpoint())
            .map_err(|source| BackplaneError::Link { name: self.name.clone(), source })?;
        let mut configure = ctx.take_outbox::<Subscription<T>>("_configure")?;
        // The backplane's `configuration` is unbounded: this is delivered now (or discarded if
        // the backplane has ended, which the body then notices).
        configure.try_send(Subscription::add(me.clone())).map_err(|_| {
            ComponentError::msg(format!(
                "backplane `{}` refused a subscription: its configuration inbox is full",
                self.name
            ))
        })?;
        Ok((service.component().clone(), configure))
    }
}

/// What made a SubscribeTo's relay stop.
enum Relay {
    /// Keep going.
    Continue,
    /// End, passing this message on out of `signal`.
    End(Ipc),
}

impl<T: Clone + Send + 'static> SubscribeTo<T> {
    /// Sends `msg` on out of `outbox`, obeying `control` while it waits for room.
    async fn forward(ctx: &mut Context<T, T>, msg: T, finishing: &mut Option<Ipc>) -> Relay {
        let mut item = msg;
        loop {
            match send_or_control(&mut ctx.outbox, item, &mut ctx.control).await {
                Sent::Delivered => return Relay::Continue,
                Sent::Control(c, back) => {
                    item = back;
                    if let Relay::End(end) = Self::on_control(ctx, c, finishing).await {
                        return Relay::End(end);
                    }
                }
            }
        }
    }

    /// Deals with one control message.
    async fn on_control(ctx: &mut Context<T, T>, msg: Ipc, finishing: &mut Option<Ipc>) -> Relay {
        if msg.is_shutdown_microprocess() {
            Relay::End(msg)
        } else if msg.is_producer_finished() {
            finishing.get_or_insert(msg);
            Relay::Continue
        } else {
            ctx.signal.send(msg).await;
            Relay::Continue
        }
    }

    /// Passes on what is waiting in `inbox`, then ends with `end`.
    async fn drain(ctx: &mut Context<T, T>, end: Ipc) -> Ipc {
        let mut ignored = None;
        while let Ok(msg) = ctx.inbox.try_recv() {
            if let Relay::End(stop) = Self::forward(ctx, msg, &mut ignored).await {
                return stop;
            }
        }
        end
    }

    /// Relays `inbox` to `outbox` until something ends it; returns what to send out of `signal`.
    async fn relay(ctx: &mut Context<T, T>, backplane: &ComponentRef) -> Ipc {
        let mut finishing: Option<Ipc> = None;
        loop {
            if let Some(end) = finishing.take() {
                return Self::drain(ctx, end).await;
            }
            let control_open = !ctx.control.is_closed();
            let step = tokio::select! {
                biased;
                msg = ctx.control.recv(), if control_open => match msg {
                    Some(msg) => Self::on_control(ctx, msg, &mut finishing).await,
                    None => Relay::Continue,
                },
                msg = ctx.inbox.recv() => match msg {
                    Some(msg) => Self::forward(ctx, msg, &mut finishing).await,
                    // Everything feeding it, the backplane included, has gone.
                    None => Relay::End(ProducerFinished::from(ctx.id()).into()),
                },
                _ = backplane.join() => {
                    let end = ProducerFinished::from(ctx.id()).into();
                    Relay::End(Self::drain(ctx, end).await)
                }
            };
            if let Relay::End(end) = step {
                return end;
            }
        }
    }
}

impl<T: Clone + Send + 'static> Component for SubscribeTo<T> {
    type Inbox = T;
    type Outbox = T;

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .outbox::<Subscription<T>>(
                "_configure",
                "internal use: asks the backplane to add (when activated), then to forget, this subscriber",
            )
            .capacity("inbox", Some(self.capacity))
            .describe(
                BoxKind::Inbox,
                "inbox",
                "copies of what is published (the backplane links here), and anything else linked here; all sent on \
                 out of outbox",
            )
            .describe(
                BoxKind::Inbox,
                "control",
                "from its own upstream and from the backplane: echoed out of signal; ProducerFinished or \
                 ShutdownMicroprocess ends it",
            )
            .describe(BoxKind::Outbox, "outbox", "everything that reached inbox")
            .describe(BoxKind::Outbox, "signal", "control messages, passed on; the last is the one that ended it");
    }

    // Not `async fn`: it subscribes when it is activated, before its body starts, so that it
    // receives everything published after its activation.
    fn main(self, mut ctx: Context<T, T>) -> impl Future<Output = ComponentResult> + Send {
        let subscribed = self.subscribe(&ctx);
        async move {
            let (backplane, mut configure) = subscribed?;
            let end = Self::relay(&mut ctx, &backplane).await;
            // The backplane also forgets subscribers it sees have ended; `configuration` is
            // unbounded, so this is never refused for want of room.
            let _ = configure.try_send(Subscription::remove(ctx.id()));
            ctx.signal.send(end).await;
            Ok(())
        }
    }
}
