//! # Kamaelia, in Rust
//!
//! Build systems from **components**: small concurrent actors with named, typed inboxes and
//! outboxes, wired together by **linkages** into pipelines and graphs. This is a port of the
//! BBC's [Kamaelia](https://github.com/sparkslabs/kamaelia) and its core, Axon.
//!
//! This facade re-exports the workspace's crates:
//!
//! * [`axon`] (crate `axon-core`): the component model: components, boxes, linkages, Ipc
//!   messages, the scheduler, handles, the services tracker, introspection.
//! * [`chassis`] (crate `kamaelia-chassis`): components that wire components: Pipeline,
//!   Graphline, Carousel, Seq, PAR, Backplane, and TCP servers and clients.
//! * [`http`] (crate `kamaelia-http`): the HTTP server as a graph of components: `HTTPServer`,
//!   request handlers, `Minimal` static files, `ErrorPages`, routing.
//! * [`cli`]: the command line of the web server binary and the cookbook examples, and the
//!   bundled site they serve, compiled in ([`cli::bundled_site`]).
//!
//! The package's binary, `kamaelia`, is the cookbook web server (`cargo run --release -- --help`).
//!
//! ```
//! use kamaelia::axon::prelude::*;
//!
//! let echo = from_fn("Echo", |mut ctx: Context<String, String>| async move {
//!     while let Some(line) = ctx.inbox.recv().await {
//!         ctx.outbox.send(line).await;
//!     }
//!     Ok(())
//! });
//! let mut h = Handle::new(echo, &Scheduler::new());
//! h.send_blocking("hi".to_owned());
//! assert_eq!(h.recv_blocking().as_deref(), Some("hi"));
//! ```
//!
//! The guide lives in `docs/` in the repository: `docs/guide.md` (a tutorial),
//! `docs/porting.md` (from Kamaelia to this crate, test by test and difference by difference) and
//! `docs/benchmarks.md` (measured figures against named peers).

pub mod cli;
#[doc = include_str!("../docs/guide.md")]
pub mod guide {}

pub use axon_core as axon;
pub use kamaelia_chassis as chassis;
pub use kamaelia_http as http;
