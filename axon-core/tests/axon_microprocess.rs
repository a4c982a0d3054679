//! Axon's `test_Microprocess.py` (Axon tests 85–94): identity, activation onto a chosen
//! scheduler, stepping, pause/unpause, stop and the end of a component's life.
//!
//! Axon's `microprocess` is the schedulable wrapper round a generator; its tests drive `next()`
//! by hand against a dummy scheduler. Here the same layer is an [`Instance`] activated as a tokio
//! task: a step is one poll of the body, `setSchedulerClass` becomes choosing the [`Scheduler`]
//! an instance is activated on (there is no class-wide default to change), and
//! `_closeDownMicroprocess`'s value becomes the component's [`Exit`].

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use axon_core::prelude::*;
use axon_core::{ComponentState, Exit};

/// The longest any wait in these tests may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(20);

/// Waits for one message on `inbox`, then ends: alive until the test says otherwise.
struct Waiter;

impl Component for Waiter {
    type Inbox = ();
    type Outbox = ();

    async fn main(self, mut ctx: Context<(), ()>) -> ComponentResult {
        ctx.inbox.recv().await;
        Ok(())
    }
}

/// Counts the polls of the body it wraps (one poll = one Axon `next()`).
struct Counted<F> {
    polls: Arc<AtomicUsize>,
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        self.polls.fetch_add(1, SeqCst);
        self.inner.as_mut().poll(cx)
    }
}

/// Waits (with a deadline) until `cond` holds.
async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let waited = tokio::time::timeout(DEADLINE, async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "timed out waiting until {what}");
}

/// Under tokio's paused clock: returns once the runtime has had nothing left to do (virtual
/// time only moves on when every task is idle), so whatever was woken has run.
async fn idle() {
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Waits (with a deadline) for `c` to end.
async fn join(c: &ComponentRef) -> Exit {
    tokio::time::timeout(DEADLINE, c.join()).await.expect("the component ends in time")
}

/// Waits from ordinary code (no runtime) until `c` has ended.
fn join_blocking(c: &ComponentRef) -> Exit {
    let s = c.scheduler().expect("activated");
    s.runtime_handle().block_on(join(c))
}

/// Ends a [`Waiter`] and waits for it.
fn release(c: &ComponentRef) {
    c.deliver("inbox", ()).unwrap();
    assert_eq!(join_blocking(c), Exit::Finished);
}

// Axon 85: test_SmokeTest_NoArguments
#[test]
fn every_component_gets_its_own_nonzero_id() {
    let made: Vec<_> = (0..3).map(|_| Instance::new(Waiter)).collect();
    for m in &made {
        assert_ne!(m.id().get(), 0);
        assert!(m.name().ends_with(&format!("_{}", m.id().get())), "{}", m.name());
        assert_eq!(m.component().state(), ComponentState::Created, "initialised, not running");
    }
    assert_ne!(made[0].id(), made[1].id());
    assert_ne!(made[1].id(), made[2].id());
    assert_ne!(made[0].id(), made[2].id());
    assert_ne!(made[0].name(), made[1].name());
}

// Axon 86: test_activate_basicActivatation
#[tokio::test]
async fn activate_registers_the_component_with_the_scheduler_it_is_given() {
    let s = Scheduler::new();
    let other = Scheduler::new();
    let inst = Instance::new(Waiter);
    let expected = inst.component().clone();
    assert!(s.components().is_empty());

    let c = inst.activate(&s);
    assert_eq!(c, expected, "activation hands back the same component (Axon returns self)");
    assert_eq!(s.components(), vec![c.clone()], "added exactly once");
    assert!(other.components().is_empty());
    assert!(c.scheduler().expect("it knows its scheduler").components().contains(&c));

    c.deliver("inbox", ()).unwrap();
    assert_eq!(join(&c).await, Exit::Finished);
    assert!(s.components().is_empty());
}

// Axon 87: test_activate_afterCallingSetSchedulerClass
#[test]
fn components_go_to_the_scheduler_chosen_for_them_not_to_the_default() {
    let custom = Scheduler::new();
    let (tx, rx) = mpsc::channel();
    // A component on the custom scheduler starts a child: the child goes to its parent's
    // scheduler (the nearest thing to a class whose default scheduler was changed).
    let parent = custom.activate(from_fn("Parent", move |mut ctx: Context<(), ()>| async move {
        let child = ctx.activate(Waiter);
        ctx.add_child(&child);
        tx.send(child).unwrap();
        ctx.wait_for_children().await;
        Ok(())
    }));
    let child = rx.recv_timeout(DEADLINE).expect("the parent starts its child");
    let basic = Scheduler::global().activate(Waiter);

    let on_custom = custom.components();
    let on_global = Scheduler::global().components();
    assert!(on_custom.contains(&parent) && on_custom.contains(&child));
    assert!(!on_global.contains(&parent) && !on_global.contains(&child));
    assert!(on_global.contains(&basic));
    assert!(!on_custom.contains(&basic));

    release(&child);
    assert_eq!(join_blocking(&parent), Exit::Finished);
    release(&basic);
}

// Axon 88: test_setSchedulerClass
#[test]
fn the_scheduler_is_chosen_per_activation_and_the_default_stays_the_global_one() {
    // Default: the process-wide scheduler.
    let before = Scheduler::global().activate(Waiter);
    assert!(Scheduler::global().components().contains(&before));

    // "Setting" another: a component of the same type activated on a scheduler of its own.
    let custom = Scheduler::new();
    let after = custom.activate(Waiter);
    assert_eq!(custom.components(), vec![after.clone()]);
    assert!(!Scheduler::global().components().contains(&after));

    // "Resetting": the next one activated on the default goes there again; nothing class-wide
    // was changed in between.
    let reset = Scheduler::global().activate(Waiter);
    let global = Scheduler::global().components();
    assert!(global.contains(&before) && global.contains(&reset));
    assert_eq!(custom.components(), vec![after.clone()]);

    for c in [&before, &after, &reset] {
        release(c);
    }
}

// Axon 89: test_overriddenMainWorksWithNext
#[tokio::test]
async fn each_poll_runs_one_step_of_the_body_and_it_ends_after_the_last() {
    let s = Scheduler::new();
    let polls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (p, sn) = (polls.clone(), seen.clone());
    let c = s.activate(from_fn("Hundred", move |_ctx: Context<(), ()>| Counted {
        polls: p.clone(),
        inner: Box::pin(async move {
            for i in 1..=100 {
                sn.lock().unwrap().push((i, p.load(SeqCst)));
                tokio::task::yield_now().await; // Axon: yield 1
            }
            Ok(())
        }),
    }));

    assert_eq!(join(&c).await, Exit::Finished);
    let expected: Vec<_> = (1..=100).map(|i| (i, i)).collect();
    assert_eq!(*seen.lock().unwrap(), expected, "step i ran during poll i");
    assert_eq!(polls.load(SeqCst), 101, "one more poll ends it (Axon: StopIteration)");
}

// Axon 90: test_Stop
#[tokio::test(start_paused = true)]
async fn a_stopped_component_has_ended_and_cannot_be_woken() {
    let s = Scheduler::new();
    let wakes = Arc::new(AtomicUsize::new(0));
    let w = wakes.clone();
    let c = s.activate(from_fn("Sleeper", move |ctx: Context<(), ()>| async move {
        loop {
            ctx.pause().await;
            w.fetch_add(1, SeqCst);
        }
    }));
    wait_until("it sleeps", || c.state() == ComponentState::Paused).await;
    assert!(!c.has_ended());
    assert_eq!(c.exit(), None);

    c.stop();
    assert_eq!(join(&c).await, Exit::Stopped);
    assert!(c.has_ended());
    // Axon's `_isRunnable()` stayed true after stop() (a quirk, §10.8); here it is Ended.
    assert_eq!(c.state(), ComponentState::Ended);

    c.unpauser().unpause();
    idle().await;
    assert_eq!(c.state(), ComponentState::Ended, "unpause does not revive it");
    assert_eq!(wakes.load(SeqCst), 0);
    assert!(s.components().is_empty());

    // Stopped before activation: ended at once, and activating it later runs nothing.
    let early = Instance::new(Waiter);
    early.component().stop();
    assert_eq!(early.component().exit(), Some(Exit::Stopped));
    let early = early.activate(&s);
    assert_eq!(early.state(), ComponentState::Ended);
    assert!(s.components().is_empty());
    assert_eq!(s.live(), 0);
}

// Axon 91: test_pause
#[tokio::test]
async fn a_paused_component_is_paused_until_unpaused() {
    let s = Scheduler::new();
    let wakes = Arc::new(AtomicUsize::new(0));
    let w = wakes.clone();
    let c = s.activate(from_fn("PauseTwice", move |ctx: Context<(), ()>| async move {
        for _ in 0..2 {
            ctx.pause().await;
            w.fetch_add(1, SeqCst);
        }
        Ok(())
    }));
    wait_until("it has paused", || c.state() == ComponentState::Paused).await;
    assert_eq!(wakes.load(SeqCst), 0);

    c.unpauser().unpause();
    wait_until("it has run after the unpause", || wakes.load(SeqCst) == 1).await;
    wait_until("it has paused again", || c.state() == ComponentState::Paused).await;
    assert_eq!(wakes.load(SeqCst), 1);

    c.unpauser().unpause();
    assert_eq!(join(&c).await, Exit::Finished);
    assert_eq!(wakes.load(SeqCst), 2);
}

// Axon 92: test_Next
#[tokio::test]
async fn a_stopped_body_takes_no_more_steps_and_is_dropped() {
    struct DropFlag(Arc<AtomicBool>);
    impl Drop for DropFlag {
        fn drop(&mut self) {
            self.0.store(true, SeqCst);
        }
    }

    let s = Scheduler::new();
    let steps = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicBool::new(false));
    let (st, d) = (steps.clone(), dropped.clone());
    let c = s.activate(from_fn("Forever", move |_ctx: Context<(), ()>| async move {
        let _flag = DropFlag(d);
        loop {
            st.fetch_add(1, SeqCst);
            tokio::task::yield_now().await;
        }
    }));
    wait_until("it has taken 5 steps", || steps.load(SeqCst) >= 5).await;
    // An unpause is the scheduler's business: it does not change the stepping.
    c.unpauser().unpause();
    let n = steps.load(SeqCst);
    wait_until("it keeps stepping", || steps.load(SeqCst) >= n + 5).await;

    c.stop();
    assert_eq!(join(&c).await, Exit::Stopped);
    let at_stop = steps.load(SeqCst);
    assert!(dropped.load(SeqCst), "the body was dropped at its await (Axon: the generator ended)");
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert_eq!(steps.load(SeqCst), at_stop, "no step after stop");
}

// Axon 93: test__closeDownMicroprocess
#[tokio::test(start_paused = true)]
async fn a_body_that_returns_ends_finished_and_sets_nothing_else_off() {
    let s = Scheduler::new();
    let wakes = Arc::new(AtomicUsize::new(0));
    let w = wakes.clone();
    let bystander = s.activate(from_fn("Bystander", move |ctx: Context<(), ()>| async move {
        ctx.pause().await;
        w.fetch_add(1, SeqCst);
        Ok(())
    }));
    wait_until("the bystander sleeps", || bystander.state() == ComponentState::Paused).await;

    let c = s.activate(from_fn("Plain", |_ctx: Context<(), ()>| async { Ok(()) }));
    let exit = join(&c).await;
    // Axon's default closedown value is 0: no knock-on. Here the end is reported as Finished,
    // which is no failure, and it wakes nobody but its parent (it has none).
    assert_eq!(exit, Exit::Finished);
    assert!(!exit.is_failure());
    assert!(s.failures().is_empty());
    idle().await;
    assert_eq!(bystander.state(), ComponentState::Paused);
    assert_eq!(wakes.load(SeqCst), 0);

    bystander.unpauser().unpause();
    assert_eq!(join(&bystander).await, Exit::Finished);
    assert!(s.run_async().await.is_ok());
}

// Axon 94: test___str__ (from str_Test)
#[test]
fn display_differs_between_two_components_and_is_stable() {
    let a = Instance::new(Waiter);
    let b = Instance::new(Waiter);
    let (sa, sb) = (a.component().to_string(), b.component().to_string());
    assert_ne!(sa, sb);
    assert_eq!(sa, a.component().to_string(), "the same each time");
    assert!(sa.contains(a.name()), "{sa}");
    assert!(sa.to_lowercase().contains("component"), "{sa}");
}
