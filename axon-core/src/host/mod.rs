//! Hosting: a parent's short-lived children run without being made, linked and removed each
//! time. One feature, one entry point: [`ChildHost::start`].
//!
//! A component that makes a short-lived child for every task and links it the same way each time
//! (Kamaelia's HTTP request handler makes one per request) pays for the child's whole life every
//! time. A [`ChildHost`] runs such children in a *kept host* instead: one child component, linked
//! to four of the parent's boxes once, that runs each child's body ([`main`](crate::Component::main))
//! in turn with a context over its own four standard boxes. To the child nothing differs but its
//! id and name, which are the host's. A child that cannot be hosted (it declares boxes of its own,
//! or is given as an [`Instance`](crate::Instance) already made) is made, linked and activated as
//! a child of its own, as Kamaelia does, through the same entry point and the same four boxes.
//!
//! # Example
//!
//! A parent that starts a child for every number it is given, one at a time: a plain component
//! value runs in the kept host; the same component given as an `Instance` (for the number 3) is
//! a child of its own, and the host goes before it.
//!
//! ```
//! use std::time::Duration;
//!
//! use axon_core::host::{ChildBoxes, ChildHost};
//! use axon_core::prelude::*;
//! use axon_core::{Declarations, Exit};
//!
//! /// Answers one number with its double, and the name of the component it runs in.
//! fn doubler() -> impl Component<Inbox = u32, Outbox = (String, u32)> {
//!     from_fn("Doubler", |mut ctx: Context<u32, (String, u32)>| async move {
//!         if let Some(n) = ctx.inbox.recv().await {
//!             let name = ctx.name().to_owned();
//!             ctx.outbox.send((name, 2 * n)).await;
//!         }
//!         Ok(())
//!     })
//! }
//!
//! /// Starts a `Doubler` per number, and says where each ran.
//! struct Parent;
//!
//! const BOXES: ChildBoxes = ChildBoxes {
//!     to_inbox: "_childinbox",
//!     to_control: "_childcontrol",
//!     from_outbox: "_childoutbox",
//!     from_signal: "_childsignal",
//! };
//!
//! impl Component for Parent {
//!     type Inbox = u32;
//!     type Outbox = String;
//!
//!     fn declare(&self, boxes: &mut Declarations) {
//!         boxes
//!             .outbox::<u32>(BOXES.to_inbox, "To the current child's inbox")
//!             .outbox::<Ipc>(BOXES.to_control, "To the current child's control")
//!             .inbox::<(String, u32)>(BOXES.from_outbox, "From the current child's outbox")
//!             .inbox::<Ipc>(BOXES.from_signal, "From the current child's signal");
//!     }
//!
//!     async fn main(self, mut ctx: Context<u32, String>) -> ComponentResult {
//!         let mut children =
//!             ChildHost::new(&ctx, BOXES)?.keep_host(Some(Duration::from_secs(60))).host_class("DoublerHost");
//!         while let Some(n) = ctx.inbox.recv().await {
//!             if n == 3 {
//!                 children.start(Instance::new(doubler())); // a component of its own
//!             } else {
//!                 children.start(doubler()); // hosted
//!                 children.let_child_run().await;
//!             }
//!             children.to_inbox.send(n).await;
//!             let (name, doubled) = children.from_outbox.recv().await.expect("an answer");
//!             assert_eq!(children.ended().await, Exit::Finished);
//!             children.stop();
//!             ctx.outbox.send(format!("{n} {doubled} {name}")).await;
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let mut parent = Handle::new(Parent, &Scheduler::new());
//! let mut answers = Vec::new();
//! for n in 1..=4 {
//!     parent.send_blocking(n);
//!     answers.push(parent.recv_blocking().expect("an answer"));
//! }
//! let host = answers[0].split(' ').nth(2).unwrap().to_owned();
//! assert!(host.starts_with("DoublerHost_"), "{host}");
//! assert_eq!(answers[1], format!("2 4 {host}")); // the same host again
//! assert!(answers[2].starts_with("3 6 Doubler_"), "{}", answers[2]);
//! assert!(answers[3].starts_with("4 8 DoublerHost_") && answers[3] != format!("4 8 {host}")); // a new one
//! ```
//!
//! # What it costs and saves
//!
//! It saves, for every child hosted, what a component's life costs: its core and four boxes
//! allocated and freed, four linkages made and removed under the wiring lock, its activation
//! (joining its parent's group, or a task), and its end (its boxes retired, its parent and
//! scheduler told). For a small HTTP request that life was about 15,900 of the 40,000
//! instructions the request cost in the components; hosting the request's handler took a
//! `/hello` request from 40,098 to 27,520 instructions and from 46.1 to 25.1 allocations
//! (`docs/benchmarks-history.md`, round 4, measured with callgrind).
//!
//! It costs, per child hosted: a hand-over through a lock shared with the host, a count of the
//! messages the last child left unread, counting the host's references before and after the body
//! (to see whether it left anything behind), and one allocation for the body's future. While a
//! host is kept the parent keeps a component more (about 1.7 KB), and the inboxes from the
//! children a few messages' worth of buffer ([`tidy`](ChildHost::tidy)); hence the idle time after
//! which the host goes ([`keep_host`](ChildHost::keep_host), 100 ms unless set). A child that
//! leaves something behind in the host costs a new host for the next. And a hosted child has no
//! id or name of its own: it has the host's.
//!
//! # How it works
//!
//! The first child that can be hosted ([`Job::is_hostable`]) makes the host: a child of the
//! parent, linked to the four boxes named in [`ChildBoxes`]. Each child is handed over through a
//! slot the parent and the host share. The host takes it, drops what the parent sent the previous
//! child after that one ended (the parent is the only sender, and counts it at the hand-over), and
//! runs the body with a context lent over its own boxes: the body's `inbox`, `control`, `outbox`
//! and `signal` are the host's, with their linkages, its id, name and `me` are the host's, and
//! children it activates are the host's. The host reports the body's end through the slot, which
//! [`poll_ended`](ChildHost::poll_ended) reads. A body that fails or panics is logged and reported
//! to the scheduler ([`Scheduler::failures`](crate::Scheduler::failures)) as a component would
//! be, named `Doubler (hosted by DoublerHost_7)`.
//!
//! After each body the host checks that it left nothing behind: no children, no linkages it made,
//! no boxes added or deleted, no service, no stop request, and as many references to the host and
//! handles to its boxes as when the body began (counted). If it did, or panicked, the host ends
//! after it and the next child gets a new host. The host also goes when the parent has had no
//! child for one to two times the idle time ([`poll_idle_host`](ChildHost::poll_idle_host)),
//! before a child that cannot be hosted (which needs the four boxes for itself), and when the
//! parent ends.
//!
//! A child that cannot be hosted is made into a component ([`Job`] does that as it is made),
//! linked to the four boxes (all at once, under one acquisition of the wiring lock), made a child
//! of the parent and activated; [`stop`](ChildHost::stop) unlinks and removes it.
//!
//! # The kept host
//!
//! A component of its own, a child of the parent, named by
//! [`host_class`](ChildHost::host_class) (`Host_12` unless set); its four standard boxes are
//! linked to the parent's four once, and lent to each child it runs.
//!
//! ## Inboxes
//!
//! | box       | carries | what arrives |
//! |-----------|---------|--------------|
//! | `inbox`   | `I`     | What the parent sends the inbox of the child it runs |
//! | `control` | `Ipc`   | What the parent sends the control of the child it runs |
//!
//! ## Outboxes
//!
//! | box      | carries | what leaves |
//! |----------|---------|-------------|
//! | `outbox` | `O`     | What the child it runs sends the parent from its outbox |
//! | `signal` | `Ipc`   | What the child it runs sends the parent from its signal |
//!
//! ## Shutdown
//!
//! It ends when the parent lets it go (idle, before a child that cannot be hosted, or as the
//! parent ends), or after a child that leaves it unclean or panics; a child still running is
//! dropped.

mod body;
mod child_host;
mod job;
mod kept;
mod slot;
#[cfg(test)]
mod tests;

pub use child_host::{ChildBoxes, ChildHost};
pub use job::Job;
