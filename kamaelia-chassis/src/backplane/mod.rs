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
//!
//! # The code
//!
//! * `error.rs`: [`BackplaneError`].
//! * `subscription.rs`: [`Subscription`], a subscriber's request on a backplane's `configuration`.
//! * `hub.rs`: how a backplane is found by name: its services and the hub it shares with its
//!   publishers.
//! * `splitter.rs`: [`Backplane`], the component, which splits what is published among its
//!   subscribers.
//! * `publish.rs`: [`PublishTo`].
//! * `subscribe.rs`: [`SubscribeTo`].
//!
//! [`Scheduler::run`]: axon_core::Scheduler::run
//! [`Scheduler::activate`]: axon_core::Scheduler::activate
//! [`Scheduler::per_thread`]: axon_core::Scheduler::per_thread
//! [`Instance::activate`]: axon_core::Instance::activate
//! [`Tracker`]: axon_core::Tracker

mod error;
mod hub;
mod publish;
mod splitter;
mod subscribe;
mod subscription;

pub use error::BackplaneError;
pub use hub::{configuration_service, inbox_service};
pub use publish::PublishTo;
pub use splitter::{subscriber_count, Backplane};
pub use subscribe::SubscribeTo;
pub use subscription::Subscription;
