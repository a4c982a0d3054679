//! The running server, from activation to its end: accepting connections, noticing each one end,
//! and draining when asked to stop (see the [module docs](crate::server) for what each step means
//! to a protocol).
//!
//! The server is one task that sleeps until something happens ([`Wake`]), in priority order: a
//! shutdown request from a handle, a message on its `control`, one of its children ending, a
//! deadline (a protocol's grace, the drain's grace, the end of an accept back-off), or a new
//! connection. While `max_connections` connections are open, accepting stops, so further clients
//! wait in the kernel's listen queue rather than in memory here ([`WhenFull::Wait`]), or goes on,
//! and each client over the limit is answered with the refusal and closed ([`WhenFull::Refuse`]).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use axon_core::ipc::{Ipc, ProducerFinished, ShutdownMicroprocess};
use axon_core::{ChildExit, Component, ComponentId, ComponentResult, Context, Instance};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};

use crate::socket::{Bytes, ConnectedSocketAdapter, Outgoing};

use super::connection::{wire, Connection, ConnectionInfo, Connections, ProtocolFactory};
use super::handle::{ServerStats, Shared};
use super::settings::{ServerSettings, WhenFull, MAX_REFUSING, REFUSAL_LINGER};

/// How long the server first stops accepting after `accept` fails (for example when the process
/// is out of file descriptors), so that a persistent error does not spin: 10 ms. Each further
/// failure in a row doubles it, up to [`MAX_ACCEPT_BACKOFF`]; a connection ending (which gives a
/// descriptor back) ends the pause at once.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// The longest pause between attempts to accept while `accept` keeps failing: 1 s.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// A bound server's listening socket and what serving it takes: made when the server binds, held
/// by its [`BoundServer`](super::BoundServer) until it is activated, then run by [`serve`].
pub(super) struct Listening<P: Component> {
    /// Makes each connection's protocol.
    pub(super) factory: ProtocolFactory<P>,
    /// The listening socket.
    pub(super) listener: TcpListener,
    /// The address it is bound to.
    pub(super) local_addr: SocketAddr,
    /// Limits and grace periods.
    pub(super) settings: ServerSettings,
    /// What the server shares with its handles.
    pub(super) shared: Arc<Shared>,
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
    /// While `accept` keeps failing (out of descriptors, say): since when, and how often.
    starved: Option<Starved>,
    /// The `ShutdownMicroprocess` that stopped the server, to pass on.
    pass_on: Option<Ipc>,
    /// Refused clients being answered now ([`WhenFull::Refuse`]).
    refusing: Arc<std::sync::atomic::AtomicUsize>,
}

/// Serves until every connection has ended after a shutdown: the body of a server component.
pub(super) async fn serve<P>(listening: Listening<P>, mut ctx: Context<(), ()>) -> ComponentResult
where
    P: Component<Inbox = Bytes, Outbox: Outgoing>,
{
    let Listening { factory, listener, local_addr, settings, shared } = listening;
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
        starved: None,
        pass_on: None,
        refusing: Arc::default(),
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
            Wake::Accepted(Ok((stream, peer))) => {
                server.accept_recovered();
                server.accepted(&mut ctx, stream, peer);
            }
            Wake::Accepted(Err(e)) => server.accept_failed(&e),
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

/// An episode of failing accepts (see [`Server::accept_failed`]).
#[derive(Debug, Clone, Copy)]
struct Starved {
    since: Instant,
    failures: u64,
    /// The pause after the last failure.
    backoff: Duration,
}

/// A failure of one connection, gone before it was accepted (the client reset it, say): nothing
/// to pause for.
fn is_one_connection(e: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(e.kind(), ConnectionAborted | ConnectionReset | Interrupted | WouldBlock)
}

impl<P: Component<Inbox = Bytes, Outbox: Outgoing>> Server<P> {
    /// `accept` failed. A failure of one connection is passed over. Any other (the process or the
    /// system out of file descriptors, `EMFILE` or `ENFILE`, or out of memory) would fail again
    /// at once: accepting pauses, for 10 ms after the first failure of an episode, twice as long
    /// after each further one, up to 1 s, and until a connection ends (which gives a descriptor
    /// back) if that comes first. The connections already open go on being served; new clients
    /// wait in the listen queue. One warning starts the episode, and one line says when it ends;
    /// the failures in between are logged at `debug`.
    fn accept_failed(&mut self, e: &io::Error) {
        if is_one_connection(e) {
            log::debug!("{}: a connection went before it was accepted: {e}", self.name);
            return;
        }
        let now = Instant::now();
        let starved = match &mut self.starved {
            Some(starved) => {
                starved.failures += 1;
                starved.backoff = (starved.backoff * 2).min(MAX_ACCEPT_BACKOFF);
                log::debug!(
                    "{}: accepting failed again ({} times in {:?}): {e}; next try in {:?}",
                    self.name,
                    starved.failures,
                    now - starved.since,
                    starved.backoff
                );
                *starved
            }
            None => {
                log::warn!(
                    "{}: cannot accept connections: {e}; serving the {} open, and trying again as they end \
                     (or after {ACCEPT_BACKOFF:?}, up to {MAX_ACCEPT_BACKOFF:?} apart); new clients wait in the \
                     listen queue",
                    self.name,
                    self.connections.by_adapter.len()
                );
                *self.starved.insert(Starved { since: now, failures: 1, backoff: ACCEPT_BACKOFF })
            }
        };
        self.accept_paused_until = Some(now + starved.backoff);
        self.publish(|s| s.accept_failures += 1);
    }

    /// A connection was accepted: an episode of failing accepts, if there was one, is over.
    fn accept_recovered(&mut self) {
        if let Some(starved) = self.starved.take() {
            log::info!(
                "{}: accepting connections again, after {} failed attempt(s) over {:?}",
                self.name,
                starved.failures,
                starved.since.elapsed()
            );
        }
    }

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
        let room = self.connections.by_adapter.len() < self.settings.max_connections;
        let accepting = self.listener.is_some()
            && self.accept_paused_until.is_none()
            && (room || matches!(self.settings.when_full, WhenFull::Refuse(_)));
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

    /// Answers a client over the limit with `answer` and closes its connection, on a task of its
    /// own that reads (and drops) what the client sent for at most [`REFUSAL_LINGER`], so that a
    /// reset does not destroy the answer; at most [`MAX_REFUSING`] at once, past that closed at
    /// once.
    fn refuse(&mut self, stream: TcpStream, peer: SocketAddr, answer: Bytes) {
        self.publish(|s| s.refused += 1);
        if self.refusing.load(std::sync::atomic::Ordering::Relaxed) >= MAX_REFUSING {
            log::debug!("{}: full; {peer} closed unanswered (too many being refused)", self.name);
            return;
        }
        log::debug!("{}: full ({} open); {peer} refused", self.name, self.connections.by_adapter.len());
        let refusing = self.refusing.clone();
        refusing.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut stream = stream;
            let answered = async {
                stream.write_all(&answer).await?;
                stream.shutdown().await?;
                let mut sink = [0u8; 1024];
                while stream.read(&mut sink).await? > 0 {}
                Ok::<(), io::Error>(())
            };
            let _ = tokio::time::timeout(REFUSAL_LINGER, answered).await;
            refusing.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        });
    }

    fn publish(&self, change: impl FnOnce(&mut ServerStats)) {
        let open = self.connections.by_adapter.len();
        self.connections.shared.stats.send_modify(|s| {
            change(s);
            s.open = open;
        });
    }

    fn accepted(&mut self, ctx: &mut Context<(), ()>, stream: TcpStream, peer: SocketAddr) {
        if self.connections.by_adapter.len() >= self.settings.max_connections {
            if let WhenFull::Refuse(answer) = &self.settings.when_full {
                self.refuse(stream, peer, answer.clone());
                return;
            }
        }
        let local = stream.local_addr().unwrap_or(self.local_addr);
        let info = ConnectionInfo { peer, local };
        // A factory (or a protocol's `declare`) that panics costs this connection, not the server.
        let factory = &mut self.factory;
        let protocol = match catch_unwind(AssertUnwindSafe(|| factory(&info))) {
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
                if self.starved.is_some() {
                    // Its descriptor is free: try to accept now.
                    self.accept_paused_until = None;
                }
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
