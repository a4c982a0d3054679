//! Backplane, PublishTo, SubscribeTo: named publish/subscribe (ports `Kamaelia.Util.Backplane`).
//!
//! A [`Backplane`] is a named meeting point. Components that send to a [`PublishTo`] of that
//! name publish to it; every [`SubscribeTo`] of that name receives, out of its `outbox`, a copy of
//! everything published from the moment it has subscribed. Publishers and subscribers find the
//! backplane by name through the scheduler's services registry ([`Tracker`]), so they can come and
//! go without anyone rewiring anything: the usual way to let many connections of a server talk to
//! each other.
//!
//! # Example
//!
//! One publisher, two subscribers:
//!
//! ```
//! use std::time::{Duration, Instant};
//! use axon_core::prelude::*;
//! use kamaelia_chassis::backplane::{subscriber_count, Backplane, PublishTo, SubscribeTo};
//!
//! let scheduler = Scheduler::new();
//! // Registering the name before activating means lookups can never miss it.
//! let backplane = scheduler.activate(Backplane::<String>::new("NEWS").register(&scheduler).unwrap());
//! let mut alice = Handle::new(SubscribeTo::<String>::new("NEWS"), &scheduler);
//! let mut bob = Handle::new(SubscribeTo::<String>::new("NEWS"), &scheduler);
//!
//! // Subscribing is asynchronous (a message to the backplane): wait until both are in.
//! let deadline = Instant::now() + Duration::from_secs(10);
//! while subscriber_count(&backplane) < 2 {
//!     assert!(Instant::now() < deadline, "the subscribers never subscribed");
//!     std::thread::yield_now();
//! }
//!
//! let mut news = Handle::new(PublishTo::<String>::new("NEWS"), &scheduler);
//! news.send_blocking("extra! extra!".to_owned());
//! assert_eq!(alice.recv_blocking().as_deref(), Some("extra! extra!"));
//! assert_eq!(bob.recv_blocking().as_deref(), Some("extra! extra!"));
//!
//! // Shutting the backplane down shuts its subscribers down too.
//! backplane.deliver("control", Ipc::from(ShutdownMicroprocess::new())).unwrap();
//! let stop = alice.recv_signal_timeout(Duration::from_secs(10)).unwrap();
//! assert!(stop.is_shutdown_microprocess());
//! assert_eq!(bob.join_blocking(), axon_core::Exit::Finished);
//! ```
//!
//! # How it works
//!
//! * **`Backplane::new(name)`** registers two services in the tracker, as Kamaelia does:
//!   `Backplane_I_<name>` (its `inbox`, where publishers' messages land) and `Backplane_O_<name>`
//!   (its `configuration` inbox, where subscribers ask to be added or removed). It registers them
//!   when it starts, or earlier with [`Backplane::register`]. A name already in use is refused
//!   with [`BackplaneError::NameTaken`]. The backplane is itself the splitter (Kamaelia put a
//!   `PlugSplitter` child inside): for each subscriber it adds a pair of outboxes, `_data_<id>`
//!   linked to the subscriber's `inbox` and `_control_<id>` linked to its `control`, and sends a
//!   clone of every message on its `inbox` out of every `_data_<id>`. It forgets a subscriber (and
//!   removes its outboxes) as soon as that subscriber asks, or is seen to have ended.
//! * **`PublishTo::new(name)`** looks up `Backplane_I_<name>` when it starts and links its own
//!   `inbox` straight to the backplane's `inbox` (passthrough inbound): whatever is sent to the
//!   PublishTo lands in the backplane's `inbox` in one hop, and never passes through it. It
//!   echoes every control message out of `signal` and ends on `ProducerFinished` or
//!   `ShutdownMicroprocess`, or when its `control` closes. It never shuts the backplane down.
//!   With [`PublishTo::forwarder`], it instead reads its `inbox` and sends each message both to
//!   the backplane and out of its own `outbox`.
//! * **`SubscribeTo::new(name)`** looks up `Backplane_O_<name>` when it starts, links its
//!   `_configure` outbox to it and asks to be added. The backplane then links into its `inbox` and
//!   `control`; it sends on out of its `outbox` everything arriving on its `inbox` (copies from the
//!   backplane, and anything else linked there), and echoes control messages out of `signal`.
//!
//! # A slow subscriber holds everyone back
//!
//! Boxes are bounded, and the backplane **waits**: while one subscriber's `inbox` is full, the
//! backplane waits for room before going on to the next message, its own `inbox` fills up, and
//! then publishers wait too. Nothing is dropped and nothing grows, at the price that the slowest
//! subscriber sets the pace for all. This is the simplest honest choice: the alternatives (drop
//! messages for a slow subscriber, or disconnect it) lose data silently or need a policy the
//! caller would have to choose. While it waits, the backplane still reads its `control`: a
//! `ShutdownMicroprocess` ends it at once (the message being delivered is dropped for the
//! subscribers still waiting for it), a `ProducerFinished` is acted on once the message has been
//! delivered, and other control messages are passed on to the subscribers at once. A subscriber
//! that ends releases the wait (what is sent to a component that has ended is discarded).
//!
//! # Shutdown
//!
//! * The backplane runs until its `control` receives `ProducerFinished` or
//!   `ShutdownMicroprocess`. On `ProducerFinished` it first delivers what is waiting in its
//!   `inbox`; then it passes the message to every subscriber's `control`, sends it out of its own
//!   `signal`, withdraws its two services and ends. Other control messages are passed on to the
//!   subscribers and it carries on. Publishers coming and going do not end it.
//! * A `PublishTo` ends on `ProducerFinished` or `ShutdownMicroprocess` (passed on out of
//!   `signal`), or when its `control` closes.
//! * A `SubscribeTo` ends on a `ShutdownMicroprocess` (at once) or a `ProducerFinished` (after
//!   passing on what is waiting in its `inbox`) from its own `control` or from the backplane,
//!   passing the message on out of `signal`; and, with a `ProducerFinished` of its own, when the
//!   backplane ends however it ends. As it ends it asks the backplane to forget it.
//!
//! # Porting from Kamaelia
//!
//! * `Backplane("NAME")`, `PublishTo("NAME")`, `SubscribeTo("NAME")` become
//!   `Backplane::<T>::new("NAME")`, `PublishTo::<T>::new("NAME")`, `SubscribeTo::<T>::new("NAME")`:
//!   all three carry one message type `T`, which must be `Clone` (each subscriber gets a copy). A
//!   publisher or subscriber of another type is refused when it links, with an error naming both
//!   types ([`BackplaneError::Link`]).
//! * **A duplicate name is a clear error.** Kamaelia meant to raise `ServiceAlreadyExists`, but its
//!   error path raised `NameError`. Here [`Backplane::register`] returns
//!   [`BackplaneError::NameTaken`], and a backplane that finds its name taken when it starts ends
//!   with [`Exit::Failed`](axon_core::Exit::Failed) naming it; the backplane already registered
//!   runs on.
//! * **A missing backplane is a clear error.** Kamaelia's `PublishTo`/`SubscribeTo` crashed the
//!   whole program with a `KeyError`. Here the component alone ends with
//!   [`Exit::Failed`](axon_core::Exit::Failed) and [`BackplaneError::NotFound`] naming the
//!   backplane. Kamaelia registered the name in the constructor; here it is registered when the
//!   backplane starts, so activate the backplane first, or use [`Backplane::register`] so the name
//!   exists before anything can look it up (on a multi-threaded runtime, components activated one
//!   after the other can start in either order).
//! * Subscribers that end are forgotten, as Kamaelia's PlugSplitter forgot the sinks its plugs
//!   removed, and also those that end without a word (stopped, or panicked: in Kamaelia that ended
//!   the program), so the backplane's boxes and linkages do not grow as subscribers come and go.
//! * Bounded boxes and back-pressure, as described above; Kamaelia's boxes were unbounded.
//!   [`Backplane::with_capacity`] and [`SubscribeTo::with_capacity`] size the two inboxes data
//!   waits in.

use std::fmt;
use std::marker::PhantomData;

use axon_core::ipc::ProducerFinished;
use axon_core::{
    BoxKind, Component, ComponentId, ComponentRef, ComponentResult, Context, Declarations, Event, Inbox, Instance, Ipc,
    LinkError, Linkage, Outbox, Passthrough, Scheduler, Tracker, TrackerError, DEFAULT_CAPACITY,
};

use crate::carousel::{send_or_control, Sent};

/// The name of the service under which backplane `name` offers its `inbox` (Kamaelia's
/// `"Backplane_I_" + name`).
pub fn inbox_service(name: &str) -> String {
    format!("Backplane_I_{name}")
}

/// The name of the service under which backplane `name` offers its `configuration` inbox
/// (Kamaelia's `"Backplane_O_" + name`).
pub fn configuration_service(name: &str) -> String {
    format!("Backplane_O_{name}")
}

/// The prefix of the outbox a backplane adds for each subscriber's data.
const DATA_BOX: &str = "_data_";
/// The prefix of the outbox a backplane adds for each subscriber's control messages.
const CONTROL_BOX: &str = "_control_";

/// How many subscribers a running backplane is feeding, read from its boxes (one `_data_<id>`
/// outbox per subscriber, as introspection shows them). Subscribing is asynchronous, so this is
/// how a program (or a test) can tell that its subscribers are in place.
pub fn subscriber_count(backplane: &ComponentRef) -> usize {
    backplane.box_names(BoxKind::Outbox).iter().filter(|n| n.starts_with(DATA_BOX)).count()
}

/// Why a backplane, publisher or subscriber could not do its job. Callers may match on the
/// variants; the wording of the messages may change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackplaneError {
    /// A backplane of that name is already registered (with this scheduler's tracker).
    #[error("a backplane named `{name}` already exists (the service `{service}` is registered)")]
    NameTaken {
        /// The backplane's name.
        name: String,
        /// The service found registered.
        service: String,
    },
    /// No backplane of that name is registered.
    #[error("no backplane named `{name}` (no service `{service}`): start the backplane first, or register it with Backplane::register")]
    NotFound {
        /// The backplane's name.
        name: String,
        /// The service looked up.
        service: String,
    },
    /// Linking to the backplane was refused, typically because it carries another message type.
    #[error("cannot attach to backplane `{name}`: {source}")]
    Link {
        /// The backplane's name.
        name: String,
        /// Why the linkage was refused (it names both boxes and both types).
        source: LinkError,
    },
    /// The tracker refused to register the backplane for another reason.
    #[error("cannot register backplane `{name}`: {source}")]
    Tracker {
        /// The backplane's name.
        name: String,
        /// The tracker's error.
        source: TrackerError,
    },
}

/// A request on a backplane's `configuration` inbox (Kamaelia's PlugSplitter `addsink` /
/// `removesink`). Made by [`SubscribeTo`]; typed by the backplane's message type, so a subscriber
/// of another type cannot even link to it.
pub struct Subscription<T> {
    op: Op,
    _type: PhantomData<fn(T)>,
}

enum Op {
    Add(ComponentRef),
    Remove(ComponentId),
}

impl<T> fmt::Debug for Subscription<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.op {
            Op::Add(c) => f.debug_tuple("Subscription::Add").field(&c.name()).finish(),
            Op::Remove(id) => f.debug_tuple("Subscription::Remove").field(id).finish(),
        }
    }
}

impl<T> Subscription<T> {
    fn add(subscriber: ComponentRef) -> Self {
        Subscription { op: Op::Add(subscriber), _type: PhantomData }
    }

    fn remove(subscriber: ComponentId) -> Self {
        Subscription { op: Op::Remove(subscriber), _type: PhantomData }
    }
}

/// A named splitter: everything published to it goes to every subscriber; see the
/// [module docs](self).
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
/// | `signal`       | `Ipc`   | the `ProducerFinished` or `ShutdownMicroprocess` that ended it, passed on |
/// | `_data_<id>`   | `T`     | internal use, one per subscriber: copies of everything published, to subscriber `<id>` |
/// | `_control_<id>`| `Ipc`   | internal use, one per subscriber: control messages, to subscriber `<id>` |
pub struct Backplane<T> {
    name: String,
    capacity: usize,
    _type: PhantomData<fn(T)>,
}

impl<T> fmt::Debug for Backplane<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backplane").field("name", &self.name).field("capacity", &self.capacity).finish()
    }
}

impl<T: Clone + Send + 'static> Backplane<T> {
    /// A backplane called `name` (Kamaelia's `Backplane(name)`). Its `inbox` holds
    /// [`DEFAULT_CAPACITY`] messages; see [`with_capacity`](Self::with_capacity).
    pub fn new(name: impl Into<String>) -> Self {
        Backplane { name: name.into(), capacity: DEFAULT_CAPACITY, _type: PhantomData }
    }

    /// Sets how many published messages its `inbox` holds before publishers wait (default
    /// [`DEFAULT_CAPACITY`]; at least 1).
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Gives it its boxes and registers its services with `scheduler`'s tracker now, before it
    /// is activated, so that publishers and subscribers started afterwards find it whatever order
    /// they start in (Kamaelia registered in the constructor). Activate the instance returned;
    /// until then, what is published waits in its `inbox`.
    ///
    /// # Errors
    /// [`BackplaneError::NameTaken`] if a backplane of that name is already registered there.
    pub fn register(self, scheduler: &Scheduler) -> Result<Instance<Self>, BackplaneError> {
        let instance = Instance::new(self);
        register(scheduler.tracker(), instance.component(), &instance.behaviour().name)?;
        Ok(instance)
    }
}

/// Registers both services of backplane `name`, provided by `me`; all or nothing.
fn register(tracker: &Tracker, me: &ComponentRef, name: &str) -> Result<(), BackplaneError> {
    let refused = |service: String, e: TrackerError| match e {
        TrackerError::ServiceAlreadyExists(_) => BackplaneError::NameTaken { name: name.to_owned(), service },
        source => BackplaneError::Tracker { name: name.to_owned(), source },
    };
    let (data, config) = (inbox_service(name), configuration_service(name));
    tracker.register_service(&data, me, "inbox").map_err(|e| refused(data.clone(), e))?;
    if let Err(e) = tracker.register_service(&config, me, "configuration") {
        let _ = tracker.deregister_service(&data);
        return Err(refused(config, e));
    }
    Ok(())
}

/// True if `service` is registered to `me` (here, not in a parent tracker).
fn registered_to(tracker: &Tracker, service: &str, me: &ComponentRef) -> bool {
    tracker.retrieve_service(service).is_ok_and(|s| s.component().id() == me.id())
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
                "the ProducerFinished or ShutdownMicroprocess that ended it, passed on",
            );
    }

    async fn main(self, mut ctx: Context<T, T>) -> ComponentResult {
        let tracker = ctx.tracker();
        let data_service = inbox_service(&self.name);
        if !registered_to(&tracker, &data_service, ctx.me()) {
            register(&tracker, ctx.me(), &self.name)?;
        }
        log::debug!("{}: backplane `{}` running", ctx.name(), self.name);
        let mut splitter = Splitter { subscribers: Vec::new(), finishing: None };
        let result = splitter.run(&mut ctx).await;
        for service in [data_service, configuration_service(&self.name)] {
            if registered_to(&tracker, &service, ctx.me()) {
                let _ = tracker.deregister_service(&service);
            }
        }
        result
    }
}

/// The backplane's state while it runs.
struct Splitter<T> {
    subscribers: Vec<Subscriber<T>>,
    /// A `ProducerFinished` that arrived while a delivery was waiting for room: acted on next.
    finishing: Option<Ipc>,
}

impl<T: Clone + Send + 'static> Splitter<T> {
    async fn run(&mut self, ctx: &mut Context<T, T>) -> ComponentResult {
        let mut configuration = ctx.take_inbox::<Subscription<T>>("configuration")?;
        loop {
            let mut busy = false;
            while let Ok(request) = configuration.try_recv() {
                busy = true;
                self.configure(ctx, request);
            }
            self.forget_ended(ctx);
            if let Some(end) = self.finishing.take() {
                return self.finish(ctx, end, true).await;
            }
            if let Ok(msg) = ctx.control.try_recv() {
                if msg.is_producer_finished() || msg.is_shutdown_microprocess() {
                    let drain = msg.is_producer_finished();
                    return self.finish(ctx, msg, drain).await;
                }
                self.pass_control(msg, false).await;
                continue;
            }
            if let Ok(msg) = ctx.inbox.try_recv() {
                if let Some(stop) = self.publish(msg, &mut ctx.control).await {
                    return self.finish(ctx, stop, false).await;
                }
                continue;
            }
            if !busy {
                ctx.pause().await;
            }
        }
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

    /// Ends the backplane with `end`: delivers what is waiting first if `drain`, passes `end` to
    /// every subscriber and out of `signal`.
    async fn finish(&mut self, ctx: &mut Context<T, T>, mut end: Ipc, drain: bool) -> ComponentResult {
        if drain {
            while let Ok(msg) = ctx.inbox.try_recv() {
                if let Some(stop) = self.publish(msg, &mut ctx.control).await {
                    end = stop;
                    break;
                }
            }
        }
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

/// Publishes what reaches its `inbox` on a named [`Backplane`]; see the [module docs](self).
///
/// # Inboxes
///
/// | box       | carries | what arrives                                                               |
/// |-----------|---------|----------------------------------------------------------------------------|
/// | `inbox`   | `T`     | what to publish: linked straight to the backplane's `inbox` (read here only with `forwarder`) |
/// | `control` | `Ipc`   | echoed out of `signal`; `ProducerFinished` or `ShutdownMicroprocess` ends it |
///
/// # Outboxes
///
/// | box       | carries | what leaves                                                                |
/// |-----------|---------|----------------------------------------------------------------------------|
/// | `outbox`  | `T`     | with `forwarder`, a copy of everything published; else NOT USED             |
/// | `signal`  | `Ipc`   | every control message, passed on                                           |
/// | `_outbox` | `T`     | internal use: with `forwarder`, to the backplane's `inbox`                  |
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
}

/// Sends `msg` on out of `signal` and says whether it ends a PublishTo or SubscribeTo.
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

    async fn main(self, mut ctx: Context<T, T>) -> ComponentResult {
        let service_name = inbox_service(&self.name);
        let backplane = ctx
            .tracker()
            .retrieve_service(&service_name)
            .map_err(|_| BackplaneError::NotFound { name: self.name.clone(), service: service_name })?;
        let link_error = |source| BackplaneError::Link { name: self.name.clone(), source };
        let me = ctx.me().clone();
        if !self.forwarder {
            ctx.link_passthrough((&me, "inbox"), (backplane.component(), backplane.inbox()), Passthrough::Inbound)
                .map_err(link_error)?;
            while let Some(msg) = ctx.control.recv().await {
                let stop = ends(&msg);
                ctx.signal.send(msg).await;
                if stop {
                    break;
                }
            }
            return Ok(());
        }
        let mut to_backplane = ctx.take_outbox::<T>("_outbox")?;
        ctx.link((&me, "_outbox"), (backplane.component(), backplane.inbox())).map_err(link_error)?;
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

/// Receives everything published on a named [`Backplane`], out of its `outbox`; see the
/// [module docs](self).
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
/// | `_configure` | `Subscription<T>` | internal use: asks the backplane to add, then to forget, this subscriber |
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
                "internal use: asks the backplane to add, then to forget, this subscriber",
            )
            .capacity("inbox", Some(self.capacity))
            .describe(
                BoxKind::Inbox,
                "inbox",
                "copies of what is published (the backplane links here), and anything else linked here",
            )
            .describe(
                BoxKind::Inbox,
                "control",
                "from upstream and from the backplane: echoed out of signal; ProducerFinished or ShutdownMicroprocess ends it",
            )
            .describe(BoxKind::Outbox, "outbox", "everything that reached inbox")
            .describe(BoxKind::Outbox, "signal", "control messages, passed on; the last is the one that ended it");
    }

    async fn main(self, mut ctx: Context<T, T>) -> ComponentResult {
        let service_name = configuration_service(&self.name);
        let service = ctx
            .tracker()
            .retrieve_service(&service_name)
            .map_err(|_| BackplaneError::NotFound { name: self.name.clone(), service: service_name })?;
        let backplane = service.component().clone();
        let mut configure = ctx.take_outbox::<Subscription<T>>("_configure")?;
        let me = ctx.me().clone();
        ctx.link((&me, "_configure"), (&backplane, service.inbox()))
            .map_err(|source| BackplaneError::Link { name: self.name.clone(), source })?;
        configure.send(Subscription::add(me.clone())).await;

        let end = Self::relay(&mut ctx, &backplane).await;
        // Best effort: the backplane also forgets subscribers it sees have ended.
        let _ = configure.try_send(Subscription::remove(me.id()));
        ctx.signal.send(end).await;
        Ok(())
    }
}
