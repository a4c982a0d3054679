//! # kamaelia-actix: actix actors as components, and components as actix recipients
//!
//! The workspace's components run on tokio with named, bounded boxes; actix 0.13 actors run on
//! arbiters with typed mailboxes. This crate lets each side use the other, without either giving
//! up its rules: an actor becomes a component whose boxes keep their bounds, and a component
//! becomes an address that actix code (or any async code, an actix-web handler for one) asks and
//! awaits, where a full inbox makes the asker wait.
//!
//! ```
//! use actix::{Actor, Context, Handler, Message};
//! use axon_core::prelude::*;
//! use kamaelia_actix::{ActixSystem, ActorComponent, ComponentAddr};
//!
//! /// An actix message and the actor that answers it.
//! struct Double(u32);
//! impl Message for Double {
//!     type Result = u32;
//! }
//! impl From<u32> for Double {
//!     fn from(n: u32) -> Self {
//!         Double(n)
//!     }
//! }
//! struct Doubler;
//! impl Actor for Doubler {
//!     type Context = Context<Self>;
//! }
//! impl Handler<Double> for Doubler {
//!     type Result = u32;
//!     fn handle(&mut self, Double(n): Double, _ctx: &mut Context<Self>) -> u32 {
//!         2 * n
//!     }
//! }
//!
//! let system = ActixSystem::new().unwrap(); // a System on a thread of its own
//! let scheduler = Scheduler::new();
//! // The actor as a component...
//! let doubler = ActorComponent::<Double>::start(&system, |_| Doubler).unwrap().accepting::<u32>();
//! // ...and that component as an address to ask.
//! let addr = ComponentAddr::new(doubler, &scheduler);
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! assert_eq!(addr.send(21).await.unwrap(), 42);
//! # });
//! ```
//!
//! # Layout
//!
//! * [`system`]: [`ActixSystem`], the arbiter actors start on (a System of its own on a thread of
//!   its own, or an arbiter someone else runs), and [`Started`] actors with a watched end.
//! * [`actor_component`]: [`ActorComponent`], an actor as a component.
//! * [`component_addr`]: [`ComponentAddr`], a component as an address that answers.
//! * [`recipient`]: a component as an actix `Recipient<M>`, through a [`ComponentActor`].
//! * [`error`]: the typed errors.
//!
//! Floors, each file importing only those below it:
//!
//! ```text
//! 4  recipient                     a component as a Recipient (an actor in front of an address)
//! 3  actor_component  component_addr
//! 2  system                        where actors run
//! 1  error
//! ```
//!
//! # Where actors run, and why
//!
//! An actix actor must be started inside an actix `System`, on an arbiter: a single-threaded
//! event loop (tokio's current-thread runtime and a `LocalSet`); `Actor::start` anywhere else
//! panics. Components run on an axon [`Scheduler`](axon_core::Scheduler)'s runtime. Rather than
//! ask every program to run a System, [`ActixSystem::new`] runs one on a thread of its own, for as
//! long as the `ActixSystem` (or a clone) lives; a program that already runs one (actix-web) can
//! hand its arbiter over with [`ActixSystem::on`] or [`ActixSystem::current`]. Components and
//! actors then talk only through addresses (an actor's `Recipient`, a component's boxes), which
//! work across threads and runtimes; no actor is moved, and no component waits on an arbiter's
//! thread.
//!
//! # What each side keeps
//!
//! * **Bounds.** [`ActorComponent`] sends with actix's `send` and awaits each answer before it
//!   takes the next message, so its `inbox` fills while the actor works and its senders wait;
//!   actix's `do_send`, which ignores the mailbox's bound, is never used. [`ComponentAddr::send`]
//!   waits while the component's `inbox` is full; [`ComponentAddr::try_send`] gives the message
//!   back. The `Recipient` route adds only actix's small mailbox in front.
//! * **Failures.** A panicking actor is caught on its arbiter and ends its component alone, which
//!   reports the panic as components do; an actor that never answers is timed out by the component
//!   ([`ActorComponent::reply_timeout`]). A component that ends fails the answers awaited from it
//!   with an error saying how it ended.
//! * **Shutdown.** An actor that stops is a `ProducerFinished` on its component's `signal`; a
//!   shutdown message on `control` ends the component and lets the actor go.
//!
//! Why the workspace's core is not built on actix is in `docs/porting.md` ("Why not actix
//! actors?"), with the figures.

pub mod actor_component;
pub mod component_addr;
pub mod error;
pub mod recipient;
pub mod system;

pub use actor_component::{ActorComponent, DEFAULT_REPLY_TIMEOUT};
pub use component_addr::{Answer, ComponentAddr};
pub use error::{ActixError, AddrError, TrySendError};
pub use recipient::ComponentActor;
pub use system::{ActixSystem, ActorEnd, Started, ACTOR_MAILBOX};
