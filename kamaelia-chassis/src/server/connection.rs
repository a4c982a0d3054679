//! One connection: its addresses ([`ConnectionInfo`]), the two components that serve it (the
//! socket's adapter and the protocol), and how the server wires them to each other and to itself.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axon_core::ipc::Ipc;
use axon_core::{BoxKind, Component, ComponentId, ComponentRef, Context, Instance, LinkError, Outbox};

use crate::socket::{Bytes, ConnectedSocketAdapter, Outgoing};

use super::handle::Shared;

/// The addresses of one connection (Kamaelia's `peer`, `peerport`, `localip` and `localport`
/// keyword arguments). A [`ServerCore`](super::ServerCore) hands them to its protocol factory,
/// which passes them on to what it makes, as an argument (the HTTP server puts them on every
/// request: `HTTPServer::for_connection`). A [`SimpleServer`](super::SimpleServer)'s factory may
/// take them too, or no arguments, as in Kamaelia (its protocols are then not told them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectionInfo {
    /// The client's address (`peer` and `peerport`).
    pub peer: SocketAddr,
    /// The server's address for this connection (`localip` and `localport`).
    pub local: SocketAddr,
}

/// Makes each connection's protocol instance.
pub(super) type ProtocolFactory<P> = Box<dyn FnMut(&ConnectionInfo) -> Instance<P> + Send>;

/// One connection: its two components and the server's outboxes to their `control`s.
pub(super) struct Connection {
    pub(super) peer: SocketAddr,
    pub(super) adapter: ComponentRef,
    pub(super) protocol: ComponentRef,
    pub(super) to_protocol: Outbox<Ipc>,
    pub(super) to_adapter: Outbox<Ipc>,
    pub(super) adapter_ended: bool,
    pub(super) protocol_ended: bool,
}

/// The open connections, keyed by their adapter's id. Dropping it (the server's body is dropped
/// when the server is stopped from outside) stops every connection, so none is orphaned.
pub(super) struct Connections {
    pub(super) by_adapter: HashMap<ComponentId, Connection>,
    /// Both components' ids → the adapter's id.
    pub(super) owner: HashMap<ComponentId, ComponentId>,
    pub(super) shared: Arc<Shared>,
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

/// Wires one connection as Kamaelia's `ServerCore` does (see the table in the
/// [module docs](crate::server)).
pub(super) fn wire<P: Component<Inbox = Bytes, Outbox: Outgoing>>(
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
