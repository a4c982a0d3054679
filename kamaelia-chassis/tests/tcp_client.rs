//! `TCPClient` end to end over real sockets on 127.0.0.1: data both ways, flushing and closing
//! on `ProducerFinished`, `wait_for_serverclose`, connection failures (refused, timed out) and
//! how they are reported, and Kamaelia's test 94 (`test_TCPServerClientSystem.py`: a
//! `SimpleServer(Chargen)` and a `TCPClient` feeding a `ConsoleEchoer`), made a real test.

mod tcp_support;

use std::io::{BufRead, Read};
use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

use axon_core::ipc::ShutdownMicroprocess;
use axon_core::prelude::*;
use axon_core::Exit;
use kamaelia_chassis::console::{ConsoleEchoer, ConsoleReader, SharedBuffer};
use kamaelia_chassis::server::SimpleServer;
use kamaelia_chassis::socket::Bytes;
use kamaelia_chassis::tcp_client::{ClientSettings, TCPClient, TcpClientError};
use tcp_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).filter(|w| *w == needle).count()
}

/// Kamaelia's test 94, as a test: `SimpleServer(protocol=Chargen)` on a free port, and
/// `TCPClient("127.0.0.1", port)` → `ConsoleEchoer`. The original printed "Hello World" for ever
/// and asserted nothing; here the bytes must arrive, and then everything shuts down cleanly.
#[tokio::test(flavor = "multi_thread")]
async fn test_94_a_chargen_server_and_a_client_exchange_hello_world_then_shut_down_cleanly() {
    let server = SimpleServer::new(|| Chargen, 0).bind().await.unwrap();
    let (handle, port) = (server.handle(), server.local_addr().port());
    let scheduler = Scheduler::new();
    let server = scheduler.activate(server);

    let out = SharedBuffer::default();
    let client = Instance::new(TCPClient::new("127.0.0.1", port));
    let echoer = Instance::new(ConsoleEchoer::new().writing_to(out.clone()));
    scheduler.link((&client, "outbox"), (&echoer, "inbox")).unwrap();
    scheduler.link((&client, "signal"), (&echoer, "control")).unwrap();
    let client = client.activate(&scheduler);
    let echoer = echoer.activate(&scheduler);

    wait_until("ten lines have arrived", || count(&out.contents(), b"Hello World\n") >= 10).await;
    assert!(out.contents().starts_with(b"Hello World\nHello World\n"));

    client.deliver("control", Ipc::from(ShutdownMicroprocess::new())).unwrap();
    assert_eq!(within("the client's end", client.join()).await, Exit::Finished);
    assert_eq!(within("the echoer's end", echoer.join()).await, Exit::Finished, "the shutdown reached it in band");
    within("the connection's end on the server", handle.wait_for(|s| s.open == 0)).await;
    handle.shutdown();
    assert_eq!(within("the server's end", server.join()).await, Exit::Finished);
    within("everything's end", scheduler.run_async()).await.expect("nothing failed");
}

#[tokio::test(flavor = "multi_thread")]
async fn what_reaches_the_inbox_is_sent_and_what_the_server_sends_leaves_the_outbox() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut client = Handle::new(TCPClient::new("127.0.0.1", port), &Scheduler::new());
    let (mut server_side, _) = within("the connection", listener.accept()).await.unwrap();

    client.send(Bytes::from_static(b"one ")).await;
    client.send(Bytes::from_static(b"two")).await;
    let mut got = [0; 7];
    within("the client's data", server_side.read_exact(&mut got)).await.unwrap();
    assert_eq!(&got, b"one two");

    server_side.write_all(b"reply").await.unwrap();
    let mut received = Vec::new();
    while received.len() < 5 {
        received.extend(within("the reply", client.recv()).await.unwrap());
    }
    assert_eq!(received, b"reply");

    drop(server_side);
    let farewell = within("the client's signal", client.recv_signal()).await.unwrap();
    let Ipc::ProducerFinished(pf) = farewell else { panic!("expected ProducerFinished, got {farewell:?}") };
    assert!(pf.message.as_deref().is_some_and(|m| m.contains("peer closed")), "{pf:?}");
    assert_eq!(within("the client's end", client.join()).await, Exit::Finished);
}

#[tokio::test(flavor = "multi_thread")]
async fn producer_finished_on_control_sends_what_is_queued_then_closes() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut client = Handle::new(TCPClient::new("127.0.0.1", port), &Scheduler::new());
    let (mut server_side, _) = within("the connection", listener.accept()).await.unwrap();

    let chunk = vec![b'x'; 16 * 1024];
    for _ in 0..40 {
        client.send(Bytes::from(chunk.clone())).await;
    }
    client.send_control(ProducerFinished::new()).await;
    let mut all = Vec::new();
    within("end of stream", server_side.read_to_end(&mut all)).await.unwrap();
    assert_eq!(all.len(), 40 * chunk.len(), "everything sent before ProducerFinished arrives, then end of stream");
    drop(server_side);
    assert!(within("the client's signal", client.recv_signal()).await.unwrap().is_producer_finished());
    assert_eq!(within("the client's end", client.join()).await, Exit::Finished);
}

#[tokio::test(flavor = "multi_thread")]
async fn with_wait_for_serverclose_the_client_keeps_receiving_after_producer_finished() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let settings = ClientSettings { wait_for_serverclose: true, ..ClientSettings::default() };
    let mut client = Handle::new(TCPClient::new("127.0.0.1", port).with_settings(settings), &Scheduler::new());
    let (mut server_side, _) = within("the connection", listener.accept()).await.unwrap();

    client.send(Bytes::from_static(b"question")).await;
    client.send_control(ProducerFinished::new()).await;
    let mut asked = Vec::new();
    within("the half-close", server_side.read_to_end(&mut asked)).await.unwrap();
    assert_eq!(asked, b"question", "the question, then end of stream (the client's sending side is shut)");

    server_side.write_all(b"answer").await.unwrap();
    drop(server_side);
    let mut answer = Vec::new();
    while let Some(bytes) = within("the answer", client.recv()).await {
        answer.extend(bytes);
    }
    assert_eq!(answer, b"answer", "received after the client had finished sending");
    assert_eq!(within("the client's end", client.join()).await, Exit::Finished);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_connection_fails_naming_host_and_port_and_says_so_on_signal() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }; // closed again: nothing listens there now
    let mut client = Handle::new(TCPClient::new("127.0.0.1", port), &Scheduler::new());
    let signal = within("the client's signal", client.recv_signal()).await.unwrap();
    let Ipc::ProducerFinished(pf) = signal else { panic!("expected ProducerFinished, got {signal:?}") };
    let named = format!("cannot connect to 127.0.0.1:{port}");
    assert!(pf.message.as_deref().is_some_and(|m| m.starts_with(&named)), "{pf:?}");
    match within("the client's end", client.join()).await {
        Exit::Failed(why) => assert!(why.starts_with(&named), "{why}"),
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// A listener that completes no handshake: its queue is full, so the kernel drops further SYNs
/// and a connect hangs. Returns it, the connections that filled it, and its address.
async fn unanswering_listener() -> (TcpListener, Vec<TcpStream>, SocketAddr) {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let address = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..64 {
        match tokio::time::timeout(Duration::from_millis(300), TcpStream::connect(address)).await {
            Ok(Ok(s)) => fillers.push(s),
            Ok(Err(e)) => panic!("filling the listen queue: {e}"),
            Err(_) => return (listener, fillers, address), // a connect hung: the queue is full
        }
    }
    panic!("the listen queue never filled (64 connections completed)");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unanswered_connection_times_out_naming_host_and_port() {
    let (_listener, _fillers, address) = unanswering_listener().await;
    let settings = ClientSettings { connect_timeout: Duration::from_millis(200), ..ClientSettings::default() };
    let client = TCPClient::new("127.0.0.1", address.port()).with_settings(settings);
    let mut client = Handle::new(client, &Scheduler::new());
    let signal = within("the client's signal", client.recv_signal()).await.unwrap();
    assert!(signal.is_producer_finished(), "{signal:?}");
    match within("the client's end", client.join()).await {
        Exit::Failed(why) => {
            let expected = TcpClientError::ConnectTimeout {
                host: "127.0.0.1".into(),
                port: address.port(),
                timeout: Duration::from_millis(200),
            };
            assert_eq!(why, expected.to_string());
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_microprocess_while_connecting_stops_the_client_and_is_passed_on() {
    let (_listener, _fillers, address) = unanswering_listener().await;
    let mut client = Handle::new(TCPClient::new("127.0.0.1", address.port()), &Scheduler::new());
    client.send_control(ShutdownMicroprocess::new()).await;
    let signal = within("the client's signal", client.recv_signal()).await.unwrap();
    assert!(signal.is_shutdown_microprocess(), "{signal:?}");
    assert_eq!(within("the client's end", client.join()).await, Exit::Finished);
}

/// Data and `ProducerFinished` that arrive while the client is still connecting (here during
/// its `delay`) are acted on once connected: the data is sent, then the connection closed.
#[tokio::test(flavor = "multi_thread")]
async fn data_and_producer_finished_sent_while_connecting_are_acted_on_once_connected() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let settings = ClientSettings { delay: Duration::from_millis(200), ..ClientSettings::default() };
    let mut client = Handle::new(TCPClient::new("127.0.0.1", port).with_settings(settings), &Scheduler::new());
    client.send(Bytes::from_static(b"early ")).await;
    client.send(Bytes::from_static(b"bird")).await;
    client.send_control(ProducerFinished::new()).await;

    let (mut server_side, _) = within("the connection", listener.accept()).await.unwrap();
    let mut all = Vec::new();
    within("end of stream", server_side.read_to_end(&mut all)).await.unwrap();
    assert_eq!(all, b"early bird");
    drop(server_side);
    assert_eq!(within("the client's end", client.join()).await, Exit::Finished);
}

/// Lines fed from the test, and end of input when the sender is dropped: a console typed at.
struct Typed {
    lines: mpsc::Receiver<&'static str>,
    current: Vec<u8>,
    at: usize,
}

impl Read for Typed {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Typed {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.at == self.current.len() {
            self.current = self.lines.recv().map(|l| l.as_bytes().to_vec()).unwrap_or_default();
            self.at = 0;
        }
        Ok(&self.current[self.at..])
    }

    fn consume(&mut self, n: usize) {
        self.at += n;
    }
}

/// The echo client example as a test: `ConsoleReader` → `TCPClient` → `ConsoleEchoer`, against
/// the echo server; what is typed comes back, and end of input ends everything.
#[tokio::test(flavor = "multi_thread")]
async fn the_console_reader_tcp_client_console_echoer_pipeline_echoes_what_is_typed() {
    let server = SimpleServer::new(|| Echo, 0).bind().await.unwrap();
    let (handle, port) = (server.handle(), server.local_addr().port());
    let scheduler = Scheduler::new();
    let server = scheduler.activate(server);

    let (typing, lines) = mpsc::channel();
    let out = SharedBuffer::default();
    let reader = Instance::new(ConsoleReader::from_reader(Typed { lines, current: Vec::new(), at: 0 }));
    let client = Instance::new(TCPClient::new("127.0.0.1", port));
    let echoer = Instance::new(ConsoleEchoer::new().writing_to(out.clone()));
    scheduler.link((&reader, "outbox"), (&client, "inbox")).unwrap();
    scheduler.link((&reader, "signal"), (&client, "control")).unwrap();
    scheduler.link((&client, "outbox"), (&echoer, "inbox")).unwrap();
    scheduler.link((&client, "signal"), (&echoer, "control")).unwrap();
    let pipeline = [reader.activate(&scheduler), client.activate(&scheduler), echoer.activate(&scheduler)];

    typing.send("hello\n").unwrap();
    typing.send("world\r\n").unwrap();
    wait_until("both lines are echoed", || out.contents() == b"hello\nworld\n").await;
    drop(typing); // end of input (Ctrl-D)
    for c in &pipeline {
        assert_eq!(within("the pipeline's end", c.join()).await, Exit::Finished, "{}", c.name());
    }
    within("the connection's end on the server", handle.wait_for(|s| s.open == 0)).await;
    handle.shutdown();
    within("the server's end", server.join()).await;
    within("everything's end", scheduler.run_async()).await.expect("nothing failed");
}
