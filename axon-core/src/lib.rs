//! # axon-core: Kamaelia's component model, in Rust
//!
//! Programs are built from **components**: small concurrent actors, each with **named, typed
//! inboxes and outboxes**, wired together by **linkages** instead of holding references to one
//! another. This crate is the port of Axon, the core of the BBC's Kamaelia: components, boxes,
//! linkages, the Ipc messages that carry shutdown in band, children, threaded components, the
//! services registry, handles for ordinary code, and introspection. The chassis that wire
//! components for you (Pipeline, Graphline, servers) are built on it.
//!
//! ```
//! use axon_core::{Component, ComponentResult, Context, Handle, Scheduler};
//! use axon_core::ipc::ProducerFinished;
//!
//! /// Upper-cases text; passes shutdown on, as Kamaelia components do.
//! struct Upper;
//!
//! impl Component for Upper {
//!     type Inbox = String;
//!     type Outbox = String;
//!
//!     async fn main(self, mut ctx: Context<String, String>) -> ComponentResult {
//!         while let Some(text) = ctx.inbox.recv().await {
//!             ctx.outbox.send(text.to_uppercase()).await;
//!         }
//!         ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
//!         Ok(())
//!     }
//! }
//!
//! let scheduler = Scheduler::new();
//! let mut upper = Handle::new(Upper, &scheduler);
//! upper.send_blocking("hello".to_owned());
//! assert_eq!(upper.recv_blocking().as_deref(), Some("HELLO"));
//! ```
//!
//! # Layout
//!
//! The public modules, each a concept:
//!
//! * [`component`]: the [`Component`] trait and the life of a component; it also gathers the
//!   [`Context`] a body works with and [`ComponentRef`], the shared handle to a component
//!   (state, stop, join, children).
//! * [`instance`]: [`Instance`], a component given its boxes, ready to link and activate;
//!   [`NewComponent`], a request to activate some.
//! * [`boxes`]: the [`Inbox`] / [`Outbox`] handles (bounded; `send` waits, `try_send` fails fast
//!   with [`NoSpaceInBox`]) and the standard boxes; [`Declarations`] declares more.
//! * [`linkage`]: linking boxes, passthroughs, fan-in, and why fan-out is refused.
//! * [`ipc`]: `ProducerFinished`, `ShutdownMicroprocess` and the rest of Axon's messages.
//! * [`events`]: waiting on `control` and several inboxes without losing data
//!   ([`Context::next_event`], [`Context::select`]).
//! * [`scheduler`]: the [`Scheduler`] (runtime, registry, `run`).
//! * co-scheduling, components that share one tokio task: [`Scheduler::together`], and
//!   [`yield_now`] to give the others a turn (Axon's `yield 1`).
//! * [`threaded`]: blocking bodies on their own threads, with the same boxes.
//! * [`handle`]: [`Handle`], ordinary code driving a component.
//! * [`host`]: [`ChildHost`](host::ChildHost), a parent's short-lived children run in a kept host, in boxes linked
//!   once, rather than made, linked and removed each time (a speed feature, with what it costs).
//! * [`tracker`]: the services registry (Axon's Coordinating Assistant Tracker).
//! * [`adaptive`]: resource bookkeeping for components that add boxes at run time.
//! * [`introspect`]: snapshots of the running graph, printable and drawable.
//! * [`fn_component`]: components written as closures.
//! * [`stepped`]: Axon's old `initialiseComponent` / `mainBody` / `closeDownComponent` style.
//! * [`error`]: the typed errors.
//! * [`tuning`]: knobs the workspace's own crates turn to keep less memory between bursts.
//!
//! # Floors
//!
//! Inside the crate, each file stands on a floor and imports only files on floors below it,
//! never around a loop, so the crate reads from the ground up. A file named here without a link
//! is private; what it defines is reached through the public modules above.
//!
//! ```text
//! 11  handle  host/                            ordinary code driving a component; a parent's
//!                                              short-lived children, hosted (floors below)
//! 10  instance  threaded  stepped              activating an instance; the other ways to
//!     fn_component                             write a body
//!  9  scheduler  component                     where components run; the Component trait
//!  8  context  tracker  introspect             what a body works with; services; snapshots
//!  7  linkage  declarations  run  adaptive     linking and declaring boxes by name; the run loop
//!  6  component_ref  events  tuning            Core and ComponentRef: life, family, the end
//!  5  boxes  link                              Inbox and Outbox; one Linkage in the graph
//!  4  node                                     a box in the wiring graph
//!  3  queue  identity  error                   an inbox's storage; who owns a box; errors
//!  2  ipc  lifecycle  notifier  group          messages; the words of a life; the doorbell;
//!                                              co-scheduling
//!  1  id  kinds  sync  block_on  footprint     ids, kinds of box and linkage, the lock helper
//!
//! host/, one feature, its files on floors of their own:
//!  5  child_host                               ChildHost: the parent's one entry point
//!  4  kept                                     the kept host component; its idle timer
//!  3  slot                                     the hand-over between parent and host
//!  2  job                                      Job: a child, hostable or made, its type erased
//!  1  body                                     one body run in another's boxes (Context::host)
//! ```
//!
//! Where a lower floor needs something of a higher one, a small crate-private trait stands
//! below and is implemented above: a component knows its scheduler only as a `Home`
//! (`component_ref.rs`), and a queue the box it forwards to only as a `ChainEnd`
//! (`queue.rs`). Methods that need a higher floor are written on that floor as inherent
//! methods: [`Context::scheduler`] in `scheduler.rs`, [`Context::activate`] and
//! [`Scheduler::activate`] in `instance.rs`, and the crate-private `Context::host` in
//! `host/body.rs`.
//!
//! # Shutdown travels in band
//!
//! As in Axon, a component that has finished sends [`ipc::ProducerFinished`] out of its `signal`
//! outbox, and a component asked to stop receives [`ipc::ShutdownMicroprocess`] on its `control`
//! inbox. Chassis link each `signal` to the next `control`, so an end of data or a stop request
//! travels down a pipeline. Independently of messages, an inbox *closes* when every sender
//! linked to it has gone: [`Inbox::recv`] then returns `None`, so a component also ends cleanly
//! when everything upstream has ended.
//!
//! # Bounded boxes
//!
//! Every inbox holds at most [`DEFAULT_CAPACITY`] messages unless declared otherwise. A full inbox
//! makes [`Outbox::send`] wait (Axon's "catch `noSpaceInBox`, pause, retry", without polling) and
//! [`Outbox::try_send`] return the message inside [`NoSpaceInBox`]. Nothing grows without bound
//! because a consumer is slow.
//!
//! # Failures are contained
//!
//! A body that panics or returns an error ends alone: its parent hears of it
//! ([`Context::child_exited`]), [`Scheduler::run`] reports it, and every other component keeps
//! running. See `docs/porting.md` in the repository for each difference from Axon.

pub mod adaptive;
mod block_on;
pub mod boxes;
pub mod component;
mod component_ref;
mod context;
mod declarations;
pub mod error;
pub mod events;
pub mod fn_component;
mod footprint;
mod group;
pub mod handle;
pub mod host;
mod id;
mod identity;
pub mod instance;
pub mod introspect;
pub mod ipc;
mod kinds;
mod lifecycle;
mod link;
pub mod linkage;
mod node;
mod notifier;
mod queue;
mod run;
pub mod scheduler;
pub mod stepped;
mod sync;
pub mod threaded;
pub mod tracker;
pub mod tuning;

pub use adaptive::ResourceTracker;
pub use boxes::{BoxKind, BoxName, Inbox, Outbox, DEFAULT_CAPACITY};
pub use component::{
    ChildExit, Component, ComponentId, ComponentKind, ComponentRef, ComponentState, Context, Exit, Unpauser,
};
pub use declarations::Declarations;
pub use error::{
    BoxError, ComponentError, ComponentResult, LinkError, NoSpaceInBox, RecvTimeoutError, RunError, TryRecvError,
};
pub use events::{Event, Select};
pub use fn_component::{from_fn, FnComponent};
pub use group::yield_now;
pub use handle::{Handle, HandleInput, HandleOutput};
pub use instance::{AnyInstance, Instance, IntoInstance, NewComponent};
pub use ipc::Ipc;
pub use linkage::{Endpoint, LinkId, LinkOptions, Linkage, Passthrough};
pub use scheduler::Scheduler;
pub use stepped::{StepComponent, Stepped};
pub use threaded::{Threaded, ThreadedComponent};
pub use tracker::{Service, Tracker, TrackerError};

/// The names most components need: `use axon_core::prelude::*;`.
pub mod prelude {
    pub use crate::ipc::{Ipc, ProducerFinished, ShutdownMicroprocess};
    pub use crate::{
        from_fn, Component, ComponentRef, ComponentResult, Context, Event, Handle, Inbox, Instance, Outbox,
        Passthrough, Scheduler,
    };
}
