//! `ConnectedSocketAdapter` alone, driven through its boxes against a raw socket peer:
//! flushing what is queued before acting on `control`, chunking reads, the send timeout, the
//! `inbox` closing, half-close mode, file regions (in order, large, short), and what its last
//! `signal` says.

use std::time::Duration;

use axon_core::ipc::ShutdownMicroprocess;
use axon_core::prelude::*;
use axon_core::Exit;
use kamaelia_chassis::socket::{AdapterSettings, Bytes, ConnectedSocketAdapter, FileRegion, Payload, Written};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const DEADLINE: Duration = Duration::from_secs(20);

async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, fut).await.unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// A connected pair: (ours, for the adapter; the peer's).
async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let peer = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (ours, _) = listener.accept().await.unwrap();
    (ours, peer)
}

fn message_of(signal: Ipc) -> String {
    match signal {
        Ipc::ProducerFinished(pf) => pf.message.unwrap_or_default(),
        other => panic!("expected ProducerFinished, got {other:?}"),
    }
}

/// Both the data and the request are waiting before the adapter first runs: the data is still
/// written first, all of it, and then the socket is closed.
#[tokio::test(flavor = "multi_thread")]
async fn queued_data_is_written_before_a_shutdown_request_is_acted_on() {
    let (ours, mut peer) = pair().await;
    // Room for all 50 messages at once (the default write queue holds 16).
    let settings = AdapterSettings { write_queue: 50, ..AdapterSettings::default() };
    let adapter = Instance::new(ConnectedSocketAdapter::with_settings(ours, settings));
    for i in 0..50u8 {
        adapter.component().deliver("inbox", Bytes::from(vec![i; 1000])).unwrap();
    }
    adapter.component().deliver("control", Ipc::from(ProducerFinished::new())).unwrap();
    let mut h = Handle::new(adapter, &Scheduler::new());

    let mut all = Vec::new();
    within("end of stream", peer.read_to_end(&mut all)).await.unwrap();
    let expected: Vec<u8> = (0..50u8).flat_map(|i| vec![i; 1000]).collect();
    assert!(all == expected, "all 50 000 bytes, in order, then end of stream");
    drop(peer);
    assert!(message_of(within("the signal", h.recv_signal()).await.unwrap()).contains("ProducerFinished"));
    assert_eq!(within("the end", h.join()).await, Exit::Finished);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shutdown_microprocess_is_passed_on_after_the_close() {
    let (ours, mut peer) = pair().await;
    let mut h = Handle::new(ConnectedSocketAdapter::new(ours), &Scheduler::new());
    h.send(Bytes::from_static(b"last")).await;
    h.send_control(ShutdownMicroprocess::new()).await;
    let mut all = Vec::new();
    within("end of stream", peer.read_to_end(&mut all)).await.unwrap();
    assert_eq!(all, b"last");
    drop(peer);
    assert!(within("the signal", h.recv_signal()).await.unwrap().is_shutdown_microprocess());
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_leave_the_outbox_in_chunks_no_larger_than_the_read_buffer() {
    let (ours, mut peer) = pair().await;
    let settings = AdapterSettings { read_buffer_size: 100, ..AdapterSettings::default() };
    let mut h = Handle::new(ConnectedSocketAdapter::with_settings(ours, settings), &Scheduler::new());
    let sent: Vec<u8> = (0..10_000u32).map(|i| (i % 256) as u8).collect();
    peer.write_all(&sent).await.unwrap();
    let mut received = Vec::new();
    while received.len() < sent.len() {
        let chunk = within("a chunk", h.recv()).await.unwrap();
        assert!(!chunk.is_empty() && chunk.len() <= 100, "chunk of {} bytes", chunk.len());
        received.extend(chunk);
    }
    assert_eq!(received, sent);
}

/// Reads start small and grow while data keeps coming: a burst much larger than the first read
/// arrives whole, in order, in chunks that grew past the first read's size and never past
/// `read_buffer_size`.
#[tokio::test(flavor = "multi_thread")]
async fn a_burst_larger_than_one_read_arrives_whole_in_growing_chunks() {
    let (ours, mut peer) = pair().await;
    let settings = AdapterSettings { min_read_size: 1024, read_buffer_size: 16 * 1024, ..AdapterSettings::default() };
    // Sent before the adapter runs (it fits in the socket buffers): every read finds data waiting.
    let sent: Vec<u8> = (0..60_000u32).map(|i| (i * 7 % 251) as u8).collect();
    within("the write", peer.write_all(&sent)).await.unwrap();
    let mut h = Handle::new(ConnectedSocketAdapter::with_settings(ours, settings), &Scheduler::new());
    let mut received = Vec::new();
    let mut sizes = Vec::new();
    while received.len() < sent.len() {
        let chunk = within("a chunk", h.recv()).await.unwrap();
        assert!(!chunk.is_empty() && chunk.len() <= 16 * 1024, "chunk of {} bytes", chunk.len());
        sizes.push(chunk.len());
        received.extend(chunk);
    }
    assert!(received == sent, "the bytes arrived changed");
    assert!(sizes[0] <= 1024, "the first read is at most min_read_size: {sizes:?}");
    assert!(sizes.iter().any(|&n| n > 1024), "reads grew while data kept coming: {sizes:?}");

    // The connection stays usable after the burst: a small message still arrives.
    within("the write", peer.write_all(b"and one more")).await.unwrap();
    assert_eq!(within("a chunk", h.recv()).await.unwrap(), Bytes::from_static(b"and one more"));
}

/// A peer that stops reading cannot hold the adapter for ever.
#[tokio::test(flavor = "multi_thread")]
async fn a_peer_that_reads_nothing_is_dropped_after_the_send_timeout() {
    let (ours, _peer) = pair().await; // never read
    let settings = AdapterSettings { send_timeout: Some(Duration::from_millis(200)), ..AdapterSettings::default() };
    let mut h = Handle::new(ConnectedSocketAdapter::with_settings(ours, settings), &Scheduler::new());
    let chunk = Bytes::from(vec![0u8; 256 * 1024]);
    let signal = within("the adapter to give up", async {
        loop {
            // Once the adapter has ended its inbox discards, so this send returns.
            h.send(chunk.clone()).await;
            if let Ok(signal) = h.get_signal() {
                break signal;
            }
        }
    })
    .await;
    let message = message_of(signal);
    assert!(message.contains("read nothing for 200ms"), "{message}");
    assert_eq!(within("the end", h.join()).await, Exit::Finished, "a network event, not a failure");
}

/// When whoever fed the adapter ends, its `inbox` closes, and it closes the connection.
#[tokio::test(flavor = "multi_thread")]
async fn the_inbox_closing_closes_the_connection() {
    let (ours, mut peer) = pair().await;
    let scheduler = Scheduler::new();
    let feeder = Instance::new(from_fn("Feeder", |mut ctx: Context<(), Bytes>| async move {
        ctx.outbox.send(Bytes::from_static(b"all I had")).await;
        Ok(())
    }));
    let adapter = Instance::new(ConnectedSocketAdapter::new(ours));
    scheduler.link((&feeder, "outbox"), (&adapter, "inbox")).unwrap();
    let adapter = adapter.activate(&scheduler);
    feeder.activate(&scheduler);
    let mut all = Vec::new();
    within("end of stream", peer.read_to_end(&mut all)).await.unwrap();
    assert_eq!(all, b"all I had");
    drop(peer);
    assert_eq!(within("the end", adapter.join()).await, Exit::Finished);
}

#[tokio::test(flavor = "multi_thread")]
async fn in_half_close_mode_producer_finished_closes_only_the_sending_side() {
    let (ours, mut peer) = pair().await;
    let mut h = Handle::new(ConnectedSocketAdapter::new(ours).half_close(true), &Scheduler::new());
    h.send(Bytes::from_static(b"request")).await;
    h.send_control(ProducerFinished::new()).await;
    let mut request = Vec::new();
    within("end of the request", peer.read_to_end(&mut request)).await.unwrap();
    assert_eq!(request, b"request");

    peer.write_all(b"response").await.unwrap();
    let mut response = Vec::new();
    while response.len() < 8 {
        response.extend(within("the response", h.recv()).await.unwrap());
    }
    assert_eq!(response, b"response", "still receiving after ProducerFinished");
    drop(peer);
    assert!(message_of(within("the signal", h.recv_signal()).await.unwrap()).contains("peer closed"));
    assert_eq!(within("the end", h.join()).await, Exit::Finished);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reset_from_the_peer_ends_the_adapter_without_failing_it() {
    let (ours, peer) = pair().await;
    let mut h = Handle::new(ConnectedSocketAdapter::new(ours), &Scheduler::new());
    peer.set_zero_linger().unwrap();
    drop(peer);
    let message = message_of(within("the signal", h.recv_signal()).await.unwrap());
    assert!(message.contains("reading from the peer failed") || message.contains("peer closed"), "{message}");
    assert_eq!(within("the end", h.join()).await, Exit::Finished);
}

#[test]
fn settings_that_cannot_work_are_refused_naming_the_setting() {
    let no_queue = AdapterSettings { write_queue: 0, ..AdapterSettings::default() };
    assert_eq!(no_queue.validate().unwrap_err().name, "write_queue");
    let no_buffer = AdapterSettings { read_buffer_size: 0, ..AdapterSettings::default() };
    assert_eq!(no_buffer.validate().unwrap_err().name, "read_buffer_size");
    let no_first_read = AdapterSettings { min_read_size: 0, ..AdapterSettings::default() };
    assert_eq!(no_first_read.validate().unwrap_err().name, "min_read_size");
    let smallest = AdapterSettings { write_queue: 1, read_buffer_size: 1, ..AdapterSettings::default() };
    assert!(smallest.validate().is_ok());
}

/// A protocol that sends faster than the peer reads waits once `write_queue` messages are
/// queued: the adapter's inbox never holds more.
#[tokio::test(flavor = "multi_thread")]
async fn the_write_queue_bounds_what_waits_to_be_written() {
    let (ours, _peer) = pair().await;
    let settings = AdapterSettings { write_queue: 3, ..AdapterSettings::default() };
    let adapter = Instance::new(ConnectedSocketAdapter::with_settings(ours, settings));
    for i in 0..3u8 {
        adapter.component().deliver("inbox", Bytes::from(vec![i; 10])).unwrap();
    }
    assert!(adapter.component().deliver("inbox", Bytes::from_static(b"one too many")).is_err());
}

/// A file of `len` bytes that is not a short repeating pattern, in a fresh directory.
fn file_of(len: usize) -> (tempfile::TempDir, std::fs::File, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let mut x: u32 = 0x9e37_79b9;
    let content: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    std::fs::write(dir.path().join("f"), &content).unwrap();
    let file = std::fs::File::open(dir.path().join("f")).unwrap();
    (dir, file, content)
}

#[tokio::test(flavor = "multi_thread")]
async fn file_regions_go_out_between_the_bytes_in_order() {
    let (ours, mut peer) = pair().await;
    let (_dir, file, content) = file_of(100_000);
    let file = std::sync::Arc::new(file);
    let adapter = ConnectedSocketAdapter::<Payload>::carrying(ours, AdapterSettings::default());
    let mut h = Handle::new(adapter, &Scheduler::new());
    h.send(Payload::from(Bytes::from_static(b"<head>"))).await;
    h.send(FileRegion::new(file.clone(), 10, 50_000).into()).await;
    h.send(Payload::from(Bytes::from_static(b"<mid>"))).await;
    // The same open file again: a region is read where it says, whatever the file's position.
    h.send(FileRegion::new(file, 0, 5).into()).await;
    h.send(FileRegion::whole(std::fs::File::open(_dir.path().join("f")).unwrap()).unwrap().into()).await;
    h.send_control(ProducerFinished::new()).await;
    let mut all = Vec::new();
    within("end of stream", peer.read_to_end(&mut all)).await.unwrap();
    let expected = [b"<head>", &content[10..50_010], b"<mid>", &content[..5], &content[..]].concat();
    assert_eq!(all.len(), expected.len());
    assert!(all == expected, "the regions and bytes arrived changed or out of order");
    drop(peer);
    assert!(message_of(within("the signal", h.recv_signal()).await.unwrap()).contains("ProducerFinished"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_region_larger_than_a_send_chunk_reaches_a_slow_reader_whole() {
    // A peer with a small receive buffer.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut peer = socket.connect(listener.local_addr().unwrap()).await.unwrap();
    let (ours, _) = listener.accept().await.unwrap();
    // Several `SENDFILE_MAX_CHUNK`s, read a little at a time: the adapter meets a full socket,
    // and takes turns, many times.
    let len = 3 * kamaelia_chassis::payload::SENDFILE_MAX_CHUNK + 12_345;
    let (_dir, file, content) = file_of(len);
    let adapter = ConnectedSocketAdapter::<Payload>::carrying(ours, AdapterSettings::default());
    let mut h = Handle::new(adapter, &Scheduler::new());
    h.send(FileRegion::new(file, 0, len as u64).into()).await;
    h.send_control(ProducerFinished::new()).await;
    let mut all = Vec::with_capacity(len);
    let mut piece = [0u8; 4096];
    within("the whole region", async {
        loop {
            match peer.read(&mut piece).await.unwrap() {
                0 => break,
                n => all.extend_from_slice(&piece[..n]),
            }
        }
    })
    .await;
    assert_eq!(all.len(), len);
    assert!(all == content, "the region arrived changed");
}

/// A receipt is signed once everything before it is in the kernel, not before: against a peer
/// that reads nothing, a receipt behind more than the socket buffers hold stays unsigned, and is
/// signed as soon as the peer has read enough; one dropped with its adapter marks its stream
/// abandoned.
#[tokio::test(flavor = "multi_thread")]
async fn a_receipt_is_signed_once_what_came_before_it_is_written() {
    // A peer with a small receive buffer: 8 MiB is more than the socket buffers then hold.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut peer = socket.connect(listener.local_addr().unwrap()).await.unwrap();
    let (ours, _) = listener.accept().await.unwrap();
    // (Linux lets a send buffer grow to 4 MiB by default: 16 MiB leaves a wide margin.)
    let (_dir, file, content) = file_of(16 * 1024 * 1024);
    let written = Written::new();
    let adapter = ConnectedSocketAdapter::<Payload>::carrying(ours, AdapterSettings::default());
    let mut h = Handle::new(adapter, &Scheduler::new());
    h.send(Payload::from(Bytes::from_static(b"<head>"))).await;
    h.send(written.receipt(6).into()).await;
    h.send(FileRegion::new(file, 0, content.len() as u64).into()).await;
    h.send(written.receipt(6 + content.len() as u64).into()).await;
    h.send(Payload::from(Bytes::from_static(b"<tail>"))).await;
    // The head is small enough for the socket: its receipt is signed with nothing read.
    within("the head's receipt", async {
        while written.position() < 6 {
            written.changed().await;
        }
    })
    .await;
    assert!(written.last_signed().is_some());
    // The file's receipt waits for the peer.
    let mut all = vec![0u8; 6 + 64 * 1024];
    within("the start of the file", peer.read_exact(&mut all)).await.unwrap();
    assert_eq!(written.position(), 6, "signed before the peer read the file");
    let mut rest = vec![0u8; content.len() - 64 * 1024 + 6];
    within("the rest", peer.read_exact(&mut rest)).await.unwrap();
    within("the file's receipt", async {
        while written.position() < 6 + content.len() as u64 {
            written.changed().await;
        }
    })
    .await;
    all.extend_from_slice(&rest);
    assert!(all == [b"<head>", &content[..], b"<tail>"].concat(), "the stream arrived changed");
    assert!(!written.abandoned());

    // A receipt still queued when the connection goes is dropped with the adapter, unsigned.
    let (_dir, file, content) = file_of(8 * 1024 * 1024);
    let (ours, peer) = pair().await;
    let lost = Written::new();
    let adapter = ConnectedSocketAdapter::<Payload>::carrying(ours, AdapterSettings::default());
    let mut h = Handle::new(adapter, &Scheduler::new());
    h.send(FileRegion::new(file, 0, content.len() as u64).into()).await;
    h.send(lost.receipt(content.len() as u64).into()).await;
    let stream = peer.into_std().unwrap();
    socket_linger_zero_and_close(stream);
    within("the abandoned receipt", async {
        while !lost.abandoned() {
            lost.changed().await;
        }
    })
    .await;
    assert_eq!(lost.position(), 0);
}

/// Closes `stream` with a reset (`SO_LINGER` 0).
fn socket_linger_zero_and_close(stream: std::net::TcpStream) {
    let stream = TcpStream::from_std(stream).unwrap();
    stream.set_zero_linger().unwrap();
    drop(stream);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_shorter_than_its_region_drops_the_connection_and_says_why() {
    let (ours, mut peer) = pair().await;
    let (_dir, file, content) = file_of(1000);
    let adapter = ConnectedSocketAdapter::<Payload>::carrying(ours, AdapterSettings::default());
    let mut h = Handle::new(adapter, &Scheduler::new());
    // The region promises more than the file holds (as when a file shrinks after the region was
    // made): what there is goes out, then the connection is dropped rather than left hanging.
    h.send(Payload::from(Bytes::from_static(b"head:"))).await;
    h.send(FileRegion::new(file, 0, 5000).into()).await;
    let mut all = Vec::new();
    within("the connection to end", peer.read_to_end(&mut all)).await.unwrap();
    assert!(all == [&b"head:"[..], &content].concat(), "expected the head and the whole file, got {} bytes", all.len());
    let why = message_of(within("the signal", h.recv_signal()).await.unwrap());
    assert!(why.contains("sending a file region failed") && why.contains("byte 1000"), "{why}");
    assert_eq!(within("the end", h.join()).await, Exit::Finished);
}

/// A peer that half-closes and then reads slowly gets the whole reply: `finish_after_peer_close`
/// bounds a stretch with nothing written, not a reply that is still being read (it used to end
/// the connection that long after the half-close, cutting a large reply).
#[tokio::test(flavor = "multi_thread")]
async fn a_half_closed_peer_reading_slowly_gets_the_whole_reply() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut peer = socket.connect(listener.local_addr().unwrap()).await.unwrap();
    let (ours, _) = listener.accept().await.unwrap();
    let grace = Duration::from_millis(100);
    let settings = AdapterSettings { finish_after_peer_close: Some(grace), ..AdapterSettings::default() };
    let mut h = Handle::new(ConnectedSocketAdapter::with_settings(ours, settings), &Scheduler::new());
    let reply: Vec<u8> = (0..4 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    h.send(Bytes::from(reply.clone())).await;
    h.send_control(ProducerFinished::new()).await;
    peer.shutdown().await.unwrap();
    // Read in small pieces, pausing between them: the reply takes many times the grace to read.
    let started = tokio::time::Instant::now();
    let mut all = Vec::with_capacity(reply.len());
    let mut piece = vec![0u8; 64 * 1024];
    within("the whole reply", async {
        loop {
            match peer.read(&mut piece).await.unwrap() {
                0 => break,
                n => all.extend_from_slice(&piece[..n]),
            }
            tokio::time::sleep(Duration::from_millis(1)).await; // a slow reader, not a wait for the server
        }
    })
    .await;
    assert_eq!(all.len(), reply.len(), "the reply was cut after {:?}", started.elapsed());
    assert!(all == reply, "the reply arrived changed");
}

/// After a half-close, a component that goes quiet without finishing is still cut off once
/// nothing has been written for the grace.
#[tokio::test(flavor = "multi_thread")]
async fn after_a_half_close_nothing_written_for_the_grace_ends_the_connection() {
    let (ours, mut peer) = pair().await;
    let settings =
        AdapterSettings { finish_after_peer_close: Some(Duration::from_millis(100)), ..AdapterSettings::default() };
    let mut h = Handle::new(ConnectedSocketAdapter::with_settings(ours, settings), &Scheduler::new());
    h.send(Bytes::from_static(b"partial")).await;
    peer.shutdown().await.unwrap();
    let mut all = Vec::new();
    within("the close", peer.read_to_end(&mut all)).await.unwrap();
    assert_eq!(all, b"partial");
    let mut saw_peer_close = false;
    while let Ok(msg) = h.recv_signal_timeout(DEADLINE) {
        let text = message_of(msg);
        saw_peer_close |= text.contains("closed");
        if text.contains("ended") || text.contains("peer closed the connection") {
            break;
        }
    }
    assert!(saw_peer_close);
}
