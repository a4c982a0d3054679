//! A component as an actix `Recipient<M>`: [`ComponentAddr::recipient`] and the actor behind it,
//! [`ComponentActor`].
//!
//! # Example
//!
//! ```
//! use actix::Message;
//! use axon_core::prelude::*;
//! use kamaelia_actix::{ActixSystem, ComponentAddr};
//!
//! /// What actix code sends: a question for the component, whose inbox carries `String`.
//! struct Shout(String);
//! impl Message for Shout {
//!     type Result = String;
//! }
//! impl From<Shout> for String {
//!     fn from(Shout(text): Shout) -> String {
//!         text
//!     }
//! }
//!
//! let shout = from_fn("Shout", |mut ctx: Context<String, String>| async move {
//!     while let Some(text) = ctx.inbox.recv().await {
//!         ctx.outbox.send(text.to_uppercase() + "!").await;
//!     }
//!     Ok(())
//! });
//! let system = ActixSystem::new().unwrap();
//! let addr = ComponentAddr::new(shout, &Scheduler::new());
//! let recipient: actix::Recipient<Shout> = addr.recipient(&system).unwrap();
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! assert_eq!(recipient.send(Shout("hello".into())).await.unwrap(), "HELLO!");
//! # });
//! ```
//!
//! # How it works
//!
//! Actix makes a `Recipient` only from an actor's address, so the component gets an actor in
//! front: a [`ComponentActor`], started on the given [`ActixSystem`] with a mailbox of one message.
//! It handles any message `M` that converts into the component's inbox type (`M: Into<I>`) and
//! whose result converts from its outbox type (`M::Result: From<O>`). For each, it delivers the
//! message through the [`ComponentAddr`] and takes no other message until it is delivered (actix's
//! `ctx.wait`): while the component's `inbox` is full, the actor waits, its mailbox fills, and
//! actix's `send` waits and `try_send` fails, as they do on a full mailbox. The answer is awaited
//! apart (on the arbiter), so several questions are in flight at once, answered in order.
//!
//! The bound is the inbox's plus what actix adds: the message the actor holds while it waits, and
//! actix's mailbox, which takes one message more for each sender (each `Recipient` clone), as its
//! channel reserves a slot per sender. A component that ends makes the actor stop: questions
//! waiting fail with actix's `MailboxError::Closed`, as they do when any actor stops.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix::dev::{MessageResponse, OneshotSender};
use actix::fut::{wrap_future, ActorFutureExt};
use actix::{Actor, ActorContext, AsyncContext, Context, Handler, Message, Recipient};

use crate::component_addr::{Answer, ComponentAddr};
use crate::error::{ActixError, AddrError};
use crate::system::ActixSystem;

/// The actor in front of a component made a `Recipient` ([`ComponentAddr::recipient`]); see the
/// [module docs](self).
pub struct ComponentActor<I, O> {
    addr: ComponentAddr<I, O>,
}

impl<I, O> std::fmt::Debug for ComponentActor<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentActor").field("addr", &self.addr).finish()
    }
}

impl<I: Send + 'static, O: Send + 'static> Actor for ComponentActor<I, O> {
    type Context = Context<Self>;
}

/// A delivery in progress: what [`ComponentActor`]'s handler returns.
pub struct Forwarded<O, M> {
    delivered: Pin<Box<dyn Future<Output = Result<Answer<O>, AddrError>> + Send>>,
    _message: PhantomData<fn(M)>,
}

impl<O, M> std::fmt::Debug for Forwarded<O, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarded").finish_non_exhaustive()
    }
}

impl<I, O, M> Handler<M> for ComponentActor<I, O>
where
    I: Send + 'static,
    O: Send + 'static,
    M: Message + Into<I> + Send + 'static,
    M::Result: From<O> + Send + 'static,
{
    type Result = Forwarded<O, M>;

    fn handle(&mut self, msg: M, _ctx: &mut Context<Self>) -> Forwarded<O, M> {
        Forwarded { delivered: Box::pin(self.addr.deliver(msg.into())), _message: PhantomData }
    }
}

impl<I, O, M> MessageResponse<ComponentActor<I, O>, M> for Forwarded<O, M>
where
    I: Send + 'static,
    O: Send + 'static,
    M: Message + Send + 'static,
    M::Result: From<O> + Send + 'static,
{
    fn handle(self, ctx: &mut Context<ComponentActor<I, O>>, tx: Option<OneshotSender<M::Result>>) {
        // The actor takes no other message until this one is in the component's inbox.
        ctx.wait(wrap_future::<_, ComponentActor<I, O>>(self.delivered).map(move |delivered, actor, ctx| {
            match delivered {
                Ok(answer) => {
                    actix_rt::spawn(async move {
                        match answer.await {
                            Ok(o) => {
                                if let Some(tx) = tx {
                                    let _ = tx.send(M::Result::from(o));
                                }
                            }
                            // `tx` dropped: the caller sees `MailboxError::Closed`.
                            Err(e) => log::debug!("ComponentActor: no answer: {e}"),
                        }
                    });
                }
                Err(e) => {
                    log::debug!("ComponentActor for {}: {e}; stopping", actor.addr.component());
                    ctx.stop();
                }
            }
        }));
    }
}

impl<I: Send + 'static, O: Send + 'static> ComponentAddr<I, O> {
    /// The component as an actix `Recipient<M>`, through a [`ComponentActor`] started on
    /// `system`; see the [module docs](self).
    pub fn recipient<M>(&self, system: &ActixSystem) -> Result<Recipient<M>, ActixError>
    where
        M: Message + Into<I> + Send + 'static,
        M::Result: From<O> + Send + 'static,
    {
        let addr = self.clone();
        let started = system.start_with_mailbox(1, move |_| ComponentActor { addr })?;
        Ok(started.addr.recipient())
    }
}
