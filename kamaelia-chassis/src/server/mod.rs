//! TCP servers: [`SimpleServer`] and [`ServerCore`] make a protocol component per connection.
//!
//! A server listens on a port. For each connection it accepts it makes two components, a
//! [`ConnectedSocketAdapter`] that owns the socket and a fresh *protocol* component made by the
//! factory you give it, wires them to each other, and makes both its children. A protocol is any
//! component whose `inbox` carries [`Bytes`] and whose `outbox` carries [`Bytes`] or another
//! [`Outgoing`] type: bytes from the client arrive on its `inbox`, and what it sends out of its
//! `outbox` goes to the client. A protocol whose `outbox` carries
//! [`Payload`](crate::socket::Payload) can send regions of files as well as bytes, which the
//! adapter hands to the kernel (`sendfile`); the HTTP server does.
//!
//! The two servers differ only in what their factory is told. A [`SimpleServer`]'s takes no
//! arguments (`SimpleServer::new(|| EchoProtocol, 1500)`), as in Kamaelia. A [`ServerCore`]'s
//! takes the connection's [`ConnectionInfo`], its peer and local addresses
//! (`ServerCore::new(|connection| ..., 1601)`), and is the one way a protocol learns them: the
//! factory passes them on to what it makes, as the HTTP server's does
//! (`HTTPServer::for_connection`), and nothing else hands them over.
//!
//! # Example
//!
//! Kamaelia's classic echo server, `SimpleServer(protocol=EchoProtocol, port=1500)`, on an
//! ephemeral port, with a raw client (the full program is `examples/echo_server.rs`):
//!
//! ```
//! use axon_core::prelude::*;
//! use axon_core::Exit;
//! use kamaelia_chassis::server::SimpleServer;
//! use kamaelia_chassis::socket::Bytes;
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! /// Sends back whatever it receives; passes on the shutdown it is given, and ends.
//! struct EchoProtocol;
//!
//! impl Component for EchoProtocol {
//!     type Inbox = Bytes;
//!     type Outbox = Bytes;
//!
//!     async fn main(self, mut ctx: Context<Bytes, Bytes>) -> ComponentResult {
//!         while let Some(event) = ctx.next_event().await {
//!             match event {
//!                 Event::Data(bytes) => ctx.outbox.send(bytes).await,
//!                 Event::Control(msg) => {
//!                     ctx.signal.send(msg).await; // the adapter flushes, then closes
//!                     break;
//!                 }
//!             }
//!         }
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = SimpleServer::new(|| EchoProtocol, 0).bind().await?; // port 0: any free port
//! let (address, handle) = (server.local_addr(), server.handle());
//! let scheduler = Scheduler::new();
//! let running = scheduler.activate(server);
//!
//! let mut client = tokio::net::TcpStream::connect(address).await?;
//! client.write_all(b"hello").await?;
//! let mut echoed = [0; 5];
//! client.read_exact(&mut echoed).await?;
//! assert_eq!(&echoed, b"hello");
//!
//! handle.shutdown(); // stop accepting; open connections get a grace period
//! let mut rest = Vec::new();
//! client.read_to_end(&mut rest).await?; // the echo protocol ended: the server closed
//! drop(client);
//! assert_eq!(running.join().await, Exit::Finished);
//! # Ok(()) }
//! ```
//!
//! # How it works
//!
//! [`bind`](ServerCore::bind) opens the listening socket, so that an address in use is an
//! error returned to you ([`ServerError::Bind`]), with the address and the OS error, and the
//! address actually bound (port 0 picks a free one) can be read before anything runs. The
//! [`BoundServer`] it returns is the component to activate. (Activating a `SimpleServer` or
//! `ServerCore` directly also works, Kamaelia style: it binds when it starts, and a bind
//! failure makes it fail, with the same error, after sending a `ProducerFinished` carrying the
//! error's text out of `signal`.)
//!
//! For each connection the server wires, exactly as Kamaelia's `ServerCore` does
//! (`CSA` is the adapter, `PH` the protocol handler):
//!
//! | from | to | why |
//! |---|---|---|
//! | `CSA.outbox` | `PH.inbox` | bytes from the client |
//! | `PH.outbox` | `CSA.inbox` | bytes to the client |
//! | server `protocolHandlerShutdownSignal*` | `PH.control` | the server's messages to the protocol |
//! | server `connectedSocketShutdownSignal*` | `CSA.control` | the server's messages to the adapter |
//! | `PH.signal` | `CSA.control` | the protocol finishing closes the connection |
//! | `PH.serversignal` | server `control` | only if the protocol declares an outbox `serversignal` (of [`Ipc`]): it may stop the server |
//! | `CSA.signal` | `PH.control` | not in Kamaelia: the client half-closed (see below) |
//!
//! The two `*` outboxes are added to the server for each connection (a number is appended to
//! their names when taken) and removed when both components have ended. Both components become
//! children of the server, so the running graph shows which connections it serves.
//!
//! **The client closes first** (end of stream, or an error): the adapter ends; the server hears
//! of it and sends a `ProducerFinished` (Kamaelia's `socketShutdown`) to the protocol's `control`;
//! the protocol's `inbox` closes too (its only sender has gone). A protocol that ignores both and
//! is still running [`protocol_grace`](ServerSettings::protocol_grace) later is stopped.
//!
//! **The client half-closes** (shuts down only its sending side, as `printf .. | nc -N` or an
//! HTTP client that sends its request and then `shutdown(SHUT_WR)` do): with the default
//! [`ServerSettings`] the adapter sends a `ProducerFinished` out of its `signal` to the protocol's
//! `control` and goes on writing what the protocol sends until the protocol finishes (or
//! `protocol_grace` passes), so every reply reaches the client. Kamaelia ended the connection at
//! once and dropped the replies (set `connection.finish_after_peer_close` to `None` for that).
//!
//! **The protocol finishes first**: it sends `ProducerFinished` or `ShutdownMicroprocess` out of
//! its `signal`, which is linked to the adapter's `control`; the adapter writes everything the
//! protocol sent before (it is queued in the adapter's `inbox`), then closes the socket. A
//! protocol that simply ends has the same effect (the adapter's `inbox` closes, and the server
//! also sends it a `ProducerFinished`).
//!
//! # Limits
//!
//! * At most [`max_connections`](ServerSettings::max_connections) connections are served at
//!   once. What further clients get is [`when_full`](ServerSettings::when_full): by default
//!   ([`WhenFull::Wait`]) the server stops accepting, and they wait in the kernel's listen queue
//!   ([`backlog`](SocketOptions::backlog) long; past that, the kernel refuses or drops them)
//!   until a connection ends, meaning both its components have ended; with
//!   [`WhenFull::Refuse`] the server goes on accepting and answers each of them at once with the
//!   bytes given (an HTTP server: `503 Service Unavailable` with `Retry-After`), then closes the
//!   connection, making no component for it ([`ServerStats::refused`] counts them).
//! * Out of file descriptors (`accept` fails with `EMFILE` or `ENFILE`), the server goes on
//!   serving the connections it has and stops accepting: it tries again as soon as one of its
//!   connections ends (which gives a descriptor back), and otherwise after a pause that starts at
//!   10 ms and doubles with each failure, up to 1 s, so that it never spins. Clients meanwhile
//!   wait in the listen queue, and are served once descriptors are free. The episode is logged
//!   once, as a warning when it starts and a line when it ends; [`ServerStats::accept_failures`]
//!   counts the failures.
//! * Per connection, the adapter reads at most [`read_buffer_size`](crate::socket::AdapterSettings::read_buffer_size)
//!   bytes at a time, and nothing (holding no buffer) while the protocol's `inbox` is full, so a
//!   slow protocol slows its client down rather than buffering: what a connection reads ahead is
//!   at most the protocol's `inbox` capacity in chunks. See [`crate::socket`] for its other
//!   limits.
//!
//! # Stopping the server
//!
//! [`ServerHandle::shutdown`], or a `ShutdownMicroprocess` on the server's `control` (from you, a
//! chassis, or a protocol's `serversignal`), starts a graceful shutdown:
//! 1. the listening socket is closed: no new connection is accepted;
//! 2. each protocol still running receives a `ShutdownMicroprocess` on its `control`, asking it to
//!    finish (an echo protocol passes it on out of `signal`, so its adapter flushes and closes);
//! 3. connections that end within [`shutdown_grace`](ServerSettings::shutdown_grace) end as usual;
//!    when it expires, both components of every connection still open are stopped;
//! 4. once every connection has ended, the server ends, sending the `ShutdownMicroprocess` that
//!    stopped it out of `signal` (or a `ProducerFinished` if the handle stopped it).
//!
//! Stopping the server component itself ([`ComponentRef::stop`]) stops every connection at once.
//! The example programs also shut down gracefully on Ctrl-C and SIGTERM (`tokio::signal`).
//!
//! # Inboxes and outboxes
//!
//! The three servers, [`SimpleServer`], [`ServerCore`] and [`BoundServer`], have the same boxes,
//! listed on each with what each carries, as Kamaelia lists them on the class.
//!
//! # Porting from Kamaelia
//!
//! | Kamaelia | here |
//! |---|---|
//! | `SimpleServer(protocol=P, port=1500)` | `SimpleServer::new(\|\| P, 1500)` (or the struct literal with its public fields) |
//! | `ServerCore(protocol=f, port=1601)`, `f(peer=, peerport=, localip=, localport=)` | `ServerCore::new(\|info: &ConnectionInfo\| ..., 1601)`: `info.peer.ip()`, `info.peer.port()`, `info.local.ip()`, `info.local.port()` |
//! | `socketOptions=(SOL_SOCKET, SO_REUSEADDR, 1)`, `FastRestartServer` | [`SocketOptions::reuse_address`] (on by default) |
//! | `TCPServer` (the listening component) | internal: the listener is part of [`BoundServer`] |
//! | `serverShutdown()` to `control` | `ShutdownMicroprocess` to `control`, or [`ServerHandle::shutdown`] |
//!
//! Differences in behaviour, on purpose (each fixes a defect of the original):
//! * Kamaelia binds all interfaces (`''`). Here the default is 127.0.0.1: a server is reachable
//!   from other machines only if you say so ([`SocketOptions::listen_address`]).
//! * Kamaelia's bind failure is silent (the listener sends a shutdown nobody reads, and the
//!   server runs on, serving nothing). Here it is an error returned to the caller.
//! * Kamaelia never stops a protocol that ignores its `control`, so it leaks; here it is stopped
//!   after a grace period. Kamaelia's server stop drops connections at once; here they get a
//!   grace period first. Kamaelia accepts without limit; here `max_connections` bounds it.
//! * Kamaelia's adapter discards unsent data when the protocol finishes; here it is written
//!   first (see [`crate::socket`]).
//!
//! # The code
//!
//! One file a concept, from the ground floor up:
//!
//! * `settings.rs`: [`SocketOptions`], [`ServerSettings`] and the `DEFAULT_*` values.
//! * `error.rs`: [`ServerError`].
//! * `handle.rs`: [`ServerHandle`] and [`ServerStats`], and what they share with the server.
//! * `connection.rs`: [`ConnectionInfo`], one connection's two components, and how they are wired.
//! * `serve.rs`: the running server: accepting, connections ending, draining on shutdown.
//! * `server_core.rs`: [`ServerCore`], binding, and [`BoundServer`].
//! * `simple_server.rs`: [`SimpleServer`].
//!
//! [`Bytes`]: crate::socket::Bytes
//! [`Outgoing`]: crate::socket::Outgoing
//! [`ConnectedSocketAdapter`]: crate::socket::ConnectedSocketAdapter
//! [`Ipc`]: axon_core::Ipc
//! [`ComponentRef::stop`]: axon_core::ComponentRef::stop

mod connection;
mod error;
mod handle;
mod serve;
mod server_core;
mod settings;
mod simple_server;

pub use connection::ConnectionInfo;
pub use error::ServerError;
pub use handle::{ServerHandle, ServerStats};
pub use server_core::{BoundServer, ServerCore};
pub use settings::{
    ServerSettings, SocketOptions, WhenFull, DEFAULT_BACKLOG, DEFAULT_LISTEN_ADDRESS, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_PROTOCOL_GRACE, DEFAULT_SHUTDOWN_GRACE, MAX_REFUSING, REFUSAL_LINGER,
};
pub use simple_server::{IntoProtocolFactory, ProtocolFactory, SimpleServer, WithConnection};
