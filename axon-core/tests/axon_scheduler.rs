//! Axon's `test_Scheduler.py` (Axon tests 67–84), ported to the tokio-based [`Scheduler`].
//!
//! Axon's tests step the scheduler's generator by hand and count the `next()` calls of mock
//! microprocesses. Here components are tokio tasks, so each test checks the same behaviour
//! through what can be observed from outside: how often a component's body is polled (a
//! counting wrapper), how often its `ctx.pause().await` returns, [`ComponentRef::state`], the
//! scheduler's registry ([`Scheduler::components`]) and when `run` returns.
//!
//! Axon's `pauseThread(mp)` / `wakeThread(mp)` map to the component calling `ctx.pause().await`
//! (when the test asks it to) and to [`Unpauser::unpause`].

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use axon_core::prelude::*;
use axon_core::{ComponentError, ComponentState, Exit, RunError, StepComponent, Stepped, Unpauser};
use tokio::time::Instant;

/// The longest any wait in these tests may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(20);

// ----- helpers -----

/// What a test component shares with the test: counters it keeps and requests it obeys.
#[derive(Debug, Default)]
struct Ctl {
    /// How many times its body has been polled (Axon's tests count `next()` calls).
    polls: AtomicUsize,
    /// How many times its `ctx.pause().await` has returned.
    wakes: AtomicUsize,
    /// True while it is inside `ctx.pause().await`.
    pausing: AtomicBool,
    /// Set by the test: pause at the next step (Axon's `scheduler.pauseThread(mp)`).
    pause_requested: AtomicBool,
    /// Set by the test: end at the next step.
    quit: AtomicBool,
}

impl Ctl {
    fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn polls(&self) -> usize {
        self.polls.load(SeqCst)
    }

    fn wakes(&self) -> usize {
        self.wakes.load(SeqCst)
    }

    fn pausing(&self) -> bool {
        self.pausing.load(SeqCst)
    }

    fn request_pause(&self) {
        self.pause_requested.store(true, SeqCst);
    }

    fn quit(&self) {
        self.quit.store(true, SeqCst);
    }
}

/// Counts the polls of the future it wraps.
struct Counted<F> {
    polls: Arc<Ctl>,
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        self.polls.polls.fetch_add(1, SeqCst);
        self.inner.as_mut().poll(cx)
    }
}

fn counted<F: Future>(ctl: &Arc<Ctl>, inner: F) -> Counted<F> {
    Counted { polls: ctl.clone(), inner: Box::pin(inner) }
}

/// Axon's `TestRunningMProc`: always ready to run (it yields to the runtime at every step, so it
/// is polled again and again), until asked to pause or to quit.
fn worker(ctl: &Arc<Ctl>) -> Instance<impl Component<Inbox = (), Outbox = ()>> {
    let c = ctl.clone();
    Instance::new(from_fn("Worker", move |ctx: Context<(), ()>| {
        let ctl = c.clone();
        counted(&c, async move {
            loop {
                if ctl.quit.load(SeqCst) {
                    return Ok(());
                }
                if ctl.pause_requested.swap(false, SeqCst) {
                    ctl.pausing.store(true, SeqCst);
                    ctx.pause().await;
                    ctl.pausing.store(false, SeqCst);
                    ctl.wakes.fetch_add(1, SeqCst);
                } else {
                    tokio::task::yield_now().await;
                }
            }
        })
    }))
}

/// Axon's `TestPausedMProc`: pauses at once, and again after every wake-up, until told to quit.
fn sleeper(ctl: &Arc<Ctl>) -> Instance<impl Component<Inbox = (), Outbox = ()>> {
    let c = ctl.clone();
    Instance::new(from_fn("Sleeper", move |ctx: Context<(), ()>| {
        let ctl = c.clone();
        counted(&c, async move {
            loop {
                ctl.pausing.store(true, SeqCst);
                ctx.pause().await;
                ctl.pausing.store(false, SeqCst);
                ctl.wakes.fetch_add(1, SeqCst);
                if ctl.quit.load(SeqCst) {
                    return Ok(());
                }
            }
        })
    }))
}

/// Waits (with a deadline) until `cond` holds. Under a paused clock the 1 ms sleeps cost no real
/// time; under the real clock they are the polling interval.
async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let waited = tokio::time::timeout(DEADLINE, async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "timed out waiting until {what}");
}

/// Waits (with a deadline) until every component on `s` has ended; they must all have finished.
async fn finish(s: &Scheduler) {
    let r = tokio::time::timeout(DEADLINE, s.run_async()).await.expect("every component ends");
    r.expect("no component failed");
}

/// Runs `s.run()` on a thread of its own and fails the test if it does not return in time.
fn run_with_deadline(s: &Scheduler) -> Result<(), RunError> {
    let (tx, rx) = mpsc::channel();
    let s = s.clone();
    std::thread::spawn(move || {
        let _ = tx.send(s.run());
    });
    rx.recv_timeout(DEADLINE).expect("Scheduler::run returns once every component has ended")
}

/// Waits from ordinary code (no runtime) until `c` has ended.
fn join_blocking(c: &ComponentRef) -> Exit {
    let s = c.scheduler().expect("activated");
    s.runtime_handle()
        .block_on(async { tokio::time::timeout(DEADLINE, c.join()).await.expect("the component ends in time") })
}

/// Waits for a message on `inbox`, then ends: alive until the test says otherwise.
fn waiter() -> Instance<impl Component<Inbox = (), Outbox = ()>> {
    Instance::new(from_fn("Waiter", |mut ctx: Context<(), ()>| async move {
        ctx.inbox.recv().await;
        Ok(())
    }))
}

/// Axon's `SimpleTestMProc(count)`: runs `count` steps, then ends.
struct CountDown {
    left: usize,
    steps: Arc<AtomicUsize>,
}

impl StepComponent for CountDown {
    type Inbox = ();
    type Outbox = ();

    async fn main_body(&mut self, _ctx: &mut Context<(), ()>) -> Result<bool, ComponentError> {
        if self.left == 0 {
            return Ok(false); // Axon: raise StopIteration
        }
        self.left -= 1;
        self.steps.fetch_add(1, SeqCst);
        Ok(true)
    }
}

fn ids(cs: &[ComponentRef]) -> Vec<u64> {
    let mut v: Vec<u64> = cs.iter().map(|c| c.id().get()).collect();
    v.sort_unstable();
    v
}

// ----- the tests -----

// Axon 67: test_importsuccess
#[test]
fn there_is_a_process_wide_default_scheduler_and_every_call_gives_the_same_one() {
    let c = Scheduler::global().activate(waiter());
    // A second call sees what was activated through the first: one registry.
    assert!(Scheduler::global().components().contains(&c));
    let own = c.scheduler().expect("an activated component knows its scheduler");
    assert!(own.components().contains(&c));

    c.deliver("inbox", ()).unwrap();
    assert_eq!(join_blocking(&c), Exit::Finished);
    assert!(!Scheduler::global().components().contains(&c));
}

// Axon 68: test_SmokeTest_NoArguments
#[test]
fn making_a_new_scheduler_leaves_the_default_one_in_place() {
    let on_global = Scheduler::global().activate(waiter());

    // Axon: a scheduler made while `scheduler.run` is None becomes the default. Here a new
    // scheduler is independent: it starts empty and does not replace the global one.
    let fresh = Scheduler::new();
    assert!(fresh.components().is_empty());
    assert_eq!(fresh.live(), 0);
    let on_fresh = fresh.activate(waiter());

    let global = Scheduler::global();
    assert!(global.components().contains(&on_global));
    assert!(!global.components().contains(&on_fresh));
    assert_eq!(fresh.components(), vec![on_fresh.clone()]);

    for c in [&on_global, &on_fresh] {
        c.deliver("inbox", ()).unwrap();
        assert_eq!(join_blocking(c), Exit::Finished);
    }
}

// Axon 69: test_stopsIfNoThreads
#[test]
fn run_returns_at_once_when_nothing_was_activated() {
    let s = Scheduler::new();
    assert!(run_with_deadline(&s).is_ok());
    assert_eq!(s.live(), 0);
    assert!(s.components().is_empty());
}

// Axon 70: test_runsMicroprocessToCompletionThenStops
#[test]
fn run_drives_a_component_to_completion_then_returns() {
    let s = Scheduler::new();
    let steps = Arc::new(AtomicUsize::new(0));
    let c = s.activate(Stepped(CountDown { left: 10, steps: steps.clone() }));

    assert!(run_with_deadline(&s).is_ok());
    assert_eq!(steps.load(SeqCst), 10, "it ran every step");
    // Axon: its stop() was called once it had finished (the mock refused a stop before that).
    assert_eq!(c.exit(), Some(Exit::Finished));
    assert_eq!(c.state(), ComponentState::Ended);
    assert!(s.components().is_empty());
}

// Axon 71: test_runsMicroprocessesAllToCompletionThenStops
#[test]
fn run_returns_only_once_every_component_has_completed() {
    let s = Scheduler::new();
    let runs: Vec<_> = (1..=4)
        .map(|i| {
            let steps = Arc::new(AtomicUsize::new(0));
            let c = s.activate(Stepped(CountDown { left: i * 10, steps: steps.clone() }));
            (i * 10, steps, c)
        })
        .collect();

    assert!(run_with_deadline(&s).is_ok());
    for (count, steps, c) in &runs {
        assert_eq!(steps.load(SeqCst), *count, "{} ran every step", c.name());
        assert_eq!(c.exit(), Some(Exit::Finished), "{}", c.name());
    }
    assert_eq!(s.live(), 0);
    assert!(s.components().is_empty());
}

// Axon 72: test_pausedMicroprocessDoesNotGetCalled
#[tokio::test]
async fn a_paused_component_is_not_polled_any_more() {
    let s = Scheduler::new();
    let (mp, witness) = (Ctl::new(), Ctl::new());
    worker(&mp).activate(&s);
    worker(&witness).activate(&s);

    // Running: it is polled again and again.
    wait_until("the worker has been polled 10 times", || mp.polls() >= 10).await;

    mp.request_pause();
    wait_until("the worker is paused", || mp.pausing()).await;
    let at_pause = mp.polls();
    assert_eq!(mp.wakes(), 0);

    // While the witness keeps being polled, the paused one is not.
    let w = witness.polls();
    wait_until("the witness has been polled 20 more times", || witness.polls() >= w + 20).await;
    assert_eq!(mp.polls(), at_pause, "a paused component's body is not polled");
    assert!(mp.pausing());

    for c in [&mp, &witness] {
        c.quit();
    }
    s.components().iter().for_each(|c| c.unpauser().unpause());
    finish(&s).await;
}

// Axon 73: test_oneMicroprocessPausesOthersContinueToRun
#[tokio::test]
async fn one_component_pausing_leaves_the_others_running() {
    let s = Scheduler::new();
    let paused = Ctl::new();
    let others: Vec<_> = (0..5).map(|_| Ctl::new()).collect();
    let paused_ref = worker(&paused).activate(&s);
    for o in &others {
        worker(o).activate(&s);
    }
    wait_until("every worker is being polled", || others.iter().chain([&paused]).all(|c| c.polls() >= 3)).await;

    paused.request_pause();
    wait_until("one worker is paused", || paused.pausing()).await;
    let at_pause = paused.polls();

    let before: Vec<_> = others.iter().map(|o| o.polls()).collect();
    wait_until("each other worker has been polled 5 more times", || {
        others.iter().zip(&before).all(|(o, b)| o.polls() >= b + 5)
    })
    .await;
    assert_eq!(paused.polls(), at_pause, "the paused one is not polled");

    paused.quit();
    others.iter().for_each(|o| o.quit());
    paused_ref.unpauser().unpause();
    finish(&s).await;
}

// Axon 74: test_pausedMicroprocessCanBeWoken
#[tokio::test]
async fn a_paused_component_runs_again_once_woken() {
    let s = Scheduler::new();
    let paused = Ctl::new();
    let others: Vec<_> = (0..5).map(|_| Ctl::new()).collect();
    let paused_ref = worker(&paused).activate(&s);
    for o in &others {
        worker(o).activate(&s);
    }

    paused.request_pause();
    wait_until("one worker is paused", || paused.pausing()).await;
    let at_pause = paused.polls();
    let before: Vec<_> = others.iter().map(|o| o.polls()).collect();
    wait_until("the others have been polled 5 more times", || {
        others.iter().zip(&before).all(|(o, b)| o.polls() >= b + 5)
    })
    .await;
    assert_eq!(paused.polls(), at_pause);

    // Axon's scheduler.wakeThread(mp).
    paused_ref.unpauser().unpause();
    wait_until("the woken worker has been polled 10 more times", || paused.polls() >= at_pause + 10).await;
    assert_eq!(paused.wakes(), 1);
    assert!(!paused.pausing());
    let before: Vec<_> = others.iter().map(|o| o.polls()).collect();
    wait_until("the others are still being polled", || others.iter().zip(&before).all(|(o, b)| o.polls() > *b)).await;

    paused.quit();
    others.iter().for_each(|o| o.quit());
    finish(&s).await;
}

// Axon 75: test_wakingPausedMicroprocessDoesntWakeOthers
#[tokio::test(start_paused = true)]
async fn waking_one_paused_component_leaves_the_others_asleep() {
    let s = Scheduler::new();
    let ctls: Vec<_> = (0..6).map(|_| Ctl::new()).collect();
    let comps: Vec<_> = ctls.iter().map(|c| sleeper(c).activate(&s)).collect();
    wait_until("all are paused", || ctls.iter().all(|c| c.pausing())).await;
    let polls: Vec<_> = ctls.iter().map(|c| c.polls()).collect();

    comps[0].unpauser().unpause();
    wait_until("the woken one has run and paused again", || ctls[0].wakes() == 1 && ctls[0].pausing()).await;
    // Let virtual time pass: only an idle runtime lets it move, so everything has settled.
    tokio::time::sleep(Duration::from_secs(5)).await;

    assert_eq!(ctls[0].wakes(), 1, "woken exactly once");
    assert_eq!(ctls[0].polls(), polls[0] + 1, "one step, then asleep again");
    for (i, (c, comp)) in ctls.iter().zip(&comps).enumerate().skip(1) {
        assert_eq!(c.wakes(), 0, "sleeper {i} stayed asleep");
        assert_eq!(c.polls(), polls[i], "sleeper {i} was not polled");
        assert_eq!(comp.state(), ComponentState::Paused);
    }
    assert_eq!(comps[0].state(), ComponentState::Paused);

    ctls.iter().for_each(|c| c.quit());
    comps.iter().for_each(|c| c.unpauser().unpause());
    finish(&s).await;
    assert_eq!(ctls.iter().map(|c| c.wakes()).collect::<Vec<_>>(), [2, 1, 1, 1, 1, 1]);
}

// Axon 76: test_wakingAlreadyAwakeMicroprocessHasNoEffect
#[tokio::test]
async fn waking_a_running_component_leaves_it_running_and_it_can_still_pause() {
    let s = Scheduler::new();
    let the = Ctl::new();
    let others: Vec<_> = (0..5).map(|_| Ctl::new()).collect();
    let the_ref = worker(&the).activate(&s);
    let mut all = vec![the_ref.clone()];
    all.extend(others.iter().map(|o| worker(o).activate(&s)));
    wait_until("every worker is being polled", || others.iter().chain([&the]).all(|c| c.polls() >= 3)).await;

    // Wake it while it is running, several times: it keeps running, and nothing else changes.
    for _ in 0..3 {
        the_ref.unpauser().unpause();
    }
    let p = the.polls();
    wait_until("it is still being polled", || the.polls() >= p + 5).await;
    assert_eq!(ids(&s.components()), ids(&all));

    // The wakes were kept as ONE permit (a difference from Axon, where they were dropped): its
    // next pause returns at once, a single time, however many wakes came while it was busy.
    the.request_pause();
    wait_until("the permit was used", || the.wakes() == 1).await;
    let p = the.polls();
    wait_until("it is running again", || the.polls() >= p + 5).await;
    assert_eq!(the.wakes(), 1);

    // Pausing afterwards works: it sleeps, and only the others are polled.
    the.request_pause();
    wait_until("it is paused", || the.pausing()).await;
    let at_pause = the.polls();
    let before: Vec<_> = others.iter().map(|o| o.polls()).collect();
    wait_until("the others have been polled 5 more times", || {
        others.iter().zip(&before).all(|(o, b)| o.polls() >= b + 5)
    })
    .await;
    assert_eq!(the.polls(), at_pause);
    assert_eq!(the.wakes(), 1);

    the.quit();
    others.iter().for_each(|o| o.quit());
    the_ref.unpauser().unpause();
    finish(&s).await;
}

// Axon 77: test_wakingOrPausingNonActivatedMicroprocessHasoEffect
#[tokio::test]
async fn waking_a_component_that_was_never_activated_neither_runs_nor_registers_it() {
    let s = Scheduler::new();
    let others: Vec<_> = (0..5).map(|_| Ctl::new()).collect();
    let running: Vec<_> = others.iter().map(|o| worker(o).activate(&s)).collect();
    let the = Ctl::new();
    let never = worker(&the);

    wait_until("the activated ones are running", || others.iter().all(|o| o.polls() >= 3)).await;
    never.component().unpauser().unpause();
    let before: Vec<_> = others.iter().map(|o| o.polls()).collect();
    wait_until("the others have been polled 5 more times", || {
        others.iter().zip(&before).all(|(o, b)| o.polls() >= b + 5)
    })
    .await;

    assert_eq!(the.polls(), 0, "its body never ran");
    assert_eq!(never.component().state(), ComponentState::Created);
    assert!(!s.components().contains(never.component()));
    assert_eq!(ids(&s.components()), ids(&running));
    // (Axon also "pauses" it from outside; here only a running body can pause itself.)

    others.iter().for_each(|o| o.quit());
    finish(&s).await;
}

// Axon 78: test_listAllThreadsMethodListsAllMicroprocesses
#[tokio::test]
async fn components_lists_every_live_component_whether_paused_or_running() {
    let s = Scheduler::new();
    let ctls: Vec<_> = (0..5).map(|_| Ctl::new()).collect();
    let all: Vec<_> = ctls.iter().map(|c| worker(c).activate(&s)).collect();
    wait_until("all are running", || ctls.iter().all(|c| c.polls() >= 3)).await;
    assert_eq!(ids(&s.components()), ids(&all));

    ctls[1].request_pause();
    ctls[4].request_pause();
    wait_until("two are paused", || ctls[1].pausing() && ctls[4].pausing()).await;
    assert_eq!(ids(&s.components()), ids(&all), "paused components are listed too");
    assert_eq!(s.live(), 5);

    ctls.iter().for_each(|c| c.quit());
    all.iter().for_each(|c| c.unpauser().unpause());
    finish(&s).await;
    assert!(s.components().is_empty(), "ended components are not listed");
}

/// What the test tells a component of test 79 to do next.
enum Cmd {
    Pause,
    Quit,
}

// Axon 79: test_isThreadPausedWorks
//
// "Awake" here is a component in the middle of a step: each one blocks (in `block_in_place`)
// inside its poll waiting for the test's next command, so its state is `Running` for certain.
// The one told to pause waits in `ctx.pause()` and is the only `Paused` one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_is_paused_only_for_the_component_that_paused() {
    let s = Scheduler::new();
    let mut cmds = Vec::new();
    let mut all = Vec::new();
    for _ in 0..5 {
        let (tx, rx) = mpsc::channel::<Cmd>();
        cmds.push(tx);
        all.push(s.activate(from_fn("Stepper", move |ctx: Context<(), ()>| async move {
            loop {
                match tokio::task::block_in_place(|| rx.recv()) {
                    Ok(Cmd::Pause) => ctx.pause().await,
                    Ok(Cmd::Quit) | Err(_) => return Ok(()),
                }
            }
        })));
    }
    for c in &all {
        assert_eq!(c.state(), ComponentState::Running, "{} is awake", c.name());
    }

    for (i, mp) in all.iter().enumerate() {
        cmds[i].send(Cmd::Pause).unwrap();
        wait_until("it has paused", || mp.state() == ComponentState::Paused).await;
        for c in &all {
            let expected = if c == mp { ComponentState::Paused } else { ComponentState::Running };
            assert_eq!(c.state(), expected, "{} while {} is paused", c.name(), mp.name());
        }
        mp.unpauser().unpause();
        wait_until("it is awake again", || mp.state() == ComponentState::Running).await;
    }

    cmds.iter().for_each(|c| c.send(Cmd::Quit).unwrap());
    finish(&s).await;
}

// Axon 80: test_isThreadPausedNotRecognised
#[tokio::test]
async fn a_component_unknown_to_a_scheduler_is_not_running_there() {
    let s = Scheduler::new();
    let elsewhere_sched = Scheduler::new();
    let ctls: Vec<_> = (0..5).map(|_| Ctl::new()).collect();
    let known: Vec<_> = ctls.iter().map(|c| worker(c).activate(&s)).collect();
    let unknown_ctl = Ctl::new();
    let never = worker(&unknown_ctl);
    let elsewhere_ctl = Ctl::new();
    let elsewhere = worker(&elsewhere_ctl).activate(&elsewhere_sched);

    let check = |label: &str| {
        assert_eq!(ids(&s.components()), ids(&known), "{label}");
        assert!(!s.components().contains(never.component()), "{label}");
        assert_eq!(never.component().state(), ComponentState::Created, "{label}: never runnable");
        assert!(!s.components().contains(&elsewhere), "{label}");
        assert!(elsewhere_sched.components().contains(&elsewhere), "{label}");
    };
    wait_until("the known ones run", || ctls.iter().all(|c| c.polls() >= 3)).await;
    check("all running");

    ctls.iter().for_each(|c| c.request_pause());
    wait_until("all known ones are paused", || ctls.iter().all(|c| c.pausing())).await;
    for c in &known {
        assert_eq!(c.state(), ComponentState::Paused);
    }
    check("all paused");
    assert_eq!(unknown_ctl.polls(), 0);

    ctls.iter().chain([&elsewhere_ctl]).for_each(|c| c.quit());
    known.iter().for_each(|c| c.unpauser().unpause());
    finish(&s).await;
    finish(&elsewhere_sched).await;
}

// Axon 81: test_pauseThenTerminateTerminates
#[test]
fn a_component_that_pauses_and_ends_in_the_same_step_still_ends() {
    let s = Scheduler::new();
    let c = s.activate(from_fn("PauseThenEnd", |ctx: Context<(), ()>| async move {
        // Start a pause (it registers and sleeps) and end in the same step.
        let slept = tokio::select! {
            biased;
            _ = ctx.pause() => false,
            _ = std::future::ready(()) => true,
        };
        assert!(slept, "nothing had woken it");
        Ok(())
    }));
    assert!(run_with_deadline(&s).is_ok());
    assert_eq!(c.exit(), Some(Exit::Finished));
    assert!(s.components().is_empty());
}

// Axon 82: test_runThreadsSlowmo
#[tokio::test(start_paused = true)]
async fn slow_motion_runs_nothing_before_the_delay_has_passed() {
    let s = Scheduler::new();
    s.set_slowmo(Some(Duration::from_secs(1)));
    let steps = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let start = Instant::now();
    let st = steps.clone();
    let c = s.activate(from_fn("Slow", move |_ctx: Context<(), ()>| async move {
        for _ in 0..3 {
            st.lock().unwrap().push(Instant::now());
            tokio::task::yield_now().await;
        }
        Ok(())
    }));

    tokio::time::advance(Duration::from_millis(999)).await;
    assert!(steps.lock().unwrap().is_empty(), "nothing runs before the delay has passed");

    finish(&s).await;
    assert_eq!(c.exit(), Some(Exit::Finished));
    let steps = steps.lock().unwrap().clone();
    assert_eq!(steps.len(), 3);
    assert!(steps[0] - start >= Duration::from_secs(1), "first step after {:?}", steps[0] - start);
    for w in steps.windows(2) {
        assert!(w[1] - w[0] >= Duration::from_secs(1), "each step waits the delay again");
    }
}

// Axon 83: test_directUsageOfMainDoesntBlock
#[tokio::test]
async fn the_scheduler_never_blocks_its_caller_when_everything_is_paused() {
    let s = Scheduler::new();
    let ctls: Vec<_> = (0..5).map(|_| Ctl::new()).collect();
    let comps: Vec<_> = ctls.iter().map(|c| sleeper(c).activate(&s)).collect();
    wait_until("all are paused", || ctls.iter().all(|c| c.pausing())).await;

    // Axon stepped `main()` by hand and each step returned promptly. Here one poll of the run
    // future returns Pending at once, handing the thread back.
    let mut run = std::pin::pin!(s.run_async());
    let pending = poll_fn(|cx| Poll::Ready(run.as_mut().poll(cx).is_pending())).await;
    assert!(pending, "components are alive, so the run is not over");
    // And the blocking form refuses to block a runtime thread.
    assert!(matches!(s.run(), Err(RunError::InsideRuntime)));

    ctls.iter().for_each(|c| c.quit());
    comps.iter().for_each(|c| c.unpauser().unpause());
    let r = tokio::time::timeout(DEADLINE, run).await.expect("the run ends once all have ended");
    assert!(r.is_ok());
    for c in &comps {
        assert_eq!(c.exit(), Some(Exit::Finished));
    }
}

// Axon 84: test_runThreadsUsesNonBusyWaitingMode
//
// Deterministic form of Axon's CPU-time measurement: under tokio's paused clock, virtual time
// only moves on when every task is idle. So if three virtual seconds pass while components sleep
// and the scheduler's run is awaited, and no poll counter moved, nothing is busy waiting. A
// system that spun would never let the clock advance; the real-time watchdog turns that hang into
// a failure.
#[test]
fn an_idle_system_does_not_busy_wait() {
    let (tx, rx) = mpsc::channel();
    let scenario = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap();
        rt.block_on(async {
            let s = Scheduler::new();
            let ctls: Vec<_> = (0..5).map(|_| Ctl::new()).collect();
            let comps: Vec<_> = ctls.iter().map(|c| sleeper(c).activate(&s)).collect();
            let runner = Ctl::new();
            let run = tokio::spawn(counted(&runner, {
                let s = s.clone();
                async move { s.run_async().await }
            }));
            wait_until("all are paused", || ctls.iter().all(|c| c.pausing())).await;
            wait_until("the run is being awaited", || runner.polls() >= 1).await;

            let polls: Vec<_> = ctls.iter().chain([&runner]).map(|c| c.polls()).collect();
            // Three seconds on the paused clock. It moves on only when the runtime has nothing
            // to run, and straight to the next timer: a component that stayed runnable (a busy
            // wait, a `yield_now` loop) would hold it still, and the sleep would never end (the
            // 60 s watch below fails the test). So the sleep ends on the virtual clock at once.
            let t0 = Instant::now();
            tokio::time::sleep(Duration::from_secs(3)).await;
            assert_eq!(t0.elapsed(), Duration::from_secs(3), "the paused clock went past the only timer");
            let after: Vec<_> = ctls.iter().chain([&runner]).map(|c| c.polls()).collect();
            assert_eq!(after, polls, "nothing was polled while the system was idle");
            assert!(!run.is_finished(), "sleeping components keep the run alive");

            // Axon woke them from another thread (a threading.Timer).
            ctls.iter().for_each(|c| c.quit());
            let unpausers: Vec<Unpauser> = comps.iter().map(|c| c.unpauser()).collect();
            std::thread::spawn(move || unpausers.iter().for_each(|u| u.unpause())).join().unwrap();

            let r = tokio::time::timeout(DEADLINE, run).await.expect("the run ends").expect("not panicked");
            assert!(r.is_ok());
            for c in &ctls {
                assert_eq!(c.wakes(), 1);
            }
        });
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => scenario.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => std::panic::resume_unwind(scenario.join().unwrap_err()),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("virtual time never advanced: something kept the runtime busy (busy waiting)")
        }
    }
}
