//! # kamaelia-chassis: components that wire components
//!
//! Kamaelia's chassis, on [`axon_core`]: each is a component that makes, links and supervises
//! child components, following Kamaelia's wiring and shutdown-propagation rules, typed.
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
//! * [`server`](mod@server) - `ServerCore` and `SimpleServer`: a protocol component per connection.
//! * [`tcp_client`](mod@tcp_client) - `TCPClient`.

pub mod backplane;
pub mod carousel;
pub mod console;
pub mod graphline;
pub mod par;
pub mod pipeline;
pub mod seq;
pub mod server;
pub mod socket;
pub mod tcp_client;
