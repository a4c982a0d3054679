//! [`ActorComponent`]: an actix actor as a component.
//!
//! # Example
//!
//! An actor that upper-cases text, as the middle stage of a pipeline (Kamaelia's
//! `Pipeline(Source(), Upper(), Sink())`); `examples/actix_pipeline.rs` is the cookbook's console
//! pipeline built the same way.
//!
//! ```
//! use actix::{Actor, Handler, Message};
//! use axon_core::prelude::*;
//! use kamaelia_actix::{ActixSystem, ActorComponent};
//! use kamaelia_chassis::pipeline;
//!
//! /// A line of text, for the actor.
//! struct Line(String);
//! impl Message for Line {
//!     type Result = String;
//! }
//! impl From<String> for Line {
//!     fn from(text: String) -> Self {
//!         Line(text)
//!     }
//! }
//!
//! /// The actor: answers each line upper-cased.
//! struct Upper;
//! impl Actor for Upper {
//!     type Context = actix::Context<Self>;
//! }
//! impl Handler<Line> for Upper {
//!     type Result = String;
//!     fn handle(&mut self, Line(text): Line, _ctx: &mut actix::Context<Self>) -> String {
//!         text.to_uppercase()
//!     }
//! }
//!
//! let words = from_fn("Words", |mut ctx: Context<(), String>| async move {
//!     for w in ["actors", "and", "components"] {
//!         ctx.outbox.send(w.to_owned()).await;
//!     }
//!     ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
//!     Ok(())
//! });
//! let (tx, rx) = std::sync::mpsc::channel();
//! let collect = from_fn("Collect", move |mut ctx: Context<String, ()>| async move {
//!     while let Some(w) = ctx.inbox.recv().await {
//!         tx.send(w).unwrap();
//!     }
//!     Ok(())
//! });
//!
//! let system = ActixSystem::new().unwrap();
//! let upper = ActorComponent::<Line>::start(&system, |_| Upper).unwrap().accepting::<String>();
//! pipeline![words, upper, collect].run().unwrap();
//! assert_eq!(rx.try_iter().collect::<Vec<_>>(), ["ACTORS", "AND", "COMPONENTS"]);
//! ```
//!
//! # How it works
//!
//! The actor runs on an [`ActixSystem`]'s arbiter; the component runs on the scheduler, like any
//! other, and holds the actor's `Recipient<M>`. For each message taken from `inbox` (converted
//! into `M`), the component calls `recipient.send(msg)` and awaits the answer before it takes the
//! next, so one message is with the actor at a time: while the actor works, the component's
//! `inbox` fills and its senders wait, as with any slow component (actix's `do_send`, which queues
//! whatever the mailbox holds, is never used). Each answer leaves by `outbox`, in order.
//!
//! Waiting for an answer is bounded by [`reply_timeout`](ActorComponent::reply_timeout)
//! ([`DEFAULT_REPLY_TIMEOUT`] unless set; `None` waits as long as it takes): an actor that never
//! answers ends the component with [`ActixError::NoReply`] naming the actor and the timeout, and
//! the rest of the graph goes on (what comes next sees its input close).
//!
//! # Shutdown
//!
//! * The actor stops (it called `ctx.stop()`, or its arbiter stopped): the component sends
//!   `ProducerFinished` out of `signal` and ends; messages still queued for it are dropped.
//! * The actor panics: the panic is caught on the arbiter (which goes on, with its other actors),
//!   and raised again in the component, which ends alone with
//!   [`Exit::Panicked`](axon_core::Exit::Panicked) and the actor's panic message; its parent hears
//!   of it as of any component's failure.
//! * A shutdown message on `control` (`ProducerFinished`, after the data queued before it, or
//!   `ShutdownMicroprocess`, at once): passed on out of `signal`; the component ends and drops the
//!   actor's address. An actor whose only address that was stops, as actix stops actors nobody
//!   can reach.
//! * Its input closes (everything upstream has ended): it sends `ProducerFinished` and ends, the
//!   same way.
//!
//! An actor known only by a `Recipient` ([`from_recipient`](ActorComponent::from_recipient)) cannot
//! be told apart when it stops or panics: its closed mailbox ends the component as a stop.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use actix::dev::ToEnvelope;
use actix::{Actor, Context as ActixContext, Handler, MailboxError, Message, Recipient};
use axon_core::boxes::BoxKind;
use axon_core::ipc::ProducerFinished;
use axon_core::{Component, ComponentResult, Context, Declarations, Event};

use crate::error::ActixError;
use crate::system::{ActixSystem, ActorEnd, Started};

/// How long an [`ActorComponent`] waits for an answer, unless set otherwise
/// ([`ActorComponent::reply_timeout`]).
///
/// 30 seconds, the header-read timeout hyper ships: long enough for any actor that is working,
/// short enough that one that never answers does not hold its pipeline for ever. When it passes,
/// the component ends with [`ActixError::NoReply`] (the actor's late answer is dropped).
pub const DEFAULT_REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// An actix actor as a component; see the [module docs](self).
///
/// `M` is the message the actor handles; `I` is what the component's `inbox` carries (`M` itself
/// unless [`accepting`](Self::accepting) says otherwise, converted with `M: From<I>`); its
/// `outbox` carries the actor's answers, `M::Result`.
///
/// # Inboxes
///
/// | box       | carries | what arrives                                                                                |
/// |-----------|---------|---------------------------------------------------------------------------------------------|
/// | `inbox`   | `I`     | Messages for the actor, each sent with `send` and answered before the next is taken         |
/// | `control` | `Ipc`   | `ProducerFinished` or `ShutdownMicroprocess`: ends the component, which drops the actor's address |
///
/// # Outboxes
///
/// | box      | carries     | what leaves                                                                        |
/// |----------|-------------|------------------------------------------------------------------------------------|
/// | `outbox` | `M::Result` | The actor's answer to each message, in order                                       |
/// | `signal` | `Ipc`       | `ProducerFinished` when the actor stops or the input ends; a shutdown message passed on |
pub struct ActorComponent<M, I = M>
where
    M: Message + Send,
    M::Result: Send,
{
    recipient: Recipient<M>,
    /// The actor's end, if it was started here (else a closed mailbox is its only sign).
    end: Option<ActorEnd>,
    /// The actor's type, without its path: the component's class name.
    actor: &'static str,
    reply_timeout: Option<Duration>,
    _inbox: PhantomData<fn(I)>,
}

impl<M, I> fmt::Debug for ActorComponent<M, I>
where
    M: Message + Send,
    M::Result: Send,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActorComponent")
            .field("actor", &self.actor)
            .field("reply_timeout", &self.reply_timeout)
            .finish_non_exhaustive()
    }
}

/// `a::b::Upper<T>` → `Upper`.
fn short_name(full: &'static str) -> &'static str {
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

impl<M> ActorComponent<M>
where
    M: Message + Send + 'static,
    M::Result: Send,
{
    /// Starts an actor on `system` (`make` runs on its arbiter) and makes it a component.
    pub fn start<A, F>(system: &ActixSystem, make: F) -> Result<Self, ActixError>
    where
        A: Actor<Context = ActixContext<A>> + Handler<M>,
        A::Context: ToEnvelope<A, M>,
        F: FnOnce(&mut ActixContext<A>) -> A + Send + 'static,
    {
        Ok(Self::from_started(system.start(make)?))
    }

    /// An actor already started with [`ActixSystem::start`] (whose address the caller may have
    /// cloned and kept) as a component; its end is watched.
    pub fn from_started<A>(started: Started<A>) -> Self
    where
        A: Actor<Context = ActixContext<A>> + Handler<M>,
        A::Context: ToEnvelope<A, M>,
    {
        ActorComponent {
            actor: short_name(started.end.actor()),
            recipient: started.addr.recipient(),
            end: Some(started.end),
            reply_timeout: Some(DEFAULT_REPLY_TIMEOUT),
            _inbox: PhantomData,
        }
    }

    /// An actor known only by a `Recipient` (started elsewhere, on any arbiter), named `name` in
    /// the component's name. Its end is seen only as its mailbox closing, and counts as a stop.
    pub fn from_recipient(recipient: Recipient<M>, name: &'static str) -> Self {
        ActorComponent {
            recipient,
            end: None,
            actor: name,
            reply_timeout: Some(DEFAULT_REPLY_TIMEOUT),
            _inbox: PhantomData,
        }
    }

    /// The component with an `inbox` of `J`, each converted into the actor's message with
    /// `M::from` (so that it fits a pipeline whose previous stage sends `J`).
    pub fn accepting<J>(self) -> ActorComponent<M, J>
    where
        M: From<J>,
    {
        ActorComponent {
            recipient: self.recipient,
            end: self.end,
            actor: self.actor,
            reply_timeout: self.reply_timeout,
            _inbox: PhantomData,
        }
    }
}

impl<M, I> ActorComponent<M, I>
where
    M: Message + Send,
    M::Result: Send,
{
    /// How long to wait for each answer ([`DEFAULT_REPLY_TIMEOUT`] unless set; `None`: as long as
    /// it takes). When it passes, the component ends with [`ActixError::NoReply`].
    pub fn reply_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.reply_timeout = timeout;
        self
    }
}

/// How a wait for an answer came out.
enum Answered<R> {
    Answer(R),
    /// The actor's mailbox closed: it stopped or panicked.
    Gone,
}

impl<M, I> ActorComponent<M, I>
where
    M: Message + Send + From<I> + 'static,
    M::Result: Send,
    I: Send + 'static,
{
    /// Sends `msg` and waits for the answer, up to the reply timeout.
    async fn ask(&self, msg: M) -> Result<Answered<M::Result>, ActixError> {
        let request = self.recipient.send(msg);
        let answer = match self.reply_timeout {
            None => request.await,
            Some(timeout) => tokio::time::timeout(timeout, request)
                .await
                .map_err(|_| ActixError::NoReply { actor: self.actor.to_owned(), timeout })?,
        };
        match answer {
            Ok(r) => Ok(Answered::Answer(r)),
            Err(MailboxError::Closed) => Ok(Answered::Gone),
            // Only `Request::timeout` makes this, which is not used.
            Err(MailboxError::Timeout) => Err(ActixError::NoReply {
                actor: self.actor.to_owned(),
                timeout: self.reply_timeout.unwrap_or_default(),
            }),
        }
    }
}

/// Waits for the actor's end if it is watched, else for ever.
async fn ended(end: &mut Option<ActorEnd>) -> Result<(), Box<dyn std::any::Any + Send>> {
    match end {
        Some(end) => end.await,
        None => std::future::pending().await,
    }
}

impl<M, I> Component for ActorComponent<M, I>
where
    M: Message + Send + From<I> + 'static,
    M::Result: Send,
    I: Send + 'static,
{
    type Inbox = I;
    type Outbox = M::Result;

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .describe(
                BoxKind::Inbox,
                "inbox",
                "Messages for the actor, each sent with send and answered before the next is taken",
            )
            .describe(
                BoxKind::Inbox,
                "control",
                "ProducerFinished or ShutdownMicroprocess: ends the component, which drops the actor's address",
            )
            .describe(BoxKind::Outbox, "outbox", "The actor's answer to each message, in order")
            .describe(
                BoxKind::Outbox,
                "signal",
                "ProducerFinished when the actor stops or the input ends; a shutdown message passed on",
            );
    }

    fn class_name(&self) -> Cow<'static, str> {
        Cow::Borrowed(self.actor)
    }

    async fn main(mut self, mut ctx: Context<I, M::Result>) -> ComponentResult {
        let mut end = self.end.take();
        loop {
            let event = tokio::select! {
                biased;
                // Checked first: an actor that has ended takes nothing more.
                e = ended(&mut end) => {
                    if let Err(panic) = e {
                        std::panic::resume_unwind(panic);
                    }
                    log::debug!("{}: actor {} stopped", ctx.name(), self.actor);
                    break;
                }
                event = ctx.next_event() => event,
            };
            match event {
                None => break,
                Some(Event::Data(msg)) => match self.ask(M::from(msg)).await? {
                    Answered::Answer(answer) => ctx.outbox.send(answer).await,
                    Answered::Gone => {
                        // Its end says why (a panic is raised again here); without one, a stop.
                        if let Some(Err(panic)) = match end.take() {
                            Some(end) => Some(end.await),
                            None => None,
                        } {
                            std::panic::resume_unwind(panic);
                        }
                        log::debug!("{}: actor {} stopped with a message unanswered", ctx.name(), self.actor);
                        break;
                    }
                },
                Some(Event::Control(msg)) if msg.is_shutdown_request() => {
                    ctx.signal.send(msg).await;
                    return Ok(());
                }
                Some(Event::Control(_)) => {}
            }
        }
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}
