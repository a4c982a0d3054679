//! [`Backplane`], the component: registers the name, then splits everything published to it
//! among its subscribers (Kamaelia put a `PlugSplitter` inside its backplane; this one is the
//! splitter itself).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

use axon_core::ipc::ProducerFinished;
use axon_core::{
    BoxKind, Component, ComponentRef, ComponentResult, Context, Declarations, Inbox, Instance, Ipc, Linkage, Outbox,
    Scheduler, Tracker, DEFAULT_CAPACITY,
};

use crate::carousel::{send_or_control, Sent};

use super::error::BackplaneError;
use super::hub::{configuration_service, inbox_service, register, registered_to, Hub};
use super::subscription::{Op, Subscription};

/// The prefix of the outbox a backplane adds for each subscriber's data.
const DATA_BOX: &str = "_data_";
/// The prefix of the outbox a backplane adds for each subscriber's control messages.
const CONTROL_BOX: &str = "_control_";

/// How many subscribers a running backplane is feeding, read from its boxes (one `_data_<id>`
/// outbox per subscriber, as introspection shows them). A subscriber is counted once the backplane
/// has taken in its request, which it does at the latest before delivering the next message
/// published; it receives everything published after its activation either way (see the
/// [module docs](crate::backplane)), so this is for introspection, not something to wait for.
pub fn subscriber_count(backplane: &ComponentRef) -> usize {
    backplane.box_names(BoxKind::Outbox).iter().filter(|n| n.starts_with(DATA_BOX)).count()
}

/// A named splitter: everything published to it goes to every subscriber; see the
/// [module docs](crate::backplane).
///
/// # Inboxes
///
/// | box             | carries           | what arrives                                                    |
/// |-----------------|-------------------|-----------------------------------------------------------------|
/// | `inbox`         | `T`               | what publishers publish (`PublishTo` links here)                 |
/// | `control`       | `Ipc`             | passed on to every subscriber; `ProducerFinished` or `ShutdownMicroprocess` also ends the backplane |
/// | `configuration` | `Subscription<T>` | subscribers asking to be added or removed (`SubscribeTo` links here) |
///
/// # Outboxes
///
/// | box            | carries | what leaves                                                           |
/// |----------------|---------|-----------------------------------------------------------------------|
/// | `outbox`       | `T`     | NOT USED                                                               |
/// | `signal`       | `Ipc`   | the `ProducerFinished` or `ShutdownMicroprocess` that ended it, passed on (or its own `ProducerFinished`, with [`end_after_publishers`](Backplane::end_after_publishers)) |
///
/// `configuration` is unbounded: a subscriber puts its request there as it is activated, without
/// waiting. For each subscriber `<id>` it takes in, the backplane adds two outboxes, removed when
/// the subscriber goes: `_data_<id>` (`T`, internal use: copies of everything published, to that
/// subscriber) and `_control_<id>` (`Ipc`, internal use: control messages, to that subscriber).
pub struct Backplane<T> {
    name: String,
    capacity: usize,
    /// With [`end_after_publishers`](Self::end_after_publishers): how many publishers must
    /// finish before it ends by itself.
    end_after: Option<usize>,
    /// Made by [`register`](Self::register), or when it is activated.
    hub: OnceLock<Arc<Hub>>,
    _type: PhantomData<fn(T)>,
}

impl<T> fmt::Debug for Backplane<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backplane")
            .field("name", &self.name)
            .field("capacity", &self.capacity)
            .field("end_after_publishers", &self.end_after)
            .finish()
    }
}

impl<T: Clone + Send + 'static> Backplane<T> {
    /// A backplane called `name` (Kamaelia's `Backplane(name)`). Its `inbox` holds
    /// [`DEFAULT_CAPACITY`] messages; see [`with_capacity`](Self::with_capacity). It runs until
    /// told to end on its `control`; see [`end_after_publishers`](Self::end_after_publishers).
    pub fn new(name: impl Into<String>) -> Self {
        Backplane {
            name: name.into(),
            capacity: DEFAULT_CAPACITY,
            end_after: None,
            hub: OnceLock::new(),
            _type: PhantomData,
        }
    }

    /// Sets how many published messages its `inbox` holds before publishers wait (default
    /// [`DEFAULT_CAPACITY`]; at least 1).
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// Makes it end by itself, with a `ProducerFinished`, once `publishers` publishers have
    /// finished (at least one) and none is still publishing: it first delivers everything they
    /// published, then passes the `ProducerFinished` to every subscriber and out of its `signal`,
    /// as if it had received one on `control`. A publisher is a [`PublishTo`](super::PublishTo) of this name,
    /// counted when it is activated; it has finished when it has ended, for whatever reason.
    /// Publishers activated after the backplane has begun to end are refused
    /// ([`BackplaneError::Ended`]).
    /// See the [module docs](crate::backplane), "Shutdown".
    ///
    /// Kamaelia's backplane never ended by itself; without this, neither does this one.
    ///
    /// ```
    /// use axon_core::prelude::*;
    /// use kamaelia_chassis::backplane::{Backplane, PublishTo, SubscribeTo};
    ///
    /// let scheduler = Scheduler::new();
    /// let backplane = scheduler.activate(Backplane::<u32>::new("TWO").end_after_publishers(2));
    /// let mut subscriber = Handle::new(SubscribeTo::<u32>::new("TWO"), &scheduler);
    /// for n in [1, 2] {
    ///     let mut publisher = Handle::new(PublishTo::<u32>::new("TWO"), &scheduler);
    ///     publisher.send_blocking(n);
    ///     publisher.send_control_blocking(ProducerFinished::new());
    /// }
    /// // Both publishers have finished: the subscriber gets what they published, then the end.
    /// assert_eq!(subscriber.recv_blocking(), Some(1));
    /// assert_eq!(subscriber.recv_blocking(), Some(2));
    /// let end = subscriber.recv_signal_timeout(std::time::Duration::from_secs(10)).unwrap();
    /// assert!(end.is_producer_finished());
    /// scheduler.run().unwrap();
    /// assert!(backplane.has_ended());
    /// ```
    pub fn end_after_publishers(mut self, publishers: usize) -> Self {
        self.end_after = Some(publishers.max(1));
        self
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Gives it its boxes and registers its services with `scheduler`'s tracker now, before it
    /// is activated, so that publishers and subscribers activated before it find it (Kamaelia
    /// registered in the constructor), and so that a taken name is an error here rather than
    /// when it is activated. Activate the instance returned; until then, what is published
    /// waits in its `inbox`.
    ///
    /// # Errors
    /// [`BackplaneError::NameTaken`] if a backplane of that name is already registered there.
    pub fn register(self, scheduler: &Scheduler) -> Result<Instance<Self>, BackplaneError> {
        let instance = Instance::new(self);
        let hub = instance.behaviour().hub.get_or_init(|| Hub::new(instance.component()));
        register(scheduler.tracker(), instance.component(), &instance.behaviour().name, hub)?;
        Ok(instance)
    }

    /// Takes its place, when activated: makes its hub and registers its services unless
    /// [`register`](Self::register) did.
    fn take_place(&self, ctx: &Context<T, T>) -> Result<(Tracker, Arc<Hub>), BackplaneError> {
        let tracker = ctx.tracker();
        let hub = self.hub.get_or_init(|| Hub::new(ctx.me())).clone();
        if !registered_to(&tracker, &inbox_service(&self.name), ctx.me()) {
            register(&tracker, ctx.me(), &self.name, &hub)?;
        }
        Ok((tracker, hub))
    }
}

/// One subscriber, as the backplane sees it.
struct Subscriber<T> {
    component: ComponentRef,
    data: Outbox<T>,
    control: Outbox<Ipc>,
    links: [Linkage; 2],
}

impl<T: Clone + Send + 'static> Component for Backplane<T> {
    type Inbox = T;
    type Outbox = T;

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .inbox::<Subscription<T>>(
                "configuration",
                "subscribers asking to be added or removed (SubscribeTo links here)",
            )
            // Never full: a subscriber puts its request here as it is activated, without waiting.
            .capacity("configuration", None)
            .capacity("inbox", Some(self.capacity))
            .describe(BoxKind::Inbox, "inbox", "what publishers publish (PublishTo links here)")
            .describe(
                BoxKind::Inbox,
                "control",
                "passed on to every subscriber; ProducerFinished or ShutdownMicroprocess also ends the backplane",
            )
            .describe(BoxKind::Outbox, "outbox", "NOT USED")
            .describe(
                BoxKind::Outbox,
                "signal",
                "the ProducerFinished or ShutdownMicroprocess that ended it, passed on (or its own ProducerFinished, \
                 with end_after_publishers)",
            );
    }

    // Not `async fn`: the services are registered when it is activated, before its body starts.
    fn main(self, mut ctx: Context<T, T>) -> impl Future<Output = ComponentResult> + Send {
        let placed = self.take_place(&ctx);
        async move {
            let Backplane { name, end_after, hub: registered_hub, .. } = self;
            // The splitter holds the hub from now on.
            drop(registered_hub);
            let (tracker, hub) = placed?;
            log::debug!("{}: backplane `{name}` running", ctx.name());
            let configuration = ctx.take_inbox::<Subscription<T>>("configuration")?;
            let mut splitter = Splitter { subscribers: Vec::new(), finishing: None, configuration, hub, end_after };
            let result = splitter.run(&mut ctx).await;
            // The hub goes (publishers can no longer find it), then the name.
            drop(splitter);
            for service in [inbox_service(&name), configuration_service(&name)] {
                if registered_to(&tracker, &service, ctx.me()) {
                    let _ = tracker.deregister_service(&service);
                }
            }
            result
        }
    }
}

/// The backplane's state while it runs.
struct Splitter<T> {
    subscribers: Vec<Subscriber<T>>,
    /// A `ProducerFinished` that arrived while a delivery was waiting for room: acted on next.
    finishing: Option<Ipc>,
    configuration: Inbox<Subscription<T>>,
    hub: Arc<Hub>,
    end_after: Option<usize>,
}

impl<T: Clone + Send + 'static> Splitter<T> {
    async fn run(&mut self, ctx: &mut Context<T, T>) -> ComponentResult {
        loop {
            if let Some(end) = self.finishing.take() {
                return self.finish(ctx, end, true).await;
            }
            if let Ok(msg) = ctx.control.try_recv() {
                if msg.is_producer_finished() || msg.is_shutdown_microprocess() {
                    let drain = msg.is_producer_finished();
                    return self.finish(ctx, msg, drain).await;
                }
                self.take_requests(ctx);
                self.pass_control(msg, false).await;
                continue;
            }
            if let Ok(msg) = ctx.inbox.try_recv() {
                // Every subscriber activated before this message was published has its request
                // waiting by now: take them in before delivering it (see the module docs).
                self.take_requests(ctx);
                if let Some(stop) = self.publish(msg, &mut ctx.control).await {
                    return self.finish(ctx, stop, false).await;
                }
                continue;
            }
            let busy = self.take_requests(ctx);
            if let Some(after) = self.end_after {
                // Nothing waits in `inbox`, and a publisher that has finished put everything it
                // published there before it finished.
                if self.hub.close_if_done(after) {
                    let end = ProducerFinished::from(ctx.id()).into();
                    log::debug!("{}: {after} publisher(s) have finished; ending", ctx.name());
                    return self.finish(ctx, end, true).await;
                }
            }
            if !busy {
                ctx.pause().await;
            }
        }
    }

    /// Takes in the waiting subscription requests, and forgets the subscribers that have ended;
    /// true if there was a request.
    fn take_requests(&mut self, ctx: &Context<T, T>) -> bool {
        let mut any = false;
        while let Ok(request) = self.configuration.try_recv() {
            any = true;
            self.configure(ctx, request);
        }
        self.forget_ended(ctx);
        any
    }

    /// Adds or removes a subscriber.
    fn configure(&mut self, ctx: &Context<T, T>, request: Subscription<T>) {
        match request.op {
            Op::Add(subscriber) => {
                if subscriber.has_ended() || self.subscribers.iter().any(|s| s.component == subscriber) {
                    return;
                }
                let id = subscriber.id().get();
                let data = ctx.add_outbox::<T>(
                    &format!("{DATA_BOX}{id}"),
                    format!("internal use: copies of everything published, to {}", subscriber.name()),
                );
                let control = ctx.add_outbox::<Ipc>(
                    &format!("{CONTROL_BOX}{id}"),
                    format!("internal use: control messages, to {}", subscriber.name()),
                );
                let me = ctx.me();
                let links = ctx
                    .link((me, data.name()), (&subscriber, "inbox"))
                    .and_then(|d| ctx.link((me, control.name()), (&subscriber, "control")).map(|c| [d, c]));
                match links {
                    Ok(links) => {
                        log::debug!("{}: {} subscribed", ctx.name(), subscriber.name());
                        self.subscribers.push(Subscriber { component: subscriber, data, control, links });
                    }
                    Err(e) => {
                        log::warn!("{}: cannot feed {}: {e}", ctx.name(), subscriber.name());
                        ctx.unlink_component(&subscriber);
                        let _ = ctx.delete_outbox(data);
                        let _ = ctx.delete_outbox(control);
                    }
                }
            }
            Op::Remove(id) => {
                if let Some(i) = self.subscribers.iter().position(|s| s.component.id() == id) {
                    let s = self.subscribers.remove(i);
                    forget(ctx, s);
                }
            }
        }
    }

    /// Forgets the subscribers that have ended (whether or not they said goodbye).
    fn forget_ended(&mut self, ctx: &Context<T, T>) {
        if self.subscribers.iter().all(|s| !s.component.has_ended()) {
            return;
        }
        let (ended, live) = std::mem::take(&mut self.subscribers).into_iter().partition(|s| s.component.has_ended());
        self.subscribers = live;
        for s in ended {
            forget(ctx, s);
        }
    }

    /// Passes a control message to every subscriber. With `dont_wait`, a subscriber whose
    /// `control` is full is skipped (it will see its `inbox` close when the backplane ends).
    async fn pass_control(&mut self, msg: Ipc, dont_wait: bool) {
        for s in self.subscribers.iter_mut().filter(|s| !s.component.has_ended()) {
            if dont_wait {
                if let Err(e) = s.control.try_send(msg.clone()) {
                    log::debug!("not waiting to pass {msg:?} on: {e}");
                }
            } else {
                s.control.send(msg.clone()).await;
            }
        }
    }

    /// Sends a copy of `msg` to every subscriber, waiting for room (see the module docs on slow
    /// subscribers). Returns a `ShutdownMicroprocess` that arrived meanwhile, if one did.
    async fn publish(&mut self, msg: T, control: &mut Inbox<Ipc>) -> Option<Ipc> {
        let targets: Vec<usize> =
            (0..self.subscribers.len()).filter(|&i| !self.subscribers[i].component.has_ended()).collect();
        let mut copies: Vec<T> = (1..targets.len()).map(|_| msg.clone()).collect();
        copies.push(msg);
        for (i, mut item) in targets.into_iter().zip(copies) {
            loop {
                match send_or_control(&mut self.subscribers[i].data, item, control).await {
                    Sent::Delivered => break,
                    Sent::Control(c, back) => {
                        item = back;
                        if c.is_shutdown_microprocess() {
                            return Some(c);
                        } else if c.is_producer_finished() {
                            // It has begun to end: no new publisher from now on.
                            self.hub.close();
                            self.finishing.get_or_insert(c);
                        } else {
                            self.pass_control(c, false).await;
                        }
                    }
                }
            }
        }
        None
    }

    /// Ends the backplane with `end`: takes no new publisher, delivers what is waiting first if
    /// `drain`, passes `end` to every subscriber and out of `signal`.
    async fn finish(&mut self, ctx: &mut Context<T, T>, mut end: Ipc, drain: bool) -> ComponentResult {
        self.hub.close();
        if drain {
            while let Ok(msg) = ctx.inbox.try_recv() {
                self.take_requests(ctx);
                if let Some(stop) = self.publish(msg, &mut ctx.control).await {
                    end = stop;
                    break;
                }
            }
        }
        self.take_requests(ctx);
        let urgent = end.is_shutdown_microprocess();
        self.pass_control(end.clone(), urgent).await;
        ctx.signal.send(end).await;
        for s in std::mem::take(&mut self.subscribers) {
            forget(ctx, s);
        }
        Ok(())
    }
}

/// Removes a subscriber's linkages and outboxes.
fn forget<T: Send + 'static>(ctx: &Context<T, T>, s: Subscriber<T>) {
    for l in &s.links {
        ctx.unlink(l);
    }
    for result in [ctx.delete_outbox(s.data), ctx.delete_outbox(s.control)] {
        if let Err(e) = result {
            log::debug!("{}: {e}", ctx.name());
        }
    }
    log::debug!("{}: forgot {}", ctx.name(), s.component.name());
}

#[cfg(test)]
mod tests {
    use super::*;
    use axon_core::ipc::ShutdownMicroprocess;

    /// The hub its publishers would find for backplane `c`, registered as `name` with `s`.
    fn hub(s: &Scheduler, name: &str, c: &ComponentRef) -> Option<Arc<Hub>> {
        Hub::of(s.tracker(), name, c)
    }

    #[test]
    fn a_backplane_recreated_under_a_name_gets_its_own_hub_and_the_dead_ones_go() {
        let s = Scheduler::new();
        // Registered, never activated: its hub goes with the instance.
        let unused = Backplane::<u8>::new("UNUSED").register(&s).unwrap();
        let c = unused.component().clone();
        let unused_hub = Arc::downgrade(&hub(&s, "UNUSED", &c).expect("findable once registered"));
        drop(unused);
        assert!(unused_hub.upgrade().is_none(), "the tracker keeps no hub alive");
        assert!(hub(&s, "UNUSED", &c).is_none());

        // Activated: the hub goes with its body. A backplane refused for a taken name leaves the
        // first one's hub in place.
        let first = s.activate(Backplane::<u8>::new("AGAIN"));
        let refused = s.activate(Backplane::<u8>::new("AGAIN"));
        let first_hub = Arc::downgrade(&hub(&s, "AGAIN", &first).unwrap());
        assert!(hub(&s, "AGAIN", &refused).is_none());
        first.deliver("control", Ipc::from(ProducerFinished::new())).unwrap();
        assert!(s.run().is_err(), "the second one failed: its name was taken");
        assert!(first_hub.upgrade().is_none(), "a dead backplane's hub is not kept alive");
        assert!(hub(&s, "AGAIN", &first).is_none());

        // Re-created under the same name: it gets a hub of its own, in the same slot.
        let second = s.activate(Backplane::<u8>::new("AGAIN"));
        let second_hub = hub(&s, "AGAIN", &second).expect("the new backplane's hub");
        assert_eq!(second_hub.id, second.id());
        assert!(hub(&s, "AGAIN", &first).is_none());
        let values = s.tracker().information_items_logged();
        assert_eq!(values, ["Backplane_H_AGAIN", "Backplane_H_UNUSED"]);
        drop(second_hub);
        second.deliver("control", Ipc::from(ShutdownMicroprocess::new())).unwrap();
        s.run().unwrap();
        assert!(hub(&s, "AGAIN", &second).is_none());
    }

    #[test]
    fn a_hub_is_found_through_a_parent_tracker() {
        let parent = Scheduler::new();
        let child = Scheduler::with_tracker(Tracker::with_parent(parent.tracker()));
        let bp = parent.activate(Backplane::<u8>::new("UP"));
        // The child has a slot of that name too, for a backplane of its own that has gone.
        drop(Backplane::<u8>::new("UP").register(&child).unwrap());
        assert!(Hub::of(child.tracker(), "UP", &bp).is_some());
        bp.deliver("control", Ipc::from(ShutdownMicroprocess::new())).unwrap();
        parent.run().unwrap();
    }
}
