//! Behaviours the port adds to Axon's: how inboxes close, how a component's end releases others,
//! and that stopping is safe at any moment. (Axon's own suite is in the `axon_*` files.)

use std::time::Duration;

use axon_core::prelude::*;
use axon_core::{ComponentState, Exit, LinkOptions, TryRecvError};

const DEADLINE: Duration = Duration::from_secs(10);

/// A component that never returns on its own.
fn idle(name: &'static str) -> impl Component<Inbox = u32, Outbox = u32> {
    from_fn(name, |_ctx: Context<u32, u32>| async move {
        std::future::pending::<()>().await;
        Ok(())
    })
}

#[tokio::test(flavor = "current_thread")]
async fn a_component_stopped_before_it_ever_ran_still_ends_and_run_returns() {
    let s = Scheduler::new();
    // On a current-thread runtime the task cannot be polled before we yield.
    let c = s.activate(idle("NeverPolled"));
    c.stop();
    tokio::time::timeout(DEADLINE, s.run_async()).await.expect("run returns").unwrap();
    assert_eq!(c.exit(), Some(Exit::Stopped));
    assert_eq!(c.state(), ComponentState::Ended);
    assert_eq!(s.live(), 0);
}

#[tokio::test]
async fn an_inbox_fed_by_two_producers_closes_only_when_both_have_gone() {
    let s = Scheduler::new();
    let a = Instance::new(from_fn("A", |mut ctx: Context<(), u32>| async move {
        ctx.outbox.send(1).await;
        Ok(())
    }));
    let b = Instance::new(from_fn("B", |mut ctx: Context<(), u32>| async move {
        // Ends only when told to (its control closes when the test's handle goes).
        ctx.control.recv().await;
        ctx.outbox.send(2).await;
        Ok(())
    }));
    let (tx, rx) = tokio::sync::oneshot::channel();
    let sink = Instance::new(from_fn("Sink", |mut ctx: Context<u32, ()>| async move {
        let mut got = vec![];
        while let Some(n) = ctx.inbox.recv().await {
            got.push(n);
        }
        tx.send(got).unwrap();
        Ok(())
    }));
    s.link((&a, "outbox"), (&sink, "inbox")).unwrap();
    s.link((&b, "outbox"), (&sink, "inbox")).unwrap();
    let b_ref = b.component().clone();
    a.activate(&s);
    b.activate(&s);
    let sink_ref = sink.activate(&s);
    // A has sent and ended; the sink must still be waiting for B.
    tokio::time::timeout(DEADLINE, async {
        while sink_ref.data_ready("inbox") > 0 || sink_ref.state() != ComponentState::Paused {
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap();
    assert!(!sink_ref.has_ended(), "the sink's inbox must stay open while B lives");
    b_ref.deliver("control", Ipc::from(ProducerFinished::new())).unwrap();
    let got = tokio::time::timeout(DEADLINE, rx).await.unwrap().unwrap();
    assert_eq!(got, vec![1, 2]);
    s.run_async().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_inbox_that_was_never_linked_never_closes() {
    let s = Scheduler::new();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let c = s.activate(from_fn("Lonely", |mut ctx: Context<u32, ()>| async move {
        // With the clock paused, tokio jumps to the deadline once everything is idle.
        let r = tokio::time::timeout(Duration::from_secs(3600), ctx.inbox.recv()).await;
        tx.send(r.is_err()).unwrap();
        Ok(())
    }));
    assert!(rx.await.unwrap(), "recv must time out, not return None");
    assert_eq!(c.join().await, Exit::Finished);
}

#[tokio::test]
async fn a_sender_blocked_on_a_full_inbox_is_released_when_the_receiver_ends() {
    let s = Scheduler::new();
    let consumer = Instance::new(idle("Stuck"));
    let (tx, rx) = tokio::sync::oneshot::channel();
    let producer = Instance::new(from_fn("Producer", |mut ctx: Context<(), u32>| async move {
        for n in 0..3 {
            ctx.outbox.send(n).await; // the third waits: capacity 2
        }
        tx.send(()).unwrap();
        Ok(())
    }));
    s.link_with((&producer, "outbox"), (&consumer, "inbox"), LinkOptions::default().pipewidth(2)).unwrap();
    let consumer = consumer.activate(&s);
    let producer = producer.activate(&s);
    tokio::time::timeout(DEADLINE, async {
        while consumer.data_ready("inbox") < 2 || producer.state() != ComponentState::Paused {
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap();
    assert!(!producer.has_ended(), "the producer waits for space");
    consumer.stop();
    tokio::time::timeout(DEADLINE, rx).await.expect("the producer is released").unwrap();
    assert_eq!(producer.join().await, Exit::Finished);
    s.run_async().await.unwrap();
}

#[test]
fn messages_held_by_an_inbox_that_becomes_mid_chain_all_move_on_even_past_capacity() {
    let s = Scheduler::new();
    let parent = Instance::new(idle("Parent"));
    let child = Instance::new(idle("Child"));
    for n in 0..5u32 {
        parent.component().deliver("inbox", n).unwrap();
    }
    s.link_with((&parent, "inbox"), (&child, "inbox"), LinkOptions::passthrough(Passthrough::Inbound).pipewidth(2))
        .unwrap();
    assert_eq!(parent.component().data_ready("inbox"), 0);
    assert_eq!(child.component().data_ready("inbox"), 5, "nothing is dropped for lack of room");
    // Later deliveries respect the capacity again.
    assert!(child.component().deliver("inbox", 9u32).is_err());
}

#[test]
fn dropping_a_handle_closes_the_components_inbox_so_it_ends() {
    let s = Scheduler::new();
    let h = Handle::new(
        from_fn("UntilClosed", |mut ctx: Context<u32, u32>| async move {
            while ctx.inbox.recv().await.is_some() {}
            Ok(())
        }),
        &s,
    );
    let c = h.component().clone();
    drop(h);
    s.run().unwrap();
    assert_eq!(c.exit(), Some(Exit::Finished));
}

#[tokio::test]
async fn a_dead_components_inbox_discards_instead_of_piling_up() {
    let s = Scheduler::new();
    let c = s.activate(from_fn("Brief", |_ctx: Context<u32, ()>| async move { Ok(()) }));
    assert_eq!(tokio::time::timeout(DEADLINE, c.join()).await.unwrap(), Exit::Finished);
    for n in 0..1000u32 {
        c.deliver("inbox", n).unwrap();
    }
    assert_eq!(c.data_ready("inbox"), 0);
    s.run_async().await.unwrap();
}

#[test]
fn try_recv_tells_empty_from_closed() {
    let s = Scheduler::new();
    let (tx, rx) = std::sync::mpsc::channel();
    let mut h = Handle::new(
        from_fn("Probe", move |mut ctx: Context<u32, ()>| async move {
            let first = ctx.inbox.try_recv();
            ctx.outbox.send(()).await; // tell the test it may send now
            let second = ctx.inbox.recv().await;
            while ctx.inbox.recv().await.is_some() {}
            tx.send((first, second, ctx.inbox.try_recv())).unwrap();
            Ok(())
        }),
        &s,
    );
    h.recv_timeout(DEADLINE).unwrap();
    h.send_blocking(1);
    drop(h);
    let (first, second, last) = rx.recv_timeout(DEADLINE).unwrap();
    assert_eq!(first, Err(TryRecvError::Empty));
    assert_eq!(second, Some(1));
    assert_eq!(last, Err(TryRecvError::Closed));
    s.run().unwrap();
}

/// Registers its inbox as the service `name` in `main`, before its body's first await.
struct TakesItsPlace(String);

impl Component for TakesItsPlace {
    type Inbox = u32;
    type Outbox = u32;

    fn main(self, mut ctx: Context<u32, u32>) -> impl std::future::Future<Output = ComponentResult> + Send {
        let registered = ctx.tracker().register_service(&self.0, ctx.me(), "inbox");
        async move {
            registered?;
            while let Some(n) = ctx.inbox.recv().await {
                ctx.outbox.send(n).await;
            }
            Ok(())
        }
    }
}

// What a component's `main` does before its first await is done when `activate` returns, with the
// scheduler known: from outside any component, on both kinds of scheduler, and from inside one.
#[test]
fn main_runs_at_activation_and_knows_its_scheduler() {
    for s in [Scheduler::new(), Scheduler::per_thread(2)] {
        for i in 0..20 {
            let name = format!("outside {i}");
            let c = s.activate(TakesItsPlace(name.clone()));
            let found = s.tracker().retrieve_service(&name).expect("registered by the time activate returns");
            assert_eq!(found.component().id(), c.id());
            assert_eq!(c.scheduler().map(|t| std::ptr::eq(t.tracker(), s.tracker())), Some(true));
            c.stop();
        }
        let (tx, rx) = std::sync::mpsc::channel();
        s.activate(from_fn("Parent", move |ctx: Context<(), ()>| async move {
            let child = ctx.activate(TakesItsPlace("inside".to_owned()));
            let found = ctx.tracker().retrieve_service("inside").map(|f| f.component().id() == child.id());
            child.stop();
            tx.send(found).unwrap();
            Ok(())
        }));
        assert_eq!(rx.recv_timeout(DEADLINE), Ok(Ok(true)));
        s.runtime_handle().block_on(async { tokio::time::timeout(DEADLINE, s.run_async()).await }).unwrap().unwrap();
    }
}
