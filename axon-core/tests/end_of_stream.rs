//! The end of a stream never overtakes its data (issue 20): `ProducerFinished` means "nothing
//! comes after what I sent", so every helper that waits on several boxes hands it over only once
//! the data queued before it has been taken, while `ShutdownMicroprocess` stays urgent. Loss that
//! still happens (a component that takes the `ProducerFinished` itself and ends early) is
//! reported. And a `Handle` can end its input while it goes on reading.
//!
//! The pipelines here are written exactly as the docs teach (the natural loop: take data; on a
//! shutdown request pass it on and break), run on multi-threaded schedulers so that producer and
//! consumer really race, and push 100,000 messages through.

use std::sync::mpsc;
use std::time::Duration;

use axon_core::ipc::{ProducerFinished, ShutdownMicroprocess};
use axon_core::prelude::*;
use axon_core::{BoxKind, Declarations, Exit, TryRecvError};

const DEADLINE: Duration = Duration::from_secs(60);

/// Runs `scheduler` to completion on a thread of its own; fails the test if that takes longer
/// than [`DEADLINE`] (a hang) or reports a failure.
fn run_within(scheduler: &Scheduler) {
    let s = scheduler.clone();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(s.run().map_err(|e| e.to_string()));
    });
    match finished.recv_timeout(DEADLINE) {
        Ok(result) => result.expect("the scheduler reported a failure"),
        Err(_) => panic!("the program did not end: live components {:#?}", scheduler.introspect()),
    }
}

/// Sends 0..n, then `ProducerFinished`: Kamaelia's producer.
fn numbers(n: u64) -> impl Component<Inbox = (), Outbox = u64> {
    from_fn("Numbers", move |mut ctx: Context<(), u64>| async move {
        for i in 0..n {
            ctx.outbox.send(i).await;
        }
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    })
}

/// Squares numbers, in the natural loop the guide teaches.
struct Square;

impl Component for Square {
    type Inbox = u64;
    type Outbox = u64;

    async fn main(self, mut ctx: Context<u64, u64>) -> ComponentResult {
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(n) => ctx.outbox.send(n * n).await,
                Event::Control(msg) if msg.is_shutdown_request() => {
                    ctx.signal.send(msg).await;
                    break;
                }
                Event::Control(_) => {}
            }
        }
        Ok(())
    }
}

/// Collects what arrives until a shutdown request, in the same loop; reports the count and sum.
fn collector(report: mpsc::Sender<(u64, u64)>) -> impl Component<Inbox = u64, Outbox = ()> {
    from_fn("Collector", move |mut ctx: Context<u64, ()>| async move {
        let (mut count, mut sum) = (0u64, 0u64);
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(n) => {
                    count += 1;
                    sum = sum.wrapping_add(n);
                }
                Event::Control(msg) if msg.is_shutdown_request() => break,
                Event::Control(_) => {}
            }
        }
        report.send((count, sum)).unwrap();
        Ok(())
    })
}

fn squares_sum(n: u64) -> u64 {
    (0..n).fold(0u64, |s, i| s.wrapping_add(i * i))
}

/// Numbers → Square → Collector, linked by hand as Kamaelia's Pipeline links them (outbox to
/// inbox, signal to control).
fn square_pipeline(scheduler: &Scheduler, n: u64) -> mpsc::Receiver<(u64, u64)> {
    let (tx, rx) = mpsc::channel();
    let source = Instance::new(numbers(n));
    let square = Instance::new(Square);
    let sink = Instance::new(collector(tx));
    scheduler.link((&source, "outbox"), (&square, "inbox")).unwrap();
    scheduler.link((&source, "signal"), (&square, "control")).unwrap();
    scheduler.link((&square, "outbox"), (&sink, "inbox")).unwrap();
    scheduler.link((&square, "signal"), (&sink, "control")).unwrap();
    sink.activate(scheduler);
    square.activate(scheduler);
    source.activate(scheduler);
    rx
}

#[test]
fn the_guide_s_pipeline_delivers_every_message_before_the_end() {
    // Guide §3: Numbers(5) -> Square -> Printer printed nothing in 20 of 20 runs.
    for _ in 0..50 {
        let scheduler = Scheduler::new();
        let rx = square_pipeline(&scheduler, 5);
        run_within(&scheduler);
        assert_eq!(rx.recv().unwrap(), (5, squares_sum(5)));
        assert!(scheduler.lost_messages().is_empty());
    }
}

#[test]
fn a_hundred_thousand_messages_cross_a_pipeline_on_each_kind_of_scheduler() {
    const N: u64 = 100_000;
    for scheduler in [Scheduler::new(), Scheduler::per_thread(2)] {
        let rx = square_pipeline(&scheduler, N);
        run_within(&scheduler);
        assert_eq!(rx.recv().unwrap(), (N, squares_sum(N)));
        assert!(scheduler.lost_messages().is_empty(), "{:?}", scheduler.lost_messages());
    }
}

#[test]
fn many_short_streams_each_arrive_whole() {
    // The race is at the end of each stream: many ends, each a chance to lose the tail.
    let scheduler = Scheduler::new();
    let streams: Vec<_> = (0..200).map(|i| (i, square_pipeline(&scheduler, i))).collect();
    run_within(&scheduler);
    for (n, rx) in streams {
        assert_eq!(rx.recv().unwrap(), (n, squares_sum(n)), "a stream of {n}");
    }
}

/// A component made but not yet activated, with messages delivered straight into its boxes:
/// the order it sees them in is then certain.
fn with_queued<C: Component>(c: C, setup: impl FnOnce(&ComponentRef)) -> Instance<C> {
    let instance = Instance::new(c);
    setup(instance.component());
    instance
}

#[test]
fn next_event_gives_data_queued_before_a_producer_finished_first() {
    let square = with_queued(Square, |c| {
        c.deliver("control", Ipc::from(ProducerFinished::new())).unwrap();
        for n in 1..=3u64 {
            c.deliver("inbox", n).unwrap();
        }
    });
    let mut h = Handle::new(square, &Scheduler::new());
    let out: Vec<u64> = std::iter::from_fn(|| h.recv_timeout(DEADLINE).ok()).collect();
    assert_eq!(out, [1, 4, 9]);
    assert!(h.recv_signal_timeout(DEADLINE).unwrap().is_producer_finished());
    assert_eq!(h.join_blocking(), Exit::Finished);
}

#[test]
fn a_shutdown_microprocess_comes_first_and_what_it_drops_is_not_reported() {
    let scheduler = Scheduler::new();
    let square = with_queued(Square, |c| {
        for n in 1..=3u64 {
            c.deliver("inbox", n).unwrap();
        }
        c.deliver("control", Ipc::from(ShutdownMicroprocess::new())).unwrap();
    });
    let mut h = Handle::new(square, &scheduler);
    assert!(h.recv_signal_timeout(DEADLINE).unwrap().is_shutdown_microprocess());
    assert_eq!(h.join_blocking(), Exit::Finished);
    assert_eq!(h.get(), Err(TryRecvError::Closed), "nothing was squared: the stop came first");
    assert!(scheduler.lost_messages().is_empty(), "a stop drops on purpose: {:?}", scheduler.lost_messages());
}

#[test]
fn next_event_ends_when_inbox_closes_even_if_control_is_never_linked() {
    // Only `inbox` is linked: when its sender ends, the loop ends (control stays open for ever).
    let (tx, rx) = mpsc::channel();
    let scheduler = Scheduler::new();
    let source = Instance::new(numbers(3));
    let sink = Instance::new(collector(tx));
    scheduler.link((&source, "outbox"), (&sink, "inbox")).unwrap();
    sink.activate(&scheduler);
    source.activate(&scheduler);
    run_within(&scheduler);
    assert_eq!(rx.recv().unwrap(), (3, 3));
}

#[test]
fn a_shutdown_still_on_its_way_after_the_inbox_closes_is_waited_for() {
    // Kamaelia's chassis pass the end on a moment after the data's sender ends (a Graphline
    // broadcasting the ProducerFinished it received): the inbox closes first. The component must
    // not end then without a word, but wait for control, whose sender is alive.
    let mut h = Handle::new(Square, &Scheduler::new());
    h.send_blocking(3);
    assert_eq!(h.recv_timeout(DEADLINE), Ok(9));
    h.close_input();
    let square = h.component().clone();
    // Its inbox is closed and empty; it waits (on control) rather than ending.
    let waiting = std::time::Instant::now() + DEADLINE;
    while !square.has_ended() && (square.state() != axon_core::ComponentState::Paused || square.data_ready("inbox") > 0)
    {
        assert!(std::time::Instant::now() < waiting, "never paused");
        std::thread::yield_now();
    }
    assert!(!square.has_ended(), "it ended without passing the end on");
    h.send_control_blocking(ProducerFinished::new());
    assert!(h.recv_signal_timeout(DEADLINE).unwrap().is_producer_finished(), "the end is passed on");
    assert_eq!(h.join_blocking(), Exit::Finished);
}

#[test]
fn other_control_messages_wait_behind_data_too() {
    let seen = with_queued(
        from_fn("Seen", |mut ctx: Context<u32, String>| async move {
            while let Some(event) = ctx.next_event().await {
                let text = match event {
                    Event::Data(n) => n.to_string(),
                    Event::Control(Ipc::Other(s)) => s,
                    Event::Control(msg) => {
                        ctx.signal.send(msg).await;
                        break;
                    }
                };
                ctx.outbox.send(text).await;
            }
            Ok(())
        }),
        |c| {
            c.deliver("inbox", 1u32).unwrap();
            c.deliver("control", Ipc::from("flurble")).unwrap();
            c.deliver("inbox", 2u32).unwrap();
            c.deliver("control", Ipc::from(ProducerFinished::new())).unwrap();
        },
    );
    let mut h = Handle::new(seen, &Scheduler::new());
    let out: Vec<String> = std::iter::from_fn(|| h.recv_timeout(DEADLINE).ok()).collect();
    assert_eq!(out, ["1", "2", "flurble"]);
}

enum In {
    Number(u32),
    Word(String),
}

/// Merges `inbox` (numbers) and a declared `words` inbox with `Context::select`.
struct Merge;

impl Component for Merge {
    type Inbox = u32;
    type Outbox = String;

    fn declare(&self, boxes: &mut Declarations) {
        boxes.inbox::<String>("words", "Text to pass on");
    }

    async fn main(self, mut ctx: Context<u32, String>) -> ComponentResult {
        let mut words = ctx.take_inbox::<String>("words")?;
        while let Some(event) = ctx.select(In::Number).or(&mut words, In::Word).next().await {
            match event {
                Event::Data(In::Number(n)) => ctx.outbox.send(n.to_string()).await,
                Event::Data(In::Word(w)) => ctx.outbox.send(w).await,
                Event::Control(msg) if msg.is_shutdown_request() => {
                    ctx.signal.send(msg).await;
                    break;
                }
                Event::Control(_) => {}
            }
        }
        Ok(())
    }
}

#[test]
fn select_takes_every_inbox_in_turn_and_the_end_last() {
    let merge = with_queued(Merge, |c| {
        c.deliver("control", Ipc::from(ProducerFinished::new())).unwrap();
        for n in 0..4u32 {
            c.deliver("inbox", n).unwrap();
            c.deliver("words", format!("w{n}")).unwrap();
        }
    });
    let mut h = Handle::new(merge, &Scheduler::new());
    let out: Vec<String> = std::iter::from_fn(|| h.recv_timeout(DEADLINE).ok()).collect();
    // In turn: neither inbox waits for the other to be empty.
    assert_eq!(out, ["0", "w0", "1", "w1", "2", "w2", "3", "w3"]);
    assert!(h.recv_signal_timeout(DEADLINE).unwrap().is_producer_finished());
}

#[test]
fn select_over_two_racing_producers_loses_nothing() {
    const N: u32 = 50_000;
    for scheduler in [Scheduler::new(), Scheduler::per_thread(2)] {
        let (tx, rx) = mpsc::channel();
        let numbers = Instance::new(from_fn("Numbers", |mut ctx: Context<(), u32>| async move {
            for i in 0..N {
                ctx.outbox.send(i).await;
            }
            Ok(())
        }));
        // The words' producer ends the stream for both, once the numbers have all been sent.
        let numbers_ref = numbers.component().clone();
        let words = Instance::new(from_fn("Words", move |mut ctx: Context<(), String>| async move {
            for i in 0..N {
                ctx.outbox.send(format!("w{i}")).await;
            }
            numbers_ref.join().await;
            ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
            Ok(())
        }));
        let merge = Instance::new(Merge);
        let sink = Instance::new(from_fn("Count", move |mut ctx: Context<String, ()>| async move {
            let (mut numbers, mut words) = (0u32, 0u32);
            while let Some(s) = ctx.inbox.recv().await {
                if s.starts_with('w') {
                    words += 1;
                } else {
                    numbers += 1;
                }
            }
            tx.send((numbers, words)).unwrap();
            Ok(())
        }));
        scheduler.link((&numbers, "outbox"), (&merge, "inbox")).unwrap();
        scheduler.link((&words, "outbox"), (&merge, "words")).unwrap();
        scheduler.link((&words, "signal"), (&merge, "control")).unwrap();
        scheduler.link((&merge, "outbox"), (&sink, "inbox")).unwrap();
        sink.activate(&scheduler);
        merge.activate(&scheduler);
        words.activate(&scheduler);
        numbers.activate(&scheduler);
        run_within(&scheduler);
        assert_eq!(rx.recv().unwrap(), (N, N));
    }
}

#[test]
fn wait_any_names_data_before_a_producer_finished_and_a_stop_before_data() {
    let (tx, rx) = mpsc::channel();
    let scheduler = Scheduler::new();
    let probe = |queued: Ipc, tx: mpsc::Sender<Vec<String>>| {
        with_queued(
            from_fn("Probe", move |mut ctx: Context<u32, ()>| async move {
                let mut names = Vec::new();
                loop {
                    let name = ctx.wait_any().await;
                    names.push(name.to_string());
                    if name == "control" {
                        break;
                    }
                    ctx.inbox.try_recv().unwrap();
                }
                tx.send(names).unwrap();
                Ok(())
            }),
            move |c| {
                c.deliver("control", queued).unwrap();
                c.deliver("inbox", 1u32).unwrap();
                c.deliver("inbox", 2u32).unwrap();
            },
        )
    };
    probe(ProducerFinished::new().into(), tx.clone()).activate(&scheduler);
    assert_eq!(rx.recv_timeout(DEADLINE).unwrap(), ["inbox", "inbox", "control"]);
    probe(ShutdownMicroprocess::new().into(), tx).activate(&scheduler);
    assert_eq!(rx.recv_timeout(DEADLINE).unwrap(), ["control"]);
}

#[test]
fn a_component_that_ends_with_data_queued_after_a_producer_finished_is_reported() {
    let scheduler = Scheduler::new();
    // Takes the ProducerFinished itself, ahead of the data: the mistake this reports.
    let hasty = with_queued(
        from_fn("Hasty", |mut ctx: Context<u32, u32>| async move {
            let msg = ctx.control.recv().await.unwrap();
            ctx.signal.send(msg).await;
            Ok(())
        }),
        |c| {
            for n in 0..3u32 {
                c.deliver("inbox", n).unwrap();
            }
            c.deliver("control", Ipc::from(ProducerFinished::new())).unwrap();
        },
    );
    let id = hasty.component().id();
    let hasty = hasty.activate(&scheduler);
    run_within(&scheduler);
    assert_eq!(hasty.exit(), Some(Exit::Finished));
    let lost = scheduler.lost_messages();
    assert_eq!(lost.len(), 1, "{lost:?}");
    assert_eq!((lost[0].component, lost[0].inbox.as_ref(), lost[0].count), (id, "inbox", 3));
    assert!(lost[0].component_name.starts_with("Hasty"));
    let snapshot = scheduler.introspect();
    assert_eq!(snapshot.lost, lost);
    assert!(snapshot.to_string().contains("inbox: 3 message(s) lost"), "{snapshot}");
}

/// Reads `inbox` until it closes (the README's component), echoing each message.
fn until_closed() -> impl Component<Inbox = u32, Outbox = u32> {
    from_fn("UntilClosed", |mut ctx: Context<u32, u32>| async move {
        while let Some(n) = ctx.inbox.recv().await {
            ctx.outbox.send(n).await;
        }
        Ok(())
    })
}

#[test]
fn closing_a_handle_s_input_ends_a_component_that_reads_until_its_inbox_closes() {
    let mut h = Handle::new(until_closed(), &Scheduler::new());
    for n in 0..10 {
        h.send_blocking(n);
    }
    h.close_input();
    let out: Vec<u32> = std::iter::from_fn(|| h.recv_timeout(DEADLINE).ok()).collect();
    assert_eq!(out, (0..10).collect::<Vec<_>>());
    assert_eq!(h.join_blocking(), Exit::Finished);
    // Sending after the close is dropped (with a warning), not an error and not a hang.
    h.send_blocking(99);
    h.close_input();
}

#[test]
fn a_handle_can_end_both_kinds_of_component_the_same_way() {
    // One reads `inbox` until it closes, the other waits for a ProducerFinished: sending the
    // ProducerFinished and closing the input ends both, after everything sent.
    let scheduler = Scheduler::new();
    let mut reader = Handle::new(until_closed(), &scheduler);
    let mut square = Handle::new(Square, &scheduler);
    for n in 0..10 {
        reader.send_blocking(n);
        square.send_blocking(u64::from(n));
    }
    reader.send_control_blocking(ProducerFinished::new());
    reader.close_input();
    square.send_control_blocking(ProducerFinished::new());
    square.close_input();
    let read: Vec<u32> = std::iter::from_fn(|| reader.recv_timeout(DEADLINE).ok()).collect();
    let squared: Vec<u64> = std::iter::from_fn(|| square.recv_timeout(DEADLINE).ok()).collect();
    assert_eq!(read, (0..10).collect::<Vec<_>>());
    assert_eq!(squared, (0..10u64).map(|n| n * n).collect::<Vec<_>>());
    assert_eq!(reader.join_blocking(), Exit::Finished);
    assert_eq!(square.join_blocking(), Exit::Finished);
}

#[test]
fn a_handle_that_sends_more_than_the_boxes_hold_without_reading_gets_its_message_back() {
    // The handle's input holds 64 and its box of answers 64: the 130th send cannot complete until
    // something is read.
    let mut h = Handle::new(until_closed(), &Scheduler::new());
    let mut refused = None;
    for n in 0..130u32 {
        if let Err(e) = h.send_timeout(n, Duration::from_millis(200)) {
            refused = Some((n, e));
            break;
        }
    }
    let (n, e) = refused.expect("some send must find no room");
    assert!(n >= 64, "refused after {n} messages");
    assert_eq!(e.into_inner(), n, "the message comes back");
    assert!(h.component().has_box(BoxKind::Inbox, "inbox"));
    // Reading unblocks everything; nothing was lost.
    h.close_input();
    let out: Vec<u32> = std::iter::from_fn(|| h.recv_timeout(DEADLINE).ok()).collect();
    assert_eq!(out, (0..n).collect::<Vec<_>>());
}

#[test]
fn a_hundred_thousand_messages_through_a_handle_that_reads_as_it_sends() {
    const N: u64 = 100_000;
    let scheduler = Scheduler::new();
    let mut h = Handle::new(Square, &scheduler);
    let (mut count, mut sum) = (0u64, 0u64);
    for i in 0..N {
        h.send_blocking(i);
        while let Ok(n) = h.get() {
            count += 1;
            sum = sum.wrapping_add(n);
        }
    }
    h.send_control_blocking(ProducerFinished::new());
    while let Ok(n) = h.recv_timeout(DEADLINE) {
        count += 1;
        sum = sum.wrapping_add(n);
    }
    assert_eq!((count, sum), (N, squares_sum(N)));
    assert!(h.recv_signal_timeout(DEADLINE).unwrap().is_producer_finished());
}
