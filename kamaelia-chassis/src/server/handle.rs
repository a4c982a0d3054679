//! [`ServerHandle`]: stops and watches a server from outside; [`ServerStats`]: what it sees.
//!
//! The handle and the server share one [`Shared`]: a flag and a waker for the shutdown request
//! (the server reads the flag each time it wakes, so a request is never missed between two
//! wake-ups), and a `watch` channel the server publishes its figures on after every change.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Waker};

use tokio::sync::watch;

/// What a server is doing, as seen through [`ServerHandle::stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// True while the listening socket is open (from `bind` until shutdown starts).
    pub listening: bool,
    /// Connections open now: accepted, with at least one of their two components running.
    pub open: usize,
    /// Connections accepted so far (not counting those refused).
    pub accepted: u64,
    /// Clients refused because the server was full ([`WhenFull::Refuse`](super::WhenFull::Refuse)).
    pub refused: u64,
    /// Connections the server had to stop because a grace period expired (a protocol that
    /// outlived its socket by `protocol_grace`, or connections still open `shutdown_grace` after
    /// shutdown began).
    pub stopped_after_grace: u64,
    /// Times `accept` failed other than for one connection's sake (out of file descriptors,
    /// say); each pauses accepting for a while (see the [module docs](super) on limits).
    pub accept_failures: u64,
    /// True once the server has ended.
    pub ended: bool,
}

/// What the server and its handles share.
pub(super) struct Shared {
    local_addr: SocketAddr,
    /// Set by [`ServerHandle::shutdown`]; read by the server at its next wake-up.
    shutdown: AtomicBool,
    /// The server task, to wake when `shutdown` is set.
    waker: Mutex<Option<Waker>>,
    /// Published after every change; handles read or wait on it.
    pub(super) stats: watch::Sender<ServerStats>,
}

impl Shared {
    /// The shared state of a server bound to `local_addr`, listening, with no handle yet.
    pub(super) fn new(local_addr: SocketAddr) -> Arc<Shared> {
        let (stats, _) = watch::channel(ServerStats { listening: true, ..ServerStats::default() });
        Arc::new(Shared { local_addr, shutdown: AtomicBool::new(false), waker: Mutex::new(None), stats })
    }

    /// True once a handle has asked for a shutdown; else registers the server task to be woken
    /// when one does.
    pub(super) fn poll_shutdown(&self, cx: &mut TaskContext<'_>) -> bool {
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
pub struct ServerHandle(pub(super) Arc<Shared>);

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

    /// Starts a graceful shutdown (see the [module docs](crate::server#stopping-the-server)). Idempotent;
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
