//! [`Handle`]: ordinary code driving a component (Axon §8.2, `Handle.py`, which has no test file
//! in Axon). Covers Axon's `put`/`get` (non-waiting, oldest first, `Empty` when nothing is
//! there), a `ProducerFinished` put on `control` coming back on `signal`, the blocking and async
//! forms, a full inbox refusing `put`, and what dropping the handle does.

use std::time::Duration;

use axon_core::ipc::ProducerFinished;
use axon_core::prelude::*;
use axon_core::{Exit, RecvTimeoutError, Threaded, ThreadedComponent, TryRecvError, DEFAULT_CAPACITY};

const DEADLINE: Duration = Duration::from_secs(10);

/// Waits (at most [`DEADLINE`]) for `c` to end.
fn join_within(c: &ComponentRef, scheduler: &Scheduler) -> Exit {
    scheduler
        .runtime_handle()
        .block_on(async { tokio::time::timeout(DEADLINE, c.join()).await })
        .unwrap_or_else(|_| panic!("{} did not end in time", c.name()))
}

/// Axon's example component for `Handle`: reverses each string. On a shutdown request it first
/// reverses what is already waiting, then passes the request on out of `signal` and ends; it also
/// ends when its input closes.
struct Reverser;

impl Component for Reverser {
    type Inbox = String;
    type Outbox = String;

    async fn main(self, mut ctx: Context<String, String>) -> ComponentResult {
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(s) => ctx.outbox.send(s.chars().rev().collect()).await,
                Event::Control(msg) if msg.is_shutdown_request() => {
                    while let Ok(s) = ctx.inbox.try_recv() {
                        ctx.outbox.send(s.chars().rev().collect()).await;
                    }
                    ctx.signal.send(msg).await;
                    break;
                }
                Event::Control(_) => {}
            }
        }
        Ok(())
    }
}

// Axon §8.2: put(data, "inbox"), then get("outbox") gives the result; get is non-waiting.
#[test]
fn put_reaches_the_inbox_and_the_result_comes_back_from_the_outbox() {
    let scheduler = Scheduler::new();
    let mut h = Handle::new(Reverser, &scheduler);
    assert_eq!(h.get(), Err(TryRecvError::Empty), "nothing has been sent yet");
    h.put("abc".to_owned()).unwrap();
    assert_eq!(h.recv_timeout(DEADLINE).as_deref(), Ok("cba"));
    assert_eq!(h.get(), Err(TryRecvError::Empty));
}

// Axon §8.2: get returns the oldest item first.
#[test]
fn get_returns_results_oldest_first_without_waiting() {
    let scheduler = Scheduler::new();
    let mut h = Handle::new(Reverser, &scheduler);
    for s in ["abc", "def", "ghi"] {
        h.put(s.to_owned()).unwrap();
    }
    // The reverser handles what is waiting before passing the shutdown request on, and sends on
    // `signal` only after its results were delivered: once the request is back, all three wait.
    h.put_control(ProducerFinished::new()).unwrap();
    assert!(h.recv_signal_timeout(DEADLINE).unwrap().is_producer_finished());
    assert_eq!(h.get().as_deref(), Ok("cba"));
    assert_eq!(h.get().as_deref(), Ok("fed"));
    assert_eq!(h.get().as_deref(), Ok("ihg"));
    assert_eq!(join_within(h.component(), &scheduler), Exit::Finished);
    assert_eq!(h.get(), Err(TryRecvError::Closed), "the component has ended and everything was taken");
}

// Axon §8.2: "Sending producerFinished() to control comes back on signal."
#[test]
fn producer_finished_put_on_control_comes_back_on_signal_and_the_component_ends() {
    let scheduler = Scheduler::new();
    let mut h = Handle::new(Reverser, &scheduler);
    assert!(matches!(h.get_signal(), Err(TryRecvError::Empty)));
    let me = h.component().id();
    h.put_control(ProducerFinished::from(me).with_message("done")).unwrap();
    match h.recv_signal_timeout(DEADLINE) {
        Ok(Ipc::ProducerFinished(pf)) => {
            assert_eq!(pf.caller, Some(me));
            assert_eq!(pf.message.as_deref(), Some("done"));
        }
        other => panic!("expected the ProducerFinished back, got {other:?}"),
    }
    assert_eq!(join_within(h.component(), &scheduler), Exit::Finished);
    assert_eq!(h.recv_timeout(DEADLINE), Err(RecvTimeoutError::Closed));
}

// Port: put does not wait; a full inbox gives the message back.
#[test]
fn put_into_a_full_inbox_gives_the_message_back() {
    let scheduler = Scheduler::new();
    // Reads only `control`, so its inbox fills.
    let idle = from_fn("Idle", |mut ctx: Context<u32, ()>| async move {
        ctx.control.recv().await;
        Ok(())
    });
    let mut h = Handle::new(idle, &scheduler);
    for i in 0..DEFAULT_CAPACITY as u32 {
        h.put(i).unwrap_or_else(|e| panic!("message {i} refused: {e}"));
    }
    let full = h.put(999).unwrap_err();
    assert_eq!(full.capacity, DEFAULT_CAPACITY);
    assert_eq!(full.message, 999);
    assert_eq!(full.destination, format!("{}.inbox", h.component().name()));
    assert_eq!(h.component().data_ready("inbox"), DEFAULT_CAPACITY);
    h.put_control(ProducerFinished::new()).unwrap();
    assert_eq!(join_within(h.component(), &scheduler), Exit::Finished);
}

// Port: dropping the handle closes the component's inbox and control, so it ends.
#[test]
fn dropping_the_handle_closes_the_components_inputs() {
    let scheduler = Scheduler::new();
    let mut h = Handle::new(Reverser, &scheduler);
    h.send_blocking("x".to_owned());
    assert_eq!(h.recv_blocking().as_deref(), Some("x"));
    let c = h.component().clone();
    assert!(!c.has_ended());
    drop(h);
    assert_eq!(join_within(&c, &scheduler), Exit::Finished);
    assert_eq!(scheduler.live(), 0);
}

// Port: the blocking forms, with a threaded component behind the handle.
#[test]
fn a_handle_drives_a_threaded_component_with_blocking_calls() {
    struct Squares;
    impl ThreadedComponent for Squares {
        type Inbox = u64;
        type Outbox = u64;
        fn main(self, mut ctx: Context<u64, u64>) -> ComponentResult {
            while let Some(n) = ctx.inbox.recv_blocking() {
                ctx.outbox.send_blocking(n * n);
            }
            Ok(())
        }
    }
    let scheduler = Scheduler::new();
    let mut h = Handle::new(Threaded(Squares), &scheduler);
    for n in 0..100 {
        h.send_blocking(n);
        assert_eq!(h.recv_timeout(DEADLINE), Ok(n * n));
    }
    let c = h.component().clone();
    drop(h);
    assert_eq!(join_within(&c, &scheduler), Exit::Finished);
}

// Port: the async forms, from a task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_async_forms_send_and_receive_in_order() {
    let scheduler = Scheduler::new();
    let mut h = Handle::new(Reverser, &scheduler);
    let exchange = async {
        for s in ["one", "two", "three"] {
            h.send(s.to_owned()).await;
        }
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(h.recv().await.expect("the reverser is running"));
        }
        h.send_control(ProducerFinished::new()).await;
        let signal = h.recv_signal().await;
        (got, signal)
    };
    let (got, signal) = tokio::time::timeout(DEADLINE, exchange).await.expect("the exchange completes");
    assert_eq!(got, ["eno", "owt", "eerht"]);
    assert!(signal.is_some_and(|s| s.is_producer_finished()));
    assert_eq!(tokio::time::timeout(DEADLINE, h.join()).await, Ok(Exit::Finished));
    assert_eq!(h.recv().await, None);
}

// A component whose type is not known where the handle is made (a type-erased instance): the
// box types are checked when the handle links, and a mismatch is an error naming them.
#[test]
fn a_handle_for_a_type_erased_instance_checks_the_box_types() {
    let scheduler = Scheduler::new();
    let erased: Box<dyn axon_core::AnyInstance> = Box::new(Instance::new(Reverser));
    let mut h = Handle::<String, String>::for_any(erased, &scheduler).expect("String in, String out");
    h.send_blocking("abc".to_owned());
    assert_eq!(h.recv_timeout(DEADLINE).as_deref(), Ok("cba"));

    let erased: Box<dyn axon_core::AnyInstance> = Box::new(Instance::new(Reverser));
    let target = erased.component().clone();
    let err = Handle::<u32, String>::for_any(erased, &scheduler).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("u32") && text.contains("String"), "{text}");
    assert_eq!(target.state(), axon_core::ComponentState::Created, "a component that cannot be linked is not started");
    let handles = scheduler.components().iter().filter(|c| c.name().starts_with("Handle_")).count();
    assert_eq!(handles, 1, "only the first handle exists: the failed one left nothing behind");
    drop(h);
}

// Split into halves, a handle sends from one thread while another reads: more than the boxes
// hold passes through, and dropping the sending half closes the component's input.
#[test]
fn a_split_handle_sends_and_reads_at_once_and_dropping_the_input_ends_the_input() {
    let scheduler = Scheduler::new();
    let (mut input, mut output) = Handle::new(Reverser, &scheduler).split();
    let sender = std::thread::spawn(move || {
        for i in 0..10_000 {
            input.send_blocking(format!("{i}"));
        }
        // Dropped here: the component's inbox closes once it has taken everything.
    });
    let mut count = 0;
    while let Ok(s) = output.recv_timeout(DEADLINE) {
        assert_eq!(s, format!("{count}").chars().rev().collect::<String>());
        count += 1;
    }
    sender.join().unwrap();
    assert_eq!(count, 10_000);
    assert_eq!(output.join_blocking(), Exit::Finished);
}
