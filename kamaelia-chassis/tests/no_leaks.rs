//! No leaks: however clients vanish (before sending, mid-stream, after a round trip, with a
//! half-close, with a reset), and whatever the protocol does (echo, stream for ever, ignore its
//! control), the count of live components returns to its idle value (the server alone), the
//! server's per-connection outboxes are gone, and after shutdown nothing is left. Checked through
//! introspection (`Scheduler::live`, `Scheduler::introspect`), each wait bounded by a deadline.

mod tcp_support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axon_core::prelude::*;
use axon_core::BoxKind;
use kamaelia_chassis::server::{BoundServer, ServerSettings, SimpleServer};
use kamaelia_chassis::socket::Bytes;
use tcp_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Every way a client can vanish, one client each, `rounds` times over, all at once.
async fn vanish_in_every_way(address: SocketAddr, rounds: usize) {
    let mut clients = Vec::new();
    for _ in 0..rounds {
        // Connects and goes before sending anything.
        clients.push(tokio::spawn(async move {
            drop(TcpStream::connect(address).await.unwrap());
        }));
        // Sends half a message and goes, without reading.
        clients.push(tokio::spawn(async move {
            let mut c = TcpStream::connect(address).await.unwrap();
            c.write_all(b"half a mess").await.unwrap();
        }));
        // Reads a little of the reply and goes while more is coming.
        clients.push(tokio::spawn(async move {
            let mut c = TcpStream::connect(address).await.unwrap();
            c.write_all(&[b'x'; 100_000]).await.unwrap();
            let mut some = [0; 10];
            let _ = c.read_exact(&mut some).await;
        }));
        // Completes a round trip, then goes.
        clients.push(tokio::spawn(async move {
            let mut c = TcpStream::connect(address).await.unwrap();
            c.write_all(b"ping").await.unwrap();
            let mut back = [0; 4];
            let _ = c.read_exact(&mut back).await;
        }));
        // Half-closes, then goes without reading.
        clients.push(tokio::spawn(async move {
            let mut c = TcpStream::connect(address).await.unwrap();
            c.write_all(b"bye").await.unwrap();
            c.shutdown().await.unwrap();
        }));
        // Resets the connection.
        clients.push(tokio::spawn(async move {
            let c = TcpStream::connect(address).await.unwrap();
            c.set_zero_linger().unwrap();
            drop(c);
        }));
    }
    for c in clients {
        within("a client", c).await.unwrap();
    }
}

/// Waits until the server is idle again (every connection ended and reaped, the server the only
/// live component), then checks what introspection shows.
async fn assert_back_to_idle(scheduler: &Scheduler, server: &ComponentRef) {
    wait_until("only the server is live", || scheduler.live() == 1).await;
    let snapshot = scheduler.introspect();
    let names: Vec<_> = snapshot.components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, [server.name()], "no component left behind");
    assert!(snapshot.components[0].children.is_empty(), "no child left behind");
    assert_eq!(server.box_names(BoxKind::Outbox), ["outbox", "signal"], "per-connection outboxes removed");
    assert!(
        snapshot.linkages.is_empty(),
        "no linkage left behind: {:?}",
        snapshot.linkages.iter().map(|l| format!("{} -> {}", l.source, l.sink)).collect::<Vec<_>>()
    );
}

async fn run_and_check<P: Component<Inbox = Bytes, Outbox = Bytes>>(server: BoundServer<P>, rounds: usize) {
    let (scheduler, running, handle, address) = start(server);
    assert_eq!(scheduler.live(), 1, "idle: the server alone");

    vanish_in_every_way(address, rounds).await;
    let expected = 6 * rounds as u64;
    within("every connection accepted and ended", handle.wait_for(|s| s.accepted == expected && s.open == 0)).await;
    assert_back_to_idle(&scheduler, &running).await;

    // And again: the idle value does not creep up.
    vanish_in_every_way(address, rounds).await;
    within("every connection accepted and ended", handle.wait_for(|s| s.accepted == 2 * expected && s.open == 0)).await;
    assert_back_to_idle(&scheduler, &running).await;

    handle.shutdown();
    within("the server's end", running.join()).await;
    assert_eq!(scheduler.live(), 0, "nothing left after shutdown");
    assert!(scheduler.components().is_empty());
    assert!(scheduler.failures().is_empty(), "vanishing clients are not failures: {:?}", scheduler.failures());
}

#[tokio::test(flavor = "multi_thread")]
async fn clients_vanishing_from_an_echo_server_leave_no_components_behind() {
    run_and_check(SimpleServer::new(|| Echo, 0).bind().await.unwrap(), 20).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn clients_vanishing_from_a_streaming_server_leave_no_components_behind() {
    run_and_check(SimpleServer::new(|| Chargen, 0).bind().await.unwrap(), 20).await;
}

/// A protocol that ignores its control and never ends is stopped `protocol_grace` after its
/// socket closed, so it cannot leak either.
#[tokio::test(flavor = "multi_thread")]
async fn clients_vanishing_from_protocols_that_never_end_leave_no_components_behind() {
    let stopped = Arc::new(AtomicUsize::new(0));
    let count = stopped.clone();
    let settings = ServerSettings { protocol_grace: Duration::from_millis(50), ..ServerSettings::default() };
    let server = SimpleServer { settings, ..SimpleServer::new(move || Stubborn(count.clone()), 0) };
    run_and_check(server.bind().await.unwrap(), 10).await;
    assert_eq!(stopped.load(Ordering::SeqCst), 2 * 6 * 10, "every one of them was stopped");
}

/// Clients that vanish while the server is at its connection limit are reaped, and the clients
/// waiting in the listen queue are then served (nothing is stuck holding a slot).
#[tokio::test(flavor = "multi_thread")]
async fn vanishing_clients_free_their_slots_under_the_connection_limit() {
    let settings = ServerSettings { max_connections: 3, ..ServerSettings::default() };
    run_and_check(SimpleServer { settings, ..SimpleServer::new(|| Echo, 0) }.bind().await.unwrap(), 10).await;
}
