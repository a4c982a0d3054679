//! Carousel: one child at a time, replaced on request (ports `Kamaelia.Chassis.Carousel`).
//!
//! A [`Carousel`] makes a child component from each message that reaches its `next` inbox, by
//! calling a factory function, and wires the child in as if it were the Carousel itself: what
//! arrives on the Carousel's `inbox` goes to the child, and what the child sends out of its
//! `outbox` leaves through the Carousel's `outbox`. When the child ends, the Carousel sends
//! `"NEXT"` out of `requestNext`, so that a chooser can answer with the next request. It gets its
//! name from a broadcast carousel, where programmes are played one after another.
//!
//! It makes things that normally run once reusable: a carousel of file readers reads one file
//! after another, a new reader per file name.
//!
//! [`join_chooser_to_carousel`] (Kamaelia's `Prefab.JoinChooserToCarousel`) wires a chooser, which
//! answers each `"NEXT"` with the next request, to a Carousel, as one Graphline.
//!
//! This module also holds [`Child`], the typed handle to a not-yet-started component that
//! [`Carousel`], [`Seq`](crate::seq::Seq) and [`PAR`](crate::par::PAR) take as children.
//!
//! # Example
//!
//! A reusable word reader: each sentence sent to `next` makes a child that sends its words.
//!
//! ```
//! use std::time::Duration;
//! use axon_core::prelude::*;
//! use kamaelia_chassis::carousel::Carousel;
//!
//! /// Sends the words of `sentence`, one message each, then ends.
//! fn words(sentence: String) -> impl Component<Inbox = (), Outbox = String> {
//!     from_fn("Words", move |mut ctx: Context<(), String>| async move {
//!         for word in sentence.split_whitespace() {
//!             ctx.outbox.send(word.to_owned()).await;
//!         }
//!         Ok(())
//!     })
//! }
//!
//! let scheduler = Scheduler::new();
//! let carousel = Instance::new(Carousel::new(words, false));
//! let reader = carousel.component().clone();
//! let mut h = Handle::new(carousel, &scheduler);
//!
//! reader.deliver("next", "hello carousel".to_owned()).unwrap();
//! assert_eq!(h.recv_blocking().as_deref(), Some("hello"));
//! assert_eq!(h.recv_blocking().as_deref(), Some("carousel"));
//! reader.deliver("next", "again".to_owned()).unwrap(); // a new child, same Carousel
//! assert_eq!(h.recv_blocking().as_deref(), Some("again"));
//!
//! h.send_control_blocking(ProducerFinished::new());
//! let passed_on = h.recv_signal_timeout(Duration::from_secs(10)).unwrap();
//! assert!(passed_on.is_producer_finished());
//! assert_eq!(h.join_blocking(), axon_core::Exit::Finished);
//! ```
//!
//! # How it works
//!
//! For each message on `next`, once no child is running, the Carousel calls the factory with it
//! and wires the new child in before activating it (so nothing the child sends early is lost):
//!
//! * Carousel `inbox` → child `inbox` (passthrough inbound);
//! * Carousel `_signal` → child `control`;
//! * child `outbox` → Carousel `outbox` (passthrough outbound);
//! * the child's `signal` is **not** wired: what it sends there is discarded.
//!
//! The child becomes the Carousel's child (introspection lists it). When it ends, however it ends
//! (finished, failed, panicked, stopped), the Carousel removes those linkages and, unless a `next`
//! message is already waiting or it has been asked to stop, sends `"NEXT"` out of `requestNext`.
//! With `make_first_request`, it also sends one `"NEXT"` when it starts.
//!
//! The Carousel is a state machine (Kamaelia's, step for step). Stop requests from `control` are
//! latched: a `ShutdownMicroprocess` is a *must stop*, a `ProducerFinished` a *please stop*.
//!
//! | state    | in order of priority, the first that applies                                    |
//! |----------|---------------------------------------------------------------------------------|
//! | no child | must stop → send it out of `signal`, end                                         |
//! |          | a `next` message → make, wire and start a child                                  |
//! |          | please stop → send it out of `signal`, end                                       |
//! |          | otherwise sleep                                                                  |
//! | child    | must stop → send it to the child's `control` (once)                              |
//! |          | a `next` message waiting → send a new `ShutdownMicroprocess` to the child (the `next` message stays queued for later) |
//! |          | please stop → send it to the child's `control`                                   |
//! |          | otherwise sleep until the child ends                                             |
//!
//! In the child state, only one of the last three is sent to a given child, except that a must
//! stop is always passed on (see *Porting from Kamaelia*). So a `ProducerFinished` lets the
//! queued `next` messages run first, each child being asked to stop in turn, and then ends the
//! Carousel; a `ShutdownMicroprocess` drops the queued `next` messages and ends it as soon as the
//! current child has ended.
//!
//! While no child is running, what arrives on `inbox` waits in the Carousel's own `inbox`
//! (bounded) and moves on to the next child when it is wired in. What is still queued in a child's
//! `inbox` when that child ends is dropped with it (as in Axon).
//!
//! # Inboxes and outboxes
//!
//! Listed on [`Carousel`], with what each carries, as Kamaelia lists them on the class.
//!
//! # Shutdown
//!
//! The Carousel ends only when it has no child and a stop request has been latched; it then
//! sends that request (the same message) out of `signal`. It waits for the current child to end
//! first, however long that takes: a child that ignores its `control` keeps the Carousel alive.
//! It also ends, sending a `ProducerFinished` of its own, if it has no child and both `next` and
//! `control` have closed (everything that could send to them has gone), since nothing could then
//! ever happen.
//!
//! # Limitations
//!
//! * A child is told to stop through its `control`; a child that never reads it is never
//!   replaced. Sends to the child's `control` wait for room there, like any send.
//! * A closed `inbox` reaches only the child wired in while something still fed the Carousel: when
//!   everything upstream has gone, that child's `inbox` closes (its `recv` returns `None`), but a
//!   child wired in afterwards is never fed at all, and an inbox that has never been fed does not
//!   close (axon-core's rule, so that a component started before it is wired does not see a
//!   spurious end). Stop such children through `control`.
//!
//! # Porting from Kamaelia
//!
//! * `Carousel(componentFactory, make1stRequest=False)` is `Carousel::new(factory, make_first_request)`;
//!   `Prefab.JoinChooserToCarousel(chooser, carousel)` is [`join_chooser_to_carousel`].
//!   The factory returns a component (or a [`Child`]) whose `inbox`/`outbox` types match the
//!   Carousel's, checked when it compiles; a factory can return different component types by
//!   returning [`Child`].
//! * A `ShutdownMicroprocess` that arrives after the child was already asked to stop another way
//!   (by a `ProducerFinished`, or to make room for a queued request) is still passed to the child.
//!   Kamaelia sent at most one message per child, so a child draining after a `producerFinished`
//!   could not be hurried; here *must stop* always reaches it.
//! * A Carousel with no child whose `next` and `control` have both closed ends (Kamaelia would
//!   sleep forever); Kamaelia has no notion of a closed box.
//! * Boxes are bounded: `inbox` and `next` hold [`DEFAULT_CAPACITY`](axon_core::DEFAULT_CAPACITY)
//!   messages unless the linkage into them sets a `pipewidth`; senders wait when they are full.

use std::fmt;
use std::marker::PhantomData;

use axon_core::ipc::{ProducerFinished, ShutdownMicroprocess};
use axon_core::{
    AnyInstance, BoxKind, Component, ComponentRef, ComponentResult, Context, Declarations, Inbox, Instance, Ipc,
    Outbox, Passthrough, TryRecvError,
};

use crate::graphline::{child, Graphline, GraphlineError};

/// What a Carousel sends out of `requestNext` when it wants the next request (Kamaelia's
/// `"NEXT"`).
pub const NEXT: &str = "NEXT";

/// A component made, with its boxes, but not yet started, whose standard `inbox` carries `I` and
/// `outbox` carries `O`: what the chassis in this crate take as children.
///
/// Any component converts into one (`Child::from(component)`, or `.into()`), so chassis methods
/// that take `impl Into<Child<I, O>>` accept components directly. Holding a `Child` rather than a
/// concrete component type lets one chassis hold children of different types, while the message
/// types of the boxes the chassis wires stay checked at compile time.
///
/// ```
/// use axon_core::prelude::*;
/// use kamaelia_chassis::carousel::Child;
///
/// let upper = from_fn("Upper", |mut ctx: Context<String, String>| async move {
///     while let Some(s) = ctx.inbox.recv().await {
///         ctx.outbox.send(s.to_uppercase()).await;
///     }
///     Ok(())
/// });
/// let child: Child<String, String> = upper.into();
/// assert!(child.component().name().starts_with("Upper_"));
/// ```
pub struct Child<I, O> {
    instance: Box<dyn AnyInstance>,
    _types: PhantomData<fn(I) -> O>,
}

impl<I, O> fmt::Debug for Child<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child").field("component", self.instance.component()).finish()
    }
}

impl<C: Component> From<C> for Child<C::Inbox, C::Outbox> {
    fn from(component: C) -> Self {
        Child::from_instance(Instance::new(component))
    }
}

impl<I, O> Child<I, O> {
    /// The component, to link its boxes or watch it.
    pub fn component(&self) -> &ComponentRef {
        self.instance.component()
    }
}

impl<I: Send + 'static, O: Send + 'static> Child<I, O> {
    /// A child from a component that already has its boxes (made with [`Instance::new`]), for
    /// when the caller keeps a reference to it ([`Instance::component`]) before handing it over.
    pub fn from_instance<C: Component<Inbox = I, Outbox = O>>(instance: Instance<C>) -> Self {
        Child { instance: instance.boxed(), _types: PhantomData }
    }

    /// Starts it on the scheduler of the component whose context this is.
    pub(crate) fn activate<I2: Send + 'static, O2: Send + 'static>(self, ctx: &Context<I2, O2>) -> ComponentRef {
        ctx.activate_boxed(self.instance)
    }
}

/// What [`send_or_control`] did.
pub(crate) enum Sent<T> {
    /// The message is in the destination inbox (or was discarded: no linkage, destination ended).
    Delivered,
    /// A control message arrived while the destination was full; the message comes back, to be
    /// sent again once the control message has been dealt with.
    Control(Ipc, T),
}

/// Sends `msg` out of `out`, waiting while the destination is full, but returns as soon as a
/// message arrives on `control`, with the undelivered message. A chassis that copies data to a
/// slow child uses it to keep obeying its `control` while it waits (cancelling a `send` would
/// drop the message; this never loses it).
pub(crate) async fn send_or_control<T: Send + 'static>(
    out: &mut Outbox<T>,
    mut msg: T,
    control: &mut Inbox<Ipc>,
) -> Sent<T> {
    loop {
        match out.try_send(msg) {
            Ok(()) => return Sent::Delivered,
            Err(full) => msg = full.into_inner(),
        }
        if let Ok(c) = control.try_recv() {
            return Sent::Control(c, msg);
        }
        let control_open = !control.is_closed();
        tokio::select! {
            _ = out.ready() => {}
            _ = control.ready(), if control_open => {}
        }
    }
}

type Factory<M, I, O> = Box<dyn FnMut(M) -> Child<I, O> + Send>;

/// Makes one child at a time from the messages on its `next` inbox, and replaces it on request;
/// see the [module docs](self).
///
/// `M` is what `next` carries (the factory's argument); `I` and `O` are what the Carousel's and
/// each child's `inbox` and `outbox` carry.
///
/// # Inboxes
///
/// | box       | carries | what arrives                                                                 |
/// |-----------|---------|------------------------------------------------------------------------------|
/// | `inbox`   | `I`     | child's inbox: passed through to the current child's `inbox`                  |
/// | `next`    | `M`     | requests to replace child: each is given to the factory to make the next child |
/// | `control` | `Ipc`   | `ProducerFinished` (stop after the queued requests) or `ShutdownMicroprocess` (stop now); other messages are ignored |
///
/// # Outboxes
///
/// | box           | carries  | what leaves                                                               |
/// |---------------|----------|---------------------------------------------------------------------------|
/// | `outbox`      | `O`      | child's outbox: what the current child sends out of its `outbox`           |
/// | `signal`      | `Ipc`    | the stop request that ended the Carousel, passed on as it ends             |
/// | `_signal`     | `Ipc`    | internal use: for sending shutdown requests to the child's `control`       |
/// | `requestNext` | `String` | for requesting new child component: [`"NEXT"`](NEXT) when a child has ended |
pub struct Carousel<M, I, O> {
    factory: Factory<M, I, O>,
    make_first_request: bool,
}

impl<M, I, O> fmt::Debug for Carousel<M, I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Carousel").field("make_first_request", &self.make_first_request).finish_non_exhaustive()
    }
}

impl<M, I, O> Carousel<M, I, O>
where
    M: Send + 'static,
    I: Send + 'static,
    O: Send + 'static,
{
    /// A Carousel that makes each child with `factory(message)` for a message on `next` (Kamaelia's
    /// `Carousel(componentFactory, make1stRequest)`). With `make_first_request`, it sends `"NEXT"`
    /// out of `requestNext` as soon as it starts; otherwise it waits for a first `next` message.
    pub fn new<F, C>(mut factory: F, make_first_request: bool) -> Self
    where
        F: FnMut(M) -> C + Send + 'static,
        C: Into<Child<I, O>>,
    {
        Carousel { factory: Box::new(move |m| factory(m).into()), make_first_request }
    }
}

/// The stop requests a Carousel has latched from its `control`.
#[derive(Default)]
struct StopRequests {
    /// A `ShutdownMicroprocess`: stop as soon as the current child has ended.
    must: Option<Ipc>,
    /// A `ProducerFinished`: stop once the queued `next` messages have been dealt with.
    please: Option<Ipc>,
    /// `control` has closed: nothing more can arrive there.
    control_closed: bool,
}

impl StopRequests {
    fn note(&mut self, msg: Option<Ipc>) {
        match msg {
            Some(m) if m.is_shutdown_microprocess() => self.must = Some(m),
            Some(m) if m.is_producer_finished() => self.please = Some(m),
            Some(m) => log::debug!("Carousel: ignoring control message {m:?}"),
            None => self.control_closed = true,
        }
    }

    /// Reads everything waiting on `control` (Kamaelia's `checkControl`).
    fn check(&mut self, control: &mut Inbox<Ipc>) {
        loop {
            match control.try_recv() {
                Ok(m) => self.note(Some(m)),
                Err(TryRecvError::Closed) => return self.note(None),
                Err(TryRecvError::Empty) => return,
            }
        }
    }
}

impl<M, I, O> Component for Carousel<M, I, O>
where
    M: Send + 'static,
    I: Send + 'static,
    O: Send + 'static,
{
    type Inbox = I;
    type Outbox = O;

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .inbox::<M>("next", "requests to replace child: each is given to the factory to make the next child")
            .outbox::<Ipc>("_signal", "internal use: for sending shutdown requests to the child's control")
            .outbox::<String>("requestNext", "for requesting new child component: \"NEXT\" when a child has ended")
            .describe(BoxKind::Inbox, "inbox", "child's inbox: passed through to the current child's inbox")
            .describe(
                BoxKind::Inbox,
                "control",
                "ProducerFinished (stop after the queued requests) or ShutdownMicroprocess (stop now); other messages \
                 are ignored",
            )
            .describe(BoxKind::Outbox, "outbox", "child's outbox: what the current child sends out of its outbox")
            .describe(BoxKind::Outbox, "signal", "the stop request that ended the Carousel, passed on as it ends");
    }

    async fn main(mut self, mut ctx: Context<I, O>) -> ComponentResult {
        let mut next = ctx.take_inbox::<M>("next")?;
        let mut to_child = ctx.take_outbox::<Ipc>("_signal")?;
        let mut request_next = ctx.take_outbox::<String>("requestNext")?;
        let mut stop = StopRequests::default();

        if self.make_first_request {
            request_next.send(NEXT.to_owned()).await;
        }
        loop {
            // No child: waiting for instructions.
            let child = loop {
                stop.check(&mut ctx.control);
                if let Some(m) = stop.must.take() {
                    ctx.signal.send(m).await;
                    return Ok(());
                }
                if let Ok(arg) = next.try_recv() {
                    break self.start_child(&ctx, arg)?;
                }
                if let Some(m) = stop.please.take() {
                    ctx.signal.send(m).await;
                    return Ok(());
                }
                let next_open = !next.is_closed();
                if !next_open && stop.control_closed {
                    log::debug!("{}: `next` and `control` have closed with no child; ending", ctx.name());
                    ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
                    return Ok(());
                }
                tokio::select! {
                    m = ctx.control.recv(), if !stop.control_closed => stop.note(m),
                    _ = next.ready(), if next_open => {}
                }
            };

            // A child is running. Each request to stop goes to it once, bar a must stop.
            let (mut told_must, mut told_any) = (false, false);
            loop {
                stop.check(&mut ctx.control);
                if let (Some(m), false) = (&stop.must, told_must) {
                    to_child.send(m.clone()).await;
                    (told_must, told_any) = (true, true);
                    continue;
                }
                if !told_any && !next.is_empty() {
                    // Replace it: the `next` message stays queued until the child has gone.
                    to_child.send(ShutdownMicroprocess::new().into()).await;
                    told_any = true;
                    continue;
                }
                if let (Some(m), false) = (&stop.please, told_any) {
                    to_child.send(m.clone()).await;
                    told_any = true;
                    continue;
                }
                let watch_next = !told_any && !next.is_closed();
                tokio::select! {
                    _ = child.join() => break,
                    m = ctx.control.recv(), if !stop.control_closed => stop.note(m),
                    _ = next.ready(), if watch_next => {}
                }
            }
            // Unwires it (the linkages the Carousel made to it) and forgets it.
            ctx.remove_child(&child);
            stop.check(&mut ctx.control);
            if next.is_empty() && stop.please.is_none() && stop.must.is_none() {
                request_next.send(NEXT.to_owned()).await;
            }
        }
    }
}

impl<M, I, O> Carousel<M, I, O>
where
    M: Send + 'static,
    I: Send + 'static,
    O: Send + 'static,
{
    /// Makes the child for `arg`, wires it in as described in the module docs, and starts it.
    fn start_child(&mut self, ctx: &Context<I, O>, arg: M) -> Result<ComponentRef, axon_core::LinkError> {
        let child = (self.factory)(arg);
        let c = child.component().clone();
        let me = ctx.me();
        ctx.link_passthrough((me, "inbox"), (&c, "inbox"), Passthrough::Inbound)?;
        ctx.link((me, "_signal"), (&c, "control"))?;
        ctx.link_passthrough((&c, "outbox"), (me, "outbox"), Passthrough::Outbound)?;
        ctx.add_child(&c);
        child.activate(ctx);
        log::debug!("{}: started {}", ctx.name(), c.name());
        Ok(c)
    }
}

/// A chooser joined to a Carousel, as one Graphline (Kamaelia's `Prefab.JoinChooserToCarousel`).
///
/// The chooser answers each `"NEXT"` (a `String` on its `inbox`) with the next request for the
/// Carousel (`M` out of its `outbox`), and ends the whole by sending `ProducerFinished` out of its
/// `signal` when it has no more. The Graphline's `inbox` and `outbox` are the Carousel's (those of
/// the current child); its `control` goes to the chooser; its `signal` is the Carousel's.
///
/// ```text
/// CHOOSER.outbox → CAROUSEL.next         CHOOSER.signal → CAROUSEL.control
/// CAROUSEL.requestNext → CHOOSER.inbox   self.control → CHOOSER.control
/// self.inbox → CAROUSEL.inbox            CAROUSEL.outbox → self.outbox
///                                        CAROUSEL.signal → self.signal
/// ```
///
/// Make the Carousel with `make_first_request` set if the chooser waits for a first `"NEXT"`.
///
/// ```
/// use std::time::Duration;
/// use axon_core::prelude::*;
/// use kamaelia_chassis::carousel::{join_chooser_to_carousel, Carousel};
///
/// /// Answers each request with the next name, then finishes (a ForwardIteratingChooser).
/// let chooser = from_fn("Chooser", |mut ctx: Context<String, &'static str>| async move {
///     for name in ["one", "two"] {
///         if ctx.inbox.recv().await.is_none() {
///             return Ok(());
///         }
///         ctx.outbox.send(name).await;
///     }
///     ctx.inbox.recv().await;
///     ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
///     Ok(())
/// });
/// let say = |name: &'static str| {
///     from_fn("Say", move |mut ctx: Context<(), String>| async move {
///         ctx.outbox.send(format!("this is {name}")).await;
///         Ok(())
///     })
/// };
/// let both = join_chooser_to_carousel(chooser, Carousel::new(say, true)).unwrap();
/// let mut h = Handle::new(both, &Scheduler::new());
/// assert_eq!(h.recv_blocking().as_deref(), Some("this is one"));
/// assert_eq!(h.recv_blocking().as_deref(), Some("this is two"));
/// assert!(h.recv_signal_timeout(Duration::from_secs(10)).unwrap().is_producer_finished());
/// ```
///
/// # Errors
/// A [`GraphlineError`] if the Graphline refuses a linkage; with the types this function
/// demands, that cannot happen unless the chooser's own `declare` removed a standard box.
#[doc(alias = "JoinChooserToCarousel")]
pub fn join_chooser_to_carousel<Ch, M, I, O>(
    chooser: Ch,
    carousel: Carousel<M, I, O>,
) -> Result<Instance<Graphline<I, O>>, GraphlineError>
where
    Ch: Component<Inbox = String, Outbox = M>,
    M: Send + 'static,
    I: Send + 'static,
    O: Send + 'static,
{
    Graphline::typed(
        [("CHOOSER", child(chooser)), ("CAROUSEL", child(carousel))],
        [
            // data
            (("CHOOSER", "outbox"), ("CAROUSEL", "next")),
            (("CAROUSEL", "requestNext"), ("CHOOSER", "inbox")),
            (("self", "inbox"), ("CAROUSEL", "inbox")),
            (("CAROUSEL", "outbox"), ("self", "outbox")),
            // signalling
            (("CHOOSER", "signal"), ("CAROUSEL", "control")),
            (("self", "control"), ("CHOOSER", "control")),
            (("CAROUSEL", "signal"), ("self", "signal")),
        ],
    )
}
