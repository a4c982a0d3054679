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
//!   once. When that many are open the server stops accepting, and further clients wait in the
//!   kernel's listen queue ([`backlog`](SocketOptions::backlog) long; past that, the kernel
//!   refuses or drops them) until a connection ends, meaning both its components have ended.
//! * Per connection, the adapter reads at most [`read_buffer_size`](crate::socket::AdapterSettings::read_buffer_size)
//!   bytes at a time and waits while the protocol's `inbox` is full, so a slow protocol slows its
//!   client down rather than buffering; see [`crate::socket`] for its other limits.
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
//! # Inboxes
//!
//! | box       | carries | what arrives                                                          |
//! |-----------|---------|-----------------------------------------------------------------------|
//! | `inbox`   | `()`    | NOT USED                                                              |
//! | `control` | `Ipc`   | `ShutdownMicroprocess`: shut down gracefully (see above); others are ignored |
//!
//! # Outboxes
//!
//! | box      | carries | what leaves                                                            |
//! |----------|---------|------------------------------------------------------------------------|
//! | `outbox` | `()`    | NOT USED                                                               |
//! | `signal` | `Ipc`   | When the server ends: the `ShutdownMicroprocess` that stopped it, else `ProducerFinished` (with the error's text if it could not bind) |
//! | `protocolHandlerShutdownSignal*` | `Ipc` | One per connection, to its protocol's `control` |
//! | `connectedSocketShutdownSignal*` | `Ipc` | One per connection, to its adapter's `control` |
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

use std::cell::Cell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::Duration;

use axon_core::ipc::{Ipc, ProducerFinished, ShutdownMicroprocess};
use axon_core::{
    BoxKind, ChildExit, Component, ComponentId, ComponentRef, ComponentResult, Context, Declarations, Instance,
    IntoInstance, LinkError, Outbox,
};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};

use crate::socket::{AdapterSettings, Bytes, ConnectedSocketAdapter, Outgoing, SettingError};

/// How many connections a server serves at once unless told otherwise: 512. Each holds a file
/// descriptor, and many systems allow a process 1024 by default; at the limit the server stops
/// accepting until a connection ends (clients wait in the kernel's listen queue).
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// How long a graceful shutdown lets open connections finish before stopping them: 10 s.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How long a protocol may run on after its connection's socket has closed (it has been sent a
/// `ProducerFinished` and its `inbox` has closed) before the server stops it: 5 s.
pub const DEFAULT_PROTOCOL_GRACE: Duration = Duration::from_secs(5);

/// The length of the kernel's queue of connections not yet accepted: 1024 (tokio's default;
/// Kamaelia used 5). The kernel may cap it (`net.core.somaxconn` on Linux).
pub const DEFAULT_BACKLOG: u32 = 1024;

/// The address a server listens on unless told otherwise: 127.0.0.1 (this machine only).
/// Use `0.0.0.0` (or `::`) to accept connections from other machines, as Kamaelia always did.
pub const DEFAULT_LISTEN_ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// How long the server stops accepting after `accept` fails (for example when the process is
/// out of file descriptors), so that a persistent error does not spin: 100 ms, arbitrary.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The addresses of one connection, given to a [`ServerCore`] protocol factory (Kamaelia's
/// `peer`, `peerport`, `localip`, `localport` keyword arguments).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectionInfo {
    /// The client's address (`peer` and `peerport`).
    pub peer: SocketAddr,
    /// The server's address for this connection (`localip` and `localport`).
    pub local: SocketAddr,
}

impl ConnectionInfo {
    /// The connection whose protocol is being made, while a server calls its protocol factory;
    /// `None` anywhere else.
    ///
    /// [`ServerCore`] passes the addresses to its factory; a [`SimpleServer`] factory takes no
    /// arguments (as in Kamaelia), and a protocol made inside it can still learn them here. The
    /// HTTP server uses this to fill in each request's peer and local addresses, where Kamaelia's
    /// `SimpleServer` left them `*** UNDEFINED ***`.
    pub fn current() -> Option<ConnectionInfo> {
        CURRENT_CONNECTION.with(Cell::get)
    }

    /// Runs `f` with `self` as [`current`](Self::current) (restored afterwards, also on panic).
    fn serving<R>(self, f: impl FnOnce() -> R) -> R {
        struct Restore(Option<ConnectionInfo>);
        impl Drop for Restore {
            fn drop(&mut self) {
                CURRENT_CONNECTION.with(|c| c.set(self.0));
            }
        }
        let _restore = Restore(CURRENT_CONNECTION.with(|c| c.replace(Some(self))));
        f()
    }
}

thread_local! {
    /// See [`ConnectionInfo::current`].
    static CURRENT_CONNECTION: Cell<Option<ConnectionInfo>> = const { Cell::new(None) };
}

/// How the listening socket is made. [`Default`] gives the `DEFAULT_*` values of this module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketOptions {
    /// The address to listen on ([`DEFAULT_LISTEN_ADDRESS`], 127.0.0.1).
    pub listen_address: IpAddr,
    /// Sets `SO_REUSEADDR` before binding, so a restarted server can bind its port while
    /// connections of the previous one linger in `TIME_WAIT` (Kamaelia's `FastRestartServer`).
    /// On by default, as for tokio's `TcpListener::bind`. It does not let two servers listen on
    /// one port.
    pub reuse_address: bool,
    /// The listen queue length ([`DEFAULT_BACKLOG`]).
    pub backlog: u32,
}

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions { listen_address: DEFAULT_LISTEN_ADDRESS, reuse_address: true, backlog: DEFAULT_BACKLOG }
    }
}

/// A server's limits and grace periods. [`Default`] gives the `DEFAULT_*` values of this module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// The most connections served at once ([`DEFAULT_MAX_CONNECTIONS`]); at least 1.
    pub max_connections: usize,
    /// How long a graceful shutdown waits for open connections ([`DEFAULT_SHUTDOWN_GRACE`]).
    pub shutdown_grace: Duration,
    /// How long a protocol may outlive its socket ([`DEFAULT_PROTOCOL_GRACE`]).
    pub protocol_grace: Duration,
    /// Settings of each connection's [`ConnectedSocketAdapter`] (read buffer size, send
    /// timeout, linger, `TCP_NODELAY`).
    pub connection: AdapterSettings,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            protocol_grace: DEFAULT_PROTOCOL_GRACE,
            // A client that half-closes still gets every reply its protocol sends. No Nagle
            // delay: a reply written in pieces (an HTTP head, then its body) would otherwise wait
            // for the client's delayed acknowledgement, 40 ms on Linux, before its last piece.
            connection: AdapterSettings {
                finish_after_peer_close: Some(DEFAULT_PROTOCOL_GRACE),
                nodelay: true,
                ..AdapterSettings::default()
            },
        }
    }
}

impl ServerSettings {
    /// Checks that the settings can work.
    pub fn validate(&self) -> Result<(), SettingError> {
        if self.max_connections == 0 {
            return Err(SettingError {
                name: "max_connections",
                value: "0".to_owned(),
                reason: "a server must be able to serve at least one connection",
            });
        }
        self.connection.validate()
    }
}

/// Why a server could not start. Callers may match on the variants and read their fields; the
/// wording of the messages may change.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The address could not be bound (typically in use, or not an address of this machine).
    #[error("cannot bind {address}: {source}")]
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// The operating system's error.
        source: io::Error,
    },
    /// The socket was bound but could not listen.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address bound.
        address: SocketAddr,
        /// The operating system's error.
        source: io::Error,
    },
    /// A socket option could not be set.
    #[error("cannot set {option} on the socket for {address}: {source}")]
    SocketOption {
        /// The option, e.g. `SO_REUSEADDR`.
        option: &'static str,
        /// The address the socket was for.
        address: SocketAddr,
        /// The operating system's error.
        source: io::Error,
    },
    /// A setting cannot work.
    #[error(transparent)]
    Setting(#[from] SettingError),
}

/// A server whose protocol factory takes no arguments (Kamaelia's `SimpleServer`): see the
/// [module docs](self).
///
/// Construct it with [`SimpleServer::new`] or as a struct literal; then either
/// [`bind`](Self::bind) it and activate the [`BoundServer`], or activate it directly.
pub struct SimpleServer<F> {
    /// Makes the protocol component for each connection.
    pub protocol: F,
    /// The port to listen on (0: any free port; read it from [`BoundServer::local_addr`]).
    pub port: u16,
    /// How the listening socket is made (address, `SO_REUSEADDR`, backlog).
    pub socket_options: SocketOptions,
    /// Limits and grace periods.
    pub settings: ServerSettings,
}

/// A server whose protocol factory is told each connection's addresses (Kamaelia's `ServerCore`,
/// also `MoreComplexServer`): see the [module docs](self).
pub struct ServerCore<F> {
    /// Makes the protocol component for each connection, given its addresses.
    pub protocol: F,
    /// The port to listen on (0: any free port; read it from [`BoundServer::local_addr`]).
    pub port: u16,
    /// How the listening socket is made (address, `SO_REUSEADDR`, backlog).
    pub socket_options: SocketOptions,
    /// Limits and grace periods.
    pub settings: ServerSettings,
}

impl<F> fmt::Debug for SimpleServer<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimpleServer")
            .field("port", &self.port)
            .field("socket_options", &self.socket_options)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<F> fmt::Debug for ServerCore<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerCore")
            .field("port", &self.port)
            .field("socket_options", &self.socket_options)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<F, P> SimpleServer<F>
where
    F: FnMut() -> P + Send + 'static,
    P: IntoInstance,
    P::Component: Component<Inbox = Bytes, Outbox: Outgoing>,
{
    /// A server on `port` making each connection's protocol with `protocol()`, with default
    /// socket options and settings.
    pub fn new(protocol: F, port: u16) -> Self {
        SimpleServer { protocol, port, socket_options: SocketOptions::default(), settings: ServerSettings::default() }
    }

    /// Opens the listening socket; see [`ServerCore::bind`].
    pub async fn bind(self) -> Result<BoundServer<P::Component>, ServerError> {
        let mut make = self.protocol;
        let core = ServerCore {
            protocol: move |_: &ConnectionInfo| make(),
            port: self.port,
            socket_options: self.socket_options,
            settings: self.settings,
        };
        core.bind_named("SimpleServer").await
    }
}

impl<F, P> ServerCore<F>
where
    F: FnMut(&ConnectionInfo) -> P + Send + 'static,
    P: IntoInstance,
    P::Component: Component<Inbox = Bytes, Outbox: Outgoing>,
{
    /// A server on `port` making each connection's protocol with `protocol(&info)`, with default
    /// socket options and settings.
    pub fn new(protocol: F, port: u16) -> Self {
        ServerCore { protocol, port, socket_options: SocketOptions::default(), settings: ServerSettings::default() }
    }

    /// Opens the listening socket (`SO_REUSEADDR` as set, bind, listen) and returns the server,
    /// ready to activate. Call it from inside a tokio runtime.
    ///
    /// # Errors
    /// [`ServerError::Bind`] (the address is in use or not local), [`ServerError::Listen`],
    /// [`ServerError::SocketOption`], each naming the address and carrying the OS error; and
    /// [`ServerError::Setting`] for settings that cannot work.
    pub async fn bind(self) -> Result<BoundServer<P::Component>, ServerError> {
        self.bind_named("ServerCore").await
    }

    async fn bind_named(self, kind: &'static str) -> Result<BoundServer<P::Component>, ServerError> {
        self.settings.validate()?;
        let address = SocketAddr::new(self.socket_options.listen_address, self.port);
        let listener = listen(address, &self.socket_options)?;
        let local_addr = listener.local_addr().unwrap_or(address);
        let (stats, _) = watch::channel(ServerStats { listening: true, ..ServerStats::default() });
        let shared = Arc::new(Shared { local_addr, shutdown: AtomicBool::new(false), waker: Mutex::new(None), stats });
        Ok(BoundServer {
            kind,
            factory: {
                let mut make = self.protocol;
                Box::new(move |info: &ConnectionInfo| make(info).into_instance())
            },
            listener,
            local_addr,
            settings: self.settings,
            shared,
        })
    }
}

fn listen(address: SocketAddr, options: &SocketOptions) -> Result<TcpListener, ServerError> {
    let socket = if address.is_ipv4() { TcpSocket::new_v4() } else { TcpSocket::new_v6() }
        .map_err(|source| ServerError::Bind { address, source })?;
    socket.set_reuseaddr(options.reuse_address).map_err(|source| ServerError::SocketOption {
        option: "SO_REUSEADDR",
        address,
        source,
    })?;
    socket.bind(address).map_err(|source| ServerError::Bind { address, source })?;
    socket.listen(options.backlog).map_err(|source| ServerError::Listen { address, source })
}

fn declare_server_boxes(boxes: &mut Declarations) {
    boxes
        .describe(BoxKind::Inbox, "inbox", "NOT USED")
        .describe(BoxKind::Inbox, "control", "ShutdownMicroprocess: stop accepting, let connections finish, then end")
        .describe(BoxKind::Outbox, "outbox", "NOT USED")
        .describe(
            BoxKind::Outbox,
            "signal",
            "When the server ends: the ShutdownMicroprocess that stopped it, or ProducerFinished",
        );
}

/// Binds when it starts, then serves; a bind failure fails the component.
async fn bind_then_serve<P>(bound: Result<BoundServer<P>, ServerError>, mut ctx: Context<(), ()>) -> ComponentResult
where
    P: Component<Inbox = Bytes, Outbox: Outgoing>,
{
    match bound {
        Ok(server) => serve(server, ctx).await,
        Err(e) => {
            // Logged at `warn` by axon-core when the component fails.
            log::debug!("{}: {e}", ctx.name());
            let _ = ctx.signal.try_send(ProducerFinished::from(ctx.id()).with_message(e.to_string()).into());
            Err(e.into())
        }
    }
}

impl<F, P> Component for SimpleServer<F>
where
    F: FnMut() -> P + Send + 'static,
    P: IntoInstance,
    P::Component: Component<Inbox = Bytes, Outbox: Outgoing>,
{
    type Inbox = ();
    type Outbox = ();

    fn declare(&self, boxes: &mut Declarations) {
        declare_server_boxes(boxes)
    }

    fn class_name(&self) -> std::borrow::Cow<'static, str> {
        "SimpleServer".into()
    }

    async fn main(self, ctx: Context<(), ()>) -> ComponentResult {
        bind_then_serve(self.bind().await, ctx).await
    }
}

impl<F, P> Component for ServerCore<F>
where
    F: FnMut(&ConnectionInfo) -> P + Send + 'static,
    P: IntoInstance,
    P::Component: Component<Inbox = Bytes, Outbox: Outgoing>,
{
    type Inbox = ();
    type Outbox = ();

    fn declare(&self, boxes: &mut Declarations) {
        declare_server_boxes(boxes)
    }

    fn class_name(&self) -> std::borrow::Cow<'static, str> {
        "ServerCore".into()
    }

    async fn main(self, ctx: Context<(), ()>) -> ComponentResult {
        bind_then_serve(self.bind().await, ctx).await
    }
}

/// Makes each connection's protocol instance.
type ProtocolFactory<P> = Box<dyn FnMut(&ConnectionInfo) -> Instance<P> + Send>;

/// A server whose socket is listening: activate it to serve. Made by [`SimpleServer::bind`] or
/// [`ServerCore::bind`]; its component name is `SimpleServer_<id>` or `ServerCore_<id>`.
pub struct BoundServer<P: Component> {
    kind: &'static str,
    factory: ProtocolFactory<P>,
    listener: TcpListener,
    local_addr: SocketAddr,
    settings: ServerSettings,
    shared: Arc<Shared>,
}

impl<P: Component> fmt::Debug for BoundServer<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundServer")
            .field("kind", &self.kind)
            .field("local_addr", &self.local_addr)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<P: Component> BoundServer<P> {
    /// The address it listens on (with the actual port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A handle to stop it and watch it from outside, valid before and after activation.
    pub fn handle(&self) -> ServerHandle {
        ServerHandle(self.shared.clone())
    }
}

impl<P: Component<Inbox = Bytes, Outbox: Outgoing>> Component for BoundServer<P> {
    type Inbox = ();
    type Outbox = ();

    fn declare(&self, boxes: &mut Declarations) {
        declare_server_boxes(boxes)
    }

    fn class_name(&self) -> std::borrow::Cow<'static, str> {
        self.kind.into()
    }

    async fn main(self, ctx: Context<(), ()>) -> ComponentResult {
        serve(self, ctx).await
    }
}

/// What a server is doing, as seen through [`ServerHandle::stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// True while the listening socket is open (from `bind` until shutdown starts).
    pub listening: bool,
    /// Connections open now: accepted, with at least one of their two components running.
    pub open: usize,
    /// Connections accepted so far.
    pub accepted: u64,
    /// Connections the server had to stop because a grace period expired (a protocol that
    /// outlived its socket by `protocol_grace`, or connections still open `shutdown_grace` after
    /// shutdown began).
    pub stopped_after_grace: u64,
    /// True once the server has ended.
    pub ended: bool,
}

/// What the server and its handles share.
struct Shared {
    local_addr: SocketAddr,
    /// Set by [`ServerHandle::shutdown`]; read by the server at its next wake-up.
    shutdown: AtomicBool,
    /// The server task, to wake when `shutdown` is set.
    waker: Mutex<Option<Waker>>,
    /// Published after every change; handles read or wait on it.
    stats: watch::Sender<ServerStats>,
}

impl Shared {
    fn poll_shutdown(&self, cx: &mut TaskContext<'_>) -> bool {
        if self.shutdown.load(Ordering::SeqCst) {
            return true;
        }
        *self.waker.lock().unwrap_or_else(|p| p.into_inner()) = Some(cx.waker().clone());
        // A request between the load and the registration found no waker: look again.
        self.shutdown.load(Ordering::SeqCst)
    }
}

/// Stops and watches a server from outside (from `main`, a signal handler, a test). Cheap to
/// clone.
#[derive(Clone)]
pub struct ServerHandle(Arc<Shared>);

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle").field("local_addr", &self.0.local_addr).field("stats", &self.stats()).finish()
    }
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.0.local_addr
    }

    /// Starts a graceful shutdown (see the [module docs](self#stopping-the-server)). Idempotent;
    /// it returns at once (join the server's component to wait for the end).
    pub fn shutdown(&self) {
        self.0.shutdown.store(true, Ordering::SeqCst);
        let waker = self.0.waker.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// The current figures.
    pub fn stats(&self) -> ServerStats {
        *self.0.stats.borrow()
    }

    /// Waits until the figures satisfy `condition` (checked now and after every change), and
    /// returns them. Wrap it in a timeout if the condition might never hold.
    pub async fn wait_for(&self, condition: impl FnMut(&ServerStats) -> bool) -> ServerStats {
        let mut rx = self.0.stats.subscribe();
        let stats = match rx.wait_for(condition).await {
            Ok(s) => *s,
            // The sender lives in `Shared`, which this handle holds: it cannot have gone.
            Err(_) => self.stats(),
        };
        stats
    }
}

/// One connection: its two components and the server's outboxes to their `control`s.
struct Connection {
    peer: SocketAddr,
    adapter: ComponentRef,
    protocol: ComponentRef,
    to_protocol: Outbox<Ipc>,
    to_adapter: Outbox<Ipc>,
    adapter_ended: bool,
    protocol_ended: bool,
}

/// The open connections, keyed by their adapter's id. Dropping it (the server's body is dropped
/// when the server is stopped from outside) stops every connection, so none is orphaned.
struct Connections {
    by_adapter: HashMap<ComponentId, Connection>,
    /// Both components' ids → the adapter's id.
    owner: HashMap<ComponentId, ComponentId>,
    shared: Arc<Shared>,
}

impl Drop for Connections {
    fn drop(&mut self) {
        for c in self.by_adapter.values() {
            c.adapter.stop();
            c.protocol.stop();
        }
        self.shared.stats.send_modify(|s| {
            s.listening = false;
            s.ended = true;
        });
    }
}

/// What woke the server.
enum Wake {
    ShutdownRequested,
    Control(Ipc),
    Child(ChildExit),
    Timer,
    Accepted(io::Result<(TcpStream, SocketAddr)>),
}

/// The server's state between wake-ups.
struct Server<P: Component> {
    name: String,
    factory: ProtocolFactory<P>,
    /// `None` once shutdown has begun (dropping it closes the listening socket).
    listener: Option<TcpListener>,
    local_addr: SocketAddr,
    settings: ServerSettings,
    connections: Connections,
    /// When each protocol whose socket has closed must have ended (by adapter id; entries for
    /// connections already gone are skipped when they come due).
    protocol_deadlines: BinaryHeap<Reverse<(Instant, ComponentId)>>,
    /// When a graceful shutdown stops whatever is still open (`None` while serving).
    drain_deadline: Option<Instant>,
    /// Set once the drain deadline has passed and everything left was stopped.
    drain_forced: bool,
    accept_paused_until: Option<Instant>,
    /// The `ShutdownMicroprocess` that stopped the server, to pass on.
    pass_on: Option<Ipc>,
}

async fn serve<P>(bound: BoundServer<P>, mut ctx: Context<(), ()>) -> ComponentResult
where
    P: Component<Inbox = Bytes, Outbox: Outgoing>,
{
    let BoundServer { kind: _, factory, listener, local_addr, settings, shared } = bound;
    let mut server = Server {
        name: ctx.name().to_owned(),
        factory,
        listener: Some(listener),
        local_addr,
        settings,
        connections: Connections { by_adapter: HashMap::new(), owner: HashMap::new(), shared: shared.clone() },
        protocol_deadlines: BinaryHeap::new(),
        drain_deadline: None,
        drain_forced: false,
        accept_paused_until: None,
        pass_on: None,
    };
    log::info!("{}: listening on {local_addr}", server.name);
    let mut timer = pin!(tokio::time::sleep_until(Instant::now()));
    while server.drain_deadline.is_none() || !server.connections.by_adapter.is_empty() {
        let next = server.next_deadline();
        if let Some(t) = next {
            if timer.deadline() != t {
                timer.as_mut().reset(t);
            }
        }
        match server.next_wake(&mut ctx, &shared, timer.as_mut(), next.is_some()).await {
            Wake::ShutdownRequested => server.begin_shutdown(),
            Wake::Control(msg) if msg.is_shutdown_microprocess() => {
                if server.drain_deadline.is_none() {
                    server.pass_on = Some(msg);
                    server.begin_shutdown();
                }
            }
            Wake::Control(other) => log::debug!("{}: control message ignored: {other:?}", server.name),
            Wake::Child(exit) => server.child_ended(&mut ctx, exit),
            Wake::Timer => server.deadlines_passed(),
            Wake::Accepted(Ok((stream, peer))) => server.accepted(&mut ctx, stream, peer),
            Wake::Accepted(Err(e)) => {
                log::warn!(
                    "{}: accepting a connection failed: {e}; pausing accepts for {ACCEPT_BACKOFF:?}",
                    server.name
                );
                server.accept_paused_until = Some(Instant::now() + ACCEPT_BACKOFF);
            }
        }
    }
    log::info!("{}: every connection has ended; server stopped", server.name);
    let farewell = server.pass_on.take().unwrap_or_else(|| ProducerFinished::from(ctx.id()).into());
    drop(server); // publishes `ended`
    if ctx.signal.try_send(farewell).is_err() {
        log::debug!("{}: signal destination full; final message dropped", ctx.name());
    }
    Ok(())
}

impl<P: Component<Inbox = Bytes, Outbox: Outgoing>> Server<P> {
    fn next_deadline(&self) -> Option<Instant> {
        let protocol = self.protocol_deadlines.peek().map(|Reverse((t, _))| *t);
        let drain = self.drain_deadline.filter(|_| !self.drain_forced);
        [protocol, drain, self.accept_paused_until].into_iter().flatten().min()
    }

    /// Waits for the next thing to do, in priority order: a shutdown request, a control message,
    /// a child's end, a deadline, a new connection.
    async fn next_wake(
        &mut self,
        ctx: &mut Context<(), ()>,
        shared: &Shared,
        mut timer: Pin<&mut Sleep>,
        timed: bool,
    ) -> Wake {
        let accepting = self.listener.is_some()
            && self.accept_paused_until.is_none()
            && self.connections.by_adapter.len() < self.settings.max_connections;
        let draining = self.drain_deadline.is_some();
        let listener = self.listener.as_ref();
        poll_fn(|cx| {
            if !draining && shared.poll_shutdown(cx) {
                return Poll::Ready(Wake::ShutdownRequested);
            }
            loop {
                match ctx.control.poll_recv(cx) {
                    Poll::Ready(Some(msg)) => return Poll::Ready(Wake::Control(msg)),
                    // Closed: every sender has gone (say the last protocol with a `serversignal`
                    // ended). It opens again if something is linked to it, and a delivery then
                    // rings the component's doorbell, so listen for that instead.
                    Poll::Ready(None) => {
                        if pin!(ctx.pause()).poll(cx).is_pending() {
                            break;
                        }
                    }
                    Poll::Pending => break,
                }
            }
            if let Poll::Ready(Some(exit)) = pin!(ctx.child_exited()).poll(cx) {
                return Poll::Ready(Wake::Child(exit));
            }
            if timed && timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Wake::Timer);
            }
            if accepting {
                if let Some(Poll::Ready(r)) = listener.map(|l| l.poll_accept(cx)) {
                    return Poll::Ready(Wake::Accepted(r));
                }
            }
            Poll::Pending
        })
        .await
    }

    fn publish(&self, change: impl FnOnce(&mut ServerStats)) {
        let open = self.connections.by_adapter.len();
        self.connections.shared.stats.send_modify(|s| {
            change(s);
            s.open = open;
        });
    }

    fn accepted(&mut self, ctx: &mut Context<(), ()>, stream: TcpStream, peer: SocketAddr) {
        let local = stream.local_addr().unwrap_or(self.local_addr);
        let info = ConnectionInfo { peer, local };
        // A factory (or a protocol's `declare`) that panics costs this connection, not the server.
        let factory = &mut self.factory;
        let protocol = match catch_unwind(AssertUnwindSafe(|| ConnectionInfo::serving(info, || factory(&info)))) {
            Ok(p) => p,
            Err(panic) => {
                let why = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a non-text panic payload".to_owned());
                log::error!("{}: the protocol factory panicked for {peer}: {why}; connection closed", self.name);
                self.publish(|s| s.accepted += 1);
                return;
            }
        };
        let adapter =
            Instance::new(ConnectedSocketAdapter::<P::Outbox>::carrying(stream, self.settings.connection.clone()));
        let to_protocol = ctx.add_outbox::<Ipc>(
            "protocolHandlerShutdownSignal",
            "To this connection's protocol: ProducerFinished when its socket has closed, ShutdownMicroprocess when the server shuts down",
        );
        let to_adapter = ctx.add_outbox::<Ipc>(
            "connectedSocketShutdownSignal",
            "To this connection's adapter: ProducerFinished when its protocol has ended",
        );
        if let Err(e) = wire(ctx, &adapter, &protocol, to_protocol.name(), to_adapter.name()) {
            log::error!("{}: cannot wire the connection from {peer}: {e}; connection closed", self.name);
            ctx.unlink_component(adapter.component());
            ctx.unlink_component(protocol.component());
            let _ = ctx.delete_outbox(to_protocol);
            let _ = ctx.delete_outbox(to_adapter);
            self.publish(|s| s.accepted += 1);
            return;
        }
        ctx.add_children([adapter.component(), protocol.component()]);
        // A connection's components (and whatever its protocol starts) share one task: they talk
        // mostly to each other, and then wake each other without a cross-thread wake-up.
        let (adapter, protocol) = ctx.scheduler().together(|| (ctx.activate(adapter), ctx.activate(protocol)));
        log::debug!("{}: connection from {peer}: {} with {}", self.name, adapter.name(), protocol.name());
        let key = adapter.id();
        self.connections.owner.insert(key, key);
        self.connections.owner.insert(protocol.id(), key);
        self.connections.by_adapter.insert(
            key,
            Connection {
                peer,
                adapter,
                protocol,
                to_protocol,
                to_adapter,
                adapter_ended: false,
                protocol_ended: false,
            },
        );
        self.publish(|s| s.accepted += 1);
    }

    fn child_ended(&mut self, ctx: &mut Context<(), ()>, exit: ChildExit) {
        let Some(&key) = self.connections.owner.get(&exit.id) else { return };
        let Some(conn) = self.connections.by_adapter.get_mut(&key) else { return };
        if exit.id == key {
            conn.adapter_ended = true;
            if !conn.protocol_ended {
                // Kamaelia's socketShutdown: the protocol's input has ended. Its `inbox` closes too.
                let closed = ProducerFinished::from(key).with_message("socket closed");
                if conn.to_protocol.try_send(closed.into()).is_err() {
                    log::debug!(
                        "{}: {}'s control is full; socket-closed notice dropped",
                        self.name,
                        conn.protocol.name()
                    );
                }
                let due = Instant::now() + self.settings.protocol_grace;
                self.protocol_deadlines.push(Reverse((due, key)));
            }
        } else {
            conn.protocol_ended = true;
            if !conn.adapter_ended {
                let ended = ProducerFinished::from(exit.id).with_message("protocol ended");
                let _ = conn.to_adapter.try_send(ended.into());
            }
        }
        if conn.adapter_ended && conn.protocol_ended {
            if let Some(conn) = self.connections.by_adapter.remove(&key) {
                self.connections.owner.remove(&conn.adapter.id());
                self.connections.owner.remove(&conn.protocol.id());
                log::debug!("{}: connection from {} closed", self.name, conn.peer);
                let _ = ctx.delete_outbox(conn.to_protocol);
                let _ = ctx.delete_outbox(conn.to_adapter);
            }
            self.publish(|_| {});
        }
    }

    fn begin_shutdown(&mut self) {
        self.listener = None;
        self.drain_deadline = Some(Instant::now() + self.settings.shutdown_grace);
        let open = self.connections.by_adapter.len();
        log::info!(
            "{}: shutting down: no longer accepting; {open} connection(s) have {:?} to finish",
            self.name,
            self.settings.shutdown_grace
        );
        for conn in self.connections.by_adapter.values_mut().filter(|c| !c.protocol_ended) {
            if conn.to_protocol.try_send(ShutdownMicroprocess::new().into()).is_err() {
                log::debug!("{}: {}'s control is full; shutdown request dropped", self.name, conn.protocol.name());
            }
        }
        self.publish(|s| s.listening = false);
    }

    fn deadlines_passed(&mut self) {
        let now = Instant::now();
        let mut stopped = 0;
        while let Some(Reverse((due, key))) = self.protocol_deadlines.peek().copied() {
            if due > now {
                break;
            }
            self.protocol_deadlines.pop();
            if let Some(conn) = self.connections.by_adapter.get(&key).filter(|c| !c.protocol_ended) {
                log::warn!(
                    "{}: protocol {} still running {:?} after its socket closed; stopping it",
                    self.name,
                    conn.protocol.name(),
                    self.settings.protocol_grace
                );
                conn.protocol.stop();
                stopped += 1;
            }
        }
        if self.drain_deadline.is_some_and(|d| d <= now) && !self.drain_forced {
            self.drain_forced = true;
            let left = self.connections.by_adapter.len();
            if left > 0 {
                log::warn!(
                    "{}: {left} connection(s) still open after the shutdown grace period; stopping them",
                    self.name
                );
            }
            for conn in self.connections.by_adapter.values() {
                conn.adapter.stop();
                conn.protocol.stop();
                stopped += 1;
            }
        }
        if self.accept_paused_until.is_some_and(|t| t <= now) {
            self.accept_paused_until = None;
        }
        if stopped > 0 {
            self.publish(|s| s.stopped_after_grace += stopped);
        }
    }
}

/// Wires one connection as Kamaelia's `ServerCore` does (see the table in the module docs).
fn wire<P: Component<Inbox = Bytes, Outbox: Outgoing>>(
    ctx: &Context<(), ()>,
    adapter: &Instance<ConnectedSocketAdapter<P::Outbox>>,
    protocol: &Instance<P>,
    to_protocol: &str,
    to_adapter: &str,
) -> Result<(), LinkError> {
    // Data
    ctx.link((adapter, "outbox"), (protocol, "inbox"))?;
    ctx.link((protocol, "outbox"), (adapter, "inbox"))?;
    // Signalling
    ctx.link((ctx.me(), to_protocol), (protocol, "control"))?;
    ctx.link((ctx.me(), to_adapter), (adapter, "control"))?;
    ctx.link((protocol, "signal"), (adapter, "control"))?;
    // Not in Kamaelia: the adapter tells the protocol when the client half-closes (see
    // `AdapterSettings::finish_after_peer_close`), so the protocol can finish its replies.
    ctx.link((adapter, "signal"), (protocol, "control"))?;
    if protocol.component().has_box(BoxKind::Outbox, "serversignal") {
        if let Err(e) = ctx.link((protocol, "serversignal"), (ctx.me(), "control")) {
            log::warn!("{}: its `serversignal` cannot stop the server: {e}", protocol.name());
        }
    }
    Ok(())
}
