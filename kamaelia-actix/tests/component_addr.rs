//! A component as an address ([`ComponentAddr`]) and as an actix `Recipient`: answers matched to
//! their questions under concurrency, the inbox's bound (a full box makes `send` wait and
//! `try_send` fail, on both sides of the bound), a component that ends with answers awaited, and
//! closing.

use std::future::Future;
use std::pin::pin;
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::Duration;

use actix::{MailboxError, Message};
use axon_core::prelude::*;
use axon_core::{Exit, DEFAULT_CAPACITY};
use kamaelia_actix::{ActixSystem, AddrError, ComponentAddr, TrySendError};
use tokio::sync::oneshot;

/// How long anything here may take before the test fails (never reached when things work).
const DEADLINE: Duration = Duration::from_secs(20);

/// Polls `fut` once, without waiting.
fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut TaskContext::from_waker(Waker::noop()))
}

/// Answers each number with its square, once `gate` opens (at once if it is `None`).
fn gated_square(gate: Option<oneshot::Receiver<()>>) -> impl Component<Inbox = u64, Outbox = u64> {
    from_fn("Square", move |mut ctx: Context<u64, u64>| async move {
        if let Some(gate) = gate {
            let _ = gate.await;
        }
        while let Some(n) = ctx.inbox.recv().await {
            if n == 13 {
                panic!("unlucky number");
            }
            ctx.outbox.send(n * n).await;
        }
        Ok(())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_questions_each_get_their_own_answer() {
    let scheduler = Scheduler::new();
    let addr = ComponentAddr::new(gated_square(None), &scheduler);
    let mut tasks = Vec::new();
    for t in 0..8u64 {
        let addr = addr.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..200u64 {
                let n = 1000 * t + i + 20; // never 13
                assert_eq!(addr.send(n).await.unwrap(), n * n);
            }
        }));
    }
    for task in tasks {
        tokio::time::timeout(DEADLINE, task).await.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_inbox_makes_send_wait_and_try_send_fail_on_both_sides_of_the_bound() {
    let scheduler = Scheduler::new();
    let (open, gate) = oneshot::channel();
    let addr = ComponentAddr::new(gated_square(Some(gate)), &scheduler);
    // Up to the bound, `try_send` takes each message.
    let mut answers = Vec::new();
    // (From 20: 13 would make the component panic.)
    for n in 20..20 + DEFAULT_CAPACITY as u64 {
        answers.push(addr.try_send(n).unwrap_or_else(|e| panic!("message {n} refused below the bound: {e}")));
    }
    // One past it, the message comes back, with the box and its capacity.
    match addr.try_send(999) {
        Err(TrySendError::Full(full)) => {
            assert_eq!(full.capacity, DEFAULT_CAPACITY);
            assert!(full.destination.starts_with("Square_"), "{}", full.destination);
            assert_eq!(full.into_inner(), 999);
        }
        other => panic!("expected Full, got {other:?}"),
    }
    // `send` waits.
    let mut waiting = pin!(addr.send(20));
    assert!(poll_once(waiting.as_mut()).is_pending(), "send went through a full inbox");
    // Once the component reads, everything is answered, in order.
    open.send(()).unwrap();
    assert_eq!(tokio::time::timeout(DEADLINE, waiting).await.unwrap().unwrap(), 400);
    for (n, answer) in (20..).zip(answers) {
        assert_eq!(answer.await.unwrap(), n * n);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_dropped_while_it_waits_for_room_sends_nothing() {
    let scheduler = Scheduler::new();
    let (open, gate) = oneshot::channel();
    let addr = ComponentAddr::new(gated_square(Some(gate)), &scheduler);
    for n in 20..20 + DEFAULT_CAPACITY as u64 {
        drop(addr.try_send(n).unwrap()); // nobody waits for these answers
    }
    {
        let mut abandoned = pin!(addr.send(13)); // would make the component panic
        assert!(poll_once(abandoned.as_mut()).is_pending());
    }
    open.send(()).unwrap();
    // 13 was never delivered: the component lives, and answers the next question rightly.
    assert_eq!(tokio::time::timeout(DEADLINE, addr.send(3)).await.unwrap().unwrap(), 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_awaited_from_a_component_that_panics_fail_saying_so() {
    let scheduler = Scheduler::new();
    let (open, gate) = oneshot::channel();
    let addr = ComponentAddr::new(gated_square(Some(gate)), &scheduler);
    let before = addr.try_send(2).unwrap();
    let doomed = addr.try_send(13).unwrap();
    let after = addr.try_send(3).unwrap();
    open.send(()).unwrap();
    assert_eq!(before.await.unwrap(), 4);
    for answer in [doomed, after] {
        let err = tokio::time::timeout(DEADLINE, answer).await.unwrap().unwrap_err();
        match &err {
            AddrError::Ended { component, exit } => {
                assert!(component.starts_with("Square_"), "{component}");
                assert_eq!(exit, &Some(Exit::Panicked("unlucky number".into())));
            }
            other => panic!("expected Ended, got {other:?}"),
        }
        assert!(err.to_string().contains("ended (panicked: unlucky number) before it answered"), "{err}");
    }
    assert!(matches!(addr.send(4).await, Err(AddrError::Ended { .. })), "later sends fail too");
    assert!(matches!(addr.try_send(4), Err(TrySendError::Closed { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_ends_the_input_and_dropping_every_clone_closes_the_inbox() {
    let scheduler = Scheduler::new();
    let addr = ComponentAddr::new(gated_square(None), &scheduler);
    let component = addr.component().clone();
    assert_eq!(addr.send(5).await.unwrap(), 25);
    addr.close();
    addr.close(); // idempotent
    assert!(matches!(addr.send(6).await, Err(AddrError::Closed { .. })));
    assert_eq!(tokio::time::timeout(DEADLINE, component.join()).await.unwrap(), Exit::Finished);

    // Without `close`: the last clone going closes the component's inbox.
    let addr = ComponentAddr::new(gated_square(None), &scheduler);
    let component = addr.component().clone();
    let clone = addr.clone();
    drop(addr);
    assert_eq!(clone.send(7).await.unwrap(), 49);
    drop(clone);
    assert_eq!(tokio::time::timeout(DEADLINE, component.join()).await.unwrap(), Exit::Finished);
}

// ----- as an actix Recipient -----

/// What actix code sends to the square component.
struct Ask(u64);

impl Message for Ask {
    type Result = u64;
}

impl From<Ask> for u64 {
    fn from(Ask(n): Ask) -> u64 {
        n
    }
}

#[test]
fn actix_code_sends_to_a_component_through_a_recipient() {
    let system = ActixSystem::new().unwrap();
    let scheduler = Scheduler::new();
    let addr = ComponentAddr::new(gated_square(None), &scheduler);
    let recipient = addr.recipient::<Ask>(&system).unwrap();
    // From inside an actix System, as actix code runs.
    actix_rt::System::new().block_on(async move {
        for n in 20..40 {
            assert_eq!(recipient.send(Ask(n)).await.unwrap(), n * n);
        }
        let answers = futures_join((40..60).map(|n| recipient.send(Ask(n))).collect()).await;
        for (n, answer) in (40..60).zip(answers) {
            assert_eq!(answer.unwrap(), n * n, "answers in flight together, each its own");
        }
        // A component that ends takes the actor with it: actix's own error.
        let _ = recipient.send(Ask(13)).await;
        let err = tokio::time::timeout(DEADLINE, recipient.send(Ask(2))).await.unwrap().unwrap_err();
        assert!(matches!(err, MailboxError::Closed), "{err:?}");
    });
}

#[test]
fn a_full_inbox_makes_a_recipients_send_wait_and_try_send_fail_within_a_few_of_the_bound() {
    let system = ActixSystem::new().unwrap();
    let scheduler = Scheduler::new();
    let (open, gate) = oneshot::channel();
    let addr = ComponentAddr::new(gated_square(Some(gate)), &scheduler);
    let component = addr.component().clone();
    let recipient = addr.recipient::<Ask>(&system).unwrap();
    actix_rt::System::new().block_on(async move {
        // The actor moves what it is sent into the component's inbox, one at a time: `try_send`
        // is refused while it has one in hand, then taken again, until the inbox is full.
        let mut accepted = 0u64;
        let mut tries = 0;
        while component.data_ready("inbox") < DEFAULT_CAPACITY {
            if recipient.try_send(Ask(20 + accepted)).is_ok() {
                accepted += 1;
            }
            tokio::task::yield_now().await;
            tries += 1;
            assert!(tries < 10_000_000, "the inbox never filled ({accepted} accepted)");
            assert!(accepted as usize <= DEFAULT_CAPACITY + 3, "try_send took {accepted}: the bound does not hold");
        }
        // Full: what actix adds is the actor's message in hand and its mailbox's; then no more.
        let mut last = None;
        for _ in 0..1000 {
            match recipient.try_send(Ask(20 + accepted)) {
                Ok(()) => accepted += 1,
                Err(e) => last = Some(e),
            }
            tokio::task::yield_now().await;
        }
        assert!(accepted as usize <= DEFAULT_CAPACITY + 3, "try_send took {accepted}: the bound does not hold");
        assert!(matches!(last, Some(actix::dev::SendError::Full(_))), "{last:?}");
        // `send` waits.
        let mut waiting = pin!(recipient.send(Ask(3)));
        assert!(poll_once(waiting.as_mut()).is_pending());
        open.send(()).unwrap();
        assert_eq!(tokio::time::timeout(DEADLINE, waiting).await.unwrap().unwrap(), 9);
    });
}

/// Awaits each future of `futures` in turn. (Many are in flight before the first is awaited:
/// actix's `send` queues its message when it is called, while the mailbox has room, not when it
/// is awaited.)
async fn futures_join<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut out = Vec::with_capacity(futures.len());
    let handles: Vec<_> = futures.into_iter().map(|f| Box::pin(f)).collect();
    for h in handles {
        out.push(h.await);
    }
    out
}
