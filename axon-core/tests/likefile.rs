//! Components as files and streams ([`axon_core::likefile`]): a byte-carrying component driven
//! with `std::io` from plain threads and with `tokio::io` from async code, its ends of file both
//! ways, failures, the bound a reader that stops reading puts on the writer; handles and boxes
//! as `futures` streams and sinks; handles to boxes beyond the standard four.

use std::io::{BufRead, Read, Write};
use std::sync::mpsc;
use std::time::Duration;

use axon_core::likefile::{BoxReceiver, BoxSender, LikeFile, OutboxSink, SendError};
use axon_core::prelude::*;
use axon_core::{Exit, LinkError, DEFAULT_CAPACITY};
use futures_util::{SinkExt, StreamExt};

/// How long anything here may take before the test fails (never reached when things work).
const DEADLINE: Duration = Duration::from_secs(20);

/// Passes each chunk of bytes on unchanged; on a shutdown request (after the data queued before
/// it) passes the request on and ends; ends too when its input closes.
fn echo() -> impl Component<Inbox = Vec<u8>, Outbox = Vec<u8>> {
    from_fn("Echo", |mut ctx: Context<Vec<u8>, Vec<u8>>| async move {
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(bytes) => ctx.outbox.send(bytes).await,
                Event::Control(msg) if msg.is_shutdown_request() => {
                    ctx.signal.send(msg).await;
                    break;
                }
                Event::Control(_) => {}
            }
        }
        Ok(())
    })
}

/// Bytes that are not all alike, so that a reordering or a loss shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// Runs `f` on a thread of its own and waits for it at most [`DEADLINE`].
fn within<R: Send + 'static>(what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(DEADLINE).unwrap_or_else(|_| panic!("{what} did not finish within {DEADLINE:?}"))
}

#[test]
fn std_io_copy_moves_megabytes_through_a_component_in_order() {
    within("the copy", || {
        let scheduler = Scheduler::new();
        let file = LikeFile::new(echo(), &scheduler);
        let (mut input, mut output) = file.split();
        let data = pattern(3 * 1024 * 1024 + 17);
        let sent = data.clone();
        let writer = std::thread::spawn(move || {
            let n = std::io::copy(&mut &sent[..], &mut input)?;
            input.close()?;
            Ok::<u64, std::io::Error>(n)
        });
        let mut back = Vec::new();
        output.read_to_end(&mut back).unwrap();
        assert_eq!(writer.join().unwrap().unwrap(), data.len() as u64);
        assert_eq!(back.len(), data.len());
        assert!(back == data, "the bytes came back changed");
        assert_eq!(output.join_blocking(), Exit::Finished);
    });
}

#[test]
fn one_write_is_one_message_of_at_most_max_chunk_bytes() {
    let scheduler = Scheduler::new();
    let lengths = from_fn("Lengths", |mut ctx: Context<Vec<u8>, Vec<u8>>| async move {
        while let Some(bytes) = ctx.inbox.recv().await {
            ctx.outbox.send(format!("{}\n", bytes.len()).into_bytes()).await;
        }
        Ok(())
    });
    let mut file = LikeFile::new(lengths, &scheduler);
    file.set_max_chunk(10);
    assert_eq!(file.write(&[1; 25]).unwrap(), 10, "a write takes at most max_chunk bytes");
    file.write_all(&[2; 15]).unwrap();
    assert_eq!(file.write(&[]).unwrap(), 0, "an empty write sends nothing");
    file.close_write().unwrap();
    let lines: Vec<String> = file.lines().map(Result::unwrap).collect();
    assert_eq!(lines, ["10", "10", "5"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_io_copy_moves_data_through_a_component_and_shutdown_ends_it() {
    let scheduler = Scheduler::new();
    let file = LikeFile::new(echo(), &scheduler);
    let (mut input, mut output) = file.split();
    let data = pattern(1024 * 1024 + 3);
    let sent = data.clone();
    let write = async move {
        let n = tokio::io::copy(&mut &sent[..], &mut input).await?;
        tokio::io::AsyncWriteExt::shutdown(&mut input).await?;
        Ok::<u64, std::io::Error>(n)
    };
    let read = async move {
        let mut back = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut output, &mut back).await.map(|_| back)
    };
    let (written, back) = tokio::time::timeout(DEADLINE, async { tokio::join!(write, read) }).await.unwrap();
    assert_eq!(written.unwrap(), data.len() as u64);
    assert!(back.unwrap() == data, "the bytes came back changed");
}

#[test]
fn the_end_of_file_comes_with_producer_finished_on_signal_while_the_component_lives() {
    // Sends its lines, then ProducerFinished, then waits (on `control`) without ending.
    let scheduler = Scheduler::new();
    let talker = from_fn("Talker", |mut ctx: Context<Vec<u8>, Vec<u8>>| async move {
        ctx.outbox.send(b"one\n".to_vec()).await;
        ctx.outbox.send(b"two\n".to_vec()).await;
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        while ctx.control.recv().await.is_some() {}
        Ok(())
    });
    let file = LikeFile::new(talker, &scheduler);
    let component = file.component().clone();
    let (input, mut output) = file.split();
    let text = within("the read", move || {
        let mut text = String::new();
        output.read_to_string(&mut text).map(|_| text)
    });
    assert_eq!(text.unwrap(), "one\ntwo\n");
    assert!(!component.has_ended(), "the end of the file came from signal, not from the component's end");
    drop(input); // its control closes: it ends
}

#[test]
fn a_component_that_panics_makes_the_read_that_finds_the_end_an_error() {
    let scheduler = Scheduler::new();
    let fragile = from_fn("Fragile", |mut ctx: Context<Vec<u8>, Vec<u8>>| async move {
        let first = ctx.inbox.recv().await.unwrap_or_default();
        ctx.outbox.send(first).await;
        panic!("cannot take a second chunk");
    });
    let file = LikeFile::new(fragile, &scheduler);
    let (mut input, mut output) = file.split();
    input.write_all(b"first").unwrap();
    let (read, err) = within("the read", move || {
        let mut buf = [0; 5];
        output.read_exact(&mut buf).unwrap();
        let err = output.read(&mut [0; 16]).unwrap_err();
        let after = output.read(&mut [0; 16]).unwrap();
        assert_eq!(after, 0, "the failure is reported once, then the end of the file");
        (buf, err)
    });
    assert_eq!(&read, b"first");
    let text = err.to_string();
    assert!(text.contains("Fragile") && text.contains("panicked: cannot take a second chunk"), "{text}");
    // And the writer learns that nothing takes its bytes any more.
    let err = input.write(b"more").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
    assert!(err.to_string().contains("Fragile"), "{err}");
}

#[test]
fn a_reader_that_stops_reading_holds_the_writer_back_within_the_boxes_bounds() {
    let scheduler = Scheduler::new();
    let file = LikeFile::new(echo(), &scheduler);
    let (mut input, mut output) = file.split();
    // A deadline on each write, to see where the writer stops instead of waiting for ever.
    input.set_write_timeout(Some(Duration::from_millis(200)));
    let mut written = 0;
    let err = loop {
        match input.write(&[7; 100]) {
            Ok(n) => written += n / 100,
            Err(e) => break e,
        }
        assert!(written <= 10 * DEFAULT_CAPACITY, "the writer was never held back ({written} writes)");
    };
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
    assert!(err.to_string().contains("Echo"), "the error names the component: {err}");
    // Echo's inbox, the reader's box, and the chunk in Echo's hands while it waits to send it.
    assert!(written <= 2 * DEFAULT_CAPACITY + 1, "more was taken than the boxes hold: {written} writes");
    // Reading lets the writer go on; nothing was lost or doubled.
    input.set_write_timeout(None);
    let reader = std::thread::spawn(move || {
        let mut back = Vec::new();
        output.read_to_end(&mut back).map(|_| back)
    });
    within("the rest of the writes", move || {
        for _ in 0..DEFAULT_CAPACITY {
            input.write_all(&[7; 100]).unwrap();
        }
        input.close().unwrap();
    });
    let back = reader.join().unwrap().unwrap();
    assert_eq!(back.len(), (written + DEFAULT_CAPACITY) * 100);
}

#[test]
fn a_dropped_writer_closes_the_components_inbox() {
    // Counts bytes until its inbox closes (it does not look at control), then says how many.
    let scheduler = Scheduler::new();
    let counter = from_fn("Counter", |mut ctx: Context<Vec<u8>, Vec<u8>>| async move {
        let mut n = 0;
        while let Some(bytes) = ctx.inbox.recv().await {
            n += bytes.len();
        }
        ctx.outbox.send(format!("{n} bytes\n").into_bytes()).await;
        Ok(())
    });
    let file = LikeFile::new(counter, &scheduler);
    let (mut input, mut output) = file.split();
    input.write_all(&[1; 1000]).unwrap();
    drop(input);
    let text = within("the read", move || {
        let mut text = String::new();
        output.read_to_string(&mut text).map(|_| text)
    });
    assert_eq!(text.unwrap(), "1000 bytes\n");
}

#[test]
fn writes_after_close_fail_and_reads_time_out_when_asked() {
    let scheduler = Scheduler::new();
    // Never sends anything, and lives until its control closes.
    let silent = from_fn("Silent", |mut ctx: Context<Vec<u8>, Vec<u8>>| async move {
        while ctx.control.recv().await.is_some() {}
        Ok(())
    });
    let mut file = LikeFile::new(silent, &scheduler);
    file.set_read_timeout(Some(Duration::from_millis(50)));
    let err = file.read(&mut [0; 8]).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
    assert!(err.to_string().contains("Silent"), "{err}");
    file.close_write().unwrap();
    file.close_write().unwrap(); // idempotent
    let err = file.write(b"late").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
    assert!(err.to_string().contains("was closed"), "{err}");
}

// ----- streams and sinks -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handle_is_a_stream_of_its_outbox_and_a_sink_into_its_inbox() {
    let scheduler = Scheduler::new();
    let square = from_fn("Square", |mut ctx: Context<u64, u64>| async move {
        while let Some(n) = ctx.inbox.recv().await {
            ctx.outbox.send(n * n).await;
        }
        Ok(())
    });
    let (mut input, output) = Handle::new(square, &scheduler).split();
    // More than the boxes hold, so that the sink waits for room and the stream makes it.
    let count = 10 * DEFAULT_CAPACITY as u64;
    let feed = async move {
        input.send_all(&mut futures_util::stream::iter(0..count).map(Ok)).await?;
        SinkExt::close(&mut input).await
    };
    let squares = output.take(count as usize + 1).collect::<Vec<u64>>();
    let (fed, squares) = tokio::time::timeout(DEADLINE, async { tokio::join!(feed, squares) }).await.unwrap();
    fed.unwrap();
    assert_eq!(squares, (0..count).map(|n| n * n).collect::<Vec<_>>(), "in order, and the stream ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sink_into_a_component_that_has_ended_fails_naming_it() {
    let scheduler = Scheduler::new();
    let brief = from_fn("Brief", |_ctx: Context<u8, u8>| async move { Ok(()) });
    let mut h = Handle::new(brief, &scheduler);
    tokio::time::timeout(DEADLINE, h.join()).await.unwrap();
    let err = SinkExt::send(&mut h, 1).await.unwrap_err();
    assert!(matches!(&err, SendError::Ended { destination } if destination.starts_with("Brief")), "{err:?}");
    assert!(StreamExt::next(&mut h).await.is_none(), "its outbox has closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_handles_sink_ends_a_component_that_watches_control() {
    let scheduler = Scheduler::new();
    // Ends on ProducerFinished, passing it on; its inbox would never close while `h` lives.
    let mut h = Handle::new(
        from_fn("Watcher", |mut ctx: Context<u8, u8>| async move {
            while let Some(event) = ctx.next_event().await {
                match event {
                    Event::Data(n) => ctx.outbox.send(n).await,
                    Event::Control(msg) => {
                        ctx.signal.send(msg).await;
                        break;
                    }
                }
            }
            Ok(())
        }),
        &scheduler,
    );
    SinkExt::send(&mut h, 5).await.unwrap();
    SinkExt::close(&mut h).await.unwrap();
    assert_eq!(h.recv().await, Some(5));
    let signal = tokio::time::timeout(DEADLINE, h.recv_signal()).await.unwrap();
    assert!(signal.is_some_and(|m| m.is_producer_finished()));
    assert_eq!(tokio::time::timeout(DEADLINE, h.join()).await.unwrap(), Exit::Finished);
    let err = SinkExt::send(&mut h, 6).await.unwrap_err();
    assert!(matches!(err, SendError::InputClosed { .. } | SendError::Ended { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_a_component_an_inbox_is_a_stream_and_an_outbox_a_sink() {
    let scheduler = Scheduler::new();
    // Keeps the even numbers, through StreamExt and SinkExt on its own boxes.
    let evens = from_fn("Evens", |ctx: Context<u32, u32>| async move {
        let Context { inbox, outbox, .. } = ctx;
        let mut sink = OutboxSink::new(outbox);
        inbox.filter(|n| std::future::ready(n % 2 == 0)).map(Ok).forward(&mut sink).await?;
        Ok(())
    });
    let mut h = Handle::new(evens, &scheduler);
    for n in 0..10 {
        h.send(n).await;
    }
    h.close_input();
    let out: Vec<u32> = tokio::time::timeout(DEADLINE, (&mut h).collect()).await.unwrap();
    assert_eq!(out, [0, 2, 4, 6, 8]);
}

// ----- boxes beyond the standard four -----

/// Adds what reaches `left` and `right`, pairwise; sends the sums out of `sums` and a line of
/// log out of `outbox`.
fn adder() -> impl Component<Inbox = (), Outbox = String> {
    from_fn("Adder", |mut ctx: Context<(), String>| async move {
        let mut left = ctx.take_inbox::<i32>("left")?;
        let mut right = ctx.take_inbox::<i32>("right")?;
        let mut sums = ctx.take_outbox::<i32>("sums")?;
        while let Some(a) = left.recv().await {
            let Some(b) = right.recv().await else { break };
            sums.send(a + b).await;
            ctx.outbox.send(format!("{a} + {b}")).await;
        }
        Ok(())
    })
    .with_boxes(|boxes| {
        boxes.inbox::<i32>("left", "Left operands");
        boxes.inbox::<i32>("right", "Right operands");
        boxes.outbox::<i32>("sums", "Their sums");
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handles_reach_boxes_beyond_the_standard_four() {
    let scheduler = Scheduler::new();
    let adder = Instance::new(adder());
    let mut left = BoxSender::<i32>::new((adder.component(), "left"), &scheduler).unwrap();
    let mut right = BoxSender::<i32>::new((adder.component(), "right"), &scheduler).unwrap();
    let sums = BoxReceiver::<i32>::new((adder.component(), "sums"), &scheduler).unwrap();
    let mut log = Handle::new(adder, &scheduler);
    for n in 1..=3 {
        left.send(n).await.unwrap();
        right.send(10 * n).await.unwrap();
    }
    drop(left); // `left` closes: the adder ends after the third pair
    let sums: Vec<i32> = tokio::time::timeout(DEADLINE, sums.collect()).await.unwrap();
    assert_eq!(sums, [11, 22, 33]);
    assert_eq!(log.recv().await.as_deref(), Some("1 + 10"));
    let err = right.send(4).await.unwrap_err();
    assert!(matches!(err, SendError::Ended { .. }), "the adder has ended: {err:?}");
}

#[test]
fn a_box_handle_to_a_wrong_box_is_refused_naming_it() {
    let scheduler = Scheduler::new();
    let adder = Instance::new(adder());
    let err = BoxSender::<String>::new((adder.component(), "left"), &scheduler).unwrap_err();
    assert!(matches!(err, LinkError::TypeMismatch { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(".left") && text.contains("i32") && text.contains("String"), "{text}");
    let err = BoxReceiver::<i32>::new((adder.component(), "nonesuch"), &scheduler).unwrap_err();
    assert!(err.to_string().contains("no outbox named `nonesuch`") && err.to_string().contains("sums"), "{err}");
    // An inbox is no outbox.
    assert!(BoxReceiver::<i32>::new((adder.component(), "left"), &scheduler).is_err());
}

#[test]
fn a_box_sender_holds_to_the_inboxs_bound_on_both_sides_of_it() {
    let scheduler = Scheduler::new();
    // Never reads its `left`: whatever is sent there stays.
    let adder = Instance::new(from_fn("Idle", |_ctx: Context<(), ()>| std::future::pending()).with_boxes(|boxes| {
        boxes.inbox::<i32>("left", "Left operands");
    }));
    let mut left = BoxSender::<i32>::new((adder.component(), "left"), &scheduler).unwrap();
    let _h = Handle::new(adder, &scheduler);
    for n in 0..DEFAULT_CAPACITY as i32 {
        left.try_send(n).unwrap_or_else(|e| panic!("message {n} of {DEFAULT_CAPACITY} refused: {e}"));
    }
    let full = left.try_send(-1).unwrap_err();
    assert_eq!(full.message, -1, "the refused message comes back");
    assert_eq!(full.capacity, DEFAULT_CAPACITY);
    let full = left.send_timeout(-2, Duration::from_millis(20)).unwrap_err();
    assert_eq!(full.into_inner(), -2);
}
