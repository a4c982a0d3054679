//! Shared by the TCP tests: protocol components, a deadline, and a poll-with-deadline helper.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axon_core::ipc::ShutdownMicroprocess;
use axon_core::prelude::*;
use kamaelia_chassis::server::{BoundServer, ServerHandle};
use kamaelia_chassis::socket::Bytes;

/// How long any test waits for something that should happen before failing. Generous: the
/// tests also run with the CPU loaded.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Waits until `cond` holds, checking every millisecond, and fails the test at [`DEADLINE`].
pub async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let waited = tokio::time::timeout(DEADLINE, async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "timed out waiting until {what}");
}

/// Runs `fut` with [`DEADLINE`], failing the test with `what` if it takes longer.
pub async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(DEADLINE, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

/// Activates a bound server on a fresh scheduler.
pub fn start<P: Component<Inbox = Bytes, Outbox = Bytes>>(
    server: BoundServer<P>,
) -> (Scheduler, ComponentRef, ServerHandle, SocketAddr) {
    let handle = server.handle();
    let address = server.local_addr();
    let scheduler = Scheduler::new();
    let running = scheduler.activate(server);
    (scheduler, running, handle, address)
}

/// Kamaelia's EchoProtocol: sends back what it receives; passes on whatever reaches `control`
/// and ends.
pub struct Echo;

impl Component for Echo {
    type Inbox = Bytes;
    type Outbox = Bytes;

    async fn main(self, mut ctx: Context<Bytes, Bytes>) -> ComponentResult {
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(bytes) => ctx.outbox.send(bytes).await,
                Event::Control(msg) => {
                    ctx.signal.send(msg).await;
                    break;
                }
            }
        }
        Ok(())
    }
}

/// Kamaelia's Chargen: sends `Hello World\n` for ever, until anything reaches `control`.
pub struct Chargen;

impl Component for Chargen {
    type Inbox = Bytes;
    type Outbox = Bytes;

    async fn main(self, mut ctx: Context<Bytes, Bytes>) -> ComponentResult {
        loop {
            tokio::select! {
                biased;
                msg = ctx.control.recv() => {
                    if let Some(msg) = msg {
                        ctx.signal.send(msg).await;
                    }
                    return Ok(());
                }
                () = ctx.outbox.send(Bytes::from_static(b"Hello World\n")) => {}
            }
        }
    }
}

/// Waits for one message (a request), then sends `total` bytes in chunks of `chunk` (byte `i`
/// of the stream is `i % 251`), then `ProducerFinished` on `signal`, and ends.
pub struct Burst {
    pub total: usize,
    pub chunk: usize,
}

/// The bytes a [`Burst`] of `total` sends.
pub fn burst_bytes(total: usize) -> Vec<u8> {
    (0..total).map(|i| (i % 251) as u8).collect()
}

impl Component for Burst {
    type Inbox = Bytes;
    type Outbox = Bytes;

    async fn main(self, mut ctx: Context<Bytes, Bytes>) -> ComponentResult {
        if ctx.inbox.recv().await.is_none() {
            return Ok(());
        }
        let all = Bytes::from(burst_bytes(self.total));
        let mut at = 0;
        while at < all.len() {
            let end = (at + self.chunk).min(all.len());
            ctx.outbox.send(all.slice(at..end)).await;
            at = end;
        }
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

/// Echoes, but ignores `control` and never ends by itself, even when its `inbox` closes. Counts
/// how many of its kind were dropped (stopped from outside).
pub struct Stubborn(pub Arc<AtomicUsize>);

struct CountDrop(Arc<AtomicUsize>);

impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Component for Stubborn {
    type Inbox = Bytes;
    type Outbox = Bytes;

    async fn main(self, mut ctx: Context<Bytes, Bytes>) -> ComponentResult {
        let _dropped = CountDrop(self.0);
        while let Some(bytes) = ctx.inbox.recv().await {
            ctx.outbox.send(bytes).await;
        }
        std::future::pending::<()>().await;
        Ok(())
    }
}

/// Echoes; on `ShutdownMicroprocess` says `bye\n` and passes the shutdown on (so its connection
/// flushes and closes); on anything else on control, passes it on and ends.
pub struct Polite;

impl Component for Polite {
    type Inbox = Bytes;
    type Outbox = Bytes;

    async fn main(self, mut ctx: Context<Bytes, Bytes>) -> ComponentResult {
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(bytes) => ctx.outbox.send(bytes).await,
                Event::Control(msg) => {
                    if msg.is_shutdown_microprocess() {
                        ctx.outbox.send(Bytes::from_static(b"bye\n")).await;
                    }
                    ctx.signal.send(msg).await;
                    break;
                }
            }
        }
        Ok(())
    }
}

/// Echoes; when it receives `stop-server`, asks the server to shut down through its
/// `serversignal` outbox (Kamaelia §2.1).
pub struct ServerStopper;

impl Component for ServerStopper {
    type Inbox = Bytes;
    type Outbox = Bytes;

    fn declare(&self, boxes: &mut axon_core::Declarations) {
        boxes.outbox::<Ipc>("serversignal", "ShutdownMicroprocess: stop the server");
    }

    async fn main(self, mut ctx: Context<Bytes, Bytes>) -> ComponentResult {
        let mut serversignal = ctx.take_outbox::<Ipc>("serversignal")?;
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(bytes) if bytes.as_ref() == b"stop-server" => {
                    serversignal.send(ShutdownMicroprocess::new().into()).await;
                }
                Event::Data(bytes) => ctx.outbox.send(bytes).await,
                Event::Control(msg) => {
                    ctx.signal.send(msg).await;
                    break;
                }
            }
        }
        Ok(())
    }
}
