//! `SimpleServer` and `ServerCore` end to end, over real sockets on 127.0.0.1 with raw
//! `tokio::net::TcpStream` clients: echo, concurrency, flushing on close, clients vanishing,
//! bind errors, the connection limit, graceful shutdown, `serversignal`, and the per-connection
//! wiring of Kamaelia's `ServerCore` (checked through introspection).

mod tcp_support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axon_core::ipc::ShutdownMicroprocess;
use axon_core::prelude::*;
use axon_core::{BoxKind, Exit};
use kamaelia_chassis::server::{
    ConnectionInfo, ServerCore, ServerError, ServerSettings, SimpleServer, SocketOptions, DEFAULT_LISTEN_ADDRESS,
};
use kamaelia_chassis::socket::Bytes;
use tcp_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn connect(address: SocketAddr) -> TcpStream {
    within("a connection", TcpStream::connect(address)).await.expect("the server accepts connections")
}

async fn round_trip(client: &mut TcpStream, payload: &[u8]) -> Vec<u8> {
    client.write_all(payload).await.expect("write");
    let mut back = vec![0; payload.len()];
    within("the echo", client.read_exact(&mut back)).await.expect("the echo arrives");
    back
}

/// Reads until end of stream (with the deadline).
async fn read_to_end(client: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    within("end of stream", client.read_to_end(&mut all)).await.expect("read until end of stream");
    all
}

#[tokio::test(flavor = "multi_thread")]
async fn echo_round_trip_returns_every_byte_sent() {
    let server = SimpleServer::new(|| Echo, 0).bind().await.unwrap();
    assert_ne!(server.local_addr().port(), 0, "port 0 picks a free port, and local_addr says which");
    assert_eq!(server.local_addr().ip(), DEFAULT_LISTEN_ADDRESS);
    let (scheduler, running, handle, address) = start(server);

    let mut client = connect(address).await;
    assert_eq!(round_trip(&mut client, b"hello, world\n").await, b"hello, world\n");
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 256) as u8).collect();
    assert_eq!(round_trip(&mut client, &big).await, big);

    drop(client);
    handle.shutdown();
    assert_eq!(within("the server's end", running.join()).await, Exit::Finished);
    assert!(scheduler.failures().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn many_concurrent_clients_each_get_their_own_echo() {
    let (scheduler, running, handle, address) = start(SimpleServer::new(|| Echo, 0).bind().await.unwrap());
    let clients: Vec<_> = (0..50u32)
        .map(|n| {
            tokio::spawn(async move {
                let mut client = connect(address).await;
                for round in 0..10u32 {
                    let payload = format!("client {n} round {round}\n").repeat(n as usize + 1);
                    assert_eq!(round_trip(&mut client, payload.as_bytes()).await, payload.as_bytes());
                }
            })
        })
        .collect();
    for c in clients {
        within("a client", c).await.expect("every client got its own echo");
    }
    assert_eq!(handle.stats().accepted, 50);
    within("every connection closed", handle.wait_for(|s| s.open == 0)).await;
    handle.shutdown();
    assert_eq!(within("the server's end", running.join()).await, Exit::Finished);
    assert!(scheduler.failures().is_empty());
}

/// A protocol that sends a lot and then `ProducerFinished` has all of it delivered before the
/// server closes (Kamaelia's adapter made one send attempt and discarded the rest).
#[tokio::test(flavor = "multi_thread")]
async fn server_initiated_close_flushes_all_data_before_end_of_stream() {
    const TOTAL: usize = 8 * 1024 * 1024;
    let server = SimpleServer::new(|| Burst { total: TOTAL, chunk: 64 * 1024 }, 0).bind().await.unwrap();
    let (scheduler, running, handle, address) = start(server);

    let mut client = connect(address).await;
    client.write_all(b"go\n").await.unwrap();
    // Read slowly at first, so that the protocol finishes long before the data has been sent.
    let mut first = vec![0; 1024];
    within("the first bytes", client.read_exact(&mut first)).await.unwrap();
    within("the protocol's end", handle.wait_for(|s| s.open == 1)).await;
    let rest = read_to_end(&mut client).await;
    let mut all = first;
    all.extend(rest);
    assert_eq!(all.len(), TOTAL, "every byte arrives, then end of stream");
    assert!(all == burst_bytes(TOTAL), "in order");

    drop(client);
    within("the connection's end", handle.wait_for(|s| s.open == 0)).await;
    handle.shutdown();
    within("the server's end", running.join()).await;
    assert!(scheduler.failures().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn client_closing_mid_stream_ends_both_components() {
    let (scheduler, running, handle, address) = start(SimpleServer::new(|| Chargen, 0).bind().await.unwrap());
    let mut client = connect(address).await;
    let mut some = vec![0; 12 * 100];
    within("some of the stream", client.read_exact(&mut some)).await.unwrap();
    assert!(some.starts_with(b"Hello World\nHello World\n"));
    drop(client); // mid-stream: the server is still sending

    within("the connection's end", handle.wait_for(|s| s.open == 0)).await;
    wait_until("only the server is left", || scheduler.live() == 1).await;
    assert!(scheduler.failures().is_empty(), "a vanished client is not a failure: {:?}", scheduler.failures());
    handle.shutdown();
    assert_eq!(within("the server's end", running.join()).await, Exit::Finished);
}

#[tokio::test(flavor = "multi_thread")]
async fn binding_a_port_in_use_is_an_error_naming_the_address() {
    let no_reuse = SocketOptions { reuse_address: false, ..SocketOptions::default() };
    let first =
        SimpleServer { socket_options: no_reuse.clone(), ..SimpleServer::new(|| Echo, 0) }.bind().await.unwrap();
    let taken = first.local_addr();

    let second = SimpleServer { socket_options: no_reuse, ..SimpleServer::new(|| Echo, taken.port()) };
    let err = second.bind().await.expect_err("the port is taken");
    match &err {
        ServerError::Bind { address, source } => {
            assert_eq!(*address, taken);
            assert_eq!(source.kind(), std::io::ErrorKind::AddrInUse);
        }
        other => panic!("expected a bind error, got {other:?}"),
    }
    assert!(err.to_string().contains(&taken.to_string()), "the message names the address: {err}");
}

/// Kamaelia's server runs on silently when its listener cannot bind; activated directly, ours
/// fails with the error and says so on `signal`.
#[tokio::test(flavor = "multi_thread")]
async fn activating_a_server_on_a_port_in_use_fails_and_says_why_on_signal() {
    let first = SimpleServer::new(|| Echo, 0).bind().await.unwrap();
    let taken = first.local_addr();
    let mut server = Handle::new(SimpleServer::new(|| Echo, taken.port()), &Scheduler::new());

    let signal = within("the signal", server.recv_signal()).await.expect("a final signal");
    let Ipc::ProducerFinished(pf) = signal else { panic!("expected ProducerFinished, got {signal:?}") };
    assert!(pf.message.as_deref().is_some_and(|m| m.contains(&taken.to_string())), "{pf:?}");
    match within("the server's end", server.join()).await {
        Exit::Failed(why) => assert!(why.contains(&taken.to_string()) && why.contains("cannot bind"), "{why}"),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_that_cannot_work_are_refused_when_binding() {
    let settings = ServerSettings { max_connections: 0, ..ServerSettings::default() };
    let err = SimpleServer { settings, ..SimpleServer::new(|| Echo, 0) }.bind().await.expect_err("refused");
    assert!(matches!(&err, ServerError::Setting(e) if e.name == "max_connections"), "{err:?}");

    let mut settings = ServerSettings::default();
    settings.connection.read_buffer_size = 0;
    let err = SimpleServer { settings, ..SimpleServer::new(|| Echo, 0) }.bind().await.expect_err("refused");
    assert!(matches!(&err, ServerError::Setting(e) if e.name == "read_buffer_size"), "{err:?}");
}

/// With `max_connections: 2`, a third client is accepted by the kernel (the listen queue) but
/// not served until one of the first two has gone.
#[tokio::test(flavor = "multi_thread")]
async fn connection_limit_is_honoured_until_a_connection_ends() {
    let settings = ServerSettings { max_connections: 2, ..ServerSettings::default() };
    let server = SimpleServer { settings, ..SimpleServer::new(|| Echo, 0) }.bind().await.unwrap();
    let (_scheduler, running, handle, address) = start(server);

    let mut first = connect(address).await;
    let mut second = connect(address).await;
    assert_eq!(round_trip(&mut first, b"one").await, b"one");
    assert_eq!(round_trip(&mut second, b"two").await, b"two");
    let mut third = connect(address).await; // completes in the kernel's listen queue
    third.write_all(b"three").await.unwrap();
    let mut back = [0; 5];
    // A bounded wait for something that must not happen: it cannot fail a correct server.
    let early = tokio::time::timeout(Duration::from_millis(300), third.read_exact(&mut back)).await;
    assert!(early.is_err(), "the third client must not be served while two are open");
    let stats = handle.stats();
    assert_eq!((stats.open, stats.accepted), (2, 2));

    drop(first);
    within("the third client's echo", third.read_exact(&mut back)).await.unwrap();
    assert_eq!(&back, b"three");
    assert_eq!(handle.stats().accepted, 3);
    assert!(handle.stats().open <= 2);

    drop((second, third));
    handle.shutdown();
    within("the server's end", running.join()).await;
}

/// Graceful shutdown: the listener closes at once; a protocol that honours the request finishes
/// (its client reads `bye` and end of stream); one that ignores it keeps working through the
/// grace period and is then stopped.
#[tokio::test(flavor = "multi_thread")]
async fn graceful_shutdown_lets_connections_finish_and_stops_the_rest_after_the_grace() {
    let stopped = Arc::new(AtomicUsize::new(0));
    let count = stopped.clone();
    let settings = ServerSettings { shutdown_grace: Duration::from_secs(3), ..ServerSettings::default() };
    // The first connection gets a polite protocol, the second a stubborn one (the server
    // accepts in the order the clients connect, and they connect one after the other).
    let accepted = AtomicUsize::new(0);
    let factory = move |_: &ConnectionInfo| {
        if accepted.fetch_add(1, Ordering::SeqCst) == 0 {
            Either::Polite(Polite)
        } else {
            Either::Stubborn(Stubborn(count.clone()))
        }
    };
    let server = ServerCore { settings, ..ServerCore::new(factory, 0) }.bind().await.unwrap();
    let (scheduler, running, handle, address) = start(server);

    let mut polite = connect(address).await;
    assert_eq!(round_trip(&mut polite, b"hi").await, b"hi");
    let mut stubborn = connect(address).await;
    assert_eq!(round_trip(&mut stubborn, b"hi").await, b"hi");

    handle.shutdown();
    within("the listener's close", handle.wait_for(|s| !s.listening)).await;
    assert!(TcpStream::connect(address).await.is_err(), "no new connection is accepted");
    assert_eq!(read_to_end(&mut polite).await, b"bye\n", "the polite protocol finished, then the socket closed");
    // Still within the grace period, the stubborn connection is served.
    assert_eq!(round_trip(&mut stubborn, b"still here").await, b"still here");
    assert_eq!(handle.stats().stopped_after_grace, 0);

    assert_eq!(read_to_end(&mut stubborn).await, b"", "after the grace period it is closed");
    assert_eq!(within("the server's end", running.join()).await, Exit::Finished);
    assert_eq!(stopped.load(Ordering::SeqCst), 1, "the stubborn protocol was stopped");
    assert_eq!(handle.stats().stopped_after_grace, 1);
    assert!(handle.stats().ended);
    assert_eq!(scheduler.live(), 0);
}

/// Two protocol types behind one factory (a factory returns one type).
enum Either {
    Polite(Polite),
    Stubborn(Stubborn),
}

impl Component for Either {
    type Inbox = Bytes;
    type Outbox = Bytes;

    async fn main(self, ctx: Context<Bytes, Bytes>) -> ComponentResult {
        match self {
            Either::Polite(p) => p.main(ctx).await,
            Either::Stubborn(s) => s.main(ctx).await,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_microprocess_on_control_shuts_the_server_down_and_is_passed_on() {
    let server = SimpleServer::new(|| Echo, 0).bind().await.unwrap();
    let handle = server.handle();
    let address = server.local_addr();
    let mut server = Handle::new(server, &Scheduler::new());
    let mut client = connect(address).await;
    assert_eq!(round_trip(&mut client, b"x").await, b"x");

    server.send_control(ShutdownMicroprocess::new()).await;
    assert_eq!(read_to_end(&mut client).await, b"", "the echo protocol passed the shutdown on: closed");
    drop(client);
    let passed_on = within("the signal", server.recv_signal()).await.unwrap();
    assert!(passed_on.is_shutdown_microprocess(), "{passed_on:?}");
    assert_eq!(within("the server's end", server.join()).await, Exit::Finished);
    assert!(!handle.stats().listening);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_protocol_can_stop_the_server_through_its_serversignal_outbox() {
    let (_scheduler, running, handle, address) = start(SimpleServer::new(|| ServerStopper, 0).bind().await.unwrap());
    let mut client = connect(address).await;
    assert_eq!(round_trip(&mut client, b"ping").await, b"ping");
    client.write_all(b"stop-server").await.unwrap();
    assert_eq!(read_to_end(&mut client).await, b"");
    drop(client);
    assert_eq!(within("the server's end", running.join()).await, Exit::Finished);
    assert!(handle.stats().ended);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_servercore_factory_receives_the_peer_and_local_addresses() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let factory = move |info: &ConnectionInfo| {
        tx.send(*info).unwrap();
        Echo
    };
    let (_scheduler, running, handle, address) = start(ServerCore::new(factory, 0).bind().await.unwrap());
    let client = connect(address).await;
    let info = within("the factory call", rx.recv()).await.unwrap();
    assert_eq!(info.peer, client.local_addr().unwrap());
    assert_eq!(info.local, address);
    drop(client);
    handle.shutdown();
    within("the server's end", running.join()).await;
}

/// A `SimpleServer` takes a factory of either shape: no arguments (Kamaelia's), or the
/// connection's addresses; both serve.
#[tokio::test(flavor = "multi_thread")]
async fn a_simpleserver_factory_may_take_the_connection_or_nothing() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    fn echo_protocol() -> Echo {
        Echo
    }
    let told = move |info: &ConnectionInfo| {
        tx.send(*info).unwrap();
        Echo
    };
    let (_s1, running1, handle1, address1) = start(SimpleServer::new(told, 0).bind().await.unwrap());
    let (_s2, running2, handle2, address2) = start(SimpleServer::new(echo_protocol, 0).bind().await.unwrap());
    let mut client = connect(address1).await;
    assert_eq!(round_trip(&mut client, b"one").await, b"one");
    let info = within("the factory call", rx.recv()).await.unwrap();
    assert_eq!((info.peer, info.local), (client.local_addr().unwrap(), address1));
    let mut other = connect(address2).await;
    assert_eq!(round_trip(&mut other, b"two").await, b"two");
    drop((client, other));
    handle1.shutdown();
    handle2.shutdown();
    within("the servers' end", async { tokio::join!(running1.join(), running2.join()) }).await;
}

/// Past `max_connections`, `WhenFull::Refuse` answers each further client at once and closes it,
/// making no component; the clients already served go on, and room made is used again.
#[tokio::test(flavor = "multi_thread")]
async fn a_full_server_set_to_refuse_answers_further_clients_and_closes_them() {
    let settings = ServerSettings {
        max_connections: 1,
        when_full: kamaelia_chassis::WhenFull::Refuse(Bytes::from_static(b"busy, try later\n")),
        ..ServerSettings::default()
    };
    let server = SimpleServer { settings, ..SimpleServer::new(|| Echo, 0) }.bind().await.unwrap();
    let (scheduler, running, handle, address) = start(server);
    let mut served = connect(address).await;
    assert_eq!(round_trip(&mut served, b"first").await, b"first");
    for _ in 0..3 {
        let mut refused = connect(address).await;
        // A request already sent does not make the answer a reset.
        refused.write_all(b"please").await.unwrap();
        assert_eq!(read_to_end(&mut refused).await, b"busy, try later\n");
    }
    assert_eq!(handle.stats().refused, 3);
    assert_eq!(handle.stats().accepted, 1);
    // Only the served connection's components exist.
    assert_eq!(running.children().len(), 2);
    assert_eq!(round_trip(&mut served, b"still served").await, b"still served");
    drop(served);
    within("the connection's end", handle.wait_for(|s| s.open == 0)).await;
    let mut next = connect(address).await;
    assert_eq!(round_trip(&mut next, b"room again").await, b"room again");
    drop(next);
    handle.shutdown();
    within("the server's end", running.join()).await;
    assert!(scheduler.failures().is_empty());
}

/// Kamaelia never stops a protocol that ignores its control, so it leaks; here it is stopped
/// `protocol_grace` after its socket closed.
#[tokio::test(flavor = "multi_thread")]
async fn a_protocol_ignoring_its_control_is_stopped_after_the_protocol_grace() {
    let stopped = Arc::new(AtomicUsize::new(0));
    let count = stopped.clone();
    let settings = ServerSettings { protocol_grace: Duration::from_millis(100), ..ServerSettings::default() };
    let server = SimpleServer { settings, ..SimpleServer::new(move || Stubborn(count.clone()), 0) };
    let (scheduler, running, handle, address) = start(server.bind().await.unwrap());

    let mut client = connect(address).await;
    assert_eq!(round_trip(&mut client, b"x").await, b"x");
    drop(client);
    let stats = within("the connection's end", handle.wait_for(|s| s.open == 0)).await;
    assert_eq!(stats.stopped_after_grace, 1);
    assert_eq!(stopped.load(Ordering::SeqCst), 1);
    wait_until("only the server is left", || scheduler.live() == 1).await;
    handle.shutdown();
    within("the server's end", running.join()).await;
}

/// Kamaelia's §2.1 table, checked on the running graph: each linkage, who owns it, the
/// children, and the per-connection outboxes (gone again when the connection is).
#[tokio::test(flavor = "multi_thread")]
async fn each_connection_is_wired_as_kamaelia_wires_it() {
    let server = SimpleServer::new(|| ServerStopper, 0).bind().await.unwrap();
    let (scheduler, running, handle, address) = start(server);
    let mut client = connect(address).await;
    assert_eq!(round_trip(&mut client, b"x").await, b"x");

    let snap = scheduler.introspect();
    let srv = snap.component(running.id()).unwrap();
    let csa = snap.component_named("ConnectedSocketAdapter_").expect("an adapter");
    // A component's name is its type's path, then its id.
    let ph = snap.components.iter().find(|c| c.name.contains("ServerStopper_")).expect("a protocol");
    assert_eq!(csa.parent, Some(srv.id));
    assert_eq!(ph.parent, Some(srv.id));
    let linked = |from: &str, fbox: &str, to: &str, tbox: &str| {
        snap.linkages.iter().any(|l| {
            l.source.component_name == from
                && l.source.name == fbox
                && l.sink.component_name == to
                && l.sink.name == tbox
                && l.owner == Some(srv.id)
        })
    };
    assert!(linked(&csa.name, "outbox", &ph.name, "inbox"));
    assert!(linked(&ph.name, "outbox", &csa.name, "inbox"));
    assert!(linked(&srv.name, "protocolHandlerShutdownSignal", &ph.name, "control"));
    assert!(linked(&srv.name, "connectedSocketShutdownSignal", &csa.name, "control"));
    assert!(linked(&ph.name, "signal", &csa.name, "control"));
    assert!(linked(&ph.name, "serversignal", &srv.name, "control"));

    drop(client);
    within("the connection's end", handle.wait_for(|s| s.open == 0)).await;
    assert_eq!(running.box_names(BoxKind::Outbox), ["outbox", "signal"], "per-connection outboxes removed");
    handle.shutdown();
    within("the server's end", running.join()).await;
}

/// Stopping the server component from outside does not orphan its connections.
#[tokio::test(flavor = "multi_thread")]
async fn stopping_the_server_component_stops_its_connections() {
    let (scheduler, running, _handle, address) = start(SimpleServer::new(|| Chargen, 0).bind().await.unwrap());
    let mut client = connect(address).await;
    let mut some = [0; 12];
    within("the first line", client.read_exact(&mut some)).await.unwrap();
    running.stop();
    within("everything's end", scheduler.wait_idle()).await;
    assert_eq!(running.exit(), Some(Exit::Stopped));
    let mut rest = Vec::new();
    let _ = within("end of stream", client.read_to_end(&mut rest)).await; // EOF or reset: either way, closed
}

/// A protocol factory that panics costs that connection, not the server.
#[tokio::test(flavor = "multi_thread")]
async fn a_panicking_protocol_factory_closes_that_connection_only() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let factory = move || {
        if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("no protocol for the first client");
        }
        Echo
    };
    let (_scheduler, running, handle, address) = start(SimpleServer::new(factory, 0).bind().await.unwrap());
    let mut first = connect(address).await;
    let mut rest = Vec::new();
    let _ = within("the first connection's close", first.read_to_end(&mut rest)).await;
    let mut second = connect(address).await;
    assert_eq!(round_trip(&mut second, b"fine").await, b"fine");
    drop(second);
    handle.shutdown();
    assert_eq!(within("the server's end", running.join()).await, Exit::Finished);
}

/// Kamaelia's EchoProtocol as the examples write it: on a shutdown request it first echoes what
/// is still queued, then passes the request on.
struct DrainingEcho;

impl Component for DrainingEcho {
    type Inbox = Bytes;
    type Outbox = Bytes;

    async fn main(self, mut ctx: Context<Bytes, Bytes>) -> ComponentResult {
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(bytes) => ctx.outbox.send(bytes).await,
                Event::Control(msg) => {
                    while let Ok(bytes) = ctx.inbox.try_recv() {
                        ctx.outbox.send(bytes).await;
                    }
                    ctx.signal.send(msg).await;
                    break;
                }
            }
        }
        Ok(())
    }
}

/// Regression: a client that sends, then shuts down its sending side (`nc -N`, an HTTP client
/// doing `shutdown(SHUT_WR)`), used to have its connection ended at once, losing the replies still
/// on their way (Kamaelia's behaviour). The adapter now tells the protocol and sends what it still
/// answers, then closes.
#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_half_closes_still_receives_every_reply() {
    let server = SimpleServer::new(|| DrainingEcho, 0).bind().await.unwrap();
    let (scheduler, _running, handle, address) = start(server);
    let payload: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();

    let mut client = connect(address).await;
    client.write_all(&payload).await.unwrap();
    client.shutdown().await.unwrap(); // half-close: we still read
    let back = read_to_end(&mut client).await;
    assert_eq!(back.len(), payload.len(), "every byte comes back before end of stream");
    assert_eq!(back, payload);

    handle.wait_for(|s| s.open == 0).await;
    handle.shutdown();
    within("the server's end", scheduler.run_async()).await.unwrap();
}

/// A protocol that never finishes after a half-close does not hold the connection open: the
/// adapter closes once `finish_after_peer_close` has passed.
#[tokio::test(flavor = "multi_thread")]
async fn after_a_half_close_a_protocol_that_never_finishes_is_cut_off_after_the_grace() {
    let grace = Duration::from_millis(200);
    let mut settings = ServerSettings { protocol_grace: grace, ..ServerSettings::default() };
    settings.connection.finish_after_peer_close = Some(grace);
    let dropped = Arc::new(AtomicUsize::new(0));
    let counter = dropped.clone();
    let server =
        SimpleServer { settings, ..SimpleServer::new(move || Stubborn(counter.clone()), 0) }.bind().await.unwrap();
    let (_scheduler, _running, handle, address) = start(server);

    let mut client = connect(address).await;
    client.write_all(b"ping").await.unwrap();
    client.shutdown().await.unwrap();
    assert_eq!(read_to_end(&mut client).await, b"ping", "the reply made before the grace ran out is sent");
    handle.wait_for(|s| s.open == 0).await;
    assert_eq!(dropped.load(Ordering::SeqCst), 1, "the stubborn protocol was stopped");
    handle.shutdown();
}

/// Answers every piece it receives with the name of the thread it runs on.
struct WhichThread;

impl Component for WhichThread {
    type Inbox = Bytes;
    type Outbox = Bytes;

    async fn main(self, mut ctx: Context<Bytes, Bytes>) -> ComponentResult {
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(_) => {
                    let name = std::thread::current().name().unwrap_or("?").to_owned();
                    ctx.outbox.send(Bytes::from(format!("{name}\n"))).await;
                }
                Event::Control(msg) => {
                    ctx.signal.send(msg).await;
                    break;
                }
            }
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_scheduler_with_a_runtime_per_thread_connections_take_turns_and_stay_on_their_thread() {
    let server = SimpleServer::new(|| WhichThread, 0).bind().await.unwrap();
    let (handle, address) = (server.handle(), server.local_addr());
    let scheduler = Scheduler::per_thread(2);
    let running = scheduler.activate(server);
    // The listener was made on this test's runtime, each connection's socket on the server's
    // thread: the adapters move them to the thread their connection was given.
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(connect(address).await);
    }
    let mut threads = Vec::new();
    for client in &mut clients {
        let first = String::from_utf8(round_trip_line(client, b"a").await).unwrap();
        for _ in 0..20 {
            let again = String::from_utf8(round_trip_line(client, b"b").await).unwrap();
            assert_eq!(again, first, "a connection stays on its thread");
        }
        threads.push(first);
    }
    let mut seen: Vec<&str> = threads.iter().map(|t| t.trim_end()).collect();
    seen.sort_unstable();
    assert_eq!(seen, ["axon-worker-0", "axon-worker-0", "axon-worker-1", "axon-worker-1"], "{threads:?}");
    drop(clients);
    handle.shutdown();
    assert_eq!(within("the server's end", running.join()).await, Exit::Finished);
    assert!(scheduler.failures().is_empty(), "{:?}", scheduler.failures());
}

/// Sends `payload` and reads one line back.
async fn round_trip_line(client: &mut TcpStream, payload: &[u8]) -> Vec<u8> {
    client.write_all(payload).await.expect("write");
    let mut line = Vec::new();
    let mut byte = [0];
    while line.last() != Some(&b'\n') {
        within("a line", client.read_exact(&mut byte)).await.expect("a line arrives");
        line.push(byte[0]);
    }
    line
}
