//! Co-scheduled components (`Scheduler::together`): they behave as components apart do.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axon_core::prelude::*;
use axon_core::Exit;

const DEADLINE: Duration = Duration::from_secs(10);

/// Sends `n` numbers, then ends.
fn source(n: u64) -> impl Component<Inbox = (), Outbox = u64> {
    from_fn("Source", move |mut ctx: Context<(), u64>| async move {
        for i in 0..n {
            ctx.outbox.send(i).await;
        }
        Ok(())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_of_a_group_exchange_messages_through_bounded_boxes_and_end() {
    let s = Scheduler::new();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let src = Instance::new(source(10_000));
    let sum = Instance::new(from_fn("Sum", move |mut ctx: Context<u64, ()>| async move {
        let mut total = 0;
        while let Some(n) = ctx.inbox.recv().await {
            total += n;
        }
        let _ = tx.send(total);
        Ok(())
    }));
    s.link((&src, "outbox"), (&sum, "inbox")).unwrap();
    // Far more messages than the inbox holds: the sender must wait, and be woken, in the group.
    s.together(|| {
        src.activate(&s);
        sum.activate(&s);
    });
    let total = tokio::time::timeout(DEADLINE, rx).await.expect("in time").unwrap();
    assert_eq!(total, (0..10_000u64).sum());
    tokio::time::timeout(DEADLINE, s.run_async()).await.expect("run returns").unwrap();
    assert_eq!(s.live(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_member_ends_and_the_others_run_on() {
    let s = Scheduler::new();
    let (idle, counter) = s.together(|| {
        let idle = s.activate(from_fn("Idle", |_ctx: Context<(), ()>| async move {
            std::future::pending::<()>().await;
            Ok(())
        }));
        let counter = s.activate(from_fn("Counter", |mut ctx: Context<u32, u32>| async move {
            while let Some(n) = ctx.inbox.recv().await {
                ctx.outbox.send(n + 1).await;
            }
            Ok(())
        }));
        (idle, counter)
    });
    idle.stop();
    assert_eq!(tokio::time::timeout(DEADLINE, idle.join()).await.expect("in time"), Exit::Stopped);
    assert!(!counter.has_ended(), "stopping one member leaves the others running");
    counter.stop();
    assert_eq!(tokio::time::timeout(DEADLINE, counter.join()).await.expect("in time"), Exit::Stopped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_member_is_contained_and_its_parent_told() {
    let s = Scheduler::new();
    let parent_saw = Arc::new(AtomicUsize::new(0));
    let seen = parent_saw.clone();
    let parent = s.together(|| {
        s.activate(from_fn("Parent", move |mut ctx: Context<(), ()>| async move {
            // Children started by a member join its group.
            let bad = ctx.activate(from_fn("Bad", |_ctx: Context<(), ()>| async move {
                panic!("boom");
            }));
            ctx.add_child(&bad);
            let exit = ctx.child_exited().await.expect("a child");
            assert!(matches!(exit.exit, Exit::Panicked(ref m) if m.contains("boom")), "{exit:?}");
            seen.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }))
    });
    assert_eq!(tokio::time::timeout(DEADLINE, parent.join()).await.expect("in time"), Exit::Finished);
    assert_eq!(parent_saw.load(Ordering::SeqCst), 1);
    let failures = tokio::time::timeout(DEADLINE, s.run_async()).await.expect("run returns");
    assert!(failures.is_err(), "the panic is reported by run, as for any component");
}

#[test]
fn together_with_nothing_activated_starts_no_task_and_returns_the_value() {
    let s = Scheduler::new();
    assert_eq!(s.together(|| 42), 42);
    assert_eq!(s.live(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_that_yields_lets_the_member_it_woke_run_first() {
    let s = Scheduler::new();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (o1, o2) = (order.clone(), order.clone());
    let sender = Instance::new(from_fn("Sender", move |mut ctx: Context<(), u32>| async move {
        for i in 0..100 {
            ctx.outbox.send(i).await;
            axon_core::yield_now().await;
            o1.lock().unwrap().push(("sender resumed", i));
        }
        Ok(())
    }));
    let receiver = Instance::new(from_fn("Receiver", move |mut ctx: Context<u32, ()>| async move {
        while let Some(i) = ctx.inbox.recv().await {
            o2.lock().unwrap().push(("received", i));
        }
        let _ = tx.send(());
        Ok(())
    }));
    s.link((&sender, "outbox"), (&receiver, "inbox")).unwrap();
    s.together(|| {
        receiver.activate(&s);
        sender.activate(&s);
    });
    tokio::time::timeout(DEADLINE, rx).await.expect("in time").unwrap();
    // Every message was taken by the receiver before the sender went on: it yielded to the
    // member its send had woken, within the group's turn.
    let order = order.lock().unwrap().clone();
    let expected: Vec<_> = (0..100).flat_map(|i| [("received", i), ("sender resumed", i)]).collect();
    assert_eq!(order, expected);
    tokio::time::timeout(DEADLINE, s.run_async()).await.expect("run returns").unwrap();
}
