//! Seq: children one after another. Kamaelia has no tests for `Seq`; these pin the behaviour of
//! §1.4 of the reference (wiring, order, data flow, the child's signal dropped, the final
//! `ProducerFinished`) and the port's fixes (a `ShutdownMicroprocess` stops the sequence; other
//! control messages are read, not left to pile up; text items are logged).
//!
//! Every test runs on tokio's paused clock: [`settle`] returns once every task is idle, so "after
//! settling, B has not started" is deterministic. Waits for something to happen have a deadline.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axon_core::ipc::ProducerFinished;
use axon_core::prelude::*;
use axon_core::{Exit, Passthrough, TryRecvError};
use kamaelia_chassis::carousel::Child;
use kamaelia_chassis::seq::Seq;
use tokio::sync::Notify;

const DEADLINE: Duration = Duration::from_secs(10);

type Ctx = Context<String, String>;

/// Lets virtual time pass, which tokio's paused clock only does once every task is idle.
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

/// A child that hands its boxes to the test when it runs and runs until the test stops it.
#[derive(Clone)]
struct Mock {
    component: ComponentRef,
    ctx: Arc<Mutex<Option<Ctx>>>,
    stop: Arc<Notify>,
}

impl Mock {
    fn make() -> (Mock, Child<String, String>) {
        let ctx = Arc::new(Mutex::new(None));
        let stop = Arc::new(Notify::new());
        let (slot, stopped) = (ctx.clone(), stop.clone());
        let instance = Instance::new(from_fn("MockChild", move |c: Ctx| async move {
            *slot.lock().unwrap() = Some(c);
            stopped.notified().await;
            Ok(())
        }));
        (Mock { component: instance.component().clone(), ctx, stop }, Child::from_instance(instance))
    }

    fn activated(&self) -> bool {
        self.ctx.lock().unwrap().is_some()
    }

    fn with<R>(&self, f: impl FnOnce(&mut Ctx) -> R) -> R {
        f(self.ctx.lock().unwrap().as_mut().expect("the child has been activated"))
    }

    fn stop_now(&self) {
        self.stop.notify_one();
    }

    async fn started(&self) {
        wait_until("the child runs", || self.activated()).await;
    }
}

/// Sends each of `items`, then ends (Kamaelia's `OneShot`, several shots).
fn emit(items: &'static [&'static str]) -> impl Component<Inbox = String, Outbox = String> {
    from_fn("Emit", move |mut c: Ctx| async move {
        for &i in items {
            c.outbox.send(i.to_owned()).await;
        }
        Ok(())
    })
}

async fn recv(h: &mut Handle<String, String>) -> Option<String> {
    tokio::time::timeout(DEADLINE, h.recv()).await.expect("a message arrives")
}

async fn recv_signal(h: &mut Handle<String, String>) -> Ipc {
    tokio::time::timeout(DEADLINE, h.recv_signal()).await.expect("a signal arrives").expect("signal is open")
}

async fn join(h: &Handle<String, String>) -> Exit {
    tokio::time::timeout(DEADLINE, h.join()).await.expect("it ends")
}

#[tokio::test(start_paused = true)]
async fn children_run_one_after_another_each_starting_when_the_previous_has_ended() {
    let (a, b, c) = (Mock::make(), Mock::make(), Mock::make());
    let (ma, mb, mc) = (a.0, b.0, c.0);
    let mut h = Handle::new(Seq::new().then(a.1).then(b.1).then(c.1), &Scheduler::new());
    ma.started().await;
    settle().await;
    assert!(!mb.activated() && !mc.activated(), "only the first runs");

    ma.stop_now();
    mb.started().await;
    assert!(ma.component.has_ended(), "the first ended before the second started");
    settle().await;
    assert!(!mc.activated(), "the third waits for the second");

    mb.stop_now();
    mc.started().await;
    assert!(h.get_signal().is_err(), "nothing on signal while the sequence runs");
    mc.stop_now();
    assert!(recv_signal(&mut h).await.is_producer_finished());
    assert_eq!(join(&h).await, Exit::Finished);
    assert!(h.get_signal().is_err(), "exactly one message on signal");
}

#[tokio::test(start_paused = true)]
async fn what_the_children_send_leaves_the_seq_in_sequence_order() {
    let seq = Seq::new().then(emit(&["1", "2"])).then(emit(&["3"])).then(emit(&[])).then(emit(&["4", "5", "6"]));
    let mut h = Handle::new(seq, &Scheduler::new());
    for expected in ["1", "2", "3", "4", "5", "6"] {
        assert_eq!(recv(&mut h).await.as_deref(), Some(expected));
    }
    let end = recv_signal(&mut h).await;
    let seq_id = h.component().id();
    assert!(
        matches!(&end, Ipc::ProducerFinished(pf) if pf.caller == Some(seq_id)),
        "the Seq's own ProducerFinished, got {end:?}"
    );
    assert_eq!(join(&h).await, Exit::Finished);
    assert_eq!(h.get(), Err(TryRecvError::Closed), "nothing else");
}

#[tokio::test(start_paused = true)]
async fn the_seq_inbox_reaches_the_current_child_and_waits_for_the_first() {
    let (a, b) = (Mock::make(), Mock::make());
    let (ma, mb) = (a.0, b.0);
    let mut h = Handle::new(Seq::new().text("before any child").then(a.1).then(b.1), &Scheduler::new());
    // Sent before the Seq has wired anything: it waits in the Seq's inbox for the first child.
    h.send("early".to_owned()).await;
    ma.started().await;
    wait_until("A receives it", || ma.with(|c| c.inbox.data_ready() > 0)).await;
    assert_eq!(ma.with(|c| c.inbox.try_recv()), Ok("early".to_owned()));
    h.send("for A".to_owned()).await;
    wait_until("A receives it", || ma.with(|c| c.inbox.data_ready() > 0)).await;
    assert_eq!(ma.with(|c| c.inbox.try_recv()), Ok("for A".to_owned()));

    ma.stop_now();
    mb.started().await;
    h.send("for B".to_owned()).await;
    wait_until("B receives it", || mb.with(|c| c.inbox.data_ready() > 0)).await;
    assert_eq!(mb.with(|c| c.inbox.try_recv()), Ok("for B".to_owned()));
    mb.stop_now();
    assert_eq!(join(&h).await, Exit::Finished);
}

#[tokio::test(start_paused = true)]
async fn a_childs_signal_does_not_leave_the_seq() {
    let (b, mb) = {
        let (m, c) = Mock::make();
        (c, m)
    };
    let signals_then_ends = from_fn("Finisher", |mut c: Ctx| async move {
        c.signal.send(ProducerFinished::from(c.id()).into()).await;
        c.signal.send(ShutdownMicroprocess::new().into()).await;
        Ok(())
    });
    let mut h = Handle::new(Seq::new().then(signals_then_ends).then(b), &Scheduler::new());
    mb.started().await;
    settle().await;
    assert!(h.get_signal().is_err(), "the first child's signals were dropped");
    assert!(!h.component().has_ended(), "and did not end the Seq");
    mb.stop_now();
    let end = recv_signal(&mut h).await;
    assert!(matches!(&end, Ipc::ProducerFinished(pf) if pf.caller == Some(h.component().id())));
    assert_eq!(join(&h).await, Exit::Finished);
    assert!(h.get_signal().is_err(), "exactly one message on signal");
}

/// Records what the Seq logs at info level that carries a test's marker.
struct Capture;

static LOGGED: Mutex<Vec<String>> = Mutex::new(Vec::new());
static CAPTURE: Capture = Capture;

impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::Level::Info
    }

    fn log(&self, r: &log::Record) {
        let text = r.args().to_string();
        if r.target() == "kamaelia_chassis::seq" && r.level() == log::Level::Info && text.starts_with("MARK") {
            LOGGED.lock().unwrap().push(text);
        }
    }

    fn flush(&self) {}
}

#[tokio::test(start_paused = true)]
async fn text_items_are_logged_at_info_when_the_sequence_reaches_them() {
    let _ = log::set_logger(&CAPTURE);
    log::set_max_level(log::LevelFilter::Info);
    // The children log through the same list, so the order of the two is visible.
    let mark = |name: &'static str| {
        from_fn("Mark", move |_c: Ctx| async move {
            LOGGED.lock().unwrap().push(name.to_owned());
            Ok(())
        })
    };
    let seq =
        Seq::new().text("MARK begin").then(mark("child A")).text("MARK middle").then(mark("child B")).text("MARK end");
    assert_eq!(seq.len(), 5);
    let mut h = Handle::new(seq, &Scheduler::new());
    assert!(recv_signal(&mut h).await.is_producer_finished());
    let logged: Vec<String> =
        LOGGED.lock().unwrap().iter().filter(|l| l.starts_with("MARK") || l.starts_with("child")).cloned().collect();
    assert_eq!(logged, ["MARK begin", "child A", "MARK middle", "child B", "MARK end"]);
    assert_eq!(h.get(), Err(TryRecvError::Closed), "text items send nothing downstream");
}

#[tokio::test(start_paused = true)]
async fn shutdown_microprocess_stops_the_current_child_and_the_sequence() {
    let (a, b) = (Mock::make(), Mock::make());
    let (ma, mb) = (a.0, b.0);
    let mut h = Handle::new(Seq::new().then(a.1).then(b.1), &Scheduler::new());
    ma.started().await;
    h.send_control(ShutdownMicroprocess::new()).await;
    wait_until("A is told", || ma.with(|c| c.control.data_ready() > 0)).await;
    assert!(ma.with(|c| c.control.try_recv()).unwrap().is_shutdown_microprocess());
    settle().await;
    assert!(!h.component().has_ended(), "the Seq waits for the child to end");
    assert!(h.get_signal().is_err());

    ma.stop_now();
    assert!(recv_signal(&mut h).await.is_shutdown_microprocess(), "the same message is passed on");
    assert_eq!(join(&h).await, Exit::Finished);
    assert!(!mb.activated(), "no later child starts");
}

#[tokio::test(start_paused = true)]
async fn a_shutdown_waiting_before_the_first_child_starts_nothing() {
    let (a, ma) = {
        let (m, c) = Mock::make();
        (c, m)
    };
    let seq = Instance::new(Seq::new().text("never logged").then(a));
    seq.component().deliver("control", Ipc::from(ShutdownMicroprocess::new())).unwrap();
    let mut h = Handle::new(seq, &Scheduler::new());
    assert!(recv_signal(&mut h).await.is_shutdown_microprocess());
    assert_eq!(join(&h).await, Exit::Finished);
    assert!(!ma.activated());
}

#[tokio::test(start_paused = true)]
async fn other_control_messages_are_read_and_ignored_not_left_to_pile_up() {
    let (a, b) = (Mock::make(), Mock::make());
    let (ma, mb) = (a.0, b.0);
    let mut h = Handle::new(Seq::new().then(a.1).then(b.1), &Scheduler::new());
    ma.started().await;
    // Far more than `control` holds: a Seq that did not read it would make this wait forever.
    let flood = async {
        for i in 0..(3 * axon_core::DEFAULT_CAPACITY) {
            h.send_control(format!("flurble {i}")).await;
        }
        h.send_control(ProducerFinished::new()).await;
    };
    tokio::time::timeout(DEADLINE, flood).await.expect("every control message is taken");
    settle().await;
    assert_eq!(h.component().data_ready("control"), 0, "nothing waits in control");
    assert_eq!(ma.with(|c| c.control.data_ready()), 0, "nothing was passed to the child");
    assert!(!ma.component.has_ended(), "a ProducerFinished does not cut the sequence short");

    ma.stop_now();
    mb.started().await;
    mb.stop_now();
    assert!(recv_signal(&mut h).await.is_producer_finished());
    assert_eq!(join(&h).await, Exit::Finished);
}

#[tokio::test(start_paused = true)]
async fn an_empty_seq_ends_at_once_with_producer_finished() {
    let seq: Seq<String, String> = Seq::default();
    assert!(seq.is_empty());
    let mut h = Handle::new(seq, &Scheduler::new());
    assert!(recv_signal(&mut h).await.is_producer_finished());
    assert_eq!(join(&h).await, Exit::Finished);
}

#[tokio::test(start_paused = true)]
async fn a_child_that_panics_is_followed_by_the_next() {
    let boom = from_fn("Boom", |_c: Ctx| async { panic!("boom") });
    let mut h = Handle::new(Seq::new().then(boom).then(emit(&["after"])), &Scheduler::new());
    assert_eq!(recv(&mut h).await.as_deref(), Some("after"));
    assert!(recv_signal(&mut h).await.is_producer_finished());
    assert_eq!(join(&h).await, Exit::Finished, "the Seq itself carries on and finishes");
}

#[tokio::test(start_paused = true)]
async fn from_children_runs_them_in_the_order_given() {
    let children: Vec<Child<String, String>> = vec![emit(&["x"]).into(), emit(&["y"]).into()];
    let mut h = Handle::new(Seq::from_children(children), &Scheduler::new());
    assert_eq!(recv(&mut h).await.as_deref(), Some("x"));
    assert_eq!(recv(&mut h).await.as_deref(), Some("y"));
    assert!(recv_signal(&mut h).await.is_producer_finished());
}

#[tokio::test(start_paused = true)]
async fn each_child_is_wired_as_kamaelia_wires_it_and_unwired_when_it_ends() {
    let (a, b) = (Mock::make(), Mock::make());
    let (ma, mb) = (a.0, b.0);
    let h = Handle::new(Seq::new().then(a.1).then(b.1), &Scheduler::new());
    let seq = h.component().clone();
    let wiring = |kid: &ComponentRef| {
        let mut links: Vec<_> = seq
            .owned_linkages()
            .iter()
            .map(|l| {
                let (s, d) = (l.source_pair(), l.sink_pair());
                (s.0, s.1.to_owned(), d.0, d.1.to_owned(), l.passthrough())
            })
            .collect();
        links.sort_by(|x, y| x.1.cmp(&y.1));
        let (me, kid) = (seq.id(), kid.id());
        let expected = vec![
            (me, "_signal".to_owned(), kid, "control".to_owned(), Passthrough::Normal),
            (me, "inbox".to_owned(), kid, "inbox".to_owned(), Passthrough::Inbound),
            (kid, "outbox".to_owned(), me, "outbox".to_owned(), Passthrough::Outbound),
        ];
        (links, expected)
    };
    ma.started().await;
    let (links, expected) = wiring(&ma.component);
    assert_eq!(links, expected, "A is wired in");
    assert_eq!(seq.children(), std::slice::from_ref(&ma.component));
    let snapshot = seq.scheduler().unwrap().introspect();
    assert!(
        !snapshot.linkages.iter().any(|l| l.source.component == ma.component.id() && l.source.name == "signal"),
        "the child's signal is not wired"
    );

    ma.stop_now();
    mb.started().await;
    let (links, expected) = wiring(&mb.component);
    assert_eq!(links, expected, "only B is wired in now");
    assert_eq!(seq.children(), std::slice::from_ref(&mb.component));
    mb.stop_now();
    assert_eq!(join(&h).await, Exit::Finished);
}

#[tokio::test(start_paused = true)]
async fn when_everything_upstream_has_gone_the_current_child_sees_its_inbox_close() {
    let s = Scheduler::new();
    // Reads until its inbox closes, then reports how many messages it read.
    let count = from_fn("Count", |mut c: Ctx| async move {
        let mut n = 0;
        while c.inbox.recv().await.is_some() {
            n += 1;
        }
        c.outbox.send(format!("{n} read")).await;
        Ok(())
    });
    let seq = Instance::new(Seq::new().then(count));
    let source = Instance::new(from_fn("Source", |mut c: Context<(), String>| async move {
        c.outbox.send("one".to_owned()).await;
        c.outbox.send("two".to_owned()).await;
        Ok(())
    }));
    // A puppet downstream (a Handle would also feed the Seq's inbox, keeping it open).
    let (tx, rx) = tokio::sync::oneshot::channel();
    s.activate(from_fn("Sink", move |c: Ctx| async move {
        let _ = tx.send(c);
        std::future::pending::<ComponentResult>().await
    }));
    let mut sink = rx.await.unwrap();
    s.link((&source, "outbox"), (seq.component(), "inbox")).unwrap();
    s.link((seq.component(), "outbox"), (sink.me(), "inbox")).unwrap();
    s.link((seq.component(), "signal"), (sink.me(), "control")).unwrap();
    let seq = s.activate(seq);
    s.activate(source);
    let got = tokio::time::timeout(DEADLINE, sink.inbox.recv()).await.expect("the count arrives");
    assert_eq!(got.as_deref(), Some("2 read"));
    let end = tokio::time::timeout(DEADLINE, sink.control.recv()).await.expect("the Seq signals");
    assert!(end.is_some_and(|e| e.is_producer_finished()));
    assert_eq!(tokio::time::timeout(DEADLINE, seq.join()).await.expect("it ends"), Exit::Finished);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_long_sequence_keeps_its_order_on_many_threads() {
    fn count(from: u32) -> impl Component<Inbox = String, Outbox = String> {
        from_fn("Count", move |mut c: Ctx| async move {
            for i in from..from + 10 {
                c.outbox.send(i.to_string()).await;
            }
            Ok(())
        })
    }
    let seq = (0..100).fold(Seq::new(), |seq, k| seq.then(count(k * 10)));
    let mut h = Handle::new(seq, &Scheduler::new());
    for i in 0..1000 {
        assert_eq!(recv(&mut h).await, Some(i.to_string()));
    }
    assert!(recv_signal(&mut h).await.is_producer_finished());
    assert_eq!(join(&h).await, Exit::Finished);
}
