//! # kamaelia-chassis: components that wire components
//!
//! Kamaelia's chassis, on [`axon_core`]: each is a component that makes, links and supervises
//! child components, following Kamaelia's wiring and shutdown-propagation rules, typed. The
//! Kamaelia names are re-exported at the crate root: `kamaelia_chassis::{Pipeline, Graphline,
//! SimpleServer, TCPClient, ...}`, with the `pipeline!` and `graphline!` macros.
//!
//! ```
//! use axon_core::prelude::*;
//! use kamaelia_chassis::pipeline;
//!
//! let (tx, rx) = std::sync::mpsc::channel();
//! let words = from_fn("Words", |mut ctx: Context<(), String>| async move {
//!     for w in ["component", "systems"] {
//!         ctx.outbox.send(w.to_owned()).await;
//!     }
//!     Ok(())
//! });
//! let shout = from_fn("Shout", |mut ctx: Context<String, String>| async move {
//!     while let Some(w) = ctx.inbox.recv().await {
//!         ctx.outbox.send(w.to_uppercase()).await;
//!     }
//!     Ok(())
//! });
//! let collect = from_fn("Collect", move |mut ctx: Context<String, ()>| async move {
//!     while let Some(w) = ctx.inbox.recv().await {
//!         tx.send(w).unwrap();
//!     }
//!     Ok(())
//! });
//! pipeline![words, shout, collect].run().unwrap();
//! assert_eq!(rx.try_iter().collect::<Vec<_>>(), ["COMPONENT", "SYSTEMS"]);
//! ```
//!
//! # Layout
//!
//! * [`pipeline`](mod@pipeline) - `Pipeline`, children in a line: each `outbox` to the next `inbox`, each
//!   `signal` to the next `control`.
//! * [`graphline`](mod@graphline) - `Graphline`, named children wired by a linkage declaration.
//! * [`carousel`](mod@carousel) - `Carousel`, one child at a time, replaced on request.
//! * [`seq`](mod@seq) - `Seq`, children one after another.
//! * [`par`](mod@par) - `PAR`, children side by side.
//! * [`backplane`](mod@backplane) - `Backplane`, `PublishTo`, `SubscribeTo`: named publish/subscribe.
//! * [`console`](mod@console) - `ConsoleReader`, `ConsoleEchoer`.
//! * [`socket`](mod@socket) - the connected-socket adapter, a component per TCP connection.
//! * [`payload`](mod@payload) - what an adapter writes: bytes, or file regions sent with `sendfile`.
//! * [`receipt`](mod@receipt) - receipts an adapter signs once what came before them is written.
//! * [`server`](mod@server) - `ServerCore` and `SimpleServer`: a protocol component per connection.
//! * [`tcp_client`](mod@tcp_client) - `TCPClient`.
//! * [`transform`](mod@transform) - `PureTransformer` and `Filter`: one function applied to a stream.

pub mod backplane;
pub mod carousel;
pub mod console;
pub mod graphline;
pub mod par;
pub mod payload;
pub mod pipeline;
pub mod receipt;
pub mod seq;
pub mod server;
pub mod socket;
pub mod tcp_client;
pub mod transform;

pub use backplane::{Backplane, BackplaneError, PublishTo, SubscribeTo};
pub use carousel::{join_chooser_to_carousel, Carousel, Child};
pub use console::{ConsoleEchoer, ConsoleReader};
pub use graphline::{child, Graphline, GraphlineError, LinkageSpec};
pub use par::PAR;
pub use pipeline::Pipeline;
pub use seq::Seq;
pub use server::{
    ConnectionInfo, ServerCore, ServerError, ServerHandle, ServerSettings, SimpleServer, SocketOptions, WhenFull,
};
pub use socket::{AdapterSettings, Bytes, ConnectedSocketAdapter, FileRegion, Outgoing, Payload};
pub use tcp_client::{ClientSettings, TCPClient, TcpClientError};
pub use transform::{Filter, PureTransformer};
