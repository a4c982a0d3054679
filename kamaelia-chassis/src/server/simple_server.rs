//! [`SimpleServer`] (Kamaelia's `SimpleServer`): a server made from a protocol factory and a
//! port. It binds as a [`ServerCore`].

use std::fmt;

use axon_core::{Component, ComponentResult, Context, Declarations, IntoInstance};

use crate::socket::{Bytes, Outgoing};

use super::connection::ConnectionInfo;
use super::error::ServerError;
use super::server_core::{bind_then_serve, declare_server_boxes, BoundServer, ServerCore};
use super::settings::{ServerSettings, SocketOptions};

/// A server made from a protocol factory and a port (Kamaelia's `SimpleServer`): see the
/// [module docs](crate::server).
///
/// The factory is a function or closure taking no arguments (`|| EchoProtocol`, Kamaelia's
/// usual form), or one taking the connection's addresses
/// (`fn http_protocol(connection: &ConnectionInfo) -> ..`, as Kamaelia's `ServerCore` passed them
/// as keyword arguments): [`SimpleServer::new`] takes either.
///
/// Construct it with [`SimpleServer::new`], or as a struct literal (whose `protocol` is a
/// function of no arguments, or one of the connection wrapped in [`WithConnection`]); then either
/// [`bind`](Self::bind) it and activate the [`BoundServer`], or activate it directly.
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

/// What makes a [`SimpleServer`]'s protocols: a function taking no arguments, or one taking the
/// connection's addresses wrapped in [`WithConnection`] (which [`SimpleServer::new`] does).
pub trait ProtocolFactory: Send + 'static {
    /// What it makes: a protocol component's behaviour, or an instance of one.
    type Protocol: IntoInstance;
    /// Makes the protocol for a connection with the addresses `connection`.
    fn make(&mut self, connection: &ConnectionInfo) -> Self::Protocol;
}

/// A protocol factory taking the connection's addresses.
#[derive(Debug, Clone, Copy)]
pub struct WithConnection<C>(pub C);

impl<C, P> ProtocolFactory for C
where
    C: FnMut() -> P + Send + 'static,
    P: IntoInstance,
{
    type Protocol = P;
    fn make(&mut self, _: &ConnectionInfo) -> P {
        self()
    }
}

impl<C, P> ProtocolFactory for WithConnection<C>
where
    C: FnMut(&ConnectionInfo) -> P + Send + 'static,
    P: IntoInstance,
{
    type Protocol = P;
    fn make(&mut self, connection: &ConnectionInfo) -> P {
        (self.0)(connection)
    }
}

/// A function [`SimpleServer::new`] accepts as its protocol factory. `Shape` (`fn() -> P` or
/// `fn(&ConnectionInfo) -> P`) only tells the two kinds apart; callers never name it.
pub trait IntoProtocolFactory<Shape> {
    /// The factory it becomes.
    type Factory: ProtocolFactory;
    /// Wraps it.
    fn into_protocol_factory(self) -> Self::Factory;
}

impl<C, P> IntoProtocolFactory<fn() -> P> for C
where
    C: FnMut() -> P + Send + 'static,
    P: IntoInstance,
{
    type Factory = C;
    fn into_protocol_factory(self) -> C {
        self
    }
}

impl<C, P> IntoProtocolFactory<fn(&ConnectionInfo) -> P> for C
where
    C: FnMut(&ConnectionInfo) -> P + Send + 'static,
    P: IntoInstance,
{
    type Factory = WithConnection<C>;
    fn into_protocol_factory(self) -> WithConnection<C> {
        WithConnection(self)
    }
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

impl<F> SimpleServer<F>
where
    F: ProtocolFactory,
    <F::Protocol as IntoInstance>::Component: Component<Inbox = Bytes, Outbox: Outgoing>,
{
    /// A server on `port` making each connection's protocol with `protocol` (taking no
    /// arguments, or the connection's addresses), with default socket options and settings.
    pub fn new<S>(protocol: impl IntoProtocolFactory<S, Factory = F>, port: u16) -> Self {
        SimpleServer {
            protocol: protocol.into_protocol_factory(),
            port,
            socket_options: SocketOptions::default(),
            settings: ServerSettings::default(),
        }
    }

    /// Opens the listening socket; see [`ServerCore::bind`].
    pub async fn bind(self) -> Result<BoundServer<<F::Protocol as IntoInstance>::Component>, ServerError> {
        let mut make = self.protocol;
        let core = ServerCore {
            protocol: move |connection: &ConnectionInfo| make.make(connection),
            port: self.port,
            socket_options: self.socket_options,
            settings: self.settings,
        };
        core.bind_named("SimpleServer").await
    }
}

impl<F> Component for SimpleServer<F>
where
    F: ProtocolFactory,
    <F::Protocol as IntoInstance>::Component: Component<Inbox = Bytes, Outbox: Outgoing>,
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
