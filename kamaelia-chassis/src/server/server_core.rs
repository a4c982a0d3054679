//! [`ServerCore`] (Kamaelia's `ServerCore`, also `MoreComplexServer`): a server whose protocol
//! factory is told each connection's addresses; binding it; and [`BoundServer`], a server whose
//! socket listens, ready to activate.

use std::fmt;
use std::net::SocketAddr;

use axon_core::ipc::ProducerFinished;
use axon_core::{BoxKind, Component, ComponentResult, Context, Declarations, IntoInstance};
use tokio::net::{TcpListener, TcpSocket};

use crate::socket::{Bytes, Outgoing};

use super::connection::ConnectionInfo;
use super::error::ServerError;
use super::handle::{ServerHandle, Shared};
use super::serve::{serve, Listening};
use super::settings::{ServerSettings, SocketOptions};

/// A server whose protocol factory is told each connection's addresses (Kamaelia's `ServerCore`,
/// also `MoreComplexServer`): see the [module docs](crate::server).
///
/// # Inboxes
///
/// | box       | carries | what arrives                                                                     |
/// |-----------|---------|----------------------------------------------------------------------------------|
/// | `inbox`   | `()`    | NOT USED                                                                         |
/// | `control` | `Ipc`   | `ShutdownMicroprocess`: stop accepting, let connections finish, then end; others are ignored |
///
/// # Outboxes
///
/// | box      | carries | what leaves                                                                       |
/// |----------|---------|-----------------------------------------------------------------------------------|
/// | `outbox` | `()`    | NOT USED                                                                          |
/// | `signal` | `Ipc`   | When the server ends: the `ShutdownMicroprocess` that stopped it, else `ProducerFinished` (with the error's text if it could not bind) |
///
/// For each connection it adds two outboxes, removed when the connection ends:
/// `protocolHandlerShutdownSignal*` and `connectedSocketShutdownSignal*` (`Ipc`, to the
/// protocol's and to the adapter's `control`; a number is appended to a name already taken).
/// See "How it works" in the [module docs](crate::server).
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

impl<F> fmt::Debug for ServerCore<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerCore")
            .field("port", &self.port)
            .field("socket_options", &self.socket_options)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
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

    pub(super) async fn bind_named(self, kind: &'static str) -> Result<BoundServer<P::Component>, ServerError> {
        self.settings.validate()?;
        let address = SocketAddr::new(self.socket_options.listen_address, self.port);
        let listener = listen(address, &self.socket_options)?;
        let local_addr = listener.local_addr().unwrap_or(address);
        let mut make = self.protocol;
        let listening = Listening {
            factory: Box::new(move |info: &ConnectionInfo| make(info).into_instance()),
            listener,
            local_addr,
            settings: self.settings,
            shared: Shared::new(local_addr),
        };
        Ok(BoundServer { kind, listening })
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

/// The boxes every server declares (see the tables on [`ServerCore`]).
pub(super) fn declare_server_boxes(boxes: &mut Declarations) {
    boxes
        .describe(BoxKind::Inbox, "inbox", "NOT USED")
        .describe(
            BoxKind::Inbox,
            "control",
            "ShutdownMicroprocess: stop accepting, let connections finish, then end; others are ignored",
        )
        .describe(BoxKind::Outbox, "outbox", "NOT USED")
        .describe(
            BoxKind::Outbox,
            "signal",
            "When the server ends: the ShutdownMicroprocess that stopped it, else ProducerFinished (with the error's \
             text if it could not bind)",
        );
}

/// Binds when it starts, then serves; a bind failure fails the component.
pub(super) async fn bind_then_serve<P>(
    bound: Result<BoundServer<P>, ServerError>,
    mut ctx: Context<(), ()>,
) -> ComponentResult
where
    P: Component<Inbox = Bytes, Outbox: Outgoing>,
{
    match bound {
        Ok(server) => serve(server.listening, ctx).await,
        Err(e) => {
            // Logged at `warn` by axon-core when the component fails.
            log::debug!("{}: {e}", ctx.name());
            let _ = ctx.signal.try_send(ProducerFinished::from(ctx.id()).with_message(e.to_string()).into());
            Err(e.into())
        }
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

/// A server whose socket is listening: activate it to serve. Made by [`SimpleServer::bind`](super::SimpleServer::bind) or
/// [`ServerCore::bind`]; its component name is `SimpleServer_<id>` or `ServerCore_<id>`.
///
/// # Inboxes
///
/// | box       | carries | what arrives                                                                     |
/// |-----------|---------|----------------------------------------------------------------------------------|
/// | `inbox`   | `()`    | NOT USED                                                                         |
/// | `control` | `Ipc`   | `ShutdownMicroprocess`: stop accepting, let connections finish, then end; others are ignored |
///
/// # Outboxes
///
/// | box      | carries | what leaves                                                                       |
/// |----------|---------|-----------------------------------------------------------------------------------|
/// | `outbox` | `()`    | NOT USED                                                                          |
/// | `signal` | `Ipc`   | When the server ends: the `ShutdownMicroprocess` that stopped it, else `ProducerFinished` (with the error's text if it could not bind) |
///
/// For each connection it adds two outboxes, removed when the connection ends:
/// `protocolHandlerShutdownSignal*` and `connectedSocketShutdownSignal*` (`Ipc`, to the
/// protocol's and to the adapter's `control`; a number is appended to a name already taken).
/// See "How it works" in the [module docs](crate::server).
pub struct BoundServer<P: Component> {
    /// `SimpleServer` or `ServerCore`: its class name.
    kind: &'static str,
    listening: Listening<P>,
}

impl<P: Component> fmt::Debug for BoundServer<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundServer")
            .field("kind", &self.kind)
            .field("local_addr", &self.listening.local_addr)
            .field("settings", &self.listening.settings)
            .finish_non_exhaustive()
    }
}

impl<P: Component> BoundServer<P> {
    /// The address it listens on (with the actual port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.listening.local_addr
    }

    /// A handle to stop it and watch it from outside, valid before and after activation.
    pub fn handle(&self) -> ServerHandle {
        ServerHandle(self.listening.shared.clone())
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
        serve(self.listening, ctx).await
    }
}
