//! A server's settings: how its listening socket is made ([`SocketOptions`]), and its limits and
//! grace periods ([`ServerSettings`]), each with its default and what happens when it is reached.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use crate::socket::{AdapterSettings, Bytes, SettingError};

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

/// What a server does with clients that connect while [`max_connections`](ServerSettings::max_connections)
/// connections are open.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum WhenFull {
    /// Stop accepting until a connection ends: further clients wait in the kernel's listen queue
    /// (its [`backlog`](SocketOptions::backlog) long; past that, the kernel refuses or drops
    /// them), and are served once there is room. The default: nothing is refused, but a client
    /// cannot tell a full server from a slow one.
    #[default]
    Wait,
    /// Go on accepting, and answer each client over the limit with these bytes, then close its
    /// connection (after reading what it sent for at most [`REFUSAL_LINGER`], so that the
    /// answer is not lost to a reset). An HTTP server gives a `503 Service Unavailable` with
    /// `Retry-After` (`kamaelia_http::http_server::busy_response`). No component is made for a
    /// refused client, and at most [`MAX_REFUSING`] are being answered at once (past that, they
    /// are closed at once).
    Refuse(Bytes),
}

/// How long a refused client's connection is kept to read what it sent before it is closed:
/// 100 ms.
pub const REFUSAL_LINGER: Duration = Duration::from_millis(100);

/// How many refused clients are being answered at once, at most: 64.
pub const MAX_REFUSING: usize = 64;

/// A server's limits and grace periods. [`Default`] gives the `DEFAULT_*` values of this module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// The most connections served at once ([`DEFAULT_MAX_CONNECTIONS`]); at least 1.
    pub max_connections: usize,
    /// What clients get while `max_connections` are open ([`WhenFull::Wait`]).
    pub when_full: WhenFull,
    /// How long a graceful shutdown waits for open connections ([`DEFAULT_SHUTDOWN_GRACE`]).
    pub shutdown_grace: Duration,
    /// How long a protocol may outlive its socket ([`DEFAULT_PROTOCOL_GRACE`]).
    pub protocol_grace: Duration,
    /// Settings of each connection's [`ConnectedSocketAdapter`](crate::socket::ConnectedSocketAdapter) (read buffer size, send
    /// timeout, linger, `TCP_NODELAY`).
    pub connection: AdapterSettings,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            when_full: WhenFull::Wait,
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
