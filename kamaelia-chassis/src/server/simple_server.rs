//! [`SimpleServer`] (Kamaelia's `SimpleServer`): a server whose protocol factory takes no
//! arguments. It binds as a [`ServerCore`] whose factory ignores the connection's addresses.

use std::fmt;

use axon_core::{Component, ComponentResult, Context, Declarations, IntoInstance};

use crate::socket::{Bytes, Outgoing};

use super::connection::ConnectionInfo;
use super::error::ServerError;
use super::server_core::{bind_then_serve, declare_server_boxes, BoundServer, ServerCore};
use super::settings::{ServerSettings, SocketOptions};

/// A server whose protocol factory takes no arguments (Kamaelia's `SimpleServer`): see the
/// [module docs](crate::server).
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

impl<F> fmt::Debug for SimpleServer<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimpleServer")
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
