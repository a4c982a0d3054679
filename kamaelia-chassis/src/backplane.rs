//! Backplane, PublishTo, SubscribeTo: named publish/subscribe (ports `Kamaelia.Util.Backplane`).
//!
//! A [`Backplane`] is a named meeting point. Components that send to a [`PublishTo`] of that
//! name publish to it; every [`SubscribeTo`] of that name receives, out of its `outbox`, a copy of
//! everything published after it was activated. Publishers and subscribers find the backplane by
//! name through the scheduler's services registry ([`Tracker`]), so they can come and go without
//! anyone rewiring anything: the usual way to let many connections of a server talk to each other.
//!
//! # Example
//!
//! One publisher, two subscribers, written the obvious way: nothing to wait for, because a
//! subscriber is subscribed as soon as it is activated.
//!
//! ```
//! use std::time::Duration;
//! use axon_core::prelude::*;
//! use kamaelia_chassis::backplane::{Backplane, PublishTo, SubscribeTo};
//!
//! let scheduler = Scheduler::new();
//! let backplane = scheduler.activate(Backplane::<String>::new("NEWS"));
//! let mut alice = Handle::new(SubscribeTo::<String>::new("NEWS"), &scheduler);
//! let mut bob = Handle::new(SubscribeTo::<String>::new("NEWS"), &scheduler);
//! let mut news = Handle::new(PublishTo::<String>::new("NEWS"), &scheduler);
//!
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
//! A program that ends: the backplane is told to end once its one publisher has finished
//! ([`Backplane::end_after_publishers`]); the publisher is a pipeline ending in a `PublishTo`;
//! each subscriber feeds a collector. [`Scheduler::run`] returns once everything has been
//! delivered and every component has ended:
//!
//! ```
//! use std::sync::mpsc;
//! use axon_core::prelude::*;
//! use kamaelia_chassis::backplane::{Backplane, PublishTo, SubscribeTo};
//! use kamaelia_chassis::pipeline;
//!
//! // Sends 1 to 10, then says it has finished.
//! let numbers = from_fn("Numbers", |mut ctx: Context<(), u32>| async move {
//!     for n in 1..=10 {
//!         ctx.outbox.send(n).await;
//!     }
//!     ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
//!     Ok(())
//! });
//! // Hands what it receives to `tx` until told its producer has finished.
//! let collect = |tx: mpsc::Sender<u32>| {
//!     from_fn("Collect", move |mut ctx: Context<u32, ()>| async move {
//!         while let Some(event) = ctx.next_event().await {
//!             match event {
//!                 Event::Data(n) => tx.send(n).unwrap(),
//!                 Event::Control(_) => {
//!                     ctx.inbox.drain().for_each(|n| tx.send(n).unwrap());
//!                     break;
//!                 }
//!             }
//!         }
//!         Ok(())
//!     })
//! };
//!
//! let scheduler = Scheduler::new();
//! scheduler.activate(Backplane::<u32>::new("NUMBERS").end_after_publishers(1));
//! let mut received = Vec::new();
//! for _ in 0..2 {
//!     let (tx, rx) = mpsc::channel();
//!     let subscriber = Instance::new(SubscribeTo::<u32>::new("NUMBERS"));
//!     let sink = Instance::new(collect(tx));
//!     scheduler.link((&subscriber, "outbox"), (&sink, "inbox")).unwrap();
//!     scheduler.link((&subscriber, "signal"), (&sink, "control")).unwrap();
//!     sink.activate(&scheduler);
//!     subscriber.activate(&scheduler);
//!     received.push(rx);
//! }
//! scheduler.activate(pipeline![numbers, PublishTo::<u32>::new("NUMBERS")]);
//! scheduler.run().unwrap();
//! for rx in received {
//!     assert_eq!(rx.try_iter().collect::<Vec<_>>(), (1..=10).collect::<Vec<_>>());
//! }
//! ```
//!
//! # How it works
//!
//! All three components take their place **when they are activated**: in
//! [`Instance::activate`] (or [`Scheduler::activate`], [`Handle::new`](axon_core::Handle::new),
//! `Context::activate`) itself, on the activating thread, before the call returns and whether or
//! not their bodies have started. Their `main` does it before its first `.await` (see
//! [`Instance::activate`]).
//!
//! * **`Backplane::new(name)`** registers two services in the tracker, as Kamaelia does:
//!   `Backplane_I_<name>` (its `inbox`, where publishers' messages land) and `Backplane_O_<name>`
//!   (its `configuration` inbox, where subscribers ask to be added or removed). It registers them
//!   when it is activated, or earlier with [`Backplane::register`]. A name already in use is
//!   refused with [`BackplaneError::NameTaken`]. With them it puts its *hub*, what it shares with
//!   its publishers (how many are publishing, how many have finished, whether it still takes new
//!   ones, under one lock), in the tracker value `Backplane_H_<name>`, replacing the hub of any
//!   backplane registered under that name before it. The value holds the hub weakly, so a
//!   backplane that has ended leaves nothing alive there (tracker values cannot be removed: the
//!   value stays, empty, until the next backplane of that name). There is no registry other than
//!   the tracker the scheduler hands its components. The backplane is itself the splitter
//!   (Kamaelia put a `PlugSplitter` child inside): for each subscriber it adds a pair of outboxes,
//!   `_data_<id>` linked to the subscriber's `inbox` and `_control_<id>` linked to its `control`,
//!   and sends a clone of every message on its `inbox` out of every `_data_<id>`. It forgets a
//!   subscriber (and removes its outboxes) as soon as that subscriber asks, or is seen to have
//!   ended.
//! * **`PublishTo::new(name)`**, when activated, looks up `Backplane_I_<name>`, then, through
//!   `Backplane_H_<name>`, the hub of the backplane that service names; counts itself there
//!   among the backplane's publishers (refused with [`BackplaneError::Ended`] if it has none any
//!   more, or takes no new publisher); and links its own `inbox` straight to the backplane's
//!   `inbox` (passthrough inbound): whatever is sent to the PublishTo lands in the backplane's
//!   `inbox` in one hop, and never passes through it. It echoes every control message out of
//!   `signal` and ends on `ProducerFinished` or `ShutdownMicroprocess`, or when its `control`
//!   closes; as it ends it counts as a publisher that has finished. It never shuts the backplane
//!   down itself (see [`Backplane::end_after_publishers`]). With [`PublishTo::forwarder`], it
//!   instead reads its `inbox` and sends each message both to the backplane and out of its own
//!   `outbox`.
//! * **`SubscribeTo::new(name)`**, when activated, looks up `Backplane_O_<name>`, links its
//!   `_configure` outbox to it and asks to be added: the request is in the backplane's
//!   `configuration` inbox (which is unbounded, so the request never waits) before `activate`
//!   returns. The backplane then links into the subscriber's `inbox` and `control`; the
//!   subscriber sends on out of its `outbox` everything arriving on its `inbox` (copies from the
//!   backplane, and anything else linked there), and echoes control messages out of `signal`.
//!
//! **Why a subscriber misses nothing published after its activation.** The backplane takes in
//! every waiting request on `configuration` each time it has taken a message from its `inbox`
//! and before it delivers that message. A message published after a subscriber's activation
//! (by anything that started or ran after it, on any thread) was put into the backplane's `inbox`
//! after the subscriber's request was put into `configuration`; both boxes are guarded by locks,
//! so once the backplane has taken the message it also sees the request, and adds the subscriber
//! before delivering the message. Nothing here depends on which thread or runtime runs what, so
//! it holds on a multi-threaded runtime and with [`Scheduler::per_thread`] alike. (A message
//! published before the subscriber's activation but still waiting in the backplane's `inbox` may
//! reach it too.)
//!
//! A component inside a chassis is activated when the chassis activates it: a [`Pipeline`] or a
//! [`Graphline`] activates its children when its own body starts, a little after the chassis
//! was activated. A `SubscribeTo` that must not miss the start of a publication is therefore
//! best activated itself, its `outbox` and `signal` linked to what consumes them (as in the
//! second example), rather than placed at the head of a pipeline activated at the same time as
//! the publisher.
//!
//! [`Pipeline`]: crate::pipeline::Pipeline
//! [`Graphline`]: crate::graphline::Graphline
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
//! * By default the backplane runs until its `control` receives `ProducerFinished` or
//!   `ShutdownMicroprocess`, as Kamaelia's did: publishers coming and going do not end it. On
//!   `ProducerFinished` it first delivers what is waiting in its `inbox`; then it passes the
//!   message to every subscriber's `control`, sends it out of its own `signal`, withdraws its two
//!   services and ends. On `ShutdownMicroprocess` it does the same at once, without delivering
//!   what waits. Other control messages are passed on to the subscribers and it carries on.
//! * **Ending when the publishers have finished.** Made with
//!   [`end_after_publishers(n)`](Backplane::end_after_publishers), the backplane also ends by
//!   itself once `n` publishers have finished and none is still publishing. A publisher is a
//!   `PublishTo` of that name; it has finished when it has ended, whatever ended it (a
//!   `ProducerFinished`, the usual end of a pipeline ending in it; a `ShutdownMicroprocess`; its
//!   `control` closing; a failure). Everything it published is in the backplane's `inbox` by
//!   then (it forwards, or its upstream sent, the data before the end), and the backplane ends
//!   exactly as on a `ProducerFinished` of its own (naming itself): it delivers everything
//!   waiting, then passes the `ProducerFinished` to every subscriber, each of which passes on what
//!   it holds and then the `ProducerFinished` out of its `signal`, so that what is downstream of
//!   the subscribers ends too and [`Scheduler::run`] returns.
//! * Once a backplane has begun to end, however it ends, a `PublishTo` activated for it is
//!   refused with [`BackplaneError::Ended`] (it ends with [`Exit::Failed`](axon_core::Exit::Failed)),
//!   so nothing it would have published is lost in silence. Data sent straight to the backplane's
//!   `inbox` by something other than a `PublishTo` is delivered if it arrives before the end, and
//!   discarded after it, like anything sent to a component that has ended.
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
//!   publisher or subscriber of another type is refused when it is activated, with an error
//!   naming both types ([`BackplaneError::Link`]).
//! * **Subscribing is done at activation.** Kamaelia's `SubscribeTo` subscribed when its plug
//!   first ran; its single-threaded scheduler ran components in the order they were activated,
//!   which mostly hid the gap. Here bodies run in parallel on several threads, and a subscriber
//!   that subscribed when its body started could miss what a publisher activated after it had
//!   already sent. So a `SubscribeTo` subscribes when it is activated, and receives everything
//!   published after that (see "How it works").
//! * **A backplane can end when its publishers have finished.** Kamaelia's backplane never ended
//!   by itself: a program with one ran until something shut the backplane down, or for ever.
//!   That is still the default. [`Backplane::end_after_publishers`] adds what Kamaelia lacked: the
//!   backplane ends once that many publishers have finished, having delivered everything they
//!   published, and passes a `ProducerFinished` on to its subscribers, so that a program built of
//!   a backplane and pipelines can end. The number is given rather than "when every publisher has
//!   finished" because publishers inside a chassis are activated only when the chassis starts:
//!   the first publisher could finish before a second one has even been activated.
//! * **A duplicate name is a clear error.** Kamaelia meant to raise `ServiceAlreadyExists`, but its
//!   error path raised `NameError`. Here [`Backplane::register`] returns
//!   [`BackplaneError::NameTaken`], and a backplane that finds its name taken when it is
//!   activated ends with [`Exit::Failed`](axon_core::Exit::Failed) naming it; the backplane
//!   already registered runs on.
//! * **A missing backplane is a clear error.** Kamaelia's `PublishTo`/`SubscribeTo` crashed the
//!   whole program with a `KeyError`. Here the component alone ends with
//!   [`Exit::Failed`](axon_core::Exit::Failed) and [`BackplaneError::NotFound`] naming the
//!   backplane. Kamaelia registered the name in the constructor; here it is registered when the
//!   backplane is activated (the tracker belongs to a scheduler, which the constructor does not
//!   know), so activate the backplane before its publishers and subscribers, or use
//!   [`Backplane::register`] to register the name before activating anything.
//! * Subscribers that end are forgotten, as Kamaelia's PlugSplitter forgot the sinks its plugs
//!   removed, and also those that end without a word (stopped, or panicked: in Kamaelia that ended
//!   the program), so the backplane's boxes and linkages do not grow as subscribers come and go.
//! * Bounded boxes and back-pressure, as described above; Kamaelia's boxes were unbounded.
//!   [`Backplane::with_capacity`] and [`SubscribeTo::with_capacity`] size the two inboxes data
//!   waits in. (The `configuration` inbox is unbounded: each subscriber puts two small requests
//!   in it, one when it is activated and one as it ends.)

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};

use axon_core::ipc::ProducerFinished;
use axon_core::{
    linkage, BoxKind, Component, ComponentError, ComponentId, ComponentRef, ComponentResult, Context, Declarations,
    Event, Inbox, Instance, Ipc, LinkError, LinkOptions, Linkage, Outbox, Passthrough, Scheduler, Tracker,
    TrackerError, Unpauser, DEFAULT_CAPACITY,
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

/// The name of the tracker value through which a publisher of backplane `name` reaches the
/// backplane's hub (what it shares with its publishers), next to its two services.
fn hub_value(name: &str) -> String {
    format!("Backplane_H_{name}")
}

/// The prefix of the outbox a backplane adds for each subscriber's data.
const DATA_BOX: &str = "_data_";
/// The prefix of the outbox a backplane adds for each subscriber's control messages.
const CONTROL_BOX: &str = "_control_";

/// How many subscribers a running backplane is feeding, read from its boxes (one `_data_<id>`
/// outbox per subscriber, as introspection shows them). A subscriber is counted once the backplane
/// has taken in its request, which it does at the latest before delivering the next message
/// published; it receives everything published after its activation either way (see the
/// [module docs](self)), so this is for introspection, not something to wait for.
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
    #[error("no backplane named `{name}` (no service `{service}`): activate the backplane first, or register it with Backplane::register")]
    NotFound {
        /// The backplane's name.
        name: String,
        /// The service looked up.
        service: String,
    },
    /// The backplane has begun to end (it was told to, or its publishers have finished), so it
    /// takes no new publisher: what the publisher would publish could not be delivered.
    #[error("backplane `{name}` has ended or is ending, and takes no new publisher")]
    Ended {
        /// The backplane's name.
        name: String,
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

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What a backplane shares with its publishers: how many are publishing and how many have
/// finished, and whether it still takes new ones, under one lock, so that a publisher is either
/// counted before the backplane decides to end or refused after.
struct Hub {
    /// The backplane's id: a publisher checks that the hub it finds is that of the backplane
    /// whose service it found.
    id: ComponentId,
    /// Wakes the backplane when a publisher finishes.
    wake: Unpauser,
    publishers: Mutex<Publishers>,
}

#[derive(Debug, Default)]
struct Publishers {
    /// Counted in, not yet finished.
    active: usize,
    /// Finished (ended, however).
    finished: usize,
    /// Set when the backplane begins to end: no new publisher from then on.
    closed: bool,
}

/// Where the publishers of the backplanes called `name` find the hub of the one registered under
/// that name: the tracker value [`hub_value`]`(name)`, tracked in the tracker the backplane
/// registers its services with. Each backplane registered there under that name puts its hub in
/// it, replacing the last one's, while it holds the slot's lock and registers its services, so a
/// publisher that found the services and then takes the lock finds the hub of the backplane they
/// name (see [`register`]).
///
/// It holds the hub weakly: the backplane (its body, or its unactivated instance) and its
/// publishers own the hub, and a backplane that has ended leaves nothing alive here. Tracker
/// values cannot be removed, so the slot itself stays for as long as the tracker, holding a dead
/// `Weak` once its last backplane has ended: one small slot per backplane name, reused by the next
/// backplane of that name.
#[derive(Clone, Default)]
struct HubSlot(Arc<Mutex<Weak<Hub>>>);

impl HubSlot {
    /// The slot for `name` tracked in `tracker` itself (not a parent tracker), tracked now if it
    /// was not.
    fn tracked_in(tracker: &Tracker, name: &str) -> Result<HubSlot, TrackerError> {
        let value = hub_value(name);
        let slot = HubSlot::default();
        match tracker.track_value(&value, slot.clone()) {
            Ok(()) => Ok(slot),
            // Tracked here already (by an earlier backplane of that name): it is the one
            // `retrieve_value` reads first. Another type of value under that name is refused.
            Err(TrackerError::NamespaceClash(_)) => {
                tracker.retrieve_value_as::<HubSlot>(&value)?.ok_or(TrackerError::NamespaceClash(value))
            }
            Err(e) => Err(e),
        }
    }
}

impl Hub {
    /// The hub of `backplane`; [`register`] makes it findable.
    fn new(backplane: &ComponentRef) -> Arc<Hub> {
        Arc::new(Hub { id: backplane.id(), wake: backplane.unpauser(), publishers: Mutex::default() })
    }

    /// The hub of `backplane`, registered as `name` with `tracker` or a tracker it falls back to,
    /// if it still has one.
    fn of(tracker: &Tracker, name: &str, backplane: &ComponentRef) -> Option<Arc<Hub>> {
        let value = hub_value(name);
        // Each level of trackers, as the service may have been found in any of them.
        std::iter::successors(Some(tracker), |t| t.parent()).find_map(|t| {
            let slot = t.retrieve_value_as::<HubSlot>(&value).ok().flatten()?;
            let hub = lock(&slot.0).upgrade()?;
            (hub.id == backplane.id()).then_some(hub)
        })
    }

    /// Counts in a publisher, until the returned value is dropped; `None` if the backplane has
    /// begun to end.
    fn attach(self: &Arc<Self>) -> Option<Publishing> {
        let mut p = lock(&self.publishers);
        if p.closed {
            return None;
        }
        p.active += 1;
        Some(Publishing(self.clone()))
    }

    /// Closes the door if `after` publishers have finished and none is publishing; true if so.
    fn close_if_done(&self, after: usize) -> bool {
        let mut p = lock(&self.publishers);
        if p.finished >= after && p.active == 0 {
            p.closed = true;
        }
        p.closed
    }

    /// Closes the door: no new publisher.
    fn close(&self) {
        lock(&self.publishers).closed = true;
    }
}

/// A publisher counted in by a backplane's [`Hub`]; dropped (with the publisher's body, however
/// it ends) it counts as finished, and wakes the backplane to see whether that ends it.
struct Publishing(Arc<Hub>);

impl Drop for Publishing {
    fn drop(&mut self) {
        {
            let mut p = lock(&self.0.publishers);
            p.active -= 1;
            p.finished += 1;
        }
        self.0.wake.unpause();
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
/// | `configuration` | `Subscription<T>` | subscribers asking to be added or removed (`SubscribeTo` links here); unbounded |
///
/// # Outboxes
///
/// | box            | carries | what leaves                                                           |
/// |----------------|---------|-----------------------------------------------------------------------|
/// | `outbox`       | `T`     | NOT USED                                                               |
/// | `signal`       | `Ipc`   | the `ProducerFinished` or `ShutdownMicroprocess` that ended it, passed on (or its own `ProducerFinished`, with [`end_after_publishers`](Backplane::end_after_publishers)) |
/// | `_data_<id>`   | `T`     | internal use, one per subscriber: copies of everything published, to subscriber `<id>` |
/// | `_control_<id>`| `Ipc`   | internal use, one per subscriber: control messages, to subscriber `<id>` |
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
    /// as if it had received one on `control`. A publisher is a [`PublishTo`] of this name,
    /// counted when it is activated; it has finished when it has ended, for whatever reason.
    /// Publishers activated after the backplane has begun to end are refused
    /// ([`BackplaneError::Ended`]).
    /// See the [module docs](self), "Shutdown".
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

/// Registers both services of backplane `name`, provided by `me`, and puts its `hub` in the
/// name's [`HubSlot`]; all or nothing.
///
/// The slot's lock is held throughout, and a publisher takes it after finding the services: so a
/// publisher that found these services finds this hub, and a backplane refused for a taken name
/// never touches the hub of the one that has it.
fn register(tracker: &Tracker, me: &ComponentRef, name: &str, hub: &Arc<Hub>) -> Result<(), BackplaneError> {
    let refused = |service: String, e: TrackerError| match e {
        TrackerError::ServiceAlreadyExists(_) => BackplaneError::NameTaken { name: name.to_owned(), service },
        source => BackplaneError::Tracker { name: name.to_owned(), source },
    };
    let slot = HubSlot::tracked_in(tracker, name).map_err(|e| refused(hub_value(name), e))?;
    let mut current = lock(&slot.0);
    let (data, config) = (inbox_service(name), configuration_service(name));
    tracker.register_service(&data, me, "inbox").map_err(|e| refused(data.clone(), e))?;
    if let Err(e) = tracker.register_service(&config, me, "configuration") {
        let _ = tracker.deregister_service(&data);
        return Err(refused(config, e));
    }
    *current = Arc::downgrade(hub);
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
                "the ProducerFinished or ShutdownMicroprocess that ended it, passed on",
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

/// Publishes what reaches its `inbox` on a named [`Backplane`]; see the [module docs](self).
///
/// It attaches to the backplane when it is activated, and counts as one of its publishers until
/// it ends (see [`Backplane::end_after_publishers`]).
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

/// Receives everything published on a named [`Backplane`] after it was activated, out of its
/// `outbox`; see the [module docs](self).
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
