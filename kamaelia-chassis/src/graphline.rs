//! Components wired in a topology: [`Graphline`] (Kamaelia's `Kamaelia.Chassis.Graphline`).
//!
//! A `Graphline` takes named children and a linkage declaration, `("NAME", "box")` to
//! `("NAME", "box")`, wires the children as declared, and wraps them up as a single component.
//! The name `"self"` stands for the Graphline itself, so its own boxes can be passed through to
//! and from the children.
//!
//! # Example
//!
//! Kamaelia's rate-controlled file reader, `Graphline(RC=..., RFA=..., linkages={...})`, with a
//! source of lines and a component that numbers them:
//!
//! ```
//! use axon_core::prelude::*;
//! use axon_core::Instance;
//! use kamaelia_chassis::graphline;
//! use kamaelia_chassis::graphline::Graphline;
//!
//! // Sends two lines, then says it has finished.
//! let lines = from_fn("Lines", |mut ctx: Context<(), String>| async move {
//!     for line in ["to be", "or not"] {
//!         ctx.outbox.send(line.to_owned()).await;
//!     }
//!     ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
//!     Ok(())
//! });
//! // Numbers each line; on shutdown (which comes after every line sent before it), passes it
//! // on and stops.
//! let number = from_fn("Number", |mut ctx: Context<String, String>| async move {
//!     let mut n = 0;
//!     while let Some(event) = ctx.next_event().await {
//!         match event {
//!             Event::Data(line) => {
//!                 n += 1;
//!                 ctx.outbox.send(format!("{n}: {line}")).await;
//!             }
//!             Event::Control(msg) => {
//!                 ctx.signal.send(msg).await;
//!                 break;
//!             }
//!         }
//!     }
//!     Ok(())
//! });
//!
//! let numbered: Instance<Graphline<(), String>> = graphline! {
//!     SRC = lines,
//!     NUM = number,
//!     linkages = {
//!         // data
//!         ("SRC", "outbox"): ("NUM", "inbox"),
//!         ("NUM", "outbox"): ("self", "outbox"),
//!         // signalling
//!         ("SRC", "signal"): ("NUM", "control"),
//!         ("NUM", "signal"): ("self", "signal"),
//!     }
//! }
//! .unwrap();
//!
//! let mut h = Handle::new(numbered, &Scheduler::new());
//! assert_eq!(h.recv_blocking().as_deref(), Some("1: to be"));
//! assert_eq!(h.recv_blocking().as_deref(), Some("2: or not"));
//! assert!(h.recv_signal_timeout(std::time::Duration::from_secs(10)).unwrap().is_producer_finished());
//! ```
//!
//! Without the macro the same Graphline is
//! `Graphline::typed([("SRC", child(lines)), ("NUM", child(number))], [(("SRC", "outbox"), ("NUM", "inbox")), ...])`;
//! [`child`] erases each child's type so that different components sit in one list.
//!
//! # How it works
//!
//! **When it is built** ([`Graphline::new`], [`Graphline::typed`], [`graphline!`](crate::graphline!))
//! every linkage is checked, and the first problem is returned as a [`GraphlineError`] naming the
//! offending linkage: a name that is neither a child nor `"self"`, a box the component does not
//! have, two boxes carrying different types, a source box used twice (fan-out), a linkage between
//! two of the Graphline's own boxes. Nothing runs before the declaration is sound.
//!
//! Any `("self", X)` used as a *source* with `X` other than `inbox` or `control` becomes a new
//! inbox `X` of this Graphline; any `("self", Y)` used as a *destination* with `Y` other than
//! `outbox` or `signal` becomes a new outbox `Y`. Each new box carries the type of the child's box
//! it is linked to and copies its description (Kamaelia's external boxes). These boxes belong to
//! this instance only.
//!
//! **When it is activated** it makes the declared linkages, in the order given: from `"self"` a
//! passthrough into a child ([`Passthrough::Inbound`]), to `"self"` a passthrough out of a child
//! ([`Passthrough::Outbound`]), between children an ordinary linkage. Then it makes every child its
//! child and activates them all, linked or not. Until then no child runs.
//!
//! It does not intercept its boxes: data flows along the passthroughs straight to and from the
//! children. The one exception is shutdown handling, below. It knows only the children it was
//! given, not the components those children start.
//!
//! # Inboxes and outboxes
//!
//! Listed on [`Graphline`], with what each carries, as Kamaelia lists them on the class.
//!
//! # Shutdown
//!
//! As in Kamaelia's Graphline:
//!
//! * If no linkage has `("self", "control")` as its source, each message arriving on `control` is
//!   passed on (cloned) to every child whose `control` is not the destination of any linkage, in
//!   the order the children were given. A `ShutdownMicroprocess` among them is remembered (the
//!   last one). If `("self", "control")` is linked, the user has taken charge of shutdown: the
//!   Graphline never reads `control`.
//! * The Graphline ends when, and only when, **all** its children have ended. Just before, if no
//!   child is linked to `("self", "signal")`, it sends on `signal` the remembered
//!   `ShutdownMicroprocess` (the same message) or else a new `ProducerFinished` naming itself. If a
//!   child is linked to `("self", "signal")`, the Graphline sends nothing of its own.
//! * A child that panics or fails ends alone (it is logged, and the scheduler reports it); the
//!   Graphline keeps waiting for the others.
//!
//! ## A `ProducerFinished` on `control` reaches every child at once
//!
//! **Beware:** a message the Graphline passes on from its `control` goes to *every* child whose
//! `control` no linkage feeds, upstream and downstream children alike, one right after the other
//! (one clone per child, through its `_cs_NAME` outbox, in the order the children were given).
//! The Graphline waits only for room in each child's `control`, never for a child to act on the
//! message, and it does not know which child feeds which. So if a Graphline whose child `UP`
//! feeds its child `DOWN`, neither `control` linked, is sent a `ProducerFinished`, `DOWN` may
//! receive it while `UP` still has messages to process and send: `DOWN` then passes on what is
//! in its `inbox` at that moment and ends, and what `UP` sends after that goes to a component
//! that has ended and is discarded. Nothing is lost in transit, but the end overtakes the data.
//!
//! The cure is to let the end travel along with the data, as a
//! [`Pipeline`](crate::pipeline::Pipeline) does: link `("UP", "signal")` to `("DOWN", "control")`
//! inside the graph. `DOWN`'s `control` is then linked, so the Graphline passes its control
//! messages to `UP` alone; `UP` sends its `ProducerFinished` out of `signal` after the last message
//! it sends out of `outbox`, and `DOWN` hears of the end only once everything `UP` sent is in its
//! `inbox`. (Linking `("self", "control")` to `("UP", "control")` also keeps `DOWN` out of it, and
//! the Graphline then never reads `control` itself.) Link the last child's `signal` to
//! `("self", "signal")` so that the end leaves the Graphline after the last message, too:
//!
//! ```
//! use std::time::Duration;
//! use axon_core::prelude::*;
//! use axon_core::{Exit, Instance};
//! use kamaelia_chassis::graphline;
//! use kamaelia_chassis::graphline::Graphline;
//!
//! // Adds one to what it receives. On a control message it passes on what is still queued, then
//! // the message, and ends.
//! fn add_one() -> impl Component<Inbox = u32, Outbox = u32> {
//!     from_fn("AddOne", |mut ctx: Context<u32, u32>| async move {
//!         while let Some(event) = ctx.next_event().await {
//!             match event {
//!                 Event::Data(n) => ctx.outbox.send(n + 1).await,
//!                 Event::Control(msg) => {
//!                     for n in ctx.inbox.drain() {
//!                         ctx.outbox.send(n + 1).await;
//!                     }
//!                     ctx.signal.send(msg).await;
//!                     break;
//!                 }
//!             }
//!         }
//!         Ok(())
//!     })
//! }
//!
//! let add_two: Instance<Graphline<u32, u32>> = graphline! {
//!     UP = add_one(),
//!     DOWN = add_one(),
//!     linkages = {
//!         ("self", "inbox"): ("UP", "inbox"),
//!         ("UP", "outbox"): ("DOWN", "inbox"),
//!         ("DOWN", "outbox"): ("self", "outbox"),
//!         // The signal chain: DOWN hears of the end from UP, after UP's last message, not from
//!         // the Graphline, which passes what reaches its control to UP alone.
//!         ("UP", "signal"): ("DOWN", "control"),
//!         ("DOWN", "signal"): ("self", "signal"),
//!     }
//! }
//! .unwrap();
//!
//! let mut h = Handle::new(add_two, &Scheduler::new());
//! for n in 0..100 {
//!     h.send_blocking(n);
//! }
//! h.send_control_blocking(ProducerFinished::new());
//! for n in 0..100 {
//!     assert_eq!(h.recv_blocking(), Some(n + 2), "every message, in order");
//! }
//! let end = h.recv_signal_timeout(Duration::from_secs(10)).unwrap();
//! assert!(end.is_producer_finished(), "then the end, from DOWN");
//! assert_eq!(h.join_blocking(), Exit::Finished);
//! ```
//!
//! # Limitations
//!
//! * Passing on a control message waits while a child's `control` is full (boxes are bounded), so
//!   a child that never reads `control` can hold back the messages for the children after it.
//! * Messages sent to an `inbox` that no linkage passes on wait there unread until the Graphline
//!   ends, and hold back their senders once the box is full.
//! * A child given as an [`Instance`] whose boxes are linked elsewhere *after* the Graphline was
//!   built cannot be wired: the Graphline then ends with
//!   [`Exit::Failed`](axon_core::Exit::Failed), naming the linkage, and stops its children.
//!
//! # Porting from Kamaelia
//!
//! * `Graphline(A=a, B=b, linkages={("A","outbox"): ("B","inbox")})` is
//!   `graphline! { A = a, B = b, linkages = { ("A", "outbox"): ("B", "inbox") } }`, or
//!   [`Graphline::new`] / [`Graphline::typed`] with a list of `(name, child(..))` and a list of
//!   `((name, box), (name, box))`. Both give a `Result`: wiring mistakes are refused when the
//!   Graphline is built, not when it runs.
//! * Kamaelia raises when `linkages` is left out (`TypeError`, where its tests expect
//!   `ValueError`). Here the linkages are a required argument, so leaving them out does not
//!   compile; an empty declaration is written `[]` (or `linkages = {}`):
//!
//!   ```compile_fail,E0061
//!   use axon_core::prelude::*;
//!   use kamaelia_chassis::graphline::{child, Graphline};
//!
//!   let a = from_fn("A", |_ctx: Context<(), ()>| async { Ok(()) });
//!   let _ = Graphline::new([("A", child(a))]); // no linkages
//!   ```
//!
//!   ```compile_fail
//!   use axon_core::prelude::*;
//!   use kamaelia_chassis::graphline;
//!
//!   let a = from_fn("A", |_ctx: Context<(), ()>| async { Ok(()) });
//!   let _ = graphline! { A = a, }; // no `linkages = { .. }`
//!   ```
//! * Only `"self"` names the Graphline; Kamaelia takes *any* unknown name (`""`, `"pig"`) as the
//!   Graphline itself, which turns a misspelt child name into a silent passthrough. Here it is
//!   [`GraphlineError::UnknownChild`].
//! * Linking two of the Graphline's own boxes is refused ([`GraphlineError::SelfToSelf`]);
//!   Kamaelia printed a warning and tried an outbox-to-inbox linkage.
//! * The external boxes are per instance: Kamaelia wrote them into the class-level
//!   `Graphline.Inboxes`/`Outboxes` dicts, so they appeared on every later Graphline.
//! * Kamaelia links and unlinks its `_cs` outbox for each child and each message; here the
//!   Graphline has one outbox per child that receives control messages.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use axon_core::ipc::ProducerFinished;
use axon_core::{
    linkage, AnyInstance, BoxKind, Component, ComponentError, ComponentRef, ComponentResult, Context, Declarations,
    Instance, IntoInstance, Ipc, LinkError, LinkOptions, Outbox, Passthrough,
};

/// The name that stands for the Graphline itself in a linkage declaration.
pub const SELF: &str = "self";

/// One declared linkage, `(source name, source box)` to `(sink name, sink box)`, as written.
///
/// Prints as Kamaelia writes a linkage dict entry: `("A", "outbox"): ("B", "inbox")`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LinkageSpec {
    /// `(name, box)` of the source: a child's outbox, or one of the Graphline's inboxes (`"self"`).
    pub source: (String, String),
    /// `(name, box)` of the sink: a child's inbox, or one of the Graphline's outboxes (`"self"`).
    pub sink: (String, String),
}

impl fmt::Display for LinkageSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({:?}, {:?}): ({:?}, {:?})", self.source.0, self.source.1, self.sink.0, self.sink.1)
    }
}

/// Why a Graphline could not be built. Each variant names the offending linkage or child;
/// match on the variants, not on the wording of the messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GraphlineError {
    /// Two children were given the same name.
    #[error("two children are named `{name}`; each child needs a name of its own")]
    DuplicateChild {
        /// The name given twice.
        name: String,
    },
    /// A child was named `"self"`, which names the Graphline itself in linkages.
    #[error("a child is named `self`, which stands for the Graphline itself in linkages; give the child another name")]
    ReservedName,
    /// A linkage names a component that is neither a child nor `"self"`.
    #[error("in linkage {linkage}: no child is named `{name}` (children: {children}); the Graphline's own boxes are named \"self\"")]
    UnknownChild {
        /// The linkage.
        linkage: Box<LinkageSpec>,
        /// The unknown name.
        name: String,
        /// The children's names, comma-separated.
        children: String,
    },
    /// A linkage names a box the component does not have (of the kind that end needs: a source
    /// is a child's outbox, a sink a child's inbox).
    #[error("in linkage {linkage}: `{component}` has no {kind} named `{name}` (its {kind}es: {available})")]
    UnknownBox {
        /// The linkage.
        linkage: Box<LinkageSpec>,
        /// The component's name in the declaration (a child's name, or `self`).
        component: String,
        /// `inbox` or `outbox`.
        kind: &'static str,
        /// The box name asked for.
        name: String,
        /// The boxes of that kind it does have, comma-separated.
        available: String,
    },
    /// The two ends of a linkage carry different message types.
    #[error("in linkage {linkage}: the source carries `{source_type}` but the sink carries `{sink_type}`{hint}")]
    TypeMismatch {
        /// The linkage.
        linkage: Box<LinkageSpec>,
        /// The message type of the source box.
        source_type: &'static str,
        /// The message type of the sink box.
        sink_type: &'static str,
        /// Advice when a Graphline's own `inbox` or `outbox` is involved and its type was not
        /// stated (empty otherwise).
        hint: String,
    },
    /// A source box appears in two linkages: one source box links to one destination.
    #[error("in linkage {linkage}: ({:?}, {:?}) is already the source of {first}; a source box links to one destination (fan-out needs a splitter component)", .linkage.source.0, .linkage.source.1)]
    FanOut {
        /// The second linkage out of the box.
        linkage: Box<LinkageSpec>,
        /// The first.
        first: Box<LinkageSpec>,
    },
    /// A linkage joins two of the Graphline's own boxes.
    #[error("in linkage {linkage}: both ends are the Graphline itself; a Graphline's boxes can only be passed through to or from its children")]
    SelfToSelf {
        /// The linkage.
        linkage: Box<LinkageSpec>,
    },
    /// A linkage was refused for another reason (for example a child's box that was already
    /// linked before the child was given to the Graphline).
    #[error("in linkage {linkage}: {source}")]
    Link {
        /// The linkage.
        linkage: Box<LinkageSpec>,
        /// Why it was refused.
        source: LinkError,
    },
}

/// One end of a planned linkage.
#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    /// One of the Graphline's own boxes.
    Graphline(String),
    /// A child's box: (index into the children, box name).
    Child(usize, String),
}

/// A linkage, checked and resolved, to be made at activation.
#[derive(Debug, Clone)]
struct Planned {
    spec: LinkageSpec,
    source: End,
    sink: End,
    passthrough: Passthrough,
}

/// A box of the Graphline's own, beyond the standard four, typed and described like a child's.
#[derive(Debug, Clone)]
struct External {
    kind: BoxKind,
    name: String,
    child: ComponentRef,
    child_kind: BoxKind,
    child_box: String,
}

/// Named children wired by a linkage declaration; see the [module docs](self).
///
/// `I` and `O` are what the Graphline's own `inbox` and `outbox` carry (both `()` unless stated;
/// see [`Graphline::typed`]). Built by [`Graphline::new`], [`Graphline::typed`] or the
/// [`graphline!`](crate::graphline!) macro, which check the declaration and return an
/// [`Instance`], ready to link and activate.
///
/// # Inboxes
///
/// | box       | carries        | what arrives                                                                 |
/// |-----------|----------------|------------------------------------------------------------------------------|
/// | `inbox`   | `I`            | Passed through to a child if `("self", "inbox")` is linked; otherwise unused |
/// | `control` | `Ipc`          | Passed through to a child if `("self", "control")` is linked; otherwise passed on to every child whose `control` is not linked |
/// | *X*       | as the child's | Each `("self", X)` source: passed through to the child's inbox it is linked to; described as that inbox |
///
/// # Outboxes
///
/// | box      | carries        | what leaves                                                                   |
/// |----------|----------------|-------------------------------------------------------------------------------|
/// | `outbox` | `O`            | What the child linked to `("self", "outbox")` sends; otherwise unused         |
/// | `signal` | `Ipc`          | What the child linked to `("self", "signal")` sends; otherwise `ShutdownMicroprocess` or `ProducerFinished` once every child has ended |
/// | *Y*      | as the child's | Each `("self", Y)` destination: what the child's outbox linked to it sends; described as that outbox |
///
/// When it starts, unless `("self", "control")` is linked, the Graphline adds an outbox
/// `_cs_NAME` (`Ipc`, internal: control messages passed on to child `NAME`, Kamaelia's `_cs`) for
/// each child `NAME` whose `control` is not linked (see Shutdown in the [module docs](self)).
#[must_use = "a Graphline does nothing until it is activated"]
pub struct Graphline<I = (), O = ()> {
    /// The children, in the order given (the order they are activated and receive control
    /// messages).
    children: Vec<(String, Box<dyn AnyInstance>)>,
    /// The linkages, checked, in the order given.
    linkages: Vec<Planned>,
    /// The Graphline's own extra boxes, declared when its instance is made.
    external: Vec<External>,
    _types: PhantomData<fn(I) -> O>,
}

impl<I, O> fmt::Debug for Graphline<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let children: Vec<(&str, &str)> =
            self.children.iter().map(|(n, c)| (n.as_str(), c.component().name())).collect();
        let linkages: Vec<String> = self.linkages.iter().map(|l| l.spec.to_string()).collect();
        f.debug_struct("Graphline").field("children", &children).field("linkages", &linkages).finish()
    }
}

/// Erases a child's type so that different components can be listed together in
/// [`Graphline::new`]: takes a behaviour value or a ready [`Instance`].
pub fn child(component: impl IntoInstance) -> Box<dyn AnyInstance> {
    component.into_instance().boxed()
}

impl Graphline {
    /// Builds a Graphline whose own `inbox` and `outbox` carry `()`: Kamaelia's
    /// `Graphline(linkages=..., **components)`. Use [`typed`](Graphline::typed) when a linkage
    /// passes data through its `inbox` or `outbox`.
    ///
    /// ```
    /// use axon_core::prelude::*;
    /// use kamaelia_chassis::graphline::{child, Graphline};
    ///
    /// let waiter = || from_fn("Waiter", |mut ctx: Context<(), ()>| async move {
    ///     ctx.control.recv().await; // any message, or the end of its senders
    ///     Ok(())
    /// });
    /// let g = Graphline::new([("A", child(waiter())), ("B", child(waiter()))], []).unwrap();
    /// let mut h = Handle::new(g, &Scheduler::new());
    /// h.send_control_blocking(ShutdownMicroprocess::new()); // passed on to A and B
    /// let last = h.recv_signal_timeout(std::time::Duration::from_secs(10)).unwrap();
    /// assert!(last.is_shutdown_microprocess()); // and out again once both have ended
    /// ```
    ///
    /// # Errors
    /// See [`typed`](Graphline::typed).
    pub fn new<'a>(
        components: impl IntoIterator<Item = (&'a str, Box<dyn AnyInstance>)>,
        linkages: impl IntoIterator<Item = ((&'a str, &'a str), (&'a str, &'a str))>,
    ) -> Result<Instance<Graphline>, GraphlineError> {
        Self::typed(components, linkages)
    }
}

impl<I: Send + 'static, O: Send + 'static> Graphline<I, O> {
    /// Builds a Graphline whose own `inbox` carries `I` and `outbox` carries `O`, from named
    /// children and linkages `((name, box), (name, box))`, `"self"` naming the Graphline.
    /// The types are usually inferred (a Graphline placed in a [`Pipeline`](crate::pipeline::Pipeline)),
    /// or stated: `Graphline::<String, String>::typed(..)`.
    ///
    /// # Errors
    /// The first problem found, children first, then linkages in the order given (see
    /// [`GraphlineError`]): a duplicate or reserved child name, an unknown name or box, a type
    /// mismatch, fan-out, or a linkage between two of the Graphline's own boxes.
    pub fn typed<'a>(
        components: impl IntoIterator<Item = (&'a str, Box<dyn AnyInstance>)>,
        linkages: impl IntoIterator<Item = ((&'a str, &'a str), (&'a str, &'a str))>,
    ) -> Result<Instance<Graphline<I, O>>, GraphlineError> {
        let mut children: Vec<(String, Box<dyn AnyInstance>)> = Vec::new();
        for (name, c) in components {
            if name == SELF {
                return Err(GraphlineError::ReservedName);
            }
            if children.iter().any(|(n, _)| n == name) {
                return Err(GraphlineError::DuplicateChild { name: name.to_owned() });
            }
            children.push((name.to_owned(), c));
        }
        let names = || children.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ");
        let resolve = |spec: &LinkageSpec, (name, bx): &(String, String)| -> Result<End, GraphlineError> {
            if name == SELF {
                return Ok(End::Graphline(bx.clone()));
            }
            match children.iter().position(|(n, _)| n == name) {
                Some(i) => Ok(End::Child(i, bx.clone())),
                None => Err(GraphlineError::UnknownChild {
                    linkage: Box::new(spec.clone()),
                    name: name.clone(),
                    children: if children.is_empty() { "none".to_owned() } else { names() },
                }),
            }
        };

        // Resolve names, choose each linkage's kind, refuse fan-out and self-to-self.
        let mut planned: Vec<Planned> = Vec::new();
        for ((from_name, from_box), (to_name, to_box)) in linkages {
            let spec = LinkageSpec {
                source: (from_name.to_owned(), from_box.to_owned()),
                sink: (to_name.to_owned(), to_box.to_owned()),
            };
            let source = resolve(&spec, &spec.source)?;
            let sink = resolve(&spec, &spec.sink)?;
            let passthrough = match (&source, &sink) {
                (End::Graphline(_), End::Graphline(_)) => {
                    return Err(GraphlineError::SelfToSelf { linkage: Box::new(spec) })
                }
                (End::Graphline(_), End::Child(..)) => Passthrough::Inbound,
                (End::Child(..), End::Graphline(_)) => Passthrough::Outbound,
                (End::Child(..), End::Child(..)) => Passthrough::Normal,
            };
            if let Some(first) = planned.iter().find(|p| p.source == source) {
                return Err(GraphlineError::FanOut { linkage: Box::new(spec), first: Box::new(first.spec.clone()) });
            }
            planned.push(Planned { spec, source, sink, passthrough });
        }

        // The children's ends must exist before they serve as templates for external boxes.
        for p in &planned {
            let (source_kind, sink_kind) = p.passthrough.kinds();
            for (end, kind) in [(&p.source, source_kind), (&p.sink, sink_kind)] {
                if let End::Child(i, bx) = end {
                    let (name, c) = &children[*i];
                    check_has_box(&p.spec, name, c.component(), kind, bx)?;
                }
            }
        }

        // Kamaelia's addExternalPostboxes, per instance.
        let mut external: Vec<External> = Vec::new();
        for p in &planned {
            let (kind, name, child_end, child_kind) = match (&p.source, &p.sink) {
                (End::Graphline(b), End::Child(..)) if !is_standard(BoxKind::Inbox, b) => {
                    (BoxKind::Inbox, b, &p.sink, BoxKind::Inbox)
                }
                (End::Child(..), End::Graphline(b)) if !is_standard(BoxKind::Outbox, b) => {
                    (BoxKind::Outbox, b, &p.source, BoxKind::Outbox)
                }
                _ => continue,
            };
            let End::Child(i, child_box) = child_end else { continue };
            if external.iter().any(|e| e.kind == kind && &e.name == name) {
                continue; // a second linkage into the same new outbox (fan-in); checked below
            }
            external.push(External {
                kind,
                name: name.clone(),
                child: children[*i].1.component().clone(),
                child_kind,
                child_box: child_box.clone(),
            });
        }

        let graphline = Instance::new(Graphline::<I, O> { children, linkages: planned, external, _types: PhantomData });

        // Now every box exists: check each linkage as it will be made (types, free sources).
        let me = graphline.component();
        let g = graphline.behaviour();
        for p in &g.linkages {
            let (source_kind, sink_kind) = p.passthrough.kinds();
            if let End::Graphline(b) = &p.source {
                check_has_box(&p.spec, SELF, me, source_kind, b)?;
            }
            if let End::Graphline(b) = &p.sink {
                check_has_box(&p.spec, SELF, me, sink_kind, b)?;
            }
            linkage::check(g.endpoint(me, &p.source), g.endpoint(me, &p.sink), LinkOptions::passthrough(p.passthrough))
                .map_err(|e| link_error(p, e))?;
        }
        Ok(graphline)
    }
}

impl<I, O> Graphline<I, O> {
    /// The component and box an end of a planned linkage names (`me` is the Graphline).
    fn endpoint<'e>(&'e self, me: &'e ComponentRef, end: &'e End) -> (&'e ComponentRef, &'e str) {
        match end {
            End::Graphline(b) => (me, b.as_str()),
            End::Child(i, b) => (self.children[*i].1.component(), b.as_str()),
        }
    }

    /// The child given under `name`, as a component (to link or watch it).
    pub fn child(&self, name: &str) -> Option<&ComponentRef> {
        self.children.iter().find(|(n, _)| n == name).map(|(_, c)| c.component())
    }

    /// The children's names, in the order given.
    pub fn child_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.children.iter().map(|(n, _)| n.as_str())
    }

    /// The linkages, in the order given.
    pub fn linkages(&self) -> impl Iterator<Item = &LinkageSpec> + '_ {
        self.linkages.iter().map(|p| &p.spec)
    }
}

fn is_standard(kind: BoxKind, name: &str) -> bool {
    match kind {
        BoxKind::Inbox => name == "inbox" || name == "control",
        BoxKind::Outbox => name == "outbox" || name == "signal",
    }
}

fn kind_word(kind: BoxKind) -> &'static str {
    match kind {
        BoxKind::Inbox => "inbox",
        BoxKind::Outbox => "outbox",
    }
}

fn check_has_box(
    spec: &LinkageSpec,
    name: &str,
    component: &ComponentRef,
    kind: BoxKind,
    bx: &str,
) -> Result<(), GraphlineError> {
    if component.has_box(kind, bx) {
        return Ok(());
    }
    Err(GraphlineError::UnknownBox {
        linkage: Box::new(spec.clone()),
        component: name.to_owned(),
        kind: kind_word(kind),
        name: bx.to_owned(),
        available: component.box_names(kind).iter().map(|n| n.as_ref()).collect::<Vec<_>>().join(", "),
    })
}

fn link_error(p: &Planned, e: LinkError) -> GraphlineError {
    match e {
        LinkError::TypeMismatch { source_type, sink_type, .. } => {
            let unstated = |end: &End, kind: BoxKind, ty: &str| match end {
                End::Graphline(b) if is_standard(kind, b) && ty == "()" => Some(b.clone()),
                _ => None,
            };
            let (source_kind, sink_kind) = p.passthrough.kinds();
            let hint = match unstated(&p.source, source_kind, source_type)
                .or_else(|| unstated(&p.sink, sink_kind, sink_type))
            {
                Some(b) => format!(
                    "; the Graphline's own `{b}` carries `()` because its types were not stated: build it with \
                     `Graphline::<Inbox, Outbox>::typed(..)` (or let a Pipeline infer them)"
                ),
                None => String::new(),
            };
            GraphlineError::TypeMismatch { linkage: Box::new(p.spec.clone()), source_type, sink_type, hint }
        }
        other => GraphlineError::Link { linkage: Box::new(p.spec.clone()), source: other },
    }
}

/// Stops the components it holds when dropped before they have ended: a chassis whose body is
/// dropped mid-run (it was stopped) takes its children with it. Harmless after they have ended.
pub(crate) struct StopOnDrop(pub(crate) Vec<ComponentRef>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        for c in self.0.iter().filter(|c| !c.has_ended()) {
            c.stop();
        }
    }
}

/// Why wiring failed at activation, as the Graphline's exit reason (stops the children first:
/// they never ran).
fn wiring_failed(children: &[ComponentRef], spec: &LinkageSpec, e: LinkError) -> ComponentError {
    for c in children {
        c.stop();
    }
    ComponentError::msg(format!("Graphline could not make linkage {spec}: {e}"))
}

impl<I: Send + 'static, O: Send + 'static> Component for Graphline<I, O> {
    type Inbox = I;
    type Outbox = O;

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .describe(
                BoxKind::Inbox,
                "inbox",
                "Passed through to a child if (\"self\", \"inbox\") is linked; otherwise unused",
            )
            .describe(
                BoxKind::Inbox,
                "control",
                "Passed through to a child if (\"self\", \"control\") is linked; otherwise passed on to every child \
                 whose control is not linked",
            )
            .describe(
                BoxKind::Outbox,
                "outbox",
                "What the child linked to (\"self\", \"outbox\") sends; otherwise unused",
            )
            .describe(
                BoxKind::Outbox,
                "signal",
                "What the child linked to (\"self\", \"signal\") sends; otherwise ShutdownMicroprocess or \
                 ProducerFinished once every child has ended",
            );
        for e in &self.external {
            // Checked when the Graphline was built: the template box exists and the name is new.
            if let Err(err) = boxes.like(e.kind, e.name.clone(), &e.child, e.child_kind, &e.child_box, None) {
                log::error!("Graphline could not declare its {} `{}`: {err}", kind_word(e.kind), e.name);
            }
        }
    }

    // Not `async fn`, and the wiring in a plain function: a Graphline's future lives as long as
    // its children, so it keeps only what supervising them needs (an `async fn` would also store
    // its arguments twice, and every local of the wiring).
    #[allow(clippy::manual_async_fn)]
    fn main(self, mut ctx: Context<I, O>) -> impl Future<Output = ComponentResult> + Send {
        async move {
            let Wired { mut broadcast, control_passed_through, signal_passed_through, stop_children } =
                self.wire(&mut ctx)?;

            // Kamaelia's `while not childrenDone()` loop. `pause` wakes on a delivery to any of
            // our inboxes and on the end of a child, and keeps a wake that came while we were busy.
            let mut shutdown: Option<Ipc> = None;
            loop {
                if ctx.children_done() {
                    break;
                }
                // `Closed` (every sender gone) is not final: a sender linked later reopens the box,
                // and `pause` sleeps until something happens either way.
                if !control_passed_through {
                    if let Ok(msg) = ctx.control.try_recv() {
                        // Remembered before it is passed on, so that a child that has seen it can
                        // rely on the Graphline having seen it too.
                        if msg.is_shutdown_microprocess() {
                            shutdown = Some(msg.clone());
                        }
                        // On the heap: control messages are rare, the Graphline's life is long.
                        Box::pin(async {
                            for out in &mut broadcast {
                                out.send(msg.clone()).await;
                            }
                        })
                        .await;
                        continue;
                    }
                }
                ctx.pause().await;
            }

            if !signal_passed_through {
                let last = shutdown.unwrap_or_else(|| ProducerFinished::from(ctx.id()).into());
                log::debug!("{}: every child has ended; sending {last:?}", ctx.name());
                Box::pin(ctx.signal.send(last)).await;
            } else {
                log::debug!("{}: every child has ended", ctx.name());
            }
            drop(stop_children);
            Ok(())
        }
    }
}

/// What a Graphline keeps once it has wired and activated its children.
struct Wired {
    /// One outbox per child that gets the Graphline's control messages.
    broadcast: Vec<Outbox<Ipc>>,
    control_passed_through: bool,
    signal_passed_through: bool,
    /// Stopping the Graphline (`ComponentRef::stop`) stops its children too: they exist only as
    /// its parts, and would otherwise run on, unreachable, for ever.
    stop_children: StopOnDrop,
}

impl<I: Send + 'static, O: Send + 'static> Graphline<I, O> {
    /// Makes the planned linkages and the control passthroughs, then activates the children.
    fn wire(self, ctx: &mut Context<I, O>) -> Result<Wired, ComponentError> {
        let Graphline { children, linkages, .. } = self;
        let refs: Vec<ComponentRef> = children.iter().map(|(_, c)| c.component().clone()).collect();
        let me = ctx.me().clone();

        for p in &linkages {
            let end = |e: &End| match e {
                End::Graphline(b) => (&me, b.clone()),
                End::Child(i, b) => (&refs[*i], b.clone()),
            };
            let ((from, from_box), (to, to_box)) = (end(&p.source), end(&p.sink));
            ctx.link_passthrough((from, from_box.as_str()), (to, to_box.as_str()), p.passthrough)
                .map_err(|e| wiring_failed(&refs, &p.spec, e))?;
        }
        ctx.add_children(&refs);

        // Kamaelia's noControlPassthru / noSignalPassthru.
        let control_passed_through = linkages.iter().any(|p| p.source == End::Graphline("control".to_owned()));
        let signal_passed_through = linkages.iter().any(|p| p.sink == End::Graphline("signal".to_owned()));

        // One outbox per child that gets control messages: those whose control nobody links to.
        let mut broadcast: Vec<Outbox<Ipc>> = Vec::new();
        if !control_passed_through {
            for (i, (name, _)) in children.iter().enumerate() {
                let linked = linkages.iter().any(|p| matches!(&p.sink, End::Child(j, b) if *j == i && b == "control"));
                if linked {
                    continue;
                }
                let out: Outbox<Ipc> = ctx.add_outbox(
                    &format!("_cs_{name}"),
                    Cow::Owned(format!("Control messages passed on to child `{name}`")),
                );
                ctx.link((&me, out.name()), (&refs[i], "control")).map_err(|e| {
                    let spec = LinkageSpec {
                        source: (SELF.to_owned(), out.name().to_owned()),
                        sink: (name.clone(), "control".to_owned()),
                    };
                    wiring_failed(&refs, &spec, e)
                })?;
                broadcast.push(out);
            }
        }
        log::debug!(
            "{} wired {} linkages; activating {} children ({} get control messages)",
            ctx.name(),
            linkages.len(),
            children.len(),
            broadcast.len()
        );
        for (_, c) in children {
            ctx.activate_boxed(c);
        }
        Ok(Wired { broadcast, control_passed_through, signal_passed_through, stop_children: StopOnDrop(refs) })
    }
}

/// Named children wired by a linkage declaration, as Kamaelia writes a Graphline:
///
/// ```text
/// graphline! {
///     NAME = component, ...,
///     linkages = { ("NAME", "box"): ("NAME", "box"), ... }
/// }
/// ```
///
/// Each component is a behaviour value or a ready [`Instance`](axon_core::Instance). It expands to
/// [`Graphline::typed`](crate::graphline::Graphline::typed), so it gives a
/// `Result<Instance<Graphline<I, O>>, GraphlineError>` whose own box types `I` and `O` are
/// inferred from where it is used, or stated: `let g: Instance<Graphline> = graphline! {..}?` for
/// `()`. See the [module docs](mod@crate::graphline) for an example.
///
/// # Standalone
///
/// A Graphline run on its own, as Kamaelia's `Graphline(...).run()`, has nothing around it to fix
/// its box types, and the compiler stops with "type annotations needed for
/// `Instance<Graphline<_, _>>`" (an inference failure, which Rust gives no way to word better).
/// State them: `Graphline` alone means `Graphline<(), ()>`, a Graphline whose own `inbox` and
/// `outbox` are not used.
///
/// ```
/// use axon_core::prelude::*;
/// use axon_core::Instance;
/// use kamaelia_chassis::{graphline, Graphline};
///
/// let a = from_fn("A", |mut ctx: Context<(), u32>| async move {
///     ctx.outbox.send(7).await;
///     Ok(())
/// });
/// let b = from_fn("B", |mut ctx: Context<u32, ()>| async move {
///     assert_eq!(ctx.inbox.recv().await, Some(7));
///     Ok(())
/// });
/// let g: Instance<Graphline> = graphline! {
///     A = a,
///     B = b,
///     linkages = { ("A", "outbox"): ("B", "inbox") }
/// }
/// .unwrap();
/// g.run().unwrap();
/// ```
#[macro_export]
macro_rules! graphline {
    // Every child collected: the linkages close the declaration.
    (@children [$($kids:tt)*] linkages = { $( ($a:expr, $b:expr) : ($c:expr, $d:expr) ),* $(,)? } $(,)?) => {
        $crate::graphline::Graphline::typed(
            [$($kids)*],
            [$( (($a, $b), ($c, $d)) ),*],
        )
    };
    (@children [$($kids:tt)*] $name:ident = $child:expr, $($rest:tt)*) => {
        $crate::graphline!(@children [$($kids)* (stringify!($name), $crate::graphline::child($child)),] $($rest)*)
    };
    (@children [$($kids:tt)*] $($rest:tt)*) => {
        compile_error!(
            "graphline! expects `NAME = component,` for each child, then `linkages = { (\"NAME\", \"box\"): (\"NAME\", \"box\"), ... }`"
        )
    };
    ($($body:tt)*) => {
        $crate::graphline!(@children [] $($body)*)
    };
}
