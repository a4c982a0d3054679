//! [`ActixSystem`]: where actors run, seen from components.
//!
//! Actix actors live on arbiters (single-threaded event loops) inside an actix `System`; starting
//! one anywhere else panics ("`spawn_local` called from outside of a `task::LocalSet`"). Components
//! run on tokio (an axon [`Scheduler`](axon_core::Scheduler)'s runtime, or their own threads). The
//! two meet through addresses, which work from any thread and any runtime: an actor's `Addr` (or
//! `Recipient`) is a channel sender, and the future its `send` returns is a oneshot receiver.
//!
//! So an `ActixSystem` is an arbiter to start actors on, with two ways to have one:
//!
//! * [`ActixSystem::new`]: a System of its own, on a thread of its own (named `kamaelia-actix`),
//!   running until the last clone of the `ActixSystem` is dropped. The usual choice: nothing else
//!   has to run an actix System, and the actors do not share a thread with the components.
//! * [`ActixSystem::on`] / [`ActixSystem::current`]: an arbiter someone else runs (an actix-web
//!   worker, an `actix::System` of the program's own): actors started there share its thread.
//!
//! [`ActixSystem::start`] starts an actor there and returns its address and a future for its end
//! ([`Started`]), which says whether it stopped or panicked: the actor's future runs inside a
//! guard that catches a panic, so a panicking actor ends alone (its arbiter, and the other actors
//! on it, go on), and whoever holds the [`ActorEnd`] learns how.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use actix::dev::channel;
use actix::{Actor, Addr, Context};
use actix_rt::ArbiterHandle;

use crate::error::ActixError;

/// How many messages an actor's mailbox holds before `send` waits: actix's own default.
pub const ACTOR_MAILBOX: usize = 16;

/// An arbiter to start actors on; see the [module docs](self). Cheap to clone.
#[derive(Clone)]
pub struct ActixSystem {
    arbiter: ArbiterHandle,
    /// The System this owns, if it does: stopped when the last clone goes.
    owned: Option<Arc<OwnedSystem>>,
}

impl fmt::Debug for ActixSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActixSystem").field("owned", &self.owned.is_some()).finish_non_exhaustive()
    }
}

/// A System on a thread of its own.
struct OwnedSystem {
    system: actix_rt::System,
}

impl Drop for OwnedSystem {
    fn drop(&mut self) {
        // The thread's `run` returns once the System has stopped its arbiters; their actors are
        // dropped with them (so components talking to them see their mailboxes close). Not
        // joined: this may be dropped on a runtime's thread, which must not block.
        self.system.stop();
    }
}

impl ActixSystem {
    /// An actix System of its own, on a new thread named `kamaelia-actix`, stopped when the last
    /// clone of the returned value is dropped.
    pub fn new() -> Result<Self, ActixError> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("kamaelia-actix".to_owned())
            .spawn(move || {
                let runner = actix_rt::System::new();
                let _ = tx.send(actix_rt::System::current());
                if let Err(e) = runner.run() {
                    log::error!("the actix System of kamaelia-actix ended with an error: {e}");
                }
            })
            .map_err(ActixError::SystemThread)?;
        let system = rx.recv().map_err(|_| {
            ActixError::SystemThread(std::io::Error::other("the System's thread ended before it started"))
        })?;
        Ok(ActixSystem { arbiter: system.arbiter().clone(), owned: Some(Arc::new(OwnedSystem { system })) })
    }

    /// Actors started on `arbiter`, which someone else runs.
    pub fn on(arbiter: ArbiterHandle) -> Self {
        ActixSystem { arbiter, owned: None }
    }

    /// The arbiter of the calling thread, if it runs one (inside an actix System: an actix-web
    /// handler, an `#[actix::main]` program).
    pub fn current() -> Option<Self> {
        actix_rt::Arbiter::try_current().map(Self::on)
    }

    /// The arbiter actors start on.
    pub fn arbiter(&self) -> &ArbiterHandle {
        &self.arbiter
    }

    /// Starts an actor on the arbiter: `make` runs there, and makes the actor (so the actor need
    /// not be `Send`; `make` must). Its mailbox holds [`ACTOR_MAILBOX`] messages.
    ///
    /// The returned [`Started`] has its address at once, and its end: a panic in the actor (in
    /// `make`, `started` or a handler) ends that actor alone and is reported there.
    pub fn start<A, F>(&self, make: F) -> Result<Started<A>, ActixError>
    where
        A: Actor<Context = Context<A>>,
        F: FnOnce(&mut Context<A>) -> A + Send + 'static,
    {
        self.start_with_mailbox(ACTOR_MAILBOX, make)
    }

    /// [`start`](Self::start), with a mailbox of `capacity` messages (at least 1: actix reads 0
    /// as unbounded).
    pub fn start_with_mailbox<A, F>(&self, capacity: usize, make: F) -> Result<Started<A>, ActixError>
    where
        A: Actor<Context = Context<A>>,
        F: FnOnce(&mut Context<A>) -> A + Send + 'static,
    {
        // As actix's `Actor::start_in_arbiter`, with the actor's future inside a guard.
        let (tx, rx) = channel::channel(capacity.max(1));
        let (end_tx, end_rx) = tokio::sync::oneshot::channel();
        let spawned = self.arbiter.spawn_fn(move || {
            let made = catch_unwind(AssertUnwindSafe(move || {
                let mut ctx = Context::with_receiver(rx);
                let actor = make(&mut ctx);
                ctx.into_future(actor)
            }));
            match made {
                Ok(fut) => {
                    actix_rt::spawn(async move {
                        let end = CatchUnwind(Box::pin(fut)).await;
                        let _ = end_tx.send(end);
                    });
                }
                Err(panic) => {
                    let _ = end_tx.send(Err(panic));
                }
            }
        });
        if !spawned {
            return Err(ActixError::ArbiterGone { actor: std::any::type_name::<A>() });
        }
        Ok(Started { addr: Addr::new(tx), end: ActorEnd { rx: end_rx, actor: std::any::type_name::<A>() } })
    }
}

/// An actor started by [`ActixSystem::start`]: its address and its end.
#[derive(Debug)]
pub struct Started<A: Actor> {
    /// Its address (`addr.recipient()` for a `Recipient`).
    pub addr: Addr<A>,
    /// Resolves when it has stopped or panicked.
    pub end: ActorEnd,
}

/// How an actor ended: a future that resolves once it has stopped (`Ok`) or panicked (`Err`, with
/// the panic's payload, which [`std::panic::resume_unwind`] raises again). An actor whose arbiter
/// stopped under it counts as stopped.
pub struct ActorEnd {
    rx: tokio::sync::oneshot::Receiver<Result<(), Box<dyn Any + Send>>>,
    actor: &'static str,
}

impl fmt::Debug for ActorEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActorEnd").field("actor", &self.actor).finish_non_exhaustive()
    }
}

impl ActorEnd {
    /// The actor's type.
    pub fn actor(&self) -> &'static str {
        self.actor
    }
}

impl Future for ActorEnd {
    type Output = Result<(), Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        // A dropped sender: the arbiter dropped the actor's future (its System stopped).
        Pin::new(&mut self.rx).poll(cx).map(|end| end.unwrap_or(Ok(())))
    }
}

/// Polls a future, catching a panic: `Err(payload)` instead of unwinding into the arbiter.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let fut = self.0.as_mut();
        match catch_unwind(AssertUnwindSafe(move || fut.poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}
