//! An actix actor as a component ([`ActorComponent`]), end to end in pipelines: answers in order,
//! back-pressure through the actor (a slow component behind a fast actor holds back what feeds
//! the actor), an actor that stops, an actor that panics (it ends alone; the rest goes on), an
//! actor that never answers (timed out by the component).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use actix::{Actor, ActorContext, Handler, Message, MessageResult, ResponseFuture};
use axon_core::prelude::*;
use axon_core::{Exit, DEFAULT_CAPACITY};
use kamaelia_actix::{ActixSystem, ActorComponent};
use kamaelia_chassis::pipeline;

/// How long anything here may take before the test fails (never reached when things work).
const DEADLINE: Duration = Duration::from_secs(20);

/// A number for an actor.
struct Num(u64);

impl Message for Num {
    type Result = u64;
}

impl From<u64> for Num {
    fn from(n: u64) -> Self {
        Num(n)
    }
}

/// Answers each number plus one; counts what it handled; stops after `stop_after` numbers (if
/// set), panics on `panic_on` (if set), and never answers `silent_on` (if set).
#[derive(Default)]
struct Adder {
    handled: Arc<AtomicUsize>,
    stop_after: Option<usize>,
    panic_on: Option<u64>,
    silent_on: Option<u64>,
    /// Told when the actor has stopped.
    stopped: Option<mpsc::Sender<()>>,
}

impl Actor for Adder {
    type Context = actix::Context<Self>;

    fn stopped(&mut self, _ctx: &mut actix::Context<Self>) {
        if let Some(tx) = self.stopped.take() {
            let _ = tx.send(());
        }
    }
}

impl Handler<Num> for Adder {
    type Result = ResponseFuture<u64>;

    fn handle(&mut self, Num(n): Num, ctx: &mut actix::Context<Self>) -> ResponseFuture<u64> {
        if self.panic_on == Some(n) {
            panic!("the adder cannot take {n}");
        }
        let handled = self.handled.fetch_add(1, Ordering::SeqCst) + 1;
        if self.stop_after.is_some_and(|limit| handled >= limit) {
            ctx.stop();
        }
        if self.silent_on == Some(n) {
            return Box::pin(std::future::pending());
        }
        Box::pin(async move { n + 1 })
    }
}

/// Sends `0..count`, then `ProducerFinished`.
fn numbers(count: u64) -> impl Component<Inbox = (), Outbox = u64> {
    from_fn("Numbers", move |mut ctx: Context<(), u64>| async move {
        for n in 0..count {
            ctx.outbox.send(n).await;
        }
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    })
}

/// Hands every number to the test, and every control message as `None`, until its input ends.
fn collect(tx: mpsc::Sender<Option<u64>>) -> impl Component<Inbox = u64, Outbox = ()> {
    from_fn("Collect", move |mut ctx: Context<u64, ()>| async move {
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(n) => {
                    let _ = tx.send(Some(n));
                }
                Event::Control(msg) => {
                    let _ = tx.send(None);
                    if msg.is_shutdown_request() {
                        break;
                    }
                }
            }
        }
        Ok(())
    })
}

/// Runs `pipeline` to its end on a scheduler of its own, within [`DEADLINE`].
fn run_within(pipeline: impl Component<Inbox = (), Outbox = ()>) -> Scheduler {
    let scheduler = Scheduler::new();
    Instance::new(pipeline).activate(&scheduler);
    let s = scheduler.clone();
    scheduler
        .runtime_handle()
        .block_on(async move { tokio::time::timeout(DEADLINE, s.wait_idle()).await })
        .expect("the pipeline ended");
    scheduler
}

#[test]
fn an_actor_stage_answers_every_message_in_order_and_passes_the_end_on() {
    let system = ActixSystem::new().unwrap();
    let handled = Arc::new(AtomicUsize::new(0));
    let adder = {
        let handled = handled.clone();
        ActorComponent::<Num>::start(&system, move |_| Adder { handled, ..Adder::default() })
            .unwrap()
            .accepting::<u64>()
    };
    let (tx, rx) = mpsc::channel();
    // More numbers than the boxes hold, so that every stage waits on the next now and then.
    let count = 10 * DEFAULT_CAPACITY as u64;
    let scheduler = run_within(pipeline![numbers(count), adder, collect(tx)]);
    let got: Vec<Option<u64>> = rx.try_iter().collect();
    let mut expected: Vec<Option<u64>> = (1..=count).map(Some).collect();
    expected.push(None); // the ProducerFinished, after everything
    assert_eq!(got, expected);
    assert_eq!(handled.load(Ordering::SeqCst), count as usize);
    assert!(scheduler.failures().is_empty(), "{:?}", scheduler.failures());
}

#[test]
fn an_actor_that_stops_is_producer_finished_on_signal() {
    let system = ActixSystem::new().unwrap();
    let adder = ActorComponent::<Num>::start(&system, |_| Adder { stop_after: Some(3), ..Adder::default() })
        .unwrap()
        .accepting::<u64>();
    let (tx, rx) = mpsc::channel();
    let scheduler = run_within(pipeline![numbers(1000), adder, collect(tx)]);
    let got: Vec<Option<u64>> = rx.try_iter().collect();
    // The third number was handled as the actor stopped: its answer may or may not have come.
    assert!(got == [Some(1), Some(2), None] || got == [Some(1), Some(2), Some(3), None], "{got:?}");
    assert!(scheduler.failures().is_empty(), "a stop is no failure: {:?}", scheduler.failures());
}

#[test]
fn a_panicking_actor_ends_its_component_alone_and_the_rest_goes_on() {
    let system = ActixSystem::new().unwrap();
    let scheduler = Scheduler::new();
    // Two actors on the same arbiter, each a component with a handle.
    let fragile = ActorComponent::<Num>::start(&system, |_| Adder { panic_on: Some(2), ..Adder::default() }).unwrap();
    let steady = ActorComponent::<Num>::start(&system, |_| Adder::default()).unwrap();
    let mut fragile = Handle::new(fragile, &scheduler);
    let mut steady = Handle::new(steady, &scheduler);
    fragile.send_blocking(Num(1));
    assert_eq!(fragile.recv_timeout(DEADLINE), Ok(2));
    fragile.send_blocking(Num(2));
    let exit = scheduler.runtime_handle().block_on(async { tokio::time::timeout(DEADLINE, fragile.join()).await });
    match exit.expect("the component ended") {
        Exit::Panicked(message) => assert_eq!(message, "the adder cannot take 2"),
        other => panic!("the component's end should say the actor panicked, not {other:?}"),
    }
    assert!(fragile.component().name().starts_with("Adder_"), "named after its actor: {}", fragile.component());
    // The other actor, on the same arbiter, and its component, still answer.
    for n in 10..20 {
        steady.send_blocking(Num(n));
        assert_eq!(steady.recv_timeout(DEADLINE), Ok(n + 1));
    }
    assert_eq!(scheduler.failures().len(), 1, "one failure: {:?}", scheduler.failures());
}

#[test]
fn a_slow_component_behind_a_fast_actor_holds_back_what_feeds_the_actor() {
    let system = ActixSystem::new().unwrap();
    let scheduler = Scheduler::new();
    let handled = Arc::new(AtomicUsize::new(0));
    let adder = {
        let handled = handled.clone();
        ActorComponent::<Num>::start(&system, move |_| Adder { handled, ..Adder::default() })
            .unwrap()
            .accepting::<u64>()
    };
    // The slow component: takes nothing until the gate opens, then passes everything on.
    let (open, gate) = tokio::sync::oneshot::channel::<()>();
    let slow = from_fn("Slow", move |mut ctx: Context<u64, u64>| async move {
        let _ = gate.await;
        while let Some(n) = ctx.inbox.recv().await {
            ctx.outbox.send(n).await;
        }
        Ok(())
    });
    let mut h = Handle::new(pipeline![adder, slow], &scheduler);
    // Feed without waiting until something is full, and again as the actor makes room, until
    // the chain is full: the slow component's inbox, and one answer in the actor component's
    // hands. (The first full box may be the actor component's own, before the actor has run.)
    let mut sent = 0u64;
    let end = std::time::Instant::now() + DEADLINE;
    loop {
        while h.put(sent).is_ok() {
            sent += 1;
            assert!(sent <= 10 * DEFAULT_CAPACITY as u64, "nothing ever held the feeder back");
        }
        if handled.load(Ordering::SeqCst) > DEFAULT_CAPACITY {
            break;
        }
        assert!(
            std::time::Instant::now() < end,
            "the actor handled {} messages, never filling the slow component's inbox",
            handled.load(Ordering::SeqCst)
        );
        std::thread::yield_now();
    }
    // Once full, nothing more gets in.
    while h.put(sent).is_ok() {
        sent += 1;
        assert!(sent <= 10 * DEFAULT_CAPACITY as u64, "nothing ever held the feeder back");
    }
    // The actor component's inbox, the answer it is waiting to send, the slow one's inbox, and a
    // message in the actor component's hands: no more got in.
    let bound = (2 * DEFAULT_CAPACITY + 2) as u64;
    assert!(sent <= bound, "{sent} messages got in, more than the boxes hold ({bound})");
    assert!(
        handled.load(Ordering::SeqCst) <= DEFAULT_CAPACITY + 1,
        "the actor was sent more than the slow component's inbox and one in hand: {}",
        handled.load(Ordering::SeqCst)
    );
    // Opening the gate lets everything through, in order, nothing lost.
    open.send(()).unwrap();
    for n in 0..sent {
        assert_eq!(h.recv_timeout(DEADLINE), Ok(n + 1));
    }
    for n in sent..sent + 10 {
        h.send_blocking(n);
        assert_eq!(h.recv_timeout(DEADLINE), Ok(n + 1));
    }
}

#[test]
fn an_actor_that_never_answers_is_timed_out_by_the_component() {
    let system = ActixSystem::new().unwrap();
    let scheduler = Scheduler::new();
    let silent = ActorComponent::<Num>::start(&system, |_| Adder { silent_on: Some(7), ..Adder::default() })
        .unwrap()
        .reply_timeout(Some(Duration::from_millis(100)));
    let mut h = Handle::new(silent, &scheduler);
    h.send_blocking(Num(6));
    assert_eq!(h.recv_timeout(DEADLINE), Ok(7));
    h.send_blocking(Num(7));
    let exit = scheduler.runtime_handle().block_on(async { tokio::time::timeout(DEADLINE, h.join()).await });
    match exit.expect("the component ended") {
        Exit::Failed(message) => assert_eq!(
            message, "actor `Adder` did not answer within 100ms (the component's reply_timeout)",
            "the error names the actor and the setting"
        ),
        other => panic!("the component should fail, not {other:?}"),
    }
}

#[test]
fn a_shutdown_request_ends_the_component_and_an_actor_nobody_else_holds_stops() {
    let system = ActixSystem::new().unwrap();
    let scheduler = Scheduler::new();
    let (stopped, actor_stopped) = mpsc::channel();
    let started = system.start(move |_| Adder { stopped: Some(stopped), ..Adder::default() }).unwrap();
    let component = ActorComponent::<Num>::from_started(started);
    let mut h = Handle::new(component, &scheduler);
    h.send_blocking(Num(1));
    assert_eq!(h.recv_timeout(DEADLINE), Ok(2));
    h.send_control_blocking(ShutdownMicroprocess::new());
    let signal = h.recv_signal_timeout(DEADLINE).expect("the request is passed on");
    assert!(signal.is_shutdown_microprocess());
    let exit = scheduler.runtime_handle().block_on(async { tokio::time::timeout(DEADLINE, h.join()).await });
    assert_eq!(exit.expect("ended"), Exit::Finished);
    actor_stopped.recv_timeout(DEADLINE).expect("the actor stopped: the component held its only address");
}

/// An actor whose message result is a plain value (`MessageResult`), known by its `Recipient`.
struct Echo;

impl Actor for Echo {
    type Context = actix::Context<Self>;
}

struct Say(String);

impl Message for Say {
    type Result = String;
}

impl Handler<Say> for Echo {
    type Result = MessageResult<Say>;

    fn handle(&mut self, Say(text): Say, _ctx: &mut actix::Context<Self>) -> MessageResult<Say> {
        MessageResult(text)
    }
}

#[test]
fn an_actor_known_by_its_recipient_is_a_component_too() {
    let system = ActixSystem::new().unwrap();
    let scheduler = Scheduler::new();
    let recipient = system.start(|_| Echo).unwrap().addr.recipient::<Say>();
    let mut h = Handle::new(ActorComponent::from_recipient(recipient, "Echo"), &scheduler);
    h.send_blocking(Say("ping".into()));
    assert_eq!(h.recv_timeout(DEADLINE).as_deref(), Ok("ping"));
    assert!(h.component().name().starts_with("Echo_"), "{}", h.component());
}
