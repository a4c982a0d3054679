//! `Scheduler::per_thread`: a single-threaded runtime on each of several threads; groups go to
//! the threads in turn and stay there, components activated from a thread stay on it.

use std::collections::HashSet;
use std::sync::mpsc;
use std::time::Duration;

use axon_core::prelude::*;

const DEADLINE: Duration = Duration::from_secs(10);

fn thread_name() -> String {
    std::thread::current().name().unwrap_or("?").to_owned()
}

/// A component that sends `(tag, the name of the thread it runs on)` to `to`, then ends.
fn where_am_i(tag: usize, to: mpsc::Sender<(usize, String)>) -> impl Component<Inbox = (), Outbox = ()> {
    from_fn("WhereAmI", move |_ctx: Context<(), ()>| async move {
        let _ = to.send((tag, thread_name()));
        Ok(())
    })
}

fn collect(rx: &mpsc::Receiver<(usize, String)>, n: usize) -> Vec<(usize, String)> {
    let mut got: Vec<_> = (0..n).map(|_| rx.recv_timeout(DEADLINE).expect("every component reports in time")).collect();
    got.sort();
    got
}

#[test]
fn it_runs_the_threads_it_was_asked_for_and_one_per_core_for_zero() {
    assert_eq!(Scheduler::per_thread(3).threads(), Some(3));
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    assert_eq!(Scheduler::per_thread(0).threads(), Some(cores));
    assert_eq!(Scheduler::new().threads(), None);
}

#[test]
fn components_activated_from_outside_go_to_the_threads_in_turn() {
    let s = Scheduler::per_thread(2);
    let (tx, rx) = mpsc::channel();
    for tag in 0..4 {
        s.activate(where_am_i(tag, tx.clone()));
    }
    let got = collect(&rx, 4);
    let names: Vec<&str> = got.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["axon-worker-0", "axon-worker-1", "axon-worker-0", "axon-worker-1"], "{got:?}");
    s.run().expect("all ended cleanly");
}

#[test]
fn a_group_stays_on_one_thread_and_groups_take_turns() {
    let s = Scheduler::per_thread(2);
    let (tx, rx) = mpsc::channel();
    for group in 0..4 {
        s.together(|| {
            s.activate(where_am_i(group * 10, tx.clone()));
            s.activate(where_am_i(group * 10 + 1, tx.clone()));
        });
    }
    let got = collect(&rx, 8);
    for pair in got.chunks(2) {
        assert_eq!(pair[0].1, pair[1].1, "the members of a group share a thread: {got:?}");
    }
    let threads: Vec<&str> = got.chunks(2).map(|pair| pair[0].1.as_str()).collect();
    assert_eq!(threads, ["axon-worker-0", "axon-worker-1", "axon-worker-0", "axon-worker-1"], "{got:?}");
    s.run().expect("all ended cleanly");
}

#[test]
fn a_component_activated_from_a_scheduler_thread_runs_on_that_thread() {
    let s = Scheduler::per_thread(2);
    let (tx, rx) = mpsc::channel();
    let parent_tx = tx.clone();
    // Each parent starts a child (not co-scheduled) and reports where both run.
    for tag in 0..2 {
        let (parent_tx, child_tx) = (parent_tx.clone(), tx.clone());
        s.activate(from_fn("Parent", move |mut ctx: Context<(), ()>| async move {
            let _ = parent_tx.send((tag * 10, thread_name()));
            let child = ctx.activate(where_am_i(tag * 10 + 1, child_tx));
            ctx.add_child(&child);
            ctx.wait_for_children().await;
            Ok(())
        }));
    }
    let got = collect(&rx, 4);
    assert_eq!(got[0].1, got[1].1, "a child runs where its parent made it: {got:?}");
    assert_eq!(got[2].1, got[3].1, "a child runs where its parent made it: {got:?}");
    assert_ne!(got[0].1, got[2].1, "the parents went to different threads: {got:?}");
    s.run().expect("all ended cleanly");
}

#[test]
fn components_exchange_messages_across_threads_and_timers_go_off() {
    let s = Scheduler::per_thread(2);
    let (tx, rx) = mpsc::channel();
    let source = Instance::new(from_fn("Source", |mut ctx: Context<(), u64>| async move {
        for i in 0..1_000 {
            if i % 250 == 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            ctx.outbox.send(i).await;
        }
        Ok(())
    }));
    let sink = Instance::new(from_fn("Sink", move |mut ctx: Context<u64, ()>| async move {
        let mut sum = 0;
        let mut threads = HashSet::new();
        while let Some(n) = ctx.inbox.recv().await {
            sum += n;
            threads.insert(thread_name());
        }
        let _ = tx.send((sum, threads));
        Ok(())
    }));
    s.link((&source, "outbox"), (&sink, "inbox")).unwrap();
    // From outside: the two go to different threads.
    source.activate(&s);
    sink.activate(&s);
    let (sum, threads) = rx.recv_timeout(DEADLINE).expect("the sink reports in time");
    assert_eq!(sum, (0..1_000u64).sum());
    assert_eq!(threads.len(), 1, "a component never moves: {threads:?}");
    s.run().expect("all ended cleanly");
}

#[test]
fn run_async_and_handles_work_from_another_runtime() {
    let s = Scheduler::per_thread(2);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let echo = from_fn("Echo", |mut ctx: Context<u32, u32>| async move {
            while let Some(n) = ctx.inbox.recv().await {
                ctx.outbox.send(n * 2).await;
            }
            Ok(())
        });
        let mut h = Handle::new(echo, &s);
        h.send(21).await;
        assert_eq!(tokio::time::timeout(DEADLINE, h.recv()).await.expect("in time"), Some(42));
        drop(h);
        tokio::time::timeout(DEADLINE, s.run_async()).await.expect("run_async returns").unwrap();
    });
}

#[test]
fn dropping_the_scheduler_ends_its_threads_and_what_is_left_on_their_runtimes() {
    struct Dropped(mpsc::Sender<String>);
    impl Drop for Dropped {
        fn drop(&mut self) {
            let _ = self.0.send(thread_name());
        }
    }
    let (tx, rx) = mpsc::channel();
    let s = Scheduler::per_thread(2);
    // Components (and references to them) keep their scheduler: this one is stopped and let go.
    let forever = s.activate(from_fn("Forever", |_ctx: Context<(), ()>| async move {
        std::future::pending::<()>().await;
        Ok(())
    }));
    forever.stop();
    s.run().expect("a stopped component is not a failure");
    drop(forever);
    // A plain task on the first thread's runtime, which only the end of that runtime drops.
    let guard = Dropped(tx);
    s.runtime_handle().spawn(async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    });
    drop(s);
    let on = rx.recv_timeout(DEADLINE).expect("the runtime ends with the scheduler, and drops its tasks");
    assert_eq!(on, "axon-worker-0", "dropped on its own thread, as that thread ends");
}
