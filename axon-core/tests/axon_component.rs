//! Axon's `test_Component.py` (tests 1–29 of the reference inventory), ported to axon-core:
//! a component's standard boxes, children, linking, `dataReady`/`recv`/`send` on linked boxes,
//! the old `initialiseComponent`/`mainBody`/`closeDownComponent` style ([`Stepped`]), the
//! linkages a component made being removed when it ends, and the `MessageDeliveryNotifications`
//! tests: who is woken by a delivery and who by a collection.
//!
//! Axon's tests poke at component objects from outside (`c.send(..)`, `c.recv(..)`). Here a
//! *puppet* component hands its [`Context`] to the test and waits, so the test works its boxes
//! directly. Axon counted `unpause()` calls over 100 scheduler steps; here a wake-up is observed
//! exactly: a component's pending wake-up is what makes its next `pause()` return at once
//! ([`woke`]), and a sender waiting for space is polled by hand with a waker that records whether
//! it was woken ([`Probe`]). No test waits for time to pass.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, Wake, Waker};
use std::time::Duration;

use axon_core::prelude::*;
use axon_core::tuning::InboxTuning;
use axon_core::{
    BoxKind, ComponentError, ComponentState, Exit, Linkage, RunError, StepComponent, Stepped, TryRecvError,
};
use tokio::sync::{mpsc, oneshot};

/// Deadline for things that must happen promptly (only reached if the behaviour is broken).
const DEADLINE: Duration = Duration::from_secs(5);

/// The context most tests use: text in, text out.
type Ctx = Context<&'static str, &'static str>;

/// Activates a component whose body hands its context to the test and then waits for ever, so
/// the test can work its boxes directly, as Axon's tests call `send`/`recv` on a component.
async fn puppet<I: Send + 'static, O: Send + 'static>(s: &Scheduler, name: &'static str) -> Context<I, O> {
    let (tx, rx) = oneshot::channel();
    s.activate(from_fn(name, move |ctx: Context<I, O>| async move {
        let _ = tx.send(ctx);
        std::future::pending::<ComponentResult>().await
    }));
    rx.await.expect("a puppet's body runs once activated")
}

/// A component that does nothing; most tests never activate it.
struct Nop;

impl Component for Nop {
    type Inbox = u32;
    type Outbox = u32;
    async fn main(self, _ctx: Context<u32, u32>) -> ComponentResult {
        Ok(())
    }
}

/// Records whether the waker made from it was woken.
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A future polled by hand with a waker that records whether it was woken, so a test can tell
/// exactly which operation wakes which waiter (Axon's tests counted `unpause` calls).
struct Probe<F: Future> {
    fut: Pin<Box<tokio::task::Unconstrained<F>>>,
    flag: Arc<Flag>,
}

impl<F: Future> Probe<F> {
    fn new(fut: F) -> Self {
        Probe { fut: Box::pin(tokio::task::unconstrained(fut)), flag: Arc::new(Flag(AtomicBool::new(false))) }
    }

    /// Polls once; the woken flag is cleared first, so it then tells whether the waker
    /// registered by this poll is woken later.
    fn poll(&mut self) -> Poll<F::Output> {
        self.flag.0.store(false, Ordering::SeqCst);
        let waker = Waker::from(self.flag.clone());
        self.fut.as_mut().poll(&mut TaskContext::from_waker(&waker))
    }

    /// True if woken since the last poll.
    fn woken(&self) -> bool {
        self.flag.0.load(Ordering::SeqCst)
    }
}

/// True if `ctx`'s component has a wake-up waiting (its next `pause()` returns at once);
/// consumes it, as returning from `pause` does.
fn woke<I: Send + 'static, O: Send + 'static>(ctx: &Context<I, O>) -> bool {
    Probe::new(ctx.pause()).poll().is_ready()
}

/// The text of an `Ipc::Other` message.
fn text(m: Ipc) -> String {
    match m {
        Ipc::Other(s) => s,
        other => panic!("expected a text message, got {other:?}"),
    }
}

/// Collects from `inbox` one message at a time until every send in `sends` (each waiting for
/// space) has gone through. Checks that every collection lets exactly one waiting sender in,
/// and that the sender that gets in was woken by the collection. Returns what was collected.
fn collect_until_all_sent<F: Future<Output = ()>>(
    inbox: &mut Inbox<&'static str>,
    sends: &mut [Probe<F>],
) -> Vec<&'static str> {
    let mut done = vec![false; sends.len()];
    let mut collected = Vec::new();
    for s in sends.iter_mut() {
        assert!(s.poll().is_pending(), "each sender waits: the destination is full");
    }
    while done.iter().any(|d| !d) {
        collected.push(inbox.try_recv().expect("the full destination has a message to collect"));
        let mut got_in = 0;
        for (s, d) in sends.iter_mut().zip(done.iter_mut()) {
            if !*d && s.woken() && s.poll().is_ready() {
                *d = true;
                got_in += 1;
            }
        }
        assert_eq!(got_in, 1, "one collection frees one place, taken by one woken sender");
    }
    collected
}

// Axon 1: test_SmokeTest_NoArguments
#[test]
fn a_new_component_has_exactly_the_four_standard_boxes_all_empty_and_no_children() {
    let c = Instance::new(Nop);
    let c = c.component();
    assert_eq!(c.box_names(BoxKind::Inbox), ["inbox", "control"]);
    assert_eq!(c.box_names(BoxKind::Outbox), ["outbox", "signal"]);
    assert_eq!(c.data_ready("inbox"), 0);
    assert_eq!(c.data_ready("control"), 0);
    assert!(c.children().is_empty());
    assert_eq!(c.state(), ComponentState::Created);
}

// Axon 3: test___str__relaxed
#[test]
fn a_component_displays_as_a_component_with_its_name() {
    let c = Instance::new(Nop);
    let shown = c.component().to_string();
    assert!(shown.to_lowercase().contains("component"), "{shown}");
    assert!(shown.contains(c.name()), "{shown} should name {}", c.name());
}

// Axon 5: test_addChildren
#[tokio::test]
async fn add_children_makes_each_a_child_exactly_once() {
    let s = Scheduler::new();
    let parent: Context<u32, u32> = puppet(&s, "parent").await;
    let (c1, c2) = (Instance::new(Nop), Instance::new(Nop));
    parent.add_children([c1.component(), c2.component()]);
    assert_eq!(parent.children(), [c1.component().clone(), c2.component().clone()]);
    assert_eq!(c1.component().parent(), Some(parent.id()));
    assert_eq!(c2.component().parent(), Some(parent.id()));
}

// Axon 6: test_removeChild
#[tokio::test]
async fn remove_child_forgets_the_child_and_removes_the_linkages_the_parent_made_to_it() {
    let s = Scheduler::new();
    let parent: Context<u32, u32> = puppet(&s, "parent").await;
    let (c1, c2) = (Instance::new(Nop), Instance::new(Nop));
    parent.add_children([c1.component(), c2.component()]);
    let to_c1 = parent.link_passthrough((parent.me(), "inbox"), (&c1, "inbox"), Passthrough::Inbound).unwrap();
    let from_c2 = parent.link_passthrough((&c2, "outbox"), (parent.me(), "outbox"), Passthrough::Outbound).unwrap();
    // A linkage involving c1 that the parent did not make.
    let not_parents = s.link((&c1, "signal"), (&c2, "control")).unwrap();

    parent.remove_child(c1.component());

    assert_eq!(parent.children(), [c2.component().clone()]);
    assert_eq!(c1.component().parent(), None);
    assert!(!to_c1.is_linked(), "the parent's linkage to the removed child is gone");
    assert!(from_c2.is_linked());
    assert!(not_parents.is_linked(), "only linkages the parent made are removed");
    let owned: Vec<_> = parent.me().owned_linkages().iter().map(Linkage::id).collect();
    assert_eq!(owned, [from_c2.id()]);
}

#[tokio::test]
async fn remove_child_after_the_child_ended_leaves_no_linkage_either_way() {
    let s = Scheduler::new();
    let mut parent: Context<u32, u32> = puppet(&s, "parent").await;
    for round in 0..3u32 {
        let child = Instance::new(from_fn("Once", |mut ctx: Context<u32, u32>| async move {
            let n = ctx.inbox.recv().await.unwrap_or_default();
            ctx.outbox.send(n + 1).await;
            Ok(())
        }));
        let child_ref = child.component().clone();
        parent
            .link_all([
                ((&child_ref, "outbox"), (parent.me(), "inbox")),
                ((parent.me(), "outbox"), (&child_ref, "inbox")),
            ])
            .unwrap();
        parent.add_child(&child_ref);
        parent.activate(child);
        parent.outbox.send(round).await;
        assert_eq!(parent.inbox.recv().await, Some(round + 1));
        assert_eq!(child_ref.join().await, Exit::Finished);
        parent.remove_child(&child_ref);
        assert!(parent.me().owned_linkages().is_empty());
        assert!(!parent.outbox.is_linked(), "the linkage into the ended child is gone");
        // And the parent's boxes are free for the next child (linking would fail otherwise).
    }
}

// Axon 7: test_childComponents
#[tokio::test]
async fn children_lists_every_child_added() {
    let s = Scheduler::new();
    let parent: Context<u32, u32> = puppet(&s, "parent").await;
    let cs = [Instance::new(Nop), Instance::new(Nop), Instance::new(Nop)];
    parent.add_children(cs.iter().map(Instance::component));
    let expected: Vec<_> = cs.iter().map(|c| c.component().clone()).collect();
    assert_eq!(parent.children(), expected);
}

// Axon 8: test_dataReady
#[tokio::test]
async fn data_ready_counts_what_was_sent_over_a_linkage_and_not_yet_received() {
    let s = Scheduler::new();
    let mut tc1: Ctx = puppet(&s, "tc1").await;
    let mut tc2: Ctx = puppet(&s, "tc2").await;
    s.link((tc1.me(), "outbox"), (tc2.me(), "inbox")).unwrap();
    s.link((tc1.me(), "signal"), (tc2.me(), "control")).unwrap();

    assert_eq!(tc2.inbox.data_ready(), 0);
    tc1.outbox.try_send("a").unwrap();
    assert_eq!(tc2.inbox.data_ready(), 1);
    tc2.inbox.try_recv().unwrap();
    assert_eq!(tc2.inbox.data_ready(), 0);
    tc1.outbox.try_send("b").unwrap();
    tc1.outbox.try_send("c").unwrap();
    assert_eq!(tc2.inbox.data_ready(), 2);
    tc2.inbox.try_recv().unwrap();
    assert_eq!(tc2.inbox.data_ready(), 1);
    tc2.inbox.try_recv().unwrap();
    assert_eq!(tc2.inbox.data_ready(), 0);

    assert_eq!(tc2.control.data_ready(), 0);
    tc1.signal.try_send("a".into()).unwrap();
    assert_eq!(tc2.control.data_ready(), 1);
    assert_eq!(tc2.me().data_ready("control"), 1, "also visible from outside the component");
    tc2.control.try_recv().unwrap();
    assert_eq!(tc2.control.data_ready(), 0);
    tc1.signal.try_send("b".into()).unwrap();
    tc1.signal.try_send("c".into()).unwrap();
    assert_eq!(tc2.control.data_ready(), 2);
    tc2.control.try_recv().unwrap();
    tc2.control.try_recv().unwrap();
    assert_eq!(tc2.control.data_ready(), 0);
}

// Axon 9: test_link
#[tokio::test]
async fn link_records_each_linkage_with_its_boxes_and_passthrough_kind() {
    let s = Scheduler::new();
    let parent: Context<u32, u32> = puppet(&s, "parent").await;
    let (ac, bc) = (Instance::new(Nop), Instance::new(Nop));
    parent.add_children([ac.component(), bc.component()]);

    parent.link((&ac, "outbox"), (&bc, "inbox")).unwrap();
    parent.link_passthrough((&bc, "outbox"), (parent.me(), "outbox"), Passthrough::Outbound).unwrap();
    parent.link_passthrough((parent.me(), "inbox"), (&ac, "inbox"), Passthrough::Inbound).unwrap();

    let links = parent.me().owned_linkages();
    assert_eq!(links.len(), 3);
    assert_eq!(links[0].source_pair(), (ac.id(), "outbox"));
    assert_eq!(links[0].sink_pair(), (bc.id(), "inbox"));
    assert_eq!(links[0].passthrough(), Passthrough::Normal);
    assert_eq!(links[1].source_pair(), (bc.id(), "outbox"));
    assert_eq!(links[1].sink_pair(), (parent.id(), "outbox"));
    assert_eq!(links[1].passthrough(), Passthrough::Outbound);
    assert_eq!(links[2].source_pair(), (parent.id(), "inbox"));
    assert_eq!(links[2].sink_pair(), (ac.id(), "inbox"));
    assert_eq!(links[2].passthrough(), Passthrough::Inbound);
}

// Axon 10: test_recv
#[tokio::test]
async fn try_recv_takes_messages_in_order_and_reports_an_empty_box() {
    let s = Scheduler::new();
    let mut tc1: Ctx = puppet(&s, "tc1").await;
    let mut tc2: Ctx = puppet(&s, "tc2").await;
    s.link((tc1.me(), "outbox"), (tc2.me(), "inbox")).unwrap();
    s.link((tc1.me(), "signal"), (tc2.me(), "control")).unwrap();

    assert_eq!(tc2.inbox.try_recv(), Err(TryRecvError::Empty));
    tc1.outbox.try_send("inbox1").unwrap();
    tc1.outbox.try_send("inbox2").unwrap();
    assert_eq!(tc2.inbox.try_recv(), Ok("inbox1"));
    assert_eq!(tc2.inbox.try_recv(), Ok("inbox2"));
    assert_eq!(tc2.inbox.try_recv(), Err(TryRecvError::Empty));

    assert!(matches!(tc2.control.try_recv(), Err(TryRecvError::Empty)));
    tc1.signal.try_send("control1".into()).unwrap();
    tc1.signal.try_send("control2".into()).unwrap();
    assert_eq!(text(tc2.control.try_recv().unwrap()), "control1");
    assert_eq!(text(tc2.control.try_recv().unwrap()), "control2");
    assert!(matches!(tc2.control.try_recv(), Err(TryRecvError::Empty)));
}

/// `shrink_to_fit` and `shrink_to` give back an inbox's spare buffer and change nothing else:
/// what is waiting stays, in order; the capacity (the limit) is the same; the inbox keeps
/// receiving, empty or not.
#[tokio::test]
async fn shrink_to_fit_keeps_what_is_waiting_and_the_capacity() {
    let s = Scheduler::new();
    let mut tc1: Ctx = puppet(&s, "tc1").await;
    let mut tc2: Ctx = puppet(&s, "tc2").await;
    s.link((tc1.me(), "outbox"), (tc2.me(), "inbox")).unwrap();
    let capacity = tc2.inbox.capacity();

    tc2.inbox.shrink_to_fit(); // never used: nothing to give back
    for m in ["a", "b", "c", "d", "e"] {
        tc1.outbox.try_send(m).unwrap();
    }
    assert_eq!(tc2.inbox.try_recv(), Ok("a"));
    assert_eq!(tc2.inbox.try_recv(), Ok("b"));
    tc2.inbox.shrink_to_fit(); // three waiting
    assert_eq!(tc2.inbox.data_ready(), 3);
    assert_eq!(tc2.inbox.capacity(), capacity);
    tc1.outbox.try_send("f").unwrap();
    let rest: Vec<_> = tc2.inbox.drain().collect();
    assert_eq!(rest, ["c", "d", "e", "f"]);

    tc2.inbox.shrink_to_fit(); // empty: the buffer goes
    assert_eq!(tc2.inbox.try_recv(), Err(TryRecvError::Empty));
    tc1.outbox.try_send("g").unwrap();
    assert_eq!(tc2.inbox.try_recv(), Ok("g"));
    assert_eq!(tc2.inbox.capacity(), capacity);

    // Keeping room for some: below, at and above what is waiting, and when empty.
    for m in ["h", "i", "j", "k", "l", "m", "n", "o", "p"] {
        tc1.outbox.try_send(m).unwrap();
    }
    assert_eq!(tc2.inbox.try_recv(), Ok("h"));
    tc2.inbox.shrink_to(2); // eight waiting
    tc2.inbox.shrink_to(8);
    tc2.inbox.shrink_to(100);
    assert_eq!(tc2.inbox.data_ready(), 8);
    let rest: Vec<_> = tc2.inbox.drain().collect();
    assert_eq!(rest, ["i", "j", "k", "l", "m", "n", "o", "p"]);
    tc2.inbox.shrink_to(4);
    tc1.outbox.try_send("q").unwrap();
    assert_eq!(tc2.inbox.try_recv(), Ok("q"));
    assert_eq!(tc2.inbox.capacity(), capacity);
}

// Axon 11: test_send
#[tokio::test]
async fn what_is_sent_comes_out_of_the_linked_destination_in_order() {
    let s = Scheduler::new();
    let mut tc1: Context<(), u32> = puppet(&s, "tc1").await;
    let mut tc2: Context<u32, ()> = puppet(&s, "tc2").await;
    s.link((tc1.me(), "outbox"), (tc2.me(), "inbox")).unwrap();
    s.link((tc1.me(), "signal"), (tc2.me(), "control")).unwrap();

    tc1.signal.try_send("bing".into()).unwrap();
    tc1.signal.try_send("boom".into()).unwrap();
    assert_eq!(text(tc2.control.try_recv().unwrap()), "bing");
    assert_eq!(text(tc2.control.try_recv().unwrap()), "boom");
    for x in 0..1000 {
        tc1.outbox.try_send(x).unwrap();
        assert_eq!(tc2.inbox.try_recv(), Ok(x));
    }
}

/// Axon's `TestMainLoopComponent`: `mainBody` continues while its count is below 1000; it
/// records each call, and may fail in `closeDownComponent`.
struct MainLoop {
    count: u32,
    log: Arc<Mutex<Vec<&'static str>>>,
    fail_close_down: bool,
}

impl MainLoop {
    fn new(fail_close_down: bool) -> (Self, Arc<Mutex<Vec<&'static str>>>) {
        let log = Arc::new(Mutex::new(Vec::new()));
        (MainLoop { count: 0, log: log.clone(), fail_close_down }, log)
    }

    fn record(&self, step: &'static str) {
        self.log.lock().unwrap().push(step);
    }
}

impl StepComponent for MainLoop {
    type Inbox = ();
    type Outbox = ();

    async fn initialise_component(&mut self, _ctx: &mut Context<(), ()>) -> ComponentResult {
        self.record("initialise");
        Ok(())
    }

    async fn main_body(&mut self, _ctx: &mut Context<(), ()>) -> Result<bool, ComponentError> {
        self.record("body");
        self.count += 1;
        Ok(self.count < 1000)
    }

    async fn close_down_component(&mut self, _ctx: &mut Context<(), ()>) -> ComponentResult {
        self.record("close down");
        if self.fail_close_down {
            return Err(ComponentError::msg("close down failed"));
        }
        Ok(())
    }
}

/// The expected log of a [`MainLoop`]: initialise, 1000 bodies (999 say "go on"), close down.
fn main_loop_steps() -> Vec<&'static str> {
    let mut steps = vec!["initialise"];
    steps.extend(std::iter::repeat_n("body", 1000));
    steps.push("close down");
    steps
}

// Axon 12: test_main_smokeTest
#[tokio::test]
async fn a_stepped_component_initialises_then_steps_while_main_body_says_so_then_closes_down() {
    let s = Scheduler::new();
    let (behaviour, log) = MainLoop::new(false);
    let c = s.activate(Stepped(behaviour));
    assert_eq!(tokio::time::timeout(DEADLINE, c.join()).await, Ok(Exit::Finished));
    assert_eq!(*log.lock().unwrap(), main_loop_steps());
    s.run_async().await.unwrap();
}

// Axon 13: test_main_closedowntest
#[tokio::test]
async fn an_error_in_close_down_component_ends_the_component_with_that_error() {
    let s = Scheduler::new();
    let (behaviour, log) = MainLoop::new(true);
    let c = s.activate(Stepped(behaviour));
    let failed = Exit::Failed("close down failed".into());
    assert_eq!(tokio::time::timeout(DEADLINE, c.join()).await, Ok(failed.clone()));
    assert_eq!(*log.lock().unwrap(), main_loop_steps(), "close down ran last, once");
    match s.run_async().await {
        Err(RunError::ComponentsFailed(f)) => assert_eq!(f.iter().map(|e| &e.exit).collect::<Vec<_>>(), [&failed]),
        other => panic!("the failure is reported by run: {other:?}"),
    }
}

/// A stepped component that only writes `main_body`, relying on the default
/// `initialise_component` and `close_down_component`.
struct OnlyBody(u32);

impl StepComponent for OnlyBody {
    type Inbox = ();
    type Outbox = u32;
    async fn main_body(&mut self, ctx: &mut Context<(), u32>) -> Result<bool, ComponentError> {
        self.0 += 1;
        ctx.outbox.send(self.0).await;
        Ok(false)
    }
}

// Axon 14: test_initialiseComponent
#[tokio::test]
async fn the_default_initialise_component_succeeds_and_does_nothing() {
    let s = Scheduler::new();
    let mut ctx: Context<(), u32> = puppet(&s, "stepper").await;
    let mut watcher: Context<u32, ()> = puppet(&s, "watcher").await;
    s.link((ctx.me(), "outbox"), (watcher.me(), "inbox")).unwrap();
    assert!(OnlyBody(0).initialise_component(&mut ctx).await.is_ok());
    assert_eq!(watcher.inbox.try_recv(), Err(TryRecvError::Empty));
}

// Axon 15: test_mainBody
#[tokio::test]
async fn a_main_body_that_says_stop_runs_once_and_the_component_finishes() {
    let s = Scheduler::new();
    let mut watcher: Context<u32, ()> = puppet(&s, "watcher").await;
    let stepper = Instance::new(Stepped(OnlyBody(0)));
    s.link((&stepper, "outbox"), (watcher.me(), "inbox")).unwrap();
    let stepper = stepper.activate(&s);
    assert_eq!(tokio::time::timeout(DEADLINE, stepper.join()).await, Ok(Exit::Finished));
    assert_eq!(watcher.inbox.try_recv(), Ok(1));
    assert_eq!(watcher.inbox.try_recv(), Err(TryRecvError::Closed), "one step only, then it ended");
}

// Axon 16: test_closeDownComponent
#[tokio::test]
async fn the_default_close_down_component_succeeds_and_does_nothing() {
    let s = Scheduler::new();
    let mut ctx: Context<(), u32> = puppet(&s, "stepper").await;
    let mut watcher: Context<u32, ()> = puppet(&s, "watcher").await;
    s.link((ctx.me(), "outbox"), (watcher.me(), "inbox")).unwrap();
    assert!(OnlyBody(0).close_down_component(&mut ctx).await.is_ok());
    assert_eq!(watcher.inbox.try_recv(), Err(TryRecvError::Empty));
}

// Axon 17: test__closeDownMicroprocess_smoketest
#[tokio::test]
async fn a_component_whose_body_returns_ends_finished_and_the_system_ends_cleanly() {
    let s = Scheduler::new();
    let c = s.activate(from_fn("Quits", |_ctx: Context<(), ()>| async { Ok(()) }));
    assert_eq!(tokio::time::timeout(DEADLINE, c.join()).await, Ok(Exit::Finished));
    assert_eq!(c.state(), ComponentState::Ended);
    assert_eq!(tokio::time::timeout(DEADLINE, s.run_async()).await, Ok(Ok(())));
}

// Axon 18: test__closeDownMicroprocess_None
#[tokio::test]
async fn a_component_ending_has_no_knock_on_effect_on_other_components() {
    let s = Scheduler::new();
    let sibling: Ctx = puppet(&s, "sibling").await;
    let c = s.activate(from_fn("Quits", |_ctx: Context<(), ()>| async { Ok(()) }));
    assert_eq!(tokio::time::timeout(DEADLINE, c.join()).await, Ok(Exit::Finished));
    assert_ne!(sibling.me().state(), ComponentState::Ended);
    assert_eq!(s.live(), 1, "only the ended component left");
    assert_eq!(s.components(), [sibling.me().clone()]);
    assert!(s.failures().is_empty());
}

// Axon 19: test_linkagesRemovedOnComponentShutdown
#[tokio::test]
async fn the_linkages_a_component_made_are_removed_when_it_ends_and_others_linkages_stay() {
    let s = Scheduler::new();
    let mut a: Ctx = puppet(&s, "a").await;
    let mut b: Ctx = puppet(&s, "b").await;
    let mut c: Ctx = puppet(&s, "c").await;
    let mut d: Ctx = puppet(&s, "d").await;
    c.link((a.me(), "outbox"), (b.me(), "inbox")).unwrap();
    c.link_passthrough((c.me(), "outbox"), (b.me(), "outbox"), Passthrough::Outbound).unwrap();
    c.link_passthrough((c.me(), "inbox"), (a.me(), "inbox"), Passthrough::Inbound).unwrap();
    d.link((d.me(), "outbox"), (c.me(), "inbox")).unwrap();
    d.link((b.me(), "outbox"), (d.me(), "inbox")).unwrap();

    // The linkages work.
    d.outbox.try_send("hello").unwrap();
    assert_eq!(a.inbox.try_recv(), Ok("hello"), "d → c.inbox → a.inbox");
    c.outbox.try_send("hello").unwrap();
    assert_eq!(d.inbox.try_recv(), Ok("hello"), "c.outbox → b.outbox → d.inbox");
    a.outbox.try_send("hello").unwrap();
    assert_eq!(b.inbox.try_recv(), Ok("hello"), "a.outbox → b.inbox");

    // c ends.
    let c_ref = c.me().clone();
    c_ref.stop();
    assert_eq!(tokio::time::timeout(DEADLINE, c_ref.join()).await, Ok(Exit::Stopped));
    assert!(c_ref.owned_linkages().is_empty());
    assert_eq!(d.me().owned_linkages().len(), 2, "d's linkages stay");

    d.outbox.try_send("bye").unwrap();
    assert_eq!(a.inbox.data_ready(), 0, "c.inbox → a.inbox went with c");
    // Axon: c's inbox still received "bye". Here an ended component's inboxes discard.
    assert_eq!(c.inbox.try_recv(), Err(TryRecvError::Closed));
    c.outbox.try_send("bye").unwrap();
    assert_eq!(d.inbox.data_ready(), 0, "c.outbox → b.outbox went with c");
    b.outbox.try_send("bye").unwrap();
    assert_eq!(d.inbox.try_recv(), Ok("bye"), "b.outbox → d.inbox was d's, and stays");
    a.outbox.try_send("bye").unwrap();
    assert_eq!(b.inbox.data_ready(), 0, "a.outbox → b.inbox was c's, and went with it");
    assert!(!a.outbox.is_linked());
}

// ----- MessageDeliveryNotifications_Test -----

// Axon 20: test_NothingHappensIfNothingHappens
#[tokio::test]
async fn components_linked_in_a_loop_are_not_woken_when_nothing_is_sent() {
    let s = Scheduler::new();
    let a: Ctx = puppet(&s, "a").await;
    let b: Ctx = puppet(&s, "b").await;
    a.link((a.me(), "outbox"), (b.me(), "inbox")).unwrap();
    b.link((b.me(), "outbox"), (a.me(), "inbox")).unwrap();
    assert!(!woke(&a));
    assert!(!woke(&b));
    assert_eq!(a.me().state(), ComponentState::Paused);
    assert_eq!(b.me().state(), ComponentState::Paused);
}

// Axon 21: test_ConsumerWokenByDelivery
#[tokio::test]
async fn a_delivery_wakes_the_receiver_exactly_once() {
    let s = Scheduler::new();
    let mut a: Ctx = puppet(&s, "a").await;
    let b: Ctx = puppet(&s, "b").await;
    a.link((a.me(), "outbox"), (b.me(), "inbox")).unwrap();
    assert!(!woke(&b));
    a.outbox.try_send("one").unwrap();
    assert!(woke(&b));
    assert!(!woke(&b), "one delivery, one wake-up");
    // Several deliveries while the receiver is busy give one wake-up (Axon's wake requests
    // for an awake component are no-ops too).
    for m in ["x", "y", "z"] {
        a.outbox.try_send(m).unwrap();
    }
    assert!(woke(&b));
    assert!(!woke(&b));
}

// Axon 21: test_ConsumerWokenByDelivery (with the receiver running its own `pause` loop)
#[tokio::test]
async fn a_running_component_paused_in_its_body_resumes_when_a_message_arrives() {
    let s = Scheduler::new();
    let mut a: Ctx = puppet(&s, "a").await;
    let (tx, mut unpaused) = mpsc::unbounded_channel();
    // Axon's UnpauseDetectionComponent: pauses in a loop and counts each return.
    let detector = Instance::new(from_fn("UnpauseDetection", move |ctx: Ctx| async move {
        loop {
            ctx.pause().await;
            let _ = tx.send(ctx.inbox.data_ready());
        }
    }));
    s.link((a.me(), "outbox"), (&detector, "inbox")).unwrap();
    detector.activate(&s);
    a.outbox.try_send("wake up").unwrap();
    let seen = tokio::time::timeout(DEADLINE, unpaused.recv()).await.expect("the receiver is woken");
    assert_eq!(seen, Some(1), "woken with the message waiting");
}

// Axon 22: test_ProducerNotWokenByDelivery
#[tokio::test]
async fn sending_does_not_wake_the_sender() {
    let s = Scheduler::new();
    let mut a: Ctx = puppet(&s, "a").await;
    let b: Ctx = puppet(&s, "b").await;
    a.link((a.me(), "outbox"), (b.me(), "inbox")).unwrap();
    a.outbox.try_send("msg").unwrap();
    assert!(!woke(&a));
    assert!(woke(&b));
}

// Axon 23: test_ProducerWokenByCollection
#[tokio::test]
async fn a_producer_waiting_for_space_is_woken_when_the_consumer_collects() {
    let s = Scheduler::new();
    let mut a: Ctx = puppet(&s, "a").await;
    let mut b: Ctx = puppet(&s, "b").await;
    a.link((a.me(), "outbox"), (b.me(), "inbox")).unwrap();
    b.inbox.set_capacity(Some(1));
    a.outbox.try_send("first").unwrap();
    let mut send = Probe::new(a.outbox.send("second"));
    assert!(send.poll().is_pending(), "the inbox is full");
    assert!(!send.woken());
    assert_eq!(b.inbox.try_recv(), Ok("first"));
    assert!(send.woken(), "collecting wakes the waiting producer");
    assert!(send.poll().is_ready());
    assert_eq!(b.inbox.try_recv(), Ok("second"));
}

// Axon 23: test_ProducerWokenByCollection (a running producer)
#[tokio::test]
async fn a_running_producer_blocked_on_a_full_inbox_is_released_by_a_collection() {
    let s = Scheduler::new();
    let mut b: Ctx = puppet(&s, "b").await;
    b.inbox.set_capacity(Some(1));
    let producer = Instance::new(from_fn("Producer", |mut ctx: Ctx| async move {
        ctx.outbox.send("first").await;
        ctx.outbox.send("second").await;
        Ok(())
    }));
    s.link((&producer, "outbox"), (b.me(), "inbox")).unwrap();
    let producer = producer.activate(&s);
    tokio::time::timeout(DEADLINE, b.inbox.ready()).await.expect("the first message arrives");
    assert!(!producer.has_ended(), "the second send cannot have gone through: the inbox is full");
    assert_eq!(b.inbox.try_recv(), Ok("first"));
    assert_eq!(tokio::time::timeout(DEADLINE, producer.join()).await, Ok(Exit::Finished));
    assert_eq!(b.inbox.try_recv(), Ok("second"));
}

// Axon 23: test_ProducerWokenByCollection (what the port changes, reference §10.2)
#[tokio::test]
async fn a_collection_wakes_no_producer_that_is_not_waiting_for_space_in_that_inbox() {
    let s = Scheduler::new();
    let mut a: Ctx = puppet(&s, "a").await;
    let mut b: Ctx = puppet(&s, "b").await;
    let mut other: Ctx = puppet(&s, "other").await;
    let mut other_sink: Ctx = puppet(&s, "other_sink").await;
    s.link((a.me(), "outbox"), (b.me(), "inbox")).unwrap();
    s.link((other.me(), "outbox"), (other_sink.me(), "inbox")).unwrap();
    other_sink.inbox.set_capacity(Some(1));
    other.outbox.try_send("fills other_sink").unwrap();

    a.outbox.try_send("msg").unwrap();
    let mut elsewhere = Probe::new(other.outbox.send("waits on other_sink"));
    assert!(elsewhere.poll().is_pending());
    assert_eq!(b.inbox.try_recv(), Ok("msg"));
    assert!(!woke(&a), "a is not waiting, so it is not woken (Axon woke every upstream owner)");
    assert!(!elsewhere.woken(), "a sender waiting on another inbox is not woken");
    drop(elsewhere);
    assert_eq!(other_sink.inbox.try_recv(), Ok("fills other_sink"));
}

// Axon 24: test_ChainOnlyFinalDestinationNotified
#[tokio::test]
async fn along_a_chain_of_inboxes_only_the_final_destination_is_woken_by_a_delivery() {
    let s = Scheduler::new();
    let mut a: Ctx = puppet(&s, "a").await;
    let b: Ctx = puppet(&s, "b").await;
    let c: Ctx = puppet(&s, "c").await;
    let d: Ctx = puppet(&s, "d").await;
    a.link((a.me(), "outbox"), (b.me(), "inbox")).unwrap();
    b.link_passthrough((b.me(), "inbox"), (c.me(), "inbox"), Passthrough::Inbound).unwrap();
    c.link_passthrough((c.me(), "inbox"), (d.me(), "inbox"), Passthrough::Inbound).unwrap();

    a.outbox.try_send("msg").unwrap();
    assert!(!woke(&a));
    assert!(!woke(&b));
    assert!(!woke(&c));
    assert!(woke(&d));
    assert_eq!((b.inbox.data_ready(), c.inbox.data_ready(), d.inbox.data_ready()), (0, 0, 1));
}

// Axon 25: test_ChainOnlyOutboxHoldersNotified
#[tokio::test]
async fn along_a_chain_of_inboxes_a_collection_wakes_only_the_waiting_outbox_owner() {
    let s = Scheduler::new();
    let mut a: Ctx = puppet(&s, "a").await;
    let b: Ctx = puppet(&s, "b").await;
    let c: Ctx = puppet(&s, "c").await;
    let mut d: Ctx = puppet(&s, "d").await;
    a.link((a.me(), "outbox"), (b.me(), "inbox")).unwrap();
    b.link_passthrough((b.me(), "inbox"), (c.me(), "inbox"), Passthrough::Inbound).unwrap();
    c.link_passthrough((c.me(), "inbox"), (d.me(), "inbox"), Passthrough::Inbound).unwrap();
    d.inbox.set_capacity(Some(1));

    a.outbox.try_send("first").unwrap();
    assert!(woke(&d));
    let mut send = Probe::new(a.outbox.send("second"));
    assert!(send.poll().is_pending());
    assert_eq!(d.inbox.try_recv(), Ok("first"));
    assert!(send.woken(), "the outbox owner is woken");
    assert!(!woke(&b));
    assert!(!woke(&c));
    assert!(!woke(&d), "collecting does not wake the collector");
    assert!(send.poll().is_ready());
}

/// Axon's five-component chain for tests 26–29: `a.outbox →pt2→ b.outbox →pt2→ c.outbox →
/// d.inbox →pt1→ e.inbox`, each linkage made by its source's owner; `e.inbox` holds one message
/// (so a second makes every sender wait). Returns the contexts and the `b.outbox → c.outbox`
/// linkage.
async fn five_chain(s: &Scheduler) -> ([Ctx; 5], Linkage) {
    let [a, b, c, d, e] =
        [puppet(s, "a").await, puppet(s, "b").await, puppet(s, "c").await, puppet(s, "d").await, puppet(s, "e").await];
    a.link_passthrough((a.me(), "outbox"), (b.me(), "outbox"), Passthrough::Outbound).unwrap();
    let l2 = b.link_passthrough((b.me(), "outbox"), (c.me(), "outbox"), Passthrough::Outbound).unwrap();
    c.link((c.me(), "outbox"), (d.me(), "inbox")).unwrap();
    d.link_passthrough((d.me(), "inbox"), (e.me(), "inbox"), Passthrough::Inbound).unwrap();
    e.inbox.set_capacity(Some(1));
    ([a, b, c, d, e], l2)
}

/// Everything left in `inbox`, sorted.
fn sorted_rest(inbox: &mut Inbox<&'static str>, mut got: Vec<&'static str>) -> Vec<&'static str> {
    got.extend(inbox.drain());
    got.sort_unstable();
    got
}

// Axon 26: test_AllOutboxOwnersNotified
#[tokio::test]
async fn every_outbox_owner_along_a_chain_waits_on_the_final_inbox_and_is_released_by_collections() {
    let s = Scheduler::new();
    let ([mut a, mut b, mut c, mut d, mut e], _) = five_chain(&s).await;
    a.outbox.try_send("first").unwrap();
    // Axon collected with `d.recv()` on the mid-chain inbox, which popped e's box (§10.9). Here
    // a mid-chain inbox holds nothing and gives nothing: the message waits in e.
    assert_eq!(d.inbox.data_ready(), 0);
    assert_eq!(d.inbox.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(e.inbox.data_ready(), 1);

    let mut sends = [Probe::new(a.outbox.send("a")), Probe::new(b.outbox.send("b")), Probe::new(c.outbox.send("c"))];
    let collected = collect_until_all_sent(&mut e.inbox, &mut sends);
    drop(sends);
    assert_eq!(collected[0], "first");
    assert_eq!(sorted_rest(&mut e.inbox, collected[1..].to_vec()), ["a", "b", "c"]);
    assert!(!woke(&d), "collections never wake an inbox owner along the chain");
}

// Axon 27: test_LinkBrokenNoNotify
#[tokio::test]
async fn outboxes_cut_off_from_the_chain_no_longer_wait_on_its_final_inbox() {
    let s = Scheduler::new();
    let ([mut a, mut b, mut c, d, mut e], l2) = five_chain(&s).await;
    a.outbox.try_send("from a").unwrap();
    let mut a_waits = Probe::new(a.outbox.send("a again"));
    assert!(a_waits.poll().is_pending(), "e is full");

    b.unlink(&l2);

    // a's destination changed under it: it is woken at once rather than left waiting for a
    // collection that no longer concerns it, and, now unlinked, its message is discarded.
    assert!(a_waits.woken());
    assert!(a_waits.poll().is_ready());
    drop(a_waits);
    b.outbox.try_send("from b").unwrap();
    a.outbox.try_send("a, unlinked").unwrap();
    assert_eq!(e.inbox.data_ready(), 1, "only the message sent before the cut");

    let mut c_waits = Probe::new(c.outbox.send("from c"));
    assert!(c_waits.poll().is_pending(), "c is still in the chain and e is full");
    assert_eq!(e.inbox.try_recv(), Ok("from a"));
    assert!(c_waits.woken(), "c, still linked, is woken by the collection");
    assert!(c_waits.poll().is_ready());
    drop(c_waits);
    assert!(!woke(&a));
    assert!(!woke(&b));
    assert!(!woke(&c), "producers are woken only through their waiting sends");
    assert!(!woke(&d));
    assert_eq!(e.inbox.try_recv(), Ok("from c"));
}

// Axon 28: test_LinkReestablishedNotify
#[tokio::test]
async fn outboxes_linked_back_into_the_chain_wait_on_its_final_inbox_again() {
    let s = Scheduler::new();
    let ([mut a, mut b, mut c, d, mut e], l2) = five_chain(&s).await;
    a.outbox.try_send("first").unwrap();
    b.unlink(&l2);
    b.link_passthrough((b.me(), "outbox"), (c.me(), "outbox"), Passthrough::Outbound).unwrap();

    let mut sends = [Probe::new(a.outbox.send("a")), Probe::new(b.outbox.send("b")), Probe::new(c.outbox.send("c"))];
    let collected = collect_until_all_sent(&mut e.inbox, &mut sends);
    drop(sends);
    assert_eq!(collected[0], "first");
    assert_eq!(sorted_rest(&mut e.inbox, collected[1..].to_vec()), ["a", "b", "c"]);
    assert!(!woke(&d));
}

// Axon 29: test_LinkNewlyEestablishedNotify
#[tokio::test]
async fn an_outbox_linked_into_the_chain_after_a_send_also_waits_on_its_final_inbox() {
    let s = Scheduler::new();
    let ([mut a, mut b, mut c, d, mut e], _) = five_chain(&s).await;
    let mut f: Ctx = puppet(&s, "f").await;
    a.outbox.try_send("first").unwrap();
    f.link_passthrough((f.me(), "outbox"), (c.me(), "outbox"), Passthrough::Outbound).unwrap();

    let mut sends = [
        Probe::new(a.outbox.send("a")),
        Probe::new(b.outbox.send("b")),
        Probe::new(c.outbox.send("c")),
        Probe::new(f.outbox.send("f")),
    ];
    let collected = collect_until_all_sent(&mut e.inbox, &mut sends);
    drop(sends);
    assert_eq!(collected[0], "first");
    assert_eq!(sorted_rest(&mut e.inbox, collected[1..].to_vec()), ["a", "b", "c", "f"]);
    assert!(!woke(&d));
}
