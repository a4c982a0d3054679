//! The connected-socket adapter: one component per TCP connection, bytes in and bytes out.
//!
//! [`ConnectedSocketAdapter`] owns a connected [`TcpStream`]. What the peer sends leaves its
//! `outbox` as [`Bytes`] chunks; what arrives on its `inbox` is written to the peer. A shutdown
//! request on `control` makes it write everything already queued in its `inbox`, then close the
//! socket. [`ServerCore`](crate::server::ServerCore) makes one per accepted connection and wires
//! it to a protocol component; [`TCPClient`](crate::tcp_client::TCPClient) makes one for the
//! connection it opens.
//!
//! # Example
//!
//! Talk to a peer through an adapter driven by a [`Handle`](axon_core::Handle) (a real socket
//! pair on 127.0.0.1):
//!
//! ```
//! use axon_core::prelude::*;
//! use kamaelia_chassis::socket::{Bytes, ConnectedSocketAdapter};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let mut peer = tokio::net::TcpStream::connect(listener.local_addr()?).await?;
//! let (ours, _) = listener.accept().await?;
//!
//! let mut csa = Handle::new(ConnectedSocketAdapter::new(ours), &Scheduler::new());
//! peer.write_all(b"ping").await?;
//! assert_eq!(csa.recv().await, Some(Bytes::from_static(b"ping")));
//!
//! csa.send(Bytes::from_static(b"pong")).await;
//! csa.send_control(ProducerFinished::new()).await; // flush what is queued, then close
//! let mut reply = Vec::new();
//! peer.read_to_end(&mut reply).await?; // every byte, then end of stream
//! assert_eq!(reply, b"pong");
//! drop(peer); // the adapter lingers until the peer closes too (see "How it works")
//! assert!(csa.recv_signal().await.unwrap().is_producer_finished());
//! # Ok(()) }
//! ```
//!
//! # How it works
//!
//! On a scheduler with a runtime per thread
//! ([`Scheduler::per_thread`](axon_core::Scheduler::per_thread)) the adapter first moves its
//! socket to the runtime of the thread it runs on (a server accepts on one thread and gives
//! connections to each in turn), so that the socket's readiness wakes that thread directly.
//!
//! The body splits the stream and runs two loops side by side, so neither direction waits for
//! the other (an echo protocol whose reply waits for room in the adapter's `inbox` while the
//! adapter waits for room in the protocol's `inbox` would otherwise deadlock):
//!
//! * **Receiving.** Wait until the destination of `outbox` has room and the socket is readable,
//!   then read at most [`AdapterSettings::read_buffer_size`] bytes, send them out of `outbox`,
//!   repeat. While the destination is full the adapter reads nothing and holds no buffer, so
//!   what the peer sends waits in the kernel and TCP flow control slows the peer down: a slow
//!   protocol holds back its client, and no buffer grows. What the adapter reads ahead of its
//!   protocol is so at most the destination's capacity in chunks. End of stream or a read error
//!   ends the adapter.
//! * **Read buffers.** An idle connection holds no read buffer: the adapter waits for the socket
//!   to become readable with none, and only then allocates one, reads into it, and hands it on
//!   (the chunk sent out of `outbox` is that buffer). The size of each buffer adapts, as hyper's
//!   does: it starts at [`AdapterSettings::min_read_size`], doubles after each read that fills it
//!   (up to `read_buffer_size`, so a flowing stream is read in chunks of that size), and halves
//!   after two reads in a row that used less than half of it. A client that sends a small request
//!   and then waits therefore costs a small buffer while its request is handled and none while it
//!   is idle. After waiting for room the size starts again from the smallest: a protocol that is
//!   behind gets small chunks, so that the chunks waiting for it are small.
//! * **Sending.** Take the next message from `inbox` and write all of it, then the next
//!   (messages already queued go out together, in one vectored write). A file region (an
//!   adapter [`carrying`](ConnectedSocketAdapter::carrying) [`Payload`]) is sent with
//!   `sendfile`, at most [`SENDFILE_MAX_CHUNK`](crate::payload::SENDFILE_MAX_CHUNK) bytes
//!   before the thread's other work gets a turn; see [`payload`](crate::payload). The
//!   `inbox` is looked at before `control`, so a protocol that sends its last data and then
//!   `ProducerFinished` has its data written first. A [`Receipt`] (a [`Payload::Receipt`])
//!   writes nothing: the adapter signs it once every payload before it has been handed to the
//!   kernel, which is how the protocol learns what its peer has taken (see
//!   [`receipt`](crate::receipt)). When a shutdown request does arrive, the
//!   messages already queued in `inbox` are written (those sent before the request), and only
//!   then is the socket closed. A write that makes no progress for
//!   [`AdapterSettings::send_timeout`] ends the adapter (a peer that stopped reading).
//!
//! Closing after a shutdown request is a *graceful* close: the sending direction is shut down
//! (the peer reads every byte, then end of stream), and the adapter then reads and discards
//! what the peer still sends, until the peer closes too or [`AdapterSettings::linger`] passes.
//! Closing a socket that still has unread input makes the kernel send a reset, and a reset can
//! destroy data the peer has received but not yet read; lingering avoids that (as web servers'
//! "lingering close" does).
//!
//! # Inboxes and outboxes
//!
//! Listed on [`ConnectedSocketAdapter`], with what each carries, as Kamaelia lists them on the
//! class.
//!
//! # Shutdown
//!
//! The adapter ends, closing the socket, when:
//! * the peer closes its side or the connection fails (nothing more is written);
//! * a shutdown request arrives on `control` (queued data is written first, then a graceful close);
//! * its `inbox` closes, i.e. the protocol that fed it has ended (a graceful close: nothing was
//!   left to write);
//! * it is stopped ([`ComponentRef::stop`](axon_core::ComponentRef::stop)): the socket is dropped at once.
//!
//! With [`half_close`](ConnectedSocketAdapter::half_close) set, a `ProducerFinished` (or the
//! `inbox` closing) only shuts down the sending direction: the adapter keeps receiving until the
//! peer closes, or until a `ShutdownMicroprocess` arrives. [`TCPClient`](crate::tcp_client::TCPClient)
//! uses this for its `wait_for_serverclose` setting.
//!
//! Network errors are how connections end, not failures of the adapter: it always ends with
//! `Ok(())` and says why in its last `signal` message (logged at `debug`).
//!
//! # Limitations
//!
//! By default a peer that shuts down only its sending direction (a half-close) ends the adapter,
//! as in Kamaelia; with [`AdapterSettings::finish_after_peer_close`] (which servers set) the
//! adapter instead tells the component feeding it and sends its remaining replies first. There is
//! no TLS (Kamaelia's `makessl` box is not ported).
//!
//! # Porting from Kamaelia
//!
//! Kamaelia's `ConnectedSocketAdapter(sock, selectorService)` waits for readiness messages from
//! the `Selector` service (`ReadReady`, `SendReady` boxes); here tokio's reactor does that job, so
//! those boxes, `_selectorSignal`, `makessl` and `sslready` do not exist. Kamaelia tells its
//! creator that the socket closed with `socketShutdown` on `CreatorFeedback`; here the creator is
//! the adapter's parent and hears of its end directly ([`Context::child_exited`](axon_core::Context::child_exited)),
//! so `CreatorFeedback` does not exist either. Differences in behaviour, on purpose:
//! * Kamaelia makes at most one non-blocking send attempt after `producerFinished` and discards
//!   what is left (its docstring says it flushes). This adapter writes everything queued before
//!   closing.
//! * Kamaelia keeps a chunk its `outbox` could not deliver in `couldnt_send` and retries on later
//!   passes; here sending simply waits for room, and nothing more is read meanwhile, so TCP flow
//!   control passes the back-pressure on to the peer.
//! * Kamaelia's send-error path crashed the process (`NameError` on an undefined name); here a
//!   failed write ends this adapter alone.

use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;

use axon_core::ipc::{Ipc, ProducerFinished};
use axon_core::tuning::{self, InboxTuning};
use axon_core::{BoxKind, Component, ComponentResult, Context, Declarations, Inbox, Outbox};
use bytes::{BufMut, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

/// The type of data on the wire: a cheaply cloneable, sliceable byte buffer (re-exported from the
/// `bytes` crate so that protocol components need no extra dependency).
pub use bytes::Bytes;

pub use crate::payload::{FileRegion, Outgoing, Payload};
pub use crate::receipt::{Receipt, Written};

/// How many bytes an adapter reads at most in one go, and so the largest chunk it sends out of
/// `outbox`: 32 KiB, Kamaelia's `recv(32768)`. Larger reads mean fewer, bigger messages; the
/// memory an adapter can hold is about this times the capacity of its destination inbox.
pub const DEFAULT_READ_BUFFER_SIZE: usize = 32 * 1024;

/// The size of an adapter's first read buffer, and the smallest its adaptive read size shrinks
/// to: 4 KiB (a page; an HTTP request head usually fits). See "How it works" in the
/// [module docs](self).
pub const DEFAULT_MIN_READ_SIZE: usize = 4 * 1024;

/// How long a write may make no progress before the adapter gives up on the peer and ends:
/// 60 s (nginx's `send_timeout`). A peer that stops reading would otherwise hold a connection,
/// and the protocol writing to it, for ever.
pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(60);

/// How many messages may wait in an adapter's `inbox` to be written: 16. A protocol sending
/// faster than the peer reads waits (its `send` blocks) once this many are queued, so what a
/// connection buffers for writing is bounded by this times the size of the messages its protocol
/// sends (the HTTP server sends at most 64 KiB at a time: 1 MiB).
pub const DEFAULT_WRITE_QUEUE: usize = 16;

/// How long an adapter that closes first keeps reading (and discarding) the peer's input after
/// shutting down its sending direction: 2 s. See "How it works" in the [module docs](self).
pub const DEFAULT_LINGER: Duration = Duration::from_secs(2);

/// Settings of one connection's adapter. [`Default`] gives the `DEFAULT_*` values of this module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterSettings {
    /// The most bytes read at once, and so the largest chunk sent out of `outbox`
    /// ([`DEFAULT_READ_BUFFER_SIZE`]). Must be at least 1.
    pub read_buffer_size: usize,
    /// The size of the first read buffer, and the smallest the adaptive read size shrinks to
    /// ([`DEFAULT_MIN_READ_SIZE`]). Must be at least 1; a value above `read_buffer_size` is
    /// lowered to it (every read is then `read_buffer_size`).
    pub min_read_size: usize,
    /// How long a write may make no progress before the connection is dropped
    /// ([`DEFAULT_SEND_TIMEOUT`]); `None` waits for ever.
    pub send_timeout: Option<Duration>,
    /// How long to drain the peer's input after a graceful close ([`DEFAULT_LINGER`]); zero
    /// closes at once (and may make the kernel reset the connection if input is pending).
    pub linger: Duration,
    /// Sets `TCP_NODELAY` (no Nagle delay for small writes). Off by default for an adapter made
    /// by hand; servers turn it on for their connections (see `ServerSettings`).
    pub nodelay: bool,
    /// The capacity of the adapter's `inbox`, in messages ([`DEFAULT_WRITE_QUEUE`]); at least 1.
    pub write_queue: usize,
    /// What to do when the peer shuts down its sending side (a half-close: `printf .. | nc -N`,
    /// an HTTP client that sends its request and then `shutdown(SHUT_WR)`). `None` (the default,
    /// Kamaelia's behaviour): the connection ends at once. `Some(grace)`: the adapter tells the
    /// component feeding it, with a `ProducerFinished` out of its `signal`, and keeps writing what
    /// that component still sends until it says it has finished (a shutdown request on
    /// `control`, or its `inbox` closing); then it closes. `grace` bounds only a stretch in which
    /// that component neither finishes nor sends anything: a reply still being written goes on
    /// for as long as the peer reads it (a write that stalls is bounded by `send_timeout`). A
    /// reply cut by the grace is logged as a warning. Servers turn this on for their
    /// connections, so that replies to a half-closed client are never dropped.
    pub finish_after_peer_close: Option<Duration>,
}

impl Default for AdapterSettings {
    fn default() -> Self {
        AdapterSettings {
            read_buffer_size: DEFAULT_READ_BUFFER_SIZE,
            min_read_size: DEFAULT_MIN_READ_SIZE,
            send_timeout: Some(DEFAULT_SEND_TIMEOUT),
            linger: DEFAULT_LINGER,
            nodelay: false,
            write_queue: DEFAULT_WRITE_QUEUE,
            finish_after_peer_close: None,
        }
    }
}

/// A setting that cannot work. Callers may match on the fields; the wording may change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid setting `{name}` = {value}: {reason}")]
pub struct SettingError {
    /// The setting's name.
    pub name: &'static str,
    /// The value given, as text.
    pub value: String,
    /// What a valid value looks like.
    pub reason: &'static str,
}

impl AdapterSettings {
    /// Checks that the settings can work (read buffers of at least one byte, room for one
    /// queued message).
    pub fn validate(&self) -> Result<(), SettingError> {
        if self.write_queue == 0 {
            return Err(SettingError {
                name: "write_queue",
                value: "0".to_owned(),
                reason: "an adapter must be able to queue at least one message to write",
            });
        }
        if self.read_buffer_size == 0 {
            return Err(SettingError {
                name: "read_buffer_size",
                value: "0".to_owned(),
                reason: "an adapter must be able to read at least one byte at a time",
            });
        }
        if self.min_read_size == 0 {
            return Err(SettingError {
                name: "min_read_size",
                value: "0".to_owned(),
                reason: "an adapter must be able to read at least one byte at a time",
            });
        }
        Ok(())
    }
}

/// One TCP connection as a component: see the [module docs](self).
///
/// `T` is what its `inbox` carries: [`Bytes`] (the default, made by [`new`](Self::new) and
/// [`with_settings`](Self::with_settings)), or any other [`Outgoing`] type, such as [`Payload`]
/// for bytes and file regions ([`carrying`](Self::carrying)).
///
/// # Inboxes
///
/// | box       | carries | what arrives                                                                  |
/// |-----------|---------|-------------------------------------------------------------------------------|
/// | `inbox`   | `T`     | Data to send to the peer, written in order                                    |
/// | `control` | `Ipc`   | `ProducerFinished` or `ShutdownMicroprocess`: write what is queued in `inbox`, then close |
///
/// # Outboxes
///
/// | box      | carries | what leaves                                                                   |
/// |----------|---------|-------------------------------------------------------------------------------|
/// | `outbox` | `Bytes` | Data received from the peer                                                   |
/// | `signal` | `Ipc`   | When the connection ends: `ProducerFinished` saying how (or the `ShutdownMicroprocess` that ended it) |
///
/// File regions on `inbox` ([`Payload`]) are sent by the kernel. A `Shutdown` on `control` closes
/// as the other two do; other control messages are ignored. What leaves `outbox` comes in chunks
/// of at most [`read_buffer_size`](AdapterSettings::read_buffer_size) bytes. When the adapter
/// ends, `signal` passes on the `ShutdownMicroprocess` that stopped it, or else sends a
/// `ProducerFinished` whose message says how the connection ended.
pub struct ConnectedSocketAdapter<T = Bytes> {
    stream: TcpStream,
    settings: AdapterSettings,
    half_close: bool,
    carries: std::marker::PhantomData<fn(T)>,
}

impl<T> fmt::Debug for ConnectedSocketAdapter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectedSocketAdapter")
            .field("stream", &self.stream)
            .field("settings", &self.settings)
            .field("half_close", &self.half_close)
            .field("carries", &std::any::type_name::<T>())
            .finish()
    }
}

impl ConnectedSocketAdapter {
    /// An adapter for `stream` whose `inbox` carries [`Bytes`], with [`AdapterSettings::default`].
    pub fn new(stream: TcpStream) -> Self {
        Self::with_settings(stream, AdapterSettings::default())
    }

    /// An adapter for `stream` whose `inbox` carries [`Bytes`], with these settings. A
    /// `read_buffer_size` or `min_read_size` of 0 is raised to 1 (see
    /// [`AdapterSettings::validate`] to refuse it instead), and a `min_read_size` above
    /// `read_buffer_size` is lowered to it.
    pub fn with_settings(stream: TcpStream, settings: AdapterSettings) -> Self {
        Self::carrying(stream, settings)
    }
}

impl<T: Outgoing> ConnectedSocketAdapter<T> {
    /// An adapter for `stream` whose `inbox` carries `T`, with these settings (adjusted as
    /// [`with_settings`](ConnectedSocketAdapter::with_settings) says): with `T` = [`Payload`],
    /// it takes file regions as well as bytes, and sends the regions with `sendfile`.
    ///
    /// ```
    /// # use kamaelia_chassis::socket::{AdapterSettings, ConnectedSocketAdapter, Payload};
    /// # async fn f(stream: tokio::net::TcpStream) {
    /// let adapter = ConnectedSocketAdapter::<Payload>::carrying(stream, AdapterSettings::default());
    /// # }
    /// ```
    pub fn carrying(stream: TcpStream, mut settings: AdapterSettings) -> Self {
        settings.read_buffer_size = settings.read_buffer_size.max(1);
        settings.min_read_size = settings.min_read_size.clamp(1, settings.read_buffer_size);
        settings.write_queue = settings.write_queue.max(1);
        ConnectedSocketAdapter { stream, settings, half_close: false, carries: std::marker::PhantomData }
    }

    /// When true, `ProducerFinished` (or the `inbox` closing) shuts down only the sending
    /// direction, and the adapter keeps receiving until the peer closes or a
    /// `ShutdownMicroprocess` arrives. Off by default (Kamaelia closes both directions).
    pub fn half_close(mut self, half_close: bool) -> Self {
        self.half_close = half_close;
        self
    }
}

/// Why an adapter stopped: the text of its last `signal` message.
#[derive(Debug)]
enum Ending {
    /// End of stream from the peer.
    PeerClosed,
    /// Reading failed (typically a reset).
    ReadFailed(io::Error),
    /// Writing failed.
    WriteFailed(io::Error),
    /// A file region could not be sent: its file ended early or could not be read.
    FileFailed(io::Error),
    /// A write made no progress for this long.
    SendTimedOut(Duration),
    /// A shutdown request arrived on `control`; queued data was written.
    Requested(Ipc),
    /// The `inbox` closed: whoever fed it has ended.
    InboxClosed,
}

impl Ending {
    /// True when the adapter closes first, with nothing wrong: a graceful close follows.
    fn closes_gracefully(&self) -> bool {
        matches!(self, Ending::Requested(_) | Ending::InboxClosed)
    }
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ending::PeerClosed => f.write_str("the peer closed the connection"),
            Ending::ReadFailed(e) => write!(f, "reading from the peer failed: {e}"),
            Ending::WriteFailed(e) => write!(f, "writing to the peer failed: {e}"),
            Ending::FileFailed(e) => write!(f, "sending a file region failed, connection dropped: {e}"),
            Ending::SendTimedOut(t) => write!(f, "the peer read nothing for {t:?}; connection dropped"),
            Ending::Requested(m) => write!(f, "closed on request ({})", request_name(m)),
            Ending::InboxClosed => f.write_str("closed: the sender of the data to write has ended"),
        }
    }
}

fn request_name(m: &Ipc) -> &'static str {
    match m {
        Ipc::ProducerFinished(_) => "ProducerFinished",
        Ipc::ShutdownMicroprocess(_) => "ShutdownMicroprocess",
        Ipc::Shutdown(_) => "Shutdown",
        _ => "other",
    }
}

impl<T: Outgoing> Component for ConnectedSocketAdapter<T> {
    type Inbox = T;
    type Outbox = Bytes;

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .capacity("inbox", Some(self.settings.write_queue))
            .describe(BoxKind::Inbox, "inbox", "Data to send to the peer, written in order")
            .describe(
                BoxKind::Inbox,
                "control",
                "ProducerFinished or ShutdownMicroprocess: write what is queued in inbox, then close",
            )
            .describe(BoxKind::Outbox, "outbox", "Data received from the peer")
            .describe(
                BoxKind::Outbox,
                "signal",
                "When the connection ends: ProducerFinished saying how (or the ShutdownMicroprocess that ended it)",
            );
    }

    fn class_name(&self) -> std::borrow::Cow<'static, str> {
        "ConnectedSocketAdapter".into()
    }

    // Not `async fn`: its arguments would be stored twice in the future (once as captured, once
    // as moved into the body's locals), and the future is allocated for the connection's life.
    #[allow(clippy::manual_async_fn)]
    fn main(self, mut ctx: Context<T, Bytes>) -> impl std::future::Future<Output = ComponentResult> + Send {
        async move {
            let settings = &self.settings;
            // On a scheduler with a runtime per thread, the socket may have been made on another
            // thread's runtime (a server accepts on one thread and hands its connections to each
            // in turn): it moves to this thread's, so that its readiness wakes this thread rather
            // than passing through the other on every read and write.
            let stream = if ctx.scheduler().threads().is_some() {
                match self.stream.into_std().and_then(TcpStream::from_std) {
                    Ok(stream) => stream,
                    Err(e) => {
                        log::warn!("{}: cannot move the socket to this thread's runtime: {e}; closed", ctx.name());
                        let farewell = ProducerFinished::from(ctx.id()).with_message(format!("socket unusable: {e}"));
                        let _ = ctx.signal.try_send(farewell.into());
                        return Ok(());
                    }
                }
            } else {
                self.stream
            };
            if settings.nodelay {
                if let Err(e) = stream.set_nodelay(true) {
                    log::debug!("{}: cannot set TCP_NODELAY: {e}", ctx.name());
                }
            }
            // An address, not its text: kept for the connection's life, for one log line.
            let peer = stream.peer_addr().ok();
            let peer = PeerName(peer);
            log::debug!("{}: connected to {peer}", ctx.name());
            let (mut rd, mut wr) = stream.into_split();
            let ending = serve(&mut rd, &mut wr, &mut ctx, settings, self.half_close).await;
            if ending.closes_gracefully() {
                // On the heap: only a closing connection needs it.
                Box::pin(close_gracefully(&mut rd, &mut wr, settings.linger)).await;
            }
            drop((rd, wr));
            if let Ending::FileFailed(_) = ending {
                // The server's side is at fault (a file shrank or failed), not the network.
                log::warn!("{}: connection to {peer} ended: {ending}", ctx.name());
            } else {
                log::debug!("{}: connection to {peer} ended: {ending}", ctx.name());
            }
            let farewell = match ending {
                Ending::Requested(m) if m.is_shutdown_microprocess() => m,
                other => ProducerFinished::from(ctx.id()).with_message(other.to_string()).into(),
            };
            // Not `send().await`: an adapter must end even if nobody reads its signal.
            if ctx.signal.try_send(farewell).is_err() {
                log::debug!("{}: signal destination full; final message dropped", ctx.name());
            }
            Ok(())
        }
    }
}

/// The peer's address for the log, or that it is unknown.
struct PeerName(Option<std::net::SocketAddr>);

impl fmt::Display for PeerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(a) => write!(f, "{a}"),
            None => f.write_str("an unknown peer"),
        }
    }
}

/// Receives and sends until the connection ends; says why.
async fn serve<T: Outgoing>(
    rd: &mut OwnedReadHalf,
    wr: &mut OwnedWriteHalf,
    ctx: &mut Context<T, Bytes>,
    settings: &AdapterSettings,
    half_close: bool,
) -> Ending {
    let me = ctx.me().clone();
    let Context { inbox, control, outbox, signal, .. } = ctx;
    let receiving = receive(rd, outbox, ReadSize::new(settings.min_read_size, settings.read_buffer_size));
    let activity = Activity::default();
    let how = Sending { settings, half_close, activity: &activity };
    let sending = send(wr, inbox, control, &how);
    tokio::pin!(receiving, sending);
    let received = tokio::select! {
        // In order (no random start, which costs a random number every poll): the sending side
        // first, so that its ending is the one reported when both have ended.
        biased;
        ending = &mut sending => return ending,
        ending = &mut receiving => ending,
    };
    let grace = match (&received, settings.finish_after_peer_close) {
        (Ending::PeerClosed, Some(grace)) => grace,
        _ => return received,
    };
    drop(received);
    // The peer has finished sending, but may still be reading: tell the component feeding us,
    // and keep writing what it sends (the same `sending` future, so a chunk being written is
    // never cut) until it has finished.
    let note = ProducerFinished::from(me.id()).with_message("the peer closed its sending side");
    if signal.try_send(note.into()).is_err() {
        log::debug!("{}: signal destination full; peer-closed notice dropped", me.name());
    }
    // Writing goes on for as long as the peer reads (a large reply to a half-closed client that
    // reads slowly reaches it whole: a write that stalls is bounded by `send_timeout`, as ever).
    // `grace` bounds only a stretch in which the component feeding us neither finishes nor sends
    // anything. (On the heap: only after a half-close.)
    let mut quiet = Box::pin(tokio::time::sleep(grace));
    let at_close = activity.written.load(Ordering::Relaxed);
    let mut seen = at_close;
    loop {
        tokio::select! {
            biased;
            ending = &mut sending => return ending,
            () = quiet.as_mut() => {}
        }
        let written = activity.written.load(Ordering::Relaxed);
        if written == seen && !activity.writing.load(Ordering::Relaxed) {
            break;
        }
        seen = written;
        quiet.as_mut().reset(tokio::time::Instant::now() + grace);
    }
    if seen != at_close {
        log::warn!(
            "{}: a reply was cut: the peer closed its sending side, and the component sending to it stopped for \
             {grace:?} without finishing",
            me.name()
        );
    } else {
        log::debug!("{}: the peer closed its sending side and nothing was sent for {grace:?}; closing", me.name());
    }
    Ending::PeerClosed
}

/// The adaptive size of the next read buffer (see "How it works" in the module docs): starts
/// at `min`, doubles after a read that fills the buffer, halves after two reads in a row that
/// used less than half of it, and stays within `min..=max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ReadSize {
    next: usize,
    min: usize,
    max: usize,
    /// The previous read used less than half of its buffer.
    was_small: bool,
}

impl ReadSize {
    fn new(min: usize, max: usize) -> Self {
        let min = min.clamp(1, max.max(1));
        ReadSize { next: min, min, max: max.max(min), was_small: false }
    }

    /// The destination was full: back to the smallest read.
    fn behind(&mut self) {
        self.next = self.min;
        self.was_small = false;
    }

    /// Adjusts the size after a read of `n` bytes into a buffer of `self.next` bytes.
    fn record(&mut self, n: usize) {
        if n >= self.next {
            self.next = self.next.saturating_mul(2).min(self.max);
            self.was_small = false;
        } else if n < self.next / 2 {
            if self.was_small {
                self.next = (self.next / 2).max(self.min);
                self.was_small = false;
            } else {
                self.was_small = true;
            }
        } else {
            self.was_small = false;
        }
    }
}

/// Reads from the peer and sends each chunk out of `outbox` until the stream ends or fails.
///
/// No buffer is held while waiting for the socket: each read allocates one of the adaptive
/// size once the socket is readable, and the chunk sent on is that buffer, frozen. An idle
/// connection so costs no read buffer at all.
async fn receive(rd: &mut OwnedReadHalf, outbox: &mut Outbox<Bytes>, mut size: ReadSize) -> Ending {
    loop {
        // Not `rd.readable()`: its future is 168 bytes, this one 16, and the adapter's future is
        // kept for the connection's life.
        if let Err(e) = poll_fn(|cx| rd.as_ref().poll_read_ready(cx)).await {
            return Ending::ReadFailed(e);
        }
        // Then room: while the protocol is behind, nothing is read, and no buffer is held (the
        // bytes wait in the kernel, and TCP slows the peer down). A protocol that was behind is
        // then given the smallest chunk, so that what waits for it stays small. (Readiness
        // first: by the time the next bytes come, the protocol has usually taken the last ones,
        // and the adapter is not woken once more just to learn that there is room.)
        if outbox.is_full() {
            outbox.ready().await;
            size.behind();
        }
        let mut buf = BytesMut::with_capacity(size.next);
        // One read through `AsyncRead`, not `try_read_buf`: after a read that leaves room in the
        // buffer (a whole request, typically) tokio forgets the readiness, so the next turn
        // waits for the socket instead of making a `recv` that can only say "would block": one
        // system call per request rather than two. Should the readiness have been stale, the
        // read is not waited for here (the buffer would be held while idle): back to the wait.
        let read = poll_fn(|cx| {
            let mut limited = BufMut::limit(&mut buf, size.next);
            let read = std::pin::pin!(rd.read_buf(&mut limited));
            match read.poll(cx) {
                Poll::Ready(result) => Poll::Ready(Some(result)),
                Poll::Pending => Poll::Ready(None),
            }
        })
        .await;
        match read {
            None => {}
            Some(Ok(0)) => return Ending::PeerClosed,
            Some(Ok(n)) => {
                size.record(n);
                outbox.send(buf.freeze()).await;
            }
            Some(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
            Some(Err(e)) => return Ending::ReadFailed(e),
        }
    }
}

/// Writes what arrives on `inbox` until a shutdown request (after writing what was queued
/// before it), the `inbox` closing, or a failed write.
async fn send<T: Outgoing>(
    wr: &mut OwnedWriteHalf,
    inbox: &mut Inbox<T>,
    control: &mut Inbox<Ipc>,
    how: &Sending<'_>,
) -> Ending {
    let Sending { settings, half_close, activity } = *how;
    let mut control_open = true;
    loop {
        // Only what is waited for is chosen here, and everything else done after: this future is
        // part of the adapter's for the connection's life, at the size of its largest state.
        let next = tokio::select! {
            // Data before control: what the protocol sent before its shutdown request is written.
            biased;
            data = inbox.recv() => match data {
                Some(data) => Next::Data(data.into()),
                None => Next::InboxClosed,
            },
            msg = control.recv(), if control_open => match msg {
                Some(msg) if msg.is_shutdown_request() => Next::Request(msg),
                Some(other) => {
                    log::trace!("control message ignored: {other:?}");
                    continue;
                }
                None => {
                    control_open = false;
                    continue;
                }
            },
        };
        let data = match next {
            Next::Data(data) => data,
            // On the heap, as every way to the end: each happens once.
            Next::InboxClosed if half_close => return Box::pin(half_closed(wr, control, control_open)).await,
            Next::InboxClosed => return Ending::InboxClosed,
            Next::Request(msg) => return Box::pin(finish_on_request(wr, inbox, control, msg, how, control_open)).await,
        };
        // Whatever else is already queued goes out in the same (vectored) write. (Room for a few
        // from the start: a response and the receipt behind it, say, in one allocation.)
        let mut batch = VecDeque::with_capacity(BATCH_ROOM);
        batch.push_back(data);
        while batch.len() < MAX_BATCH {
            match inbox.try_recv() {
                Ok(more) => batch.push_back(more.into()),
                Err(_) => break,
            }
        }
        // `write_batch`'s two steps, written out: its future would be part of this one (kept for
        // the connection's life) at the size of the batch, and boxing it would cost an allocation
        // per write.
        activity.writing.store(true, Ordering::Relaxed);
        let written = write_now(wr, &mut batch, activity);
        let failed = match written {
            Ok(Progress::Done) => None,
            // On the heap: waiting for room is needed only while the peer is slower than we are
            // (or a large file is being sent).
            Ok(progress) => Box::pin(write_rest(wr, batch, progress, settings.send_timeout, activity)).await.err(),
            Err(e) => Some(e),
        };
        activity.writing.store(false, Ordering::Relaxed);
        if let Some(e) = failed {
            return e;
        }
        if inbox.is_empty() {
            // Waiting for the next response (perhaps for long, on an idle connection) keeps no
            // more queue buffer than a few messages' worth: enough that a response of a few
            // pieces, the usual case, allocates none.
            inbox.shrink_to(tuning::FIRST_BUFFER_ROOM);
        }
    }
}

/// How the sending side works: the settings, the half-close mode, and where it notes what it did.
#[derive(Clone, Copy)]
struct Sending<'a> {
    settings: &'a AdapterSettings,
    half_close: bool,
    activity: &'a Activity,
}

/// What the sending side has done, watched while a half-closed peer is still reading (see
/// `serve`): two counters beside the writes, not a message per write.
#[derive(Default)]
struct Activity {
    /// Bytes written so far.
    written: AtomicU64,
    /// A batch is being written (some of it may still be waiting for the peer to read).
    writing: AtomicBool,
}

/// What the sending loop of the adapter was woken for.
enum Next {
    Data(Payload),
    InboxClosed,
    Request(Ipc),
}

/// A shutdown request arrived: writes what was queued when it did, then ends (or, in half-close
/// mode and for a `ProducerFinished`, shuts down the sending direction and waits).
async fn finish_on_request<T: Outgoing>(
    wr: &mut OwnedWriteHalf,
    inbox: &mut Inbox<T>,
    control: &mut Inbox<Ipc>,
    msg: Ipc,
    how: &Sending<'_>,
    control_open: bool,
) -> Ending {
    let Sending { settings, half_close, activity } = *how;
    // Flush what was queued when the request arrived, no more: a protocol still producing
    // cannot keep the connection open this way.
    let queued: VecDeque<Payload> =
        (0..inbox.data_ready()).map_while(|_| inbox.try_recv().ok()).map(Into::into).collect();
    activity.writing.store(true, Ordering::Relaxed);
    let written = write_batch(wr, queued, settings.send_timeout, activity).await;
    activity.writing.store(false, Ordering::Relaxed);
    if let Err(e) = written {
        return e;
    }
    if half_close && msg.is_producer_finished() {
        return half_closed(wr, control, control_open).await;
    }
    Ending::Requested(msg)
}

/// Half-close: shut down the sending direction and wait for a `ShutdownMicroprocess` (the
/// receiving loop meanwhile runs on until the peer closes).
async fn half_closed(wr: &mut OwnedWriteHalf, control: &mut Inbox<Ipc>, mut control_open: bool) -> Ending {
    if let Err(e) = wr.shutdown().await {
        return Ending::WriteFailed(e);
    }
    while control_open {
        match control.recv().await {
            Some(msg) if msg.is_shutdown_microprocess() || matches!(msg, Ipc::Shutdown(_)) => {
                return Ending::Requested(msg)
            }
            Some(_) => {}
            None => control_open = false,
        }
    }
    std::future::pending().await
}

/// The most queued messages gathered into one vectored write.
const MAX_BATCH: usize = 64;

/// The room a batch is made with: a few messages (a response in a piece or two, and a receipt).
const BATCH_ROOM: usize = 4;

/// Writes every message of `batch`, in order, with as few (vectored) writes as the socket
/// allows, giving up if the socket stays unwritable for `timeout`.
async fn write_batch(
    wr: &mut OwnedWriteHalf,
    mut batch: VecDeque<Payload>,
    timeout: Option<Duration>,
    activity: &Activity,
) -> Result<(), Ending> {
    match write_now(wr, &mut batch, activity)? {
        Progress::Done => Ok(()),
        progress => write_rest(wr, batch, progress, timeout, activity).await,
    }
}

/// Writes what is left of `batch` as the socket makes room, giving up if it stays unwritable for
/// `timeout`.
async fn write_rest(
    wr: &OwnedWriteHalf,
    mut batch: VecDeque<Payload>,
    mut progress: Progress,
    timeout: Option<Duration>,
    activity: &Activity,
) -> Result<(), Ending> {
    loop {
        match progress {
            Progress::Done => return Ok(()),
            Progress::Full => writable(wr, timeout).await?,
            // (In a group, behind the members that are ready; otherwise behind the tasks.)
            Progress::Turn => axon_core::yield_now().await,
        }
        progress = write_now(wr, &mut batch, activity)?;
    }
}

/// How far [`write_now`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    /// Everything is written.
    Done,
    /// The socket is full: wait until it is writable.
    Full,
    /// A file region's [`SENDFILE_MAX_CHUNK`](crate::payload::SENDFILE_MAX_CHUNK) went out and
    /// the socket may take more: let the thread's other work run first.
    Turn,
}

/// Writes as much of `batch` as the socket takes now, in order, with as few system calls as it
/// allows (bytes in vectored writes, file regions with `sendfile`), without waiting, and at most
/// one [`SENDFILE_MAX_CHUNK`](crate::payload::SENDFILE_MAX_CHUNK) of a file. Writing to a socket
/// with room so allocates nothing but the slice list of a run of several byte messages.
fn write_now(wr: &OwnedWriteHalf, batch: &mut VecDeque<Payload>, activity: &Activity) -> Result<Progress, Ending> {
    let mut file_chunk_sent = false;
    loop {
        // What writes nothing: empty pieces, and receipts, signed now that everything before them
        // is written.
        while batch.front().is_some_and(Payload::is_empty) {
            pop_written(batch);
        }
        // The bytes at the front, up to the first file region (receipts among them write nothing).
        let run = batch.iter().take_while(|p| !matches!(p, Payload::File(_))).filter(|p| p.as_bytes().is_some());
        let written = match (batch.front(), run.count()) {
            (None, _) => return Ok(Progress::Done),
            (Some(Payload::File(_)), _) if file_chunk_sent => return Ok(Progress::Turn),
            (Some(Payload::File(region)), _) => match region.send_now(wr.as_ref()) {
                Ok(0) => return Err(Ending::FileFailed(region.ended_early(region.offset()))),
                Ok(n) => {
                    file_chunk_sent = n >= crate::payload::SENDFILE_MAX_CHUNK;
                    Ok(n)
                }
                Err(e) if !is_network_error(&e) && !is_retry(&e) => return Err(Ending::FileFailed(e)),
                written => written,
            },
            (Some(Payload::Bytes(bytes)), 1) => wr.try_write(bytes),
            (Some(_), _) => {
                let slices: Vec<IoSlice<'_>> = batch
                    .iter()
                    .take_while(|p| !matches!(p, Payload::File(_)))
                    .filter_map(Payload::as_bytes)
                    .map(|b| IoSlice::new(b))
                    .collect();
                wr.try_write_vectored(&slices)
            }
        };
        match written {
            Ok(0) => return Err(Ending::WriteFailed(io::ErrorKind::WriteZero.into())),
            Ok(n) => {
                activity.written.fetch_add(n as u64, Ordering::Relaxed);
                let mut n = n as u64;
                while n > 0 {
                    let Some(front) = batch.front_mut() else { break };
                    let take = n.min(front.len());
                    front.advance(take);
                    n -= take;
                    // Written whole; or a receipt, everything before which is.
                    if front.is_empty() {
                        pop_written(batch);
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Progress::Full),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Ending::WriteFailed(e)),
        }
    }
}

/// Takes the front of `batch`, all of which (or all before which, for a receipt, which writes
/// nothing) is written: a receipt is signed.
fn pop_written(batch: &mut VecDeque<Payload>) {
    if let Some(Payload::Receipt(receipt)) = batch.pop_front() {
        receipt.sign();
    }
}

/// A failure to wait out or retry rather than report.
fn is_retry(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted)
}

/// A failure of the connection rather than of a file being sent to it.
fn is_network_error(e: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(e.kind(), BrokenPipe | ConnectionReset | ConnectionAborted | NotConnected | TimedOut | WriteZero)
}

/// Waits until the socket has room to write, for at most `timeout`.
async fn writable(wr: &OwnedWriteHalf, timeout: Option<Duration>) -> Result<(), Ending> {
    let ready = match timeout {
        Some(t) => match tokio::time::timeout(t, wr.writable()).await {
            Ok(r) => r,
            Err(_) => return Err(Ending::SendTimedOut(t)),
        },
        None => wr.writable().await,
    };
    ready.map_err(Ending::WriteFailed)
}

/// Shuts down the sending direction, then reads and discards until the peer closes or `linger`
/// passes (see the module docs on resets).
async fn close_gracefully(rd: &mut OwnedReadHalf, wr: &mut OwnedWriteHalf, linger: Duration) {
    if wr.shutdown().await.is_err() {
        return;
    }
    let drain = async {
        // (This future is on the heap, made only for a graceful close.)
        let mut buf = [0u8; 4096];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    };
    let _ = tokio::time::timeout(linger, drain).await;
}

#[cfg(test)]
mod tests {
    use super::ReadSize;

    #[test]
    fn the_read_size_starts_at_the_minimum_and_doubles_after_full_reads_up_to_the_maximum() {
        let mut size = ReadSize::new(4096, 32 * 1024);
        let mut sizes = vec![size.next];
        for _ in 0..5 {
            size.record(size.next);
            sizes.push(size.next);
        }
        assert_eq!(sizes, [4096, 8192, 16384, 32768, 32768, 32768]);
    }

    #[test]
    fn the_read_size_halves_after_two_small_reads_in_a_row_and_never_below_the_minimum() {
        let mut size = ReadSize::new(4096, 32 * 1024);
        for _ in 0..3 {
            size.record(size.next);
        }
        assert_eq!(size.next, 32768);
        size.record(100);
        assert_eq!(size.next, 32768, "one small read is not enough to shrink");
        size.record(20_000);
        size.record(100);
        assert_eq!(size.next, 32768, "a read of more than half in between starts the count again");
        size.record(100);
        assert_eq!(size.next, 16384);
        for _ in 0..20 {
            size.record(1);
        }
        assert_eq!(size.next, 4096);
    }

    #[test]
    fn after_waiting_for_room_the_read_size_starts_again_from_the_minimum() {
        let mut size = ReadSize::new(4096, 32 * 1024);
        for _ in 0..3 {
            size.record(size.next);
        }
        assert_eq!(size.next, 32768);
        size.behind();
        assert_eq!(size.next, 4096);
        size.record(4096);
        assert_eq!(size.next, 8192, "and grows again as the reads fill it");
    }

    #[test]
    fn a_minimum_above_the_maximum_is_lowered_to_it() {
        let mut size = ReadSize::new(64 * 1024, 100);
        assert_eq!(size.next, 100);
        size.record(100);
        assert_eq!(size.next, 100);
        let size = ReadSize::new(0, 0);
        assert_eq!((size.next, size.min, size.max), (1, 1, 1));
    }
}
