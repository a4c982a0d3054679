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
//! * [`live`]: the live page, the running graph drawn in a browser and kept current from an
//!   [`Introspector`](axon::introspector::Introspector)'s stream ([`live::live_page`], a route).
//! * [`site`]: the small site kept in the repository, compiled in ([`site::bundled_site`]), which
//!   the web server and the cookbook examples serve when no directory is named.
//!
//! The package's binary, `kamaelia`, is the cookbook web server (`cargo run --release -- --help`);
//! its command line is its own (`src/cli.rs`), not part of this library.
//!
//! `use kamaelia::prelude::*;` brings what most programs need: the component model's names
//! (`Component`, `Context`, `Event`, `Handle`, `Scheduler`, `from_fn`, the shutdown messages) and
//! the chassis used most (`Pipeline`, `Graphline`, `pipeline!`, `graphline!`, `PureTransformer`,
//! `Filter`).
//!
//! ```
//! use kamaelia::prelude::*;
//!
//! let (tx, rx) = std::sync::mpsc::channel();
//! let numbers = from_fn("Numbers", |mut ctx: Context<(), u64>| async move {
//!     for n in 1..=5 {
//!         ctx.outbox.send(n).await;
//!     }
//!     ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
//!     Ok(())
//! });
//! let printer = from_fn("Printer", move |mut ctx: Context<u64, ()>| async move {
//!     while let Some(event) = ctx.next_event().await {
//!         match event {
//!             Event::Data(n) => tx.send(n).unwrap(),
//!             Event::Control(msg) if msg.is_shutdown_request() => break,
//!             Event::Control(_) => {}
//!         }
//!     }
//!     Ok(())
//! });
//! pipeline![numbers, PureTransformer::new(|n: u64| n * n), printer].run().unwrap();
//! assert_eq!(rx.try_iter().collect::<Vec<_>>(), [1, 4, 9, 16, 25]);
//! ```
//!
//! The guide lives in `docs/` in the repository: `docs/guide.md` (a tutorial),
//! `docs/porting.md` (from Kamaelia to this crate, test by test and difference by difference) and
//! `docs/benchmarks.md` (measured figures against named peers).

#[doc = include_str!("../docs/guide.md")]
pub mod guide {}
pub mod live;
pub mod site;

pub use axon_core as axon;
pub use kamaelia_chassis as chassis;
pub use kamaelia_http as http;

/// The names most programs need: `use kamaelia::prelude::*;`.
///
/// The component model's prelude ([`axon::prelude`]) and the chassis used most. Everything else
/// is under [`axon`], [`chassis`] and [`http`].
pub mod prelude {
    pub use axon_core::prelude::*;
    pub use kamaelia_chassis::{graphline, pipeline, Filter, Graphline, Pipeline, PureTransformer};
}

/// The README's Rust examples, compiled and run by `cargo test` so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The Rust examples of the library crates' own READMEs, compiled and run here, where all three
/// crates are dependencies (`cfg(doctest)` only: a build of the published package never reads
/// these files, which live outside it).
#[cfg(doctest)]
pub mod crate_readmes {
    /// `axon-core/README.md`.
    #[doc = include_str!("../axon-core/README.md")]
    pub struct AxonCore;
    /// `kamaelia-chassis/README.md`.
    #[doc = include_str!("../kamaelia-chassis/README.md")]
    pub struct KamaeliaChassis;
    /// `kamaelia-http/README.md`.
    #[doc = include_str!("../kamaelia-http/README.md")]
    pub struct KamaeliaHttp;
}
