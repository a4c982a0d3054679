//! [`TCPClient`]: a component that connects to a TCP server; bytes in, bytes out.
//!
//! What arrives on its `inbox` is sent to the server; what the server sends leaves its `outbox`.
//! Put it in a pipeline between a producer and a consumer of [`Bytes`] and it becomes a network
//! hop, as Kamaelia's `Pipeline(ConsoleReader(), TCPClient("127.0.0.1", 1500), ConsoleEchoer())`
//! does (the full program is `examples/echo_client.rs`).
//!
//! # Example
//!
//! Connect to a server (here a one-shot tokio listener) and exchange a line, driving the client
//! through a [`Handle`](axon_core::Handle):
//!
//! ```
//! use axon_core::prelude::*;
//! use axon_core::Exit;
//! use kamaelia_chassis::socket::Bytes;
//! use kamaelia_chassis::tcp_client::TCPClient;
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let port = listener.local_addr()?.port();
//!
//! let mut client = Handle::new(TCPClient::new("127.0.0.1", port), &Scheduler::new());
//! let (mut server_side, _) = listener.accept().await?;
//! client.send(Bytes::from_static(b"hello\n")).await;
//! let mut line = [0; 6];
//! server_side.read_exact(&mut line).await?;
//! server_side.write_all(b"HELLO\n").await?;
//! assert_eq!(client.recv().await, Some(Bytes::from_static(b"HELLO\n")));
//!
//! drop(server_side); // the server closes: the client ends, saying so on signal
//! let farewell = client.recv_signal().await.unwrap();
//! assert!(farewell.is_producer_finished());
//! assert_eq!(client.join().await, Exit::Finished);
//! # Ok(()) }
//! ```
//!
//! # How it works
//!
//! After an optional [`delay`](ClientSettings::delay) it resolves `host` and connects, giving up
//! after [`connect_timeout`](ClientSettings::connect_timeout). Once connected it makes a
//! [`ConnectedSocketAdapter`] its child and passes all four standard boxes through to it
//! (`inbox` and `control` in, `outbox` and `signal` out), then waits for it to end. So data and
//! shutdown messages cross the client in one hop, and everything the adapter does (flushing
//! before closing, back-pressure, send timeout, linger) is what the client does; see
//! [`crate::socket`].
//!
//! Data sent to the client while it is still connecting waits in its `inbox` (bounded, as every
//! inbox), and is written once the connection is made.
//!
//! # Inboxes and outboxes
//!
//! Listed on [`TCPClient`], with what each carries, as Kamaelia lists them on the class.
//!
//! # Shutdown
//!
//! The client ends when its connection ends (the server closed it, it failed, or it was closed
//! on request; see `control` on [`TCPClient`]), after everything received has left its `outbox`,
//! and then sends its last message out of `signal`, so a consumer downstream ends after the data.
//!
//! **If it cannot connect** (the name does not resolve, the connection is refused, or
//! `connect_timeout` passes) it sends a `ProducerFinished` whose message is the error's text
//! (`cannot connect to HOST:PORT: ...`) out of `signal`, so that a pipeline downstream ends in
//! band, and then *fails* with [`TcpClientError`], which its parent and
//! [`Scheduler::run`](axon_core::Scheduler::run) report. `ProducerFinished` rather than
//! `ErrorInformation` because Kamaelia's `TCPClient` reports how it died in its
//! `producerFinished`, and because components that do not know `ErrorInformation` would not end
//! on it. A `ShutdownMicroprocess` while connecting stops it at once (passed on out of
//! `signal`); a `ProducerFinished` while connecting is kept and acted on once connected.
//!
//! # Porting from Kamaelia
//!
//! `TCPClient(host, port, delay=0, connect_timeout=60, wait_for_serverclose=False)` is
//! `TCPClient::new(host, port)` with [`ClientSettings`] (`delay`, `connect_timeout`,
//! `wait_for_serverclose`, plus the adapter's settings). Kamaelia retries a non-blocking connect
//! on every scheduler pass (busy polling); here the connect is awaited. Kamaelia echoes every
//! control message out of `signal` at once, so a downstream consumer could end before the last
//! data arrived; here the final `signal` message follows the data. Kamaelia's `makessl` and
//! `sslready` boxes are not ported.

use std::time::Duration;

use axon_core::ipc::{Ipc, ProducerFinished};
use axon_core::{BoxKind, Component, ComponentResult, Context, Declarations, Instance, Passthrough};
use tokio::net::TcpStream;

use crate::socket::{AdapterSettings, Bytes, ConnectedSocketAdapter, SettingError};

/// How long a connection attempt may take before the client gives up: 60 s (Kamaelia's
/// `connect_timeout`).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

/// A [`TCPClient`]'s settings. [`Default`] gives Kamaelia's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSettings {
    /// How long to wait before connecting (Kamaelia's `delay`; zero by default).
    pub delay: Duration,
    /// How long resolving and connecting may take ([`DEFAULT_CONNECT_TIMEOUT`]).
    pub connect_timeout: Duration,
    /// When true, `ProducerFinished` on `control` (or the `inbox` closing) only closes the
    /// sending side: the client keeps receiving until the server closes, so replies to the last
    /// data sent still arrive. Only `ShutdownMicroprocess` closes it at once. Off by default, as
    /// in Kamaelia.
    pub wait_for_serverclose: bool,
    /// The connection's adapter settings (read buffer size, send timeout, linger, `TCP_NODELAY`).
    pub connection: AdapterSettings,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            delay: Duration::ZERO,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            wait_for_serverclose: false,
            connection: AdapterSettings::default(),
        }
    }
}

/// Why a [`TCPClient`] failed. Callers may match on the variants and read their fields; the
/// wording of the messages may change.
#[derive(Debug, thiserror::Error)]
pub enum TcpClientError {
    /// Resolving the name or connecting failed.
    #[error("cannot connect to {host}:{port}: {source}")]
    Connect {
        /// The host asked for.
        host: String,
        /// The port asked for.
        port: u16,
        /// The operating system's (or resolver's) error.
        source: std::io::Error,
    },
    /// No connection within the timeout.
    #[error("cannot connect to {host}:{port}: no connection within {timeout:?}")]
    ConnectTimeout {
        /// The host asked for.
        host: String,
        /// The port asked for.
        port: u16,
        /// The `connect_timeout` that passed.
        timeout: Duration,
    },
    /// A setting cannot work.
    #[error(transparent)]
    Setting(#[from] SettingError),
}

/// Connects to `host:port`; bytes in, bytes out. See the [module docs](self).
///
/// # Inboxes
///
/// | box       | carries | what arrives                                                                 |
/// |-----------|---------|------------------------------------------------------------------------------|
/// | `inbox`   | `Bytes` | Data to send to the server                                                   |
/// | `control` | `Ipc`   | `ProducerFinished` or `ShutdownMicroprocess`: send what is queued, then close |
///
/// # Outboxes
///
/// | box      | carries | what leaves                                                                   |
/// |----------|---------|-------------------------------------------------------------------------------|
/// | `outbox` | `Bytes` | Data received from the server                                                 |
/// | `signal` | `Ipc`   | When the client ends: `ProducerFinished` whose message says how the connection ended (or why it could not be made), or the `ShutdownMicroprocess` that stopped it |
///
/// With [`wait_for_serverclose`](ClientSettings::wait_for_serverclose), a `ProducerFinished` on
/// `control` closes only the sending side, and the client waits for the server to close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TCPClient {
    /// The server's name or address.
    pub host: String,
    /// The server's port.
    pub port: u16,
    /// Delay, timeouts and connection settings.
    pub settings: ClientSettings,
}

impl TCPClient {
    /// A client for `host:port` with [`ClientSettings::default`] (Kamaelia's `TCPClient(host, port)`).
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        TCPClient { host: host.into(), port, settings: ClientSettings::default() }
    }

    /// The same client with these settings.
    pub fn with_settings(mut self, settings: ClientSettings) -> Self {
        self.settings = settings;
        self
    }
}

impl Component for TCPClient {
    type Inbox = Bytes;
    type Outbox = Bytes;

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .describe(BoxKind::Inbox, "inbox", "Data to send to the server")
            .describe(
                BoxKind::Inbox,
                "control",
                "ProducerFinished or ShutdownMicroprocess: send what is queued, then close",
            )
            .describe(BoxKind::Outbox, "outbox", "Data received from the server")
            .describe(
                BoxKind::Outbox,
                "signal",
                "When the client ends: ProducerFinished whose message says how the connection ended (or why it could \
                 not be made), or the ShutdownMicroprocess that stopped it",
            );
    }

    fn class_name(&self) -> std::borrow::Cow<'static, str> {
        "TCPClient".into()
    }

    async fn main(self, mut ctx: Context<Bytes, Bytes>) -> ComponentResult {
        let TCPClient { host, port, settings } = self;
        let connecting = async {
            settings.connection.validate()?;
            tokio::time::sleep(settings.delay).await;
            match tokio::time::timeout(settings.connect_timeout, TcpStream::connect((host.as_str(), port))).await {
                Ok(Ok(stream)) => Ok(stream),
                Ok(Err(source)) => Err(TcpClientError::Connect { host: host.clone(), port, source }),
                Err(_) => {
                    Err(TcpClientError::ConnectTimeout { host: host.clone(), port, timeout: settings.connect_timeout })
                }
            }
        };
        let mut connecting = std::pin::pin!(connecting);
        let mut finish_when_connected: Option<Ipc> = None;
        let mut control_open = true;
        let connected = loop {
            tokio::select! {
                r = &mut connecting => break r,
                msg = ctx.control.recv(), if control_open => match msg {
                    Some(msg) if msg.is_shutdown_microprocess() || matches!(msg, Ipc::Shutdown(_)) => {
                        log::debug!("{}: stopped while connecting to {host}:{port}", ctx.name());
                        let _ = ctx.signal.try_send(msg);
                        return Ok(());
                    }
                    Some(msg) if msg.is_producer_finished() => {
                        finish_when_connected.get_or_insert(msg);
                    }
                    Some(other) => log::trace!("{}: control message ignored while connecting: {other:?}", ctx.name()),
                    None => control_open = false,
                },
            }
        };
        let stream = match connected {
            Ok(stream) => stream,
            Err(e) => {
                // Logged at `warn` by axon-core when the component fails.
                log::debug!("{}: {e}", ctx.name());
                let _ = ctx.signal.try_send(ProducerFinished::from(ctx.id()).with_message(e.to_string()).into());
                return Err(e.into());
            }
        };
        log::debug!("{}: connected to {host}:{port}", ctx.name());
        let adapter = Instance::new(
            ConnectedSocketAdapter::with_settings(stream, settings.connection.clone())
                .half_close(settings.wait_for_serverclose),
        );
        let me = ctx.me();
        ctx.link_passthrough((me, "inbox"), (&adapter, "inbox"), Passthrough::Inbound)?;
        ctx.link_passthrough((me, "control"), (&adapter, "control"), Passthrough::Inbound)?;
        ctx.link_passthrough((&adapter, "outbox"), (me, "outbox"), Passthrough::Outbound)?;
        ctx.link_passthrough((&adapter, "signal"), (me, "signal"), Passthrough::Outbound)?;
        if let Some(msg) = finish_when_connected {
            // The adapter's `control` is the end of the chain now, and it is not yet running.
            adapter.component().deliver("control", msg)?;
        }
        ctx.add_child(adapter.component());
        ctx.activate(adapter);
        ctx.wait_for_children().await;
        Ok(())
    }
}
