//! PAR: children side by side. Kamaelia has no tests for `PAR`; these pin the behaviour of §1.5 of
//! the reference (wiring, output fan-in, control broadcast, termination) and the port's fixes: it
//! waits for its children after a shutdown, a child's `producerFinished` does not leak out of the
//! PAR's `signal`, and `inbox` is copied to every child (or, for types that cannot be cloned,
//! read and dropped).
//!
//! Every test runs on tokio's paused clock: [`settle`] returns once every task is idle, so "after
//! settling, the PAR is still running" is deterministic. Waits for something have a deadline.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axon_core::prelude::*;
use axon_core::{BoxKind, Exit, Passthrough, TryRecvError, DEFAULT_CAPACITY};
use kamaelia_chassis::carousel::Child;
use kamaelia_chassis::par::PAR;
use tokio::sync::Notify;

const DEADLINE: Duration = Duration::from_secs(10);

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
struct Mock<I> {
    component: ComponentRef,
    ctx: Arc<Mutex<Option<Context<I, String>>>>,
    stop: Arc<Notify>,
}

impl<I: Send + 'static> Mock<I> {
    fn make() -> (Mock<I>, Child<I, String>) {
        let ctx = Arc::new(Mutex::new(None));
        let stop = Arc::new(Notify::new());
        let (slot, stopped) = (ctx.clone(), stop.clone());
        let instance = Instance::new(from_fn("MockChild", move |c: Context<I, String>| async move {
            *slot.lock().unwrap() = Some(c);
            stopped.notified().await;
            Ok(())
        }));
        (Mock { component: instance.component().clone(), ctx, stop }, Child::from_instance(instance))
    }

    fn activated(&self) -> bool {
        self.ctx.lock().unwrap().is_some()
    }

    fn with<R>(&self, f: impl FnOnce(&mut Context<I, String>) -> R) -> R {
        f(self.ctx.lock().unwrap().as_mut().expect("the child has been activated"))
    }

    fn stop_now(&self) {
        self.stop.notify_one();
    }

    async fn control(&self) -> Ipc {
        wait_until("the child receives a control message", || self.with(|c| c.control.data_ready() > 0)).await;
        self.with(|c| c.control.try_recv()).unwrap()
    }
}

/// Sends each of `items`, then ends.
fn emit(items: &'static [&'static str]) -> impl Component<Inbox = String, Outbox = String> {
    from_fn("Emit", move |mut c: Context<String, String>| async move {
        for &i in items {
            c.outbox.send(i.to_owned()).await;
        }
        Ok(())
    })
}

async fn recv_signal<I: Send + 'static>(h: &mut Handle<I, String>) -> Ipc {
    tokio::time::timeout(DEADLINE, h.recv_signal()).await.expect("a signal arrives").expect("signal is open")
}

async fn join<I: Send + 'static>(h: &Handle<I, String>) -> Exit {
    tokio::time::timeout(DEADLINE, h.join()).await.expect("it ends")
}

fn is_own_producer_finished(msg: &Ipc, par: &ComponentRef) -> bool {
    matches!(msg, Ipc::ProducerFinished(pf) if pf.caller == Some(par.id()))
}

#[tokio::test(start_paused = true)]
async fn children_run_side_by_side() {
    let (a, b, c) = (Mock::<String>::make(), Mock::make(), Mock::make());
    let (ma, mb, mc) = (a.0, b.0, c.0);
    let par = PAR::new().with(a.1).with(b.1).with(c.1);
    assert_eq!(par.len(), 3);
    let h = Handle::new(par, &Scheduler::new());
    wait_until("all three run at once", || ma.activated() && mb.activated() && mc.activated()).await;
    let kids = h.component().children();
    assert_eq!(kids.len(), 3, "all are children of the PAR");
    for m in [&ma, &mb, &mc] {
        assert!(kids.contains(&m.component));
        m.stop_now();
    }
    assert_eq!(join(&h).await, Exit::Finished);
}

#[tokio::test(start_paused = true)]
async fn the_output_of_every_child_leaves_the_par_outbox() {
    let par = PAR::new().with(emit(&["a1", "a2", "a3"])).with(emit(&["b1", "b2"]));
    let mut h = Handle::new(par, &Scheduler::new());
    let mut got = Vec::new();
    for _ in 0..5 {
        got.push(tokio::time::timeout(DEADLINE, h.recv()).await.expect("output arrives").unwrap());
    }
    let from = |p: &str| got.iter().filter(|m| m.starts_with(p)).cloned().collect::<Vec<_>>();
    assert_eq!(from("a"), ["a1", "a2", "a3"], "each child's output keeps its order");
    assert_eq!(from("b"), ["b1", "b2"]);
    assert!(is_own_producer_finished(&recv_signal(&mut h).await, h.component()));
    assert_eq!(join(&h).await, Exit::Finished);
    assert_eq!(h.get(), Err(TryRecvError::Closed), "nothing else");
}

// Fix: Kamaelia linked every child's signal to the PAR's, so the first child to finish told
// whatever was downstream to stop.
#[tokio::test(start_paused = true)]
async fn a_childs_producer_finished_does_not_leak_out_before_all_have_ended() {
    let (b, mb) = {
        let (m, c) = Mock::<String>::make();
        (c, m)
    };
    let finisher = from_fn("Finisher", |mut c: Context<String, String>| async move {
        c.signal.send(ProducerFinished::from(c.id()).into()).await;
        Ok(())
    });
    let mut h = Handle::new(PAR::new().with(finisher).with(b), &Scheduler::new());
    wait_until("B runs", || mb.activated()).await;
    settle().await;
    assert!(h.get_signal().is_err(), "nothing on signal while B runs");
    assert!(!h.component().has_ended());

    mb.stop_now();
    let end = recv_signal(&mut h).await;
    assert!(is_own_producer_finished(&end, h.component()), "one ProducerFinished of the PAR's own, got {end:?}");
    assert_eq!(join(&h).await, Exit::Finished);
    assert!(h.get_signal().is_err(), "exactly one");
}

#[tokio::test(start_paused = true)]
async fn every_control_message_reaches_every_child() {
    let (a, b) = (Mock::<String>::make(), Mock::make());
    let (ma, mb) = (a.0, b.0);
    let mut h = Handle::new(PAR::new().with(a.1).with(b.1), &Scheduler::new());
    wait_until("both run", || ma.activated() && mb.activated()).await;
    h.send_control("flurble").await;
    h.send_control(ProducerFinished::new()).await;
    for m in [&ma, &mb] {
        assert!(matches!(m.control().await, Ipc::Other(s) if s == "flurble"));
        assert!(m.control().await.is_producer_finished());
    }
    settle().await;
    assert!(!h.component().has_ended(), "a ProducerFinished is passed on; the PAR ends with its children");
    ma.stop_now();
    mb.stop_now();
    let end = recv_signal(&mut h).await;
    assert!(is_own_producer_finished(&end, h.component()), "a new ProducerFinished at the end, got {end:?}");
    assert_eq!(join(&h).await, Exit::Finished);
}

// Fix: Kamaelia's PAR forwarded the shutdown and exited at once, children still running.
#[tokio::test(start_paused = true)]
async fn a_shutdown_is_passed_to_every_child_and_the_par_waits_for_them() {
    let (a, b) = (Mock::<String>::make(), Mock::make());
    let (ma, mb) = (a.0, b.0);
    let mut h = Handle::new(PAR::new().with(a.1).with(b.1), &Scheduler::new());
    wait_until("both run", || ma.activated() && mb.activated()).await;
    h.send_control(ShutdownMicroprocess::new()).await;
    assert!(ma.control().await.is_shutdown_microprocess());
    assert!(mb.control().await.is_shutdown_microprocess());

    ma.stop_now();
    settle().await;
    assert!(!h.component().has_ended(), "the PAR waits while B runs");
    assert!(h.get_signal().is_err(), "and says nothing yet");

    mb.stop_now();
    assert!(recv_signal(&mut h).await.is_shutdown_microprocess(), "then passes the shutdown on");
    assert_eq!(join(&h).await, Exit::Finished);
}

// Fix: Kamaelia's docstring promised this; its code discarded `inbox`.
#[tokio::test(start_paused = true)]
async fn each_inbox_message_is_copied_to_every_child() {
    let (a, b) = (Mock::<String>::make(), Mock::make());
    let (ma, mb) = (a.0, b.0);
    let mut h = Handle::new(PAR::new().with(a.1).with(b.1), &Scheduler::new());
    for msg in ["x", "y", "z"] {
        h.send(msg.to_owned()).await;
    }
    for m in [&ma, &mb] {
        wait_until("all three arrive", || m.activated() && m.with(|c| c.inbox.data_ready() == 3)).await;
        let got: Vec<String> = m.with(|c| c.inbox.drain().collect());
        assert_eq!(got, ["x", "y", "z"]);
        m.stop_now();
    }
    assert_eq!(join(&h).await, Exit::Finished);
}

/// A message type that cannot be cloned.
struct Token(#[allow(dead_code)] u32);

#[tokio::test(start_paused = true)]
async fn discarding_inbox_reads_and_drops_what_arrives() {
    let (a, ma) = {
        let (m, c) = Mock::<Token>::make();
        (c, m)
    };
    let mut h = Handle::new(PAR::discarding_inbox().with(a), &Scheduler::new());
    // Far more than `inbox` holds: a PAR that did not read it would make this wait forever.
    let flood = async {
        for i in 0..(3 * DEFAULT_CAPACITY as u32) {
            h.send(Token(i)).await;
        }
    };
    tokio::time::timeout(DEADLINE, flood).await.expect("every message is taken");
    settle().await;
    assert_eq!(h.component().data_ready("inbox"), 0);
    assert_eq!(ma.with(|c| c.inbox.data_ready()), 0, "the child received none of it");
    assert!(!h.component().has_box(BoxKind::Outbox, "_co0"), "no copying outbox");
    ma.stop_now();
    assert_eq!(join(&h).await, Exit::Finished);
}

// While a child's inbox is full, the PAR waits (back-pressure all the way to the sender), but
// still obeys its control.
#[tokio::test(start_paused = true)]
async fn a_slow_child_holds_back_the_inbox_but_not_control() {
    // Never reads its inbox; ends on a shutdown request.
    let stubborn = from_fn("Stubborn", |mut c: Context<u32, String>| async move {
        while let Some(m) = c.control.recv().await {
            if m.is_shutdown_request() {
                break;
            }
        }
        Ok(())
    });
    // Counts what it reads until asked to stop.
    let seen = Arc::new(Mutex::new(0usize));
    let counted = seen.clone();
    let reader = from_fn("Reader", move |mut c: Context<u32, String>| async move {
        while let Some(e) = c.next_event().await {
            match e {
                Event::Data(_) => *counted.lock().unwrap() += 1,
                Event::Control(m) if m.is_shutdown_request() => break,
                Event::Control(_) => {}
            }
        }
        Ok(())
    });
    let mut h = Handle::new(PAR::new().with(stubborn).with(reader), &Scheduler::new());
    let mut accepted = 0;
    loop {
        let before = accepted;
        while h.put(accepted as u32).is_ok() {
            accepted += 1;
        }
        settle().await;
        if accepted == before {
            break;
        }
    }
    // The stubborn child's inbox is full, the PAR holds one copy for it, and its own inbox is full.
    assert_eq!(accepted, 2 * DEFAULT_CAPACITY + 1);
    assert_eq!(*seen.lock().unwrap(), DEFAULT_CAPACITY, "the other child got everything up to the blocked message");

    h.send_control(ShutdownMicroprocess::new()).await;
    assert!(recv_signal(&mut h).await.is_shutdown_microprocess(), "the shutdown got through");
    assert_eq!(join(&h).await, Exit::Finished);
}

#[tokio::test(start_paused = true)]
async fn when_the_par_inbox_closes_every_childs_inbox_closes() {
    let s = Scheduler::new();
    // Reads until its inbox closes, then reports how many messages it read.
    let count = || {
        from_fn("Count", |mut c: Context<String, String>| async move {
            let mut n = 0;
            while c.inbox.recv().await.is_some() {
                n += 1;
            }
            c.outbox.send(format!("{n} read")).await;
            Ok(())
        })
    };
    let par = Instance::new(PAR::new().with(count()).with(count()));
    let source = Instance::new(from_fn("Source", |mut c: Context<(), String>| async move {
        c.outbox.send("one".to_owned()).await;
        c.outbox.send("two".to_owned()).await;
        Ok(())
    }));
    // A puppet downstream (a Handle would also feed the PAR's inbox, keeping it open).
    let (tx, rx) = tokio::sync::oneshot::channel();
    s.activate(from_fn("Sink", move |c: Context<String, String>| async move {
        let _ = tx.send(c);
        std::future::pending::<ComponentResult>().await
    }));
    let mut sink = rx.await.unwrap();
    s.link((&source, "outbox"), (par.component(), "inbox")).unwrap();
    s.link((par.component(), "outbox"), (sink.me(), "inbox")).unwrap();
    s.link((par.component(), "signal"), (sink.me(), "control")).unwrap();
    let par = s.activate(par);
    s.activate(source);
    for _ in 0..2 {
        let got = tokio::time::timeout(DEADLINE, sink.inbox.recv()).await.expect("a count arrives");
        assert_eq!(got.as_deref(), Some("2 read"));
    }
    let end = tokio::time::timeout(DEADLINE, sink.control.recv()).await.expect("the PAR signals");
    assert!(end.is_some_and(|e| e.is_producer_finished()));
    assert_eq!(tokio::time::timeout(DEADLINE, par.join()).await.expect("it ends"), Exit::Finished);
}

#[tokio::test(start_paused = true)]
async fn a_par_with_no_children_ends_at_once() {
    let par: PAR<String, String> = PAR::default();
    assert!(par.is_empty());
    let mut h = Handle::new(par, &Scheduler::new());
    assert!(is_own_producer_finished(&recv_signal(&mut h).await, h.component()));
    assert_eq!(join(&h).await, Exit::Finished);
}

#[tokio::test(start_paused = true)]
async fn a_child_that_panics_counts_as_ended() {
    let boom = from_fn("Boom", |_c: Context<String, String>| async { panic!("boom") });
    let children: Vec<Child<String, String>> = vec![boom.into(), emit(&["still here"]).into()];
    let mut h = Handle::new(PAR::from_children(children), &Scheduler::new());
    let got = tokio::time::timeout(DEADLINE, h.recv()).await.expect("output arrives");
    assert_eq!(got.as_deref(), Some("still here"));
    assert!(recv_signal(&mut h).await.is_producer_finished());
    assert_eq!(join(&h).await, Exit::Finished, "the PAR itself finishes");
}

#[tokio::test(start_paused = true)]
async fn each_child_is_wired_to_the_par_and_its_signal_is_not() {
    let (a, b) = (Mock::<String>::make(), Mock::make());
    let (ma, mb) = (a.0, b.0);
    let h = Handle::new(PAR::new().with(a.1).with(b.1), &Scheduler::new());
    wait_until("both run", || ma.activated() && mb.activated()).await;
    let par = h.component().clone();
    let mut links: Vec<_> = par
        .owned_linkages()
        .iter()
        .map(|l| {
            let (s, d) = (l.source_pair(), l.sink_pair());
            (s.0, s.1.to_owned(), d.0, d.1.to_owned(), l.passthrough())
        })
        .collect();
    links.sort_by(|x, y| (&x.1, x.0).cmp(&(&y.1, y.0)));
    let (me, ka, kb) = (par.id(), ma.component.id(), mb.component.id());
    let s = |x: &str| x.to_owned();
    assert_eq!(
        links,
        [
            (me, s("_co0"), ka, s("inbox"), Passthrough::Normal),
            (me, s("_co1"), kb, s("inbox"), Passthrough::Normal),
            (me, s("_cs0"), ka, s("control"), Passthrough::Normal),
            (me, s("_cs1"), kb, s("control"), Passthrough::Normal),
            (ka, s("outbox"), me, s("outbox"), Passthrough::Outbound),
            (kb, s("outbox"), me, s("outbox"), Passthrough::Outbound),
        ]
    );
    let snapshot = par.scheduler().unwrap().introspect();
    for kid in [ka, kb] {
        assert!(
            !snapshot.linkages.iter().any(|l| l.source.component == kid && l.source.name == "signal"),
            "a child's signal is not wired"
        );
    }
    ma.stop_now();
    mb.stop_now();
    assert_eq!(join(&h).await, Exit::Finished);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_children_each_get_every_message_on_many_threads() {
    const CHILDREN: usize = 40;
    const MESSAGES: usize = 200;
    /// Tags each message with its name, until asked to stop.
    fn tagger(n: usize) -> impl Component<Inbox = usize, Outbox = (usize, usize)> {
        from_fn("Tagger", move |mut c: Context<usize, (usize, usize)>| async move {
            while let Some(e) = c.next_event().await {
                match e {
                    Event::Data(m) => c.outbox.send((n, m)).await,
                    Event::Control(m) if m.is_shutdown_request() => break,
                    Event::Control(_) => {}
                }
            }
            Ok(())
        })
    }
    let par = (0..CHILDREN).fold(PAR::new(), |par, n| par.with(tagger(n)));
    let mut h = Handle::new(par, &Scheduler::new());
    // Feed and collect in turn: boxes are bounded, so feeding alone would soon have to wait.
    let mut next = vec![0; CHILDREN];
    let mut fed = 0;
    let mut got = 0;
    while got < CHILDREN * MESSAGES {
        if fed < MESSAGES && h.put(fed).is_ok() {
            fed += 1;
            continue;
        }
        let (n, m) = tokio::time::timeout(DEADLINE, h.recv()).await.expect("output arrives").expect("open");
        assert_eq!(m, next[n], "child {n} sees the messages in order");
        next[n] += 1;
        got += 1;
    }
    assert!(next.iter().all(|&k| k == MESSAGES));
    h.send_control(ShutdownMicroprocess::new()).await;
    let end = tokio::time::timeout(DEADLINE, h.recv_signal()).await.expect("it signals").unwrap();
    assert!(end.is_shutdown_microprocess());
    assert_eq!(tokio::time::timeout(DEADLINE, h.join()).await.unwrap(), Exit::Finished);
}
