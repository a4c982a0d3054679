//! `axon_core::host::ChildHost`: a parent's short-lived children, one at a time, through one entry
//! point. Children that can be hosted run in one kept host, under its name; others are made,
//! linked and removed; how each ended comes through `poll_ended`; what a child leaves behind (a
//! child, a panic, unread messages) does not reach the next; the host goes when idle, and with
//! the parent.

use std::future::Future;
use std::sync::mpsc;
use std::time::Duration;

use axon_core::host::{ChildBoxes, ChildHost, Job};
use axon_core::prelude::*;
use axon_core::{BoxError, ComponentError, Declarations, Exit, RunError};

const BOXES: ChildBoxes = ChildBoxes {
    to_inbox: "_childinbox",
    to_control: "_childcontrol",
    from_outbox: "_childoutbox",
    from_signal: "_childsignal",
};

type Children = ChildHost<u32, String>;

/// Runs `script` as the body of a parent with the four boxes, on a scheduler of its own, to the
/// end; returns how the run ended and the scheduler.
fn run_parent<F, Fut>(script: F) -> (Result<(), RunError>, Scheduler)
where
    F: FnOnce(Context<(), ()>, Children) -> Fut + Send + 'static,
    Fut: Future<Output = ComponentResult> + Send + 'static,
{
    let parent = from_fn("Parent", move |ctx: Context<(), ()>| async move {
        let children = ChildHost::new(&ctx, BOXES)?.keep_host(Some(Duration::from_secs(60)));
        script(ctx, children).await
    })
    .with_boxes(|boxes: &mut Declarations| {
        boxes
            .outbox::<u32>(BOXES.to_inbox, "To the current child's inbox")
            .outbox::<Ipc>(BOXES.to_control, "To the current child's control")
            .inbox::<String>(BOXES.from_outbox, "From the current child's outbox")
            .inbox::<Ipc>(BOXES.from_signal, "From the current child's signal");
    });
    let scheduler = Scheduler::new();
    scheduler.activate(parent);
    (scheduler.run(), scheduler)
}

/// Sends the name of the component it runs in, signals, and ends.
fn who() -> impl Component<Inbox = u32, Outbox = String> {
    Who
}

struct Who;

impl Component for Who {
    type Inbox = u32;
    type Outbox = String;

    async fn main(self, mut ctx: Context<u32, String>) -> ComponentResult {
        let name = ctx.name().to_owned();
        ctx.outbox.send(name).await;
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

/// The same as `Who`, with a box of its own: it cannot be hosted.
struct WhoWithABox;

impl Component for WhoWithABox {
    type Inbox = u32;
    type Outbox = String;

    fn declare(&self, boxes: &mut Declarations) {
        boxes.inbox::<u8>("extra", "a box beyond the standard four");
    }

    async fn main(self, ctx: Context<u32, String>) -> ComponentResult {
        Who.main(ctx).await
    }
}

/// Answers the first number it reads with the number and its name.
fn echo() -> impl Component<Inbox = u32, Outbox = String> {
    from_fn("Echo", |mut ctx: Context<u32, String>| async move {
        if let Some(n) = ctx.inbox.recv().await {
            let name = ctx.name().to_owned();
            ctx.outbox.send(format!("{n} {name}")).await;
        }
        Ok(())
    })
}

/// Sends its name, then waits until it is dropped.
fn lingers() -> impl Component<Inbox = u32, Outbox = String> {
    from_fn("Lingers", |mut ctx: Context<u32, String>| async move {
        let name = ctx.name().to_owned();
        ctx.outbox.send(name).await;
        std::future::pending::<()>().await;
        Ok(())
    })
}

/// Starts a child of its own that outlives it: it leaves something behind in a host.
fn leaves_a_child() -> impl Component<Inbox = u32, Outbox = String> {
    from_fn("LeavesAChild", |ctx: Context<u32, String>| async move {
        let child = ctx.activate(from_fn("Orphan", |mut c: Context<(), ()>| async move {
            let _ = c.control.recv().await;
            Ok(())
        }));
        ctx.add_child(&child);
        Ok(())
    })
}

fn explode() {
    panic!("hosted boom");
}

/// Starts `job`, reads what it sends first and how it ended, and lets it go.
async fn run_one(children: &mut Children, job: impl Into<Job<u32, String>>) -> (String, Exit) {
    children.start(job);
    let said = children.from_outbox.recv().await.unwrap_or_default();
    let exit = children.ended().await;
    children.stop();
    (said, exit)
}

#[test]
fn hostable_children_run_in_one_host_and_others_as_children_of_their_own() {
    let (tx, rx) = mpsc::channel();
    let (result, _) = run_parent(|_ctx, mut children| async move {
        let mut names = Vec::new();
        for _ in 0..3 {
            let (name, exit) = run_one(&mut children, who()).await;
            assert_eq!(exit, Exit::Finished);
            assert!(!children.is_hosted(), "stopped");
            names.push(name);
        }
        // A child with a box of its own, and a child made already: the host goes first.
        names.push(run_one(&mut children, WhoWithABox).await.0);
        assert!(!children.keeps_host());
        names.push(run_one(&mut children, Instance::new(who())).await.0);
        // And the next hostable child gets a new host.
        children.start(who());
        assert!(children.is_hosted());
        names.push(children.from_outbox.recv().await.unwrap());
        tx.send(names).unwrap();
        Ok(())
    });
    result.unwrap();
    let names = rx.recv().unwrap();
    assert!(names[0].starts_with("Host_"), "{names:?}");
    assert_eq!(names[1..3], [names[0].clone(), names[0].clone()]);
    assert!(names[3].contains("WhoWithABox_") && names[4].contains("::Who_"), "{names:?}");
    assert!(names[5].starts_with("Host_") && names[5] != names[0], "{names:?}");
}

#[test]
fn the_host_is_named_by_its_class_and_none_is_kept_when_told() {
    let (tx, rx) = mpsc::channel();
    let (result, _) = run_parent(|ctx, children| async move {
        let mut named = children.host_class("HandlerHost");
        let first = run_one(&mut named, who()).await.0;
        // The four handles are the first one's: a second cannot take them.
        let second = ChildHost::<u32, String>::new(&ctx, BOXES);
        assert!(matches!(second, Err(BoxError::AlreadyTaken { .. })), "{second:?}");
        tx.send(first).unwrap();
        Ok(())
    });
    result.unwrap();
    assert!(rx.recv().unwrap().starts_with("HandlerHost_"));

    let (tx, rx) = mpsc::channel();
    let (result, _) = run_parent(|_ctx, children| async move {
        let mut children = children.keep_host(None);
        let a = run_one(&mut children, who()).await;
        let b = run_one(&mut children, who()).await;
        assert!(!children.keeps_host());
        tx.send((a, b)).unwrap();
        Ok(())
    });
    result.unwrap();
    let ((a, ea), (b, eb)) = rx.recv().unwrap();
    assert!(a.contains("::Who_") && b.contains("::Who_") && a != b, "{a}, {b}");
    assert_eq!((ea, eb), (Exit::Finished, Exit::Finished));
}

#[test]
fn failures_are_reported_as_a_components_and_a_panic_costs_the_host() {
    let (tx, rx) = mpsc::channel();
    let (result, scheduler) = run_parent(|_ctx, mut children| async move {
        let before = run_one(&mut children, who()).await.0;
        children.start(from_fn("Fails", |_c: Context<u32, String>| async move { Err(ComponentError::msg("gave up")) }));
        let failed = children.ended().await;
        let name = children.child_name();
        children.stop();
        // A failure that is not a panic leaves the host as it was.
        let same = run_one(&mut children, who()).await.0;
        children.start(from_fn("Panics", |_c: Context<u32, String>| async move {
            explode();
            Ok(())
        }));
        let panicked = children.ended().await;
        children.stop();
        let after = run_one(&mut children, who()).await.0;
        // A child of its own that panics: its end, reported to the parent, is its exit.
        children.start(Instance::new(from_fn("OwnPanic", |_c: Context<u32, String>| async move {
            explode();
            Ok(())
        })));
        let own = children.ended().await;
        children.stop();
        tx.send((before, failed, name, same, panicked, after, own)).unwrap();
        Ok(())
    });
    let (before, failed, name, same, panicked, after, own) = rx.recv().unwrap();
    assert_eq!(failed, Exit::Failed("gave up".into()));
    assert_eq!(name, format!("Fails (hosted by {before})"));
    assert_eq!(same, before);
    assert_eq!(panicked, Exit::Panicked("hosted boom".into()));
    assert!(after.starts_with("Host_") && after != before, "{after} after {before}");
    assert_eq!(own, Exit::Panicked("hosted boom".into()));
    // The failures, hosted or not, reached the scheduler as components' do.
    let report = result.unwrap_err().to_string();
    assert!(report.contains(&format!("Fails (hosted by {before})")), "{report}");
    assert!(report.contains(&format!("Panics (hosted by {before})")), "{report}");
    assert!(report.contains("OwnPanic_"), "{report}");
    drop(scheduler);
}

#[test]
fn a_child_that_leaves_a_child_behind_gets_the_next_one_a_new_host() {
    let (tx, rx) = mpsc::channel();
    let (result, _) = run_parent(|ctx, mut children| async move {
        let before = run_one(&mut children, who()).await.0;
        children.start(leaves_a_child());
        assert_eq!(children.ended().await, Exit::Finished);
        children.stop();
        let after = run_one(&mut children, who()).await.0;
        // The orphan lives on, as an orphan does, until it is stopped.
        let orphans: Vec<_> =
            ctx.scheduler().components().into_iter().filter(|c| c.name().starts_with("Orphan_")).collect();
        assert_eq!(orphans.len(), 1);
        orphans[0].stop();
        tx.send((before, after)).unwrap();
        Ok(())
    });
    result.unwrap();
    let (before, after) = rx.recv().unwrap();
    assert!(after.starts_with("Host_") && after != before, "{after} after {before}");
}

#[test]
fn a_stopped_child_is_dropped_and_its_unread_messages_do_not_reach_the_next() {
    let (tx, rx) = mpsc::channel();
    let (result, _) = run_parent(|_ctx, mut children| async move {
        // Hosted, and never reads what is sent to it: dropped, and the host stays.
        children.start(lingers());
        let first = children.from_outbox.recv().await.unwrap();
        children.to_inbox.send(1).await;
        children.to_inbox.send(2).await;
        children.stop();
        children.start(echo());
        children.to_inbox.send(3).await;
        let echoed = children.from_outbox.recv().await.unwrap();
        assert_eq!(children.ended().await, Exit::Finished);
        children.stop();
        // A child of its own, likewise: it is stopped and removed.
        children.start(Instance::new(lingers()));
        let own = children.from_outbox.recv().await.unwrap();
        children.stop();
        tx.send((first, echoed, own)).unwrap();
        Ok(())
    });
    result.unwrap();
    let (first, echoed, own) = rx.recv().unwrap();
    // (The same host, or a new one if the first had not yet dropped the stopped child.)
    assert!(first.starts_with("Host_") && echoed.starts_with("3 Host_"), "{first}, {echoed}");
    assert!(own.starts_with("Lingers_"), "{own}");
}

#[test]
fn the_parents_other_children_keep_their_ends_for_it() {
    let (tx, rx) = mpsc::channel();
    let (result, _) = run_parent(|mut ctx, mut children| async move {
        let mine = ctx.activate(from_fn("Mine", |_c: Context<(), ()>| async { Ok(()) }));
        ctx.add_child(&mine);
        mine.join().await;
        for job in [Job::from(who()), Job::from(Instance::new(who()))] {
            assert_eq!(run_one(&mut children, job).await.1, Exit::Finished);
        }
        let exit = ctx.child_exited().await.unwrap();
        tx.send(exit.name).unwrap();
        Ok(())
    });
    result.unwrap();
    assert!(rx.recv().unwrap().starts_with("Mine_"));
}

#[tokio::test(start_paused = true)]
async fn an_idle_host_goes_and_the_parent_gets_a_new_one() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let scheduler = Scheduler::new();
    let parent = from_fn("Parent", move |ctx: Context<(), ()>| async move {
        let mut children = ChildHost::<u32, String>::new(&ctx, BOXES)?.keep_host(Some(Duration::from_millis(50)));
        let first = run_one(&mut children, who()).await.0;
        let host = ctx.children().into_iter().find(|c| c.name() == first).expect("the host is a child");
        let started = tokio::time::Instant::now();
        std::future::poll_fn(|cx| children.poll_idle_host(cx)).await;
        let idle = started.elapsed();
        assert!(!children.keeps_host());
        host.join().await;
        let second = run_one(&mut children, who()).await.0;
        tx.send((first, second, idle)).unwrap();
        Ok(())
    })
    .with_boxes(|boxes: &mut Declarations| {
        boxes
            .outbox::<u32>(BOXES.to_inbox, "To the current child's inbox")
            .outbox::<Ipc>(BOXES.to_control, "To the current child's control")
            .inbox::<String>(BOXES.from_outbox, "From the current child's outbox")
            .inbox::<Ipc>(BOXES.from_signal, "From the current child's signal");
    });
    let parent = scheduler.activate(parent);
    let (first, second, idle) = rx.await.unwrap();
    assert!(second.starts_with("Host_") && second != first, "{second} after {first}");
    assert!(idle >= Duration::from_millis(50) && idle <= Duration::from_millis(100), "{idle:?}");
    parent.join().await;
}

#[test]
fn a_parent_that_ends_takes_its_child_and_its_host_with_it() {
    let (tx, rx) = mpsc::channel();
    let (result, scheduler) = run_parent(|ctx, mut children| async move {
        let _ = run_one(&mut children, who()).await;
        children.start(lingers());
        let _ = children.from_outbox.recv().await;
        let host = ctx.children();
        tx.send(host).unwrap();
        // Ends with a hosted child running: both go.
        Ok(())
    });
    result.unwrap();
    for c in rx.recv().unwrap() {
        assert!(c.has_ended(), "{} still runs", c.name());
    }
    assert_eq!(scheduler.live(), 0);
}
