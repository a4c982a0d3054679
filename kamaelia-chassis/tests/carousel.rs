//! Carousel: Kamaelia's `test_Carousel.py` (cases 31–46 of the reference), then the port's own
//! additions (shutdown escalation, closed boxes, panicking children, typed children, wiring).
//!
//! Kamaelia's tests ran the scheduler for N cycles and then looked. Here every test runs on
//! tokio's paused clock: [`settle`] lets virtual time pass, which tokio only does once every task
//! is idle, so "after settling, nothing was sent" is a deterministic statement rather than a
//! guess about timing. Waits for something to happen have a deadline ([`wait_until`]).
//!
//! The children are mocks (Kamaelia's `MockChild`): each hands its boxes to the test as soon as
//! it runs (`wasActivated`), and runs until the test stops it (`stopNow`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axon_core::prelude::*;
use axon_core::{Exit, Passthrough, TryRecvError};
use kamaelia_chassis::carousel::{join_chooser_to_carousel, Carousel, Child, NEXT};
use tokio::sync::{oneshot, Notify};

const DEADLINE: Duration = Duration::from_secs(10);

type Ctx = Context<String, String>;

/// Lets virtual time pass. Under tokio's paused clock time only moves on when every task is idle,
/// so when this returns, everything that was woken has run and the system is quiet.
async fn settle() {
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Waits until `cond` holds, failing after [`DEADLINE`].
async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let waited = tokio::time::timeout(DEADLINE, async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "timed out waiting until {what}");
}

/// A component that hands its boxes to the test and then waits forever.
async fn puppet(s: &Scheduler) -> Ctx {
    let (tx, rx) = oneshot::channel();
    s.activate(from_fn("Puppet", move |ctx: Ctx| async move {
        let _ = tx.send(ctx);
        std::future::pending::<ComponentResult>().await
    }));
    rx.await.expect("a puppet's body runs once activated")
}

/// Same kind of Ipc message.
fn same_kind(a: &Ipc, b: &Ipc) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// The two stop requests, in the order Kamaelia's tests loop over them.
fn stop_requests() -> [Ipc; 2] {
    [ProducerFinished::new().into(), ShutdownMicroprocess::new().into()]
}

/// One child the factory made (Kamaelia's `MockChild`).
#[derive(Clone)]
struct Mock {
    arg: String,
    component: ComponentRef,
    /// Its boxes, once its body has run (Kamaelia's `wasActivated`).
    ctx: Arc<Mutex<Option<Ctx>>>,
    stop: Arc<Notify>,
}

impl Mock {
    fn make(arg: String) -> (Mock, Child<String, String>) {
        let ctx = Arc::new(Mutex::new(None));
        let stop = Arc::new(Notify::new());
        let (slot, stopped) = (ctx.clone(), stop.clone());
        let instance = Instance::new(from_fn("MockChild", move |c: Ctx| async move {
            *slot.lock().unwrap() = Some(c);
            stopped.notified().await;
            Ok(())
        }));
        let mock = Mock { arg, component: instance.component().clone(), ctx, stop };
        (mock, Child::from_instance(instance))
    }

    fn activated(&self) -> bool {
        self.ctx.lock().unwrap().is_some()
    }

    fn running(&self) -> bool {
        self.activated() && !self.component.has_ended()
    }

    /// Works its boxes (Kamaelia's tests call `child.send`/`child.recv` directly).
    fn with<R>(&self, f: impl FnOnce(&mut Ctx) -> R) -> R {
        f(self.ctx.lock().unwrap().as_mut().expect("the child has been activated"))
    }

    /// Kamaelia's `stopNow = True`.
    fn stop_now(&self) {
        self.stop.notify_one();
    }

    /// Waits for the next message on its `control`.
    async fn control(&self) -> Ipc {
        wait_until("the child receives a control message", || self.with(|c| c.control.data_ready() > 0)).await;
        self.with(|c| c.control.try_recv()).unwrap()
    }
}

/// A Carousel with a source on `inbox`/`control` and a sink on `outbox`/`signal` (a handle), and
/// a feedback puppet reading `requestNext` and feeding `next` (Kamaelia's `inSrc`, `outDest` and
/// `nextFbk`).
struct Rig {
    carousel: Handle<String, String>,
    feedback: Ctx,
    children: Arc<Mutex<Vec<Mock>>>,
}

impl Rig {
    /// With mock children.
    async fn new(make_first_request: bool) -> Rig {
        let children = Arc::new(Mutex::new(Vec::new()));
        let made = children.clone();
        let factory = move |arg: String| {
            let (mock, child) = Mock::make(arg);
            made.lock().unwrap().push(mock);
            child
        };
        let mut rig = Rig::with_factory(factory, make_first_request).await;
        rig.children = children;
        rig
    }

    async fn with_factory<C: Into<Child<String, String>>>(
        factory: impl FnMut(String) -> C + Send + 'static,
        make_first_request: bool,
    ) -> Rig {
        let s = Scheduler::new();
        let carousel = Instance::new(Carousel::new(factory, make_first_request));
        let feedback = puppet(&s).await;
        s.link((feedback.me(), "outbox"), (carousel.component(), "next")).unwrap();
        s.link((carousel.component(), "requestNext"), (feedback.me(), "inbox")).unwrap();
        let carousel = Handle::new(carousel, &s);
        Rig { carousel, feedback, children: Arc::default() }
    }

    fn children(&self) -> Vec<Mock> {
        self.children.lock().unwrap().clone()
    }

    fn last_child(&self) -> Mock {
        self.children().last().cloned().expect("a child has been made")
    }

    fn send_to_next(&mut self, msg: &str) {
        self.feedback.outbox.try_send(msg.to_owned()).unwrap();
    }

    /// Everything sent out of `requestNext` so far.
    fn collect_request_next(&mut self) -> Vec<String> {
        self.feedback.inbox.drain().collect()
    }

    fn signal_is_empty(&mut self) -> bool {
        self.carousel.get_signal().is_err()
    }

    fn carousel_running(&self) -> bool {
        !self.carousel.component().has_ended()
    }

    /// Sends a `next` message and waits until the child it makes is running.
    async fn spawn_child(&mut self, msg: &str) -> Mock {
        let before = self.children().len();
        self.send_to_next(msg);
        wait_until("the new child runs", || self.children().len() > before && self.last_child().activated()).await;
        self.last_child()
    }

    async fn join(&self) -> Exit {
        tokio::time::timeout(DEADLINE, self.carousel.join()).await.expect("the Carousel ends")
    }

    async fn signal(&mut self) -> Ipc {
        tokio::time::timeout(DEADLINE, self.carousel.recv_signal())
            .await
            .expect("the Carousel signals")
            .expect("its signal is open")
    }
}

// 31: test_byDefaultDoesNothing
#[tokio::test(start_paused = true)]
async fn by_default_it_does_nothing() {
    let mut r = Rig::new(false).await;
    settle().await;
    assert!(r.children().is_empty(), "no children");
    assert_eq!(r.carousel.get(), Err(TryRecvError::Empty), "nothing out of outbox");
    assert!(r.signal_is_empty(), "nothing out of signal");
    assert!(r.collect_request_next().is_empty(), "nothing out of requestNext");
    assert!(r.carousel_running(), "still running");
}

// 32: test_canAskToMake1stRequest
#[tokio::test(start_paused = true)]
async fn it_can_be_asked_to_make_the_first_request() {
    let mut r = Rig::new(true).await;
    settle().await;
    assert!(r.children().is_empty());
    assert_eq!(r.carousel.get(), Err(TryRecvError::Empty));
    assert!(r.signal_is_empty());
    assert_eq!(r.collect_request_next(), [NEXT], "a single NEXT");
    assert!(r.carousel_running());
}

// 33: test_shutsDownWhenToldToAndIdle
#[tokio::test(start_paused = true)]
async fn when_idle_it_shuts_down_when_told_to() {
    for ipc in stop_requests() {
        let mut r = Rig::new(false).await;
        settle().await;
        r.carousel.send_control(ipc.clone()).await;
        assert!(r.carousel_running(), "still running until it has read the request");
        let got = r.signal().await;
        assert!(same_kind(&got, &ipc), "passes {ipc:?} on, got {got:?}");
        assert_eq!(r.join().await, Exit::Finished);
        assert!(r.signal_is_empty(), "exactly one message on signal");
    }
}

// 34: test_messageToNextRunsFactoryFunction
#[tokio::test(start_paused = true)]
async fn a_message_to_next_runs_the_factory_with_it() {
    let ran_with = Arc::new(Mutex::new(None));
    let record = ran_with.clone();
    let factory = move |arg: String| {
        *record.lock().unwrap() = Some(arg);
        // Kamaelia's `Dummy`: runs until stopped.
        from_fn("Dummy", |_c: Ctx| std::future::pending::<ComponentResult>())
    };
    let mut r = Rig::with_factory(factory, false).await;
    settle().await;
    assert_eq!(*ran_with.lock().unwrap(), None, "not before a request");
    r.send_to_next("BLAH");
    wait_until("the factory has run", || ran_with.lock().unwrap().is_some()).await;
    assert_eq!(ran_with.lock().unwrap().as_deref(), Some("BLAH"));
}

// 35: test_messageToNextSpawnsChild
#[tokio::test(start_paused = true)]
async fn a_message_to_next_makes_and_starts_a_child() {
    let mut r = Rig::new(false).await;
    settle().await;
    let child = r.spawn_child("BLAH").await;
    assert_eq!(r.children().len(), 1, "one child");
    assert_eq!(child.arg, "BLAH", "made from the next message");
    assert!(child.activated(), "and activated");
    assert_eq!(r.carousel.component().children(), std::slice::from_ref(&child.component), "as a child of the Carousel");
}

// 36: test_childTerminationTriggersRequestNext
#[tokio::test(start_paused = true)]
async fn a_child_ending_makes_it_request_the_next() {
    let mut r = Rig::new(false).await;
    let child = r.spawn_child("BLAH").await;
    settle().await;
    assert!(r.collect_request_next().is_empty(), "nothing while the child runs");
    child.stop_now();
    wait_until("NEXT is requested", || r.feedback.inbox.data_ready() > 0).await;
    settle().await;
    assert_eq!(r.collect_request_next(), [NEXT], "a single NEXT");
    assert!(r.carousel.component().children().is_empty(), "the ended child is no longer a child");
    assert!(r.carousel_running());
}

// 37: test_childShutdownSignalDoesntTriggerRequest
#[tokio::test(start_paused = true)]
async fn a_child_signalling_shutdown_does_not_make_it_request_the_next() {
    for ipc in stop_requests() {
        let mut r = Rig::new(false).await;
        let child = r.spawn_child("BLAH").await;
        child.with(|c| c.signal.try_send(ipc.clone())).unwrap();
        settle().await;
        assert!(r.collect_request_next().is_empty(), "no NEXT for a child's {ipc:?}");
        assert!(r.signal_is_empty());
        assert!(child.running(), "the child runs on");
    }
}

// 38: test_ChildReceivesShutdownSignal
#[tokio::test(start_paused = true)]
async fn a_stop_request_on_control_reaches_the_child() {
    for ipc in stop_requests() {
        let mut r = Rig::new(false).await;
        let child = r.spawn_child("BLAH").await;
        r.carousel.send_control(ipc.clone()).await;
        let got = child.control().await;
        assert!(same_kind(&got, &ipc), "the child gets {ipc:?}, got {got:?}");
    }
}

// 39: test_nextRequestStartsNewchildOnceCurrentHasTerminated
#[tokio::test(start_paused = true)]
async fn a_next_request_starts_the_new_child_only_once_the_current_one_has_ended() {
    let mut r = Rig::new(false).await;
    r.spawn_child("BLAH").await;
    for i in 0..5 {
        r.send_to_next("BLAH");
        settle().await;
        assert_eq!(r.children().len(), i + 1, "no new child until the previous has ended");
        let current = r.last_child();
        assert!(current.control().await.is_shutdown_microprocess(), "the current child is asked to stop");
        current.stop_now();
        wait_until("the replacement runs", || r.children().len() == i + 2 && r.last_child().activated()).await;
        assert!(r.children()[i].component.has_ended(), "the older child has ended");
        assert!(r.last_child().running(), "the new child runs");
        assert!(r.collect_request_next().is_empty(), "no NEXT: a request was already waiting");
    }
}

// 40: test_dataReachesChildInbox
#[tokio::test(start_paused = true)]
async fn data_reaches_the_child_inbox() {
    let mut r = Rig::new(false).await;
    let child = r.spawn_child("BLAH").await;
    for i in 0..5 {
        let msg = format!("HELLO{i}");
        r.carousel.send(msg.clone()).await;
        wait_until("the child receives it", || child.with(|c| c.inbox.data_ready() > 0)).await;
        assert_eq!(child.with(|c| c.inbox.try_recv()), Ok(msg));
    }
}

// 41: test_dataReachesCarouselOutbox
#[tokio::test(start_paused = true)]
async fn data_from_the_child_leaves_the_carousel_outbox() {
    let mut r = Rig::new(false).await;
    let child = r.spawn_child("BLAH").await;
    for i in 0..5 {
        let msg = format!("HELLO{i}");
        child.with(|c| c.outbox.try_send(msg.clone())).unwrap();
        let got = tokio::time::timeout(DEADLINE, r.carousel.recv()).await.expect("it arrives");
        assert_eq!(got, Some(msg));
        assert_eq!(r.carousel.get(), Err(TryRecvError::Empty), "exactly that message");
    }
}

// 42: test_childSignalIgnored
#[tokio::test(start_paused = true)]
async fn the_child_signal_is_ignored() {
    let mut r = Rig::new(false).await;
    let child = r.spawn_child("BLAH").await;
    for msg in [ProducerFinished::new().into(), ShutdownMicroprocess::new().into(), Ipc::from("HELLO!")] {
        child.with(|c| c.signal.try_send(msg)).unwrap();
        settle().await;
        assert!(r.signal_is_empty(), "nothing the child signals leaves the Carousel's signal");
    }
    assert!(child.running());
}

// 43: test_terminatingCarouselWithChildPassesSignalToChildToo
#[tokio::test(start_paused = true)]
async fn stopping_the_carousel_passes_the_request_to_its_child() {
    for ipc in stop_requests() {
        let mut r = Rig::new(false).await;
        let child = r.spawn_child("BLAH").await;
        r.carousel.send_control(ipc.clone()).await;
        let got = child.control().await;
        assert!(same_kind(&got, &ipc), "the child also receives {ipc:?}, got {got:?}");
        child.stop_now();
        assert_eq!(r.join().await, Exit::Finished);
    }
}

// 44: test_carouselDoesntTerminateUntilChildHas
#[tokio::test(start_paused = true)]
async fn the_carousel_does_not_end_until_its_child_has() {
    for ipc in stop_requests() {
        let mut r = Rig::new(false).await;
        let child = r.spawn_child("BLAH").await;
        r.carousel.send_control(ipc.clone()).await;
        let got = child.control().await;
        assert!(same_kind(&got, &ipc));
        settle().await;
        assert!(r.carousel_running(), "the Carousel waits for its child");
        assert!(child.running(), "which is still running");
        assert!(r.signal_is_empty(), "and says nothing yet");

        child.stop_now();
        assert_eq!(r.join().await, Exit::Finished);
        assert!(child.component.has_ended());
        let end = r.signal().await;
        assert!(same_kind(&end, &ipc), "it passes {ipc:?} on as it ends, got {end:?}");
    }
}

// 45: test_queuedNextsFinishedIfProducerFinished
#[tokio::test(start_paused = true)]
async fn queued_nexts_are_dealt_with_before_a_producer_finished_ends_it() {
    let mut r = Rig::new(false).await;
    r.spawn_child("BLAH").await;
    r.carousel.send_control(ProducerFinished::new()).await;
    for i in 1..10 {
        r.send_to_next(&format!("BLAH{i}"));
    }
    settle().await;
    assert_eq!(r.children().len(), 1, "one child at a time");
    assert!(r.carousel_running());

    for i in 0..9 {
        let child = r.children()[i].clone();
        assert!(child.running(), "child {i} runs");
        assert!(child.control().await.is_shutdown_microprocess(), "child {i} is asked to make way");
        child.stop_now();
        wait_until("the next child runs", || r.children().len() == i + 2 && r.last_child().activated()).await;
        assert_eq!(r.last_child().arg, format!("BLAH{}", i + 1), "requests are taken in order");
    }
    // Beyond Kamaelia's test: with no request left, the last child gets the ProducerFinished,
    // and the Carousel ends with it once that child has ended.
    let last = r.last_child();
    assert!(last.control().await.is_producer_finished(), "the last child is asked to finish");
    last.stop_now();
    assert_eq!(r.join().await, Exit::Finished);
    assert!(r.signal().await.is_producer_finished());
    assert_eq!(r.children().len(), 10);
    assert!(r.collect_request_next().is_empty(), "no NEXT: requests were waiting, then it was stopping");
}

// 46: test_queuedNextsAbortedIfShutdownMicroprocess
#[tokio::test(start_paused = true)]
async fn queued_nexts_are_dropped_on_shutdown_microprocess() {
    let mut r = Rig::new(false).await;
    let child = r.spawn_child("BLAH").await;
    r.carousel.send_control(ShutdownMicroprocess::new()).await;
    for _ in 1..10 {
        r.send_to_next("BLAH");
    }
    settle().await;
    assert_eq!(r.children().len(), 1, "only the one child");
    assert!(r.carousel_running(), "it waits for the child to end");
    assert!(child.control().await.is_shutdown_microprocess());

    child.stop_now();
    assert_eq!(r.join().await, Exit::Finished);
    assert_eq!(r.children().len(), 1, "the queued requests were dropped");
    assert!(child.component.has_ended());
    assert!(r.signal().await.is_shutdown_microprocess());
    assert!(r.collect_request_next().is_empty());
}

// Port: a ShutdownMicroprocess always reaches the child, even after a ProducerFinished.
#[tokio::test(start_paused = true)]
async fn a_shutdown_after_a_producer_finished_still_reaches_the_child() {
    let mut r = Rig::new(false).await;
    let child = r.spawn_child("BLAH").await;
    r.carousel.send_control(ProducerFinished::new()).await;
    assert!(child.control().await.is_producer_finished());
    r.carousel.send_control(ShutdownMicroprocess::new()).await;
    assert!(child.control().await.is_shutdown_microprocess(), "must stop is passed on too");
    r.carousel.send_control(ShutdownMicroprocess::new()).await;
    settle().await;
    assert_eq!(child.with(|c| c.control.data_ready()), 0, "but only once");
    child.stop_now();
    assert_eq!(r.join().await, Exit::Finished);
    assert!(r.signal().await.is_shutdown_microprocess(), "must stop wins");
}

// Port: Carousel.inbox is the child's inbox even before there is a child (Axon's passthrough).
#[tokio::test(start_paused = true)]
async fn data_sent_while_no_child_runs_waits_for_the_next_child() {
    let mut r = Rig::new(false).await;
    r.carousel.send("early".to_owned()).await;
    settle().await;
    let child = r.spawn_child("BLAH").await;
    wait_until("the child receives it", || child.with(|c| c.inbox.data_ready() > 0)).await;
    assert_eq!(child.with(|c| c.inbox.try_recv()), Ok("early".to_owned()));
}

// Port: failures are contained; a child that panics is replaced like any other.
#[tokio::test(start_paused = true)]
async fn a_child_that_panics_is_replaced_like_one_that_ends() {
    let factory = |arg: String| -> Child<String, String> {
        if arg == "boom" {
            from_fn("Boom", |_c: Ctx| async { panic!("boom") }).into()
        } else {
            from_fn("Echo", move |mut c: Ctx| async move {
                c.outbox.send(arg).await;
                Ok(())
            })
            .into()
        }
    };
    let mut r = Rig::with_factory(factory, false).await;
    r.send_to_next("boom");
    wait_until("NEXT is requested", || r.feedback.inbox.data_ready() > 0).await;
    assert_eq!(r.collect_request_next(), [NEXT]);
    assert!(r.carousel_running(), "the Carousel runs on");
    r.send_to_next("fine");
    let got = tokio::time::timeout(DEADLINE, r.carousel.recv()).await.expect("the next child works");
    assert_eq!(got.as_deref(), Some("fine"));
}

// Port: the factory may return different component types, as long as the boxes' types match.
#[tokio::test(start_paused = true)]
async fn children_of_different_types_can_take_turns() {
    /// Applies `f` to each message until asked to stop.
    async fn transform(mut c: Ctx, f: fn(&str) -> String) -> ComponentResult {
        while let Some(event) = c.next_event().await {
            match event {
                Event::Data(s) => c.outbox.send(f(&s)).await,
                Event::Control(m) if m.is_shutdown_request() => break,
                Event::Control(_) => {}
            }
        }
        Ok(())
    }
    fn shout() -> impl Component<Inbox = String, Outbox = String> {
        from_fn("Shout", |c: Ctx| transform(c, str::to_uppercase))
    }
    fn whisper() -> impl Component<Inbox = String, Outbox = String> {
        from_fn("Whisper", |c: Ctx| transform(c, str::to_lowercase))
    }
    let factory = |how: String| -> Child<String, String> {
        if how == "shout" {
            shout().into()
        } else {
            whisper().into()
        }
    };
    let mut r = Rig::with_factory(factory, false).await;
    for (how, expected) in [("shout", "HELLO"), ("whisper", "hello"), ("shout", "HELLO")] {
        let before = r.carousel.component().children();
        r.send_to_next(how);
        // The request replaces the running child: wait until its replacement is in.
        wait_until("the new child is in", || {
            let now = r.carousel.component().children();
            now.len() == 1 && !before.contains(&now[0])
        })
        .await;
        r.carousel.send("HeLLo".to_owned()).await;
        let got = tokio::time::timeout(DEADLINE, r.carousel.recv()).await.expect("the child answers");
        assert_eq!(got.as_deref(), Some(expected), "a {how} child");
    }
}

// Port: Kamaelia has no notion of a closed box; with nothing left that could send it a request
// or a stop, a childless Carousel ends.
#[tokio::test(start_paused = true)]
async fn with_no_child_it_ends_once_next_and_control_have_closed() {
    let r = Rig::new(false).await;
    let carousel = r.carousel.component().clone();
    let Rig { carousel: handle, feedback, .. } = r;
    drop(handle); // closes inbox and control
    settle().await;
    assert!(!carousel.has_ended(), "next is still open");
    feedback.me().stop(); // closes next
    let exit = tokio::time::timeout(DEADLINE, carousel.join()).await.expect("it ends");
    assert_eq!(exit, Exit::Finished);
}

// Port: the wiring of §1.3, checked through introspection, and removed when the child ends.
#[tokio::test(start_paused = true)]
async fn the_child_is_wired_as_kamaelia_wires_it_and_unwired_when_it_ends() {
    let mut r = Rig::new(false).await;
    let child = r.spawn_child("BLAH").await;
    let carousel = r.carousel.component().clone();
    let (me, kid) = (carousel.id(), child.component.id());
    let mut links: Vec<_> = carousel
        .owned_linkages()
        .iter()
        .map(|l| {
            (
                l.source_pair().0,
                l.source_pair().1.to_owned(),
                l.sink_pair().0,
                l.sink_pair().1.to_owned(),
                l.passthrough(),
            )
        })
        .collect();
    links.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        links,
        [
            (me, "_signal".to_owned(), kid, "control".to_owned(), Passthrough::Normal),
            (me, "inbox".to_owned(), kid, "inbox".to_owned(), Passthrough::Inbound),
            (kid, "outbox".to_owned(), me, "outbox".to_owned(), Passthrough::Outbound),
        ]
    );
    let snapshot = carousel.scheduler().unwrap().introspect();
    assert!(
        !snapshot.linkages.iter().any(|l| l.source.component == kid && l.source.name == "signal"),
        "the child's signal is not wired"
    );

    child.stop_now();
    wait_until("NEXT is requested", || r.feedback.inbox.data_ready() > 0).await;
    assert!(carousel.owned_linkages().is_empty(), "its linkages went with it");
    assert!(carousel.children().is_empty());
}

// Port: a chooser and a Carousel in a loop (Kamaelia's JoinChooserToCarousel shape), on a
// multi-threaded runtime: every request is answered, in order, and the chooser's
// ProducerFinished ends it all.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_chooser_and_a_carousel_take_many_turns_on_many_threads() {
    const TURNS: u32 = 300;
    let s = Scheduler::new();
    let chooser = Instance::new(from_fn("Chooser", |mut c: Context<String, u32>| async move {
        for i in 0..TURNS {
            if c.inbox.recv().await.as_deref() != Some(NEXT) {
                return Err(axon_core::ComponentError::msg("expected NEXT"));
            }
            c.outbox.send(i).await;
        }
        c.inbox.recv().await; // the NEXT after the last child
        c.signal.send(ProducerFinished::from(c.id()).into()).await;
        Ok(())
    }));
    let say = |i: u32| {
        from_fn("Say", move |mut c: Context<(), String>| async move {
            c.outbox.send(i.to_string()).await;
            Ok(())
        })
    };
    let carousel = Instance::new(Carousel::new(say, true));
    s.link((carousel.component(), "requestNext"), (&chooser, "inbox")).unwrap();
    s.link((&chooser, "outbox"), (carousel.component(), "next")).unwrap();
    s.link((&chooser, "signal"), (carousel.component(), "control")).unwrap();
    s.activate(chooser);
    let mut h = Handle::new(carousel, &s);
    for i in 0..TURNS {
        let got = tokio::time::timeout(DEADLINE, h.recv()).await.expect("each child speaks");
        assert_eq!(got, Some(i.to_string()));
    }
    let end = tokio::time::timeout(DEADLINE, h.recv_signal()).await.expect("it signals").unwrap();
    assert!(end.is_producer_finished());
    assert_eq!(tokio::time::timeout(DEADLINE, h.join()).await.unwrap(), Exit::Finished);
    assert!(s.failures().is_empty());
}

/// Answers each `"NEXT"` with the next of `items`; when they are used up, or on a shutdown
/// request, says so on `signal` and ends (Kamaelia's `ForwardIteratingChooser`).
fn chooser(items: Vec<&'static str>) -> impl Component<Inbox = String, Outbox = &'static str> {
    from_fn("Chooser", move |mut c: Context<String, &'static str>| async move {
        let mut items = items.into_iter();
        while let Some(event) = c.next_event().await {
            match event {
                Event::Data(_) => match items.next() {
                    Some(item) => c.outbox.send(item).await,
                    None => {
                        c.signal.send(ProducerFinished::from(c.id()).into()).await;
                        break;
                    }
                },
                Event::Control(m) if m.is_shutdown_request() => {
                    c.signal.send(m).await;
                    break;
                }
                Event::Control(_) => {}
            }
        }
        Ok(())
    })
}

/// A child that sends `"playing <item>"`, then waits until asked to stop (or its input closes).
fn player(item: &'static str) -> impl Component<Inbox = String, Outbox = String> {
    from_fn("Player", move |mut c: Ctx| async move {
        c.outbox.send(format!("playing {item}")).await;
        while let Some(m) = c.control.recv().await {
            if m.is_shutdown_request() {
                break;
            }
        }
        Ok(())
    })
}

// Prefab.py: JoinChooserToCarousel, a playlist played to the end.
#[tokio::test(start_paused = true)]
async fn join_chooser_to_carousel_plays_the_list_then_finishes() {
    let one_shot = |item: &'static str| {
        from_fn("Say", move |mut c: Ctx| async move {
            c.outbox.send(format!("playing {item}")).await;
            Ok(())
        })
    };
    let joined = join_chooser_to_carousel(chooser(vec!["a", "b", "c"]), Carousel::new(one_shot, true)).unwrap();
    let names: Vec<&str> = joined.behaviour().child_names().collect();
    assert_eq!(names, ["CHOOSER", "CAROUSEL"]);
    let mut h = Handle::new(joined, &Scheduler::new());
    for item in ["a", "b", "c"] {
        let got = tokio::time::timeout(DEADLINE, h.recv()).await.expect("each item is played");
        assert_eq!(got, Some(format!("playing {item}")));
    }
    let end = tokio::time::timeout(DEADLINE, h.recv_signal()).await.expect("it signals").unwrap();
    assert!(end.is_producer_finished(), "the chooser's ProducerFinished comes out through the Carousel");
    assert_eq!(tokio::time::timeout(DEADLINE, h.join()).await.unwrap(), Exit::Finished);
}

// Prefab.py: the Graphline's control goes to the chooser, whose signal stops the Carousel.
#[tokio::test(start_paused = true)]
async fn join_chooser_to_carousel_stops_on_a_shutdown_to_its_control() {
    let joined = join_chooser_to_carousel(chooser(vec!["a", "b"]), Carousel::new(player, true)).unwrap();
    let mut h = Handle::new(joined, &Scheduler::new());
    let got = tokio::time::timeout(DEADLINE, h.recv()).await.expect("the first item plays");
    assert_eq!(got.as_deref(), Some("playing a"));
    h.send_control(ShutdownMicroprocess::new()).await;
    let end = tokio::time::timeout(DEADLINE, h.recv_signal()).await.expect("it signals").unwrap();
    assert!(end.is_shutdown_microprocess());
    assert_eq!(tokio::time::timeout(DEADLINE, h.join()).await.unwrap(), Exit::Finished);
    assert_eq!(h.get(), Err(TryRecvError::Closed), "the second item never played");
}
