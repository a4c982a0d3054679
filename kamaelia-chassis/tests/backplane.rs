//! Backplane, PublishTo, SubscribeTo. Kamaelia has no tests for them; these pin §1.7 of the
//! reference (services, splitting, PublishTo's passthrough, control echo, shutdown travelling from
//! the backplane to its subscribers) and the port's fixes and choices: a duplicate or missing name
//! is a clear error, subscribers that end are forgotten, a slow subscriber holds publishers back
//! (and a shutdown still gets through), types are checked when linking.
//!
//! Also pinned: a subscriber receives everything published after it was activated (no waiting
//! for it to subscribe), and a backplane made with `end_after_publishers` ends once its publishers
//! have finished, having delivered everything, so that a program of a backplane and pipelines
//! ends.
//!
//! Most tests run on tokio's paused clock: [`settle`] returns once every task is idle, so
//! statements about what has *not* happened are deterministic. The "obvious program" tests run
//! whole programs with `Scheduler::run`, many times over, on real threads (the default scheduler
//! and `Scheduler::per_thread(2)`), each on a thread of its own with a deadline ([`within`]).
//! Every wait has a deadline.

use std::sync::mpsc;
use std::time::Duration;

use axon_core::prelude::*;
use axon_core::{BoxKind, Exit, Passthrough};
use kamaelia_chassis::backplane::{
    configuration_service, inbox_service, subscriber_count, Backplane, BackplaneError, PublishTo, SubscribeTo,
};
use kamaelia_chassis::pipeline;

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

/// A component that hands its boxes to the test and then waits forever.
async fn puppet(s: &Scheduler) -> Ctx {
    let (tx, rx) = tokio::sync::oneshot::channel();
    s.activate(from_fn("Puppet", move |ctx: Ctx| async move {
        let _ = tx.send(ctx);
        std::future::pending::<ComponentResult>().await
    }));
    rx.await.expect("a puppet's body runs once activated")
}

/// A backplane called `name`, registered and running.
fn backplane(s: &Scheduler, name: &str) -> ComponentRef {
    s.activate(Backplane::<String>::new(name).register(s).expect("the name is free"))
}

/// A subscriber to `name`, driven through a handle. Nothing to wait for: it is subscribed when
/// it is activated.
fn subscriber(s: &Scheduler, name: &str) -> Handle<String, String> {
    Handle::new(SubscribeTo::<String>::new(name), s)
}

async fn recv(h: &mut Handle<String, String>) -> String {
    tokio::time::timeout(DEADLINE, h.recv()).await.expect("a message arrives").expect("outbox is open")
}

async fn recv_signal(h: &mut Handle<String, String>) -> Ipc {
    tokio::time::timeout(DEADLINE, h.recv_signal()).await.expect("a signal arrives").expect("signal is open")
}

async fn join(c: &ComponentRef) -> Exit {
    tokio::time::timeout(DEADLINE, c.join()).await.expect("it ends")
}

fn failure(exit: Exit) -> String {
    match exit {
        Exit::Failed(why) => why,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn everything_published_reaches_every_subscriber_in_order() {
    let s = Scheduler::new();
    backplane(&s, "NEWS");
    let mut alice = subscriber(&s, "NEWS");
    let mut bob = subscriber(&s, "NEWS");
    let mut publisher = Handle::new(PublishTo::<String>::new("NEWS"), &s);
    for i in 0..10 {
        publisher.send(format!("story {i}")).await;
    }
    for sub in [&mut alice, &mut bob] {
        for i in 0..10 {
            assert_eq!(recv(sub).await, format!("story {i}"));
        }
    }
    settle().await;
    assert!(alice.get().is_err() && bob.get().is_err(), "each got each message once");
}

#[tokio::test(start_paused = true)]
async fn several_publishers_fan_in() {
    let s = Scheduler::new();
    backplane(&s, "CHAT");
    let mut sub = subscriber(&s, "CHAT");
    let mut p1 = Handle::new(PublishTo::<String>::new("CHAT"), &s);
    let mut p2 = Handle::new(PublishTo::<String>::new("CHAT"), &s);
    for i in 0..3 {
        p1.send(format!("p1 {i}")).await;
        p2.send(format!("p2 {i}")).await;
    }
    let mut got = Vec::new();
    for _ in 0..6 {
        got.push(recv(&mut sub).await);
    }
    let from = |p: &str| got.iter().filter(|m| m.starts_with(p)).cloned().collect::<Vec<_>>();
    assert_eq!(from("p1"), ["p1 0", "p1 1", "p1 2"]);
    assert_eq!(from("p2"), ["p2 0", "p2 1", "p2 2"]);
}

#[tokio::test(start_paused = true)]
async fn publish_to_links_its_inbox_straight_to_the_backplane() {
    let s = Scheduler::new();
    let bp = backplane(&s, "DIRECT");
    let mut sub = subscriber(&s, "DIRECT");
    let mut publisher = Handle::new(PublishTo::<String>::new("DIRECT"), &s);
    let p = publisher.component().clone();
    wait_until("the publisher has linked", || !p.owned_linkages().is_empty()).await;
    let links: Vec<_> = p
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
    assert_eq!(links, [(p.id(), "inbox".to_owned(), bp.id(), "inbox".to_owned(), Passthrough::Inbound)]);
    publisher.send("through".to_owned()).await;
    assert_eq!(p.data_ready("inbox"), 0, "nothing stops in the PublishTo");
    assert_eq!(recv(&mut sub).await, "through");
}

#[tokio::test(start_paused = true)]
async fn publish_to_echoes_control_and_stops_on_shutdown_without_stopping_the_backplane() {
    let s = Scheduler::new();
    let bp = backplane(&s, "ECHO");
    let mut sub = subscriber(&s, "ECHO");
    for stop in [Ipc::from(ProducerFinished::new()), ShutdownMicroprocess::new().into()] {
        let mut publisher = Handle::new(PublishTo::<String>::new("ECHO"), &s);
        publisher.send_control("flurble").await;
        assert!(matches!(recv_signal(&mut publisher).await, Ipc::Other(m) if m == "flurble"));
        publisher.send("before".to_owned()).await;
        publisher.send_control(stop.clone()).await;
        let got = recv_signal(&mut publisher).await;
        assert_eq!(std::mem::discriminant(&got), std::mem::discriminant(&stop), "echoed {stop:?}");
        assert_eq!(join(publisher.component()).await, Exit::Finished);
        assert_eq!(recv(&mut sub).await, "before");
    }
    settle().await;
    assert!(!bp.has_ended(), "the backplane runs on");
    assert!(sub.get_signal().is_err(), "and its subscribers were not told anything");
    let mut publisher = Handle::new(PublishTo::<String>::new("ECHO"), &s);
    publisher.send("after".to_owned()).await;
    assert_eq!(recv(&mut sub).await, "after", "a new publisher still reaches the subscribers");
}

// Fix: Kamaelia crashed the program with a KeyError.
#[tokio::test(start_paused = true)]
async fn a_missing_backplane_is_an_error_naming_it() {
    let s = Scheduler::new();
    let bystander = backplane(&s, "ELSEWHERE");
    let publisher = s.activate(PublishTo::<String>::new("NOWHERE"));
    let why = failure(join(&publisher).await);
    assert!(why.contains("no backplane named `NOWHERE`"), "{why}");
    let subscriber = s.activate(SubscribeTo::<String>::new("NOWHERE"));
    let why = failure(join(&subscriber).await);
    assert!(why.contains("`NOWHERE`") && why.contains(&configuration_service("NOWHERE")), "{why}");
    assert!(!bystander.has_ended(), "nothing else is affected");
}

// Fix: Kamaelia meant ServiceAlreadyExists but raised NameError.
#[tokio::test(start_paused = true)]
async fn a_duplicate_name_is_refused_and_the_first_backplane_runs_on() {
    let s = Scheduler::new();
    let first = backplane(&s, "ONCE");
    let refused = Backplane::<String>::new("ONCE").register(&s).unwrap_err();
    assert_eq!(refused, BackplaneError::NameTaken { name: "ONCE".into(), service: inbox_service("ONCE") });
    assert!(refused.to_string().contains("a backplane named `ONCE` already exists"));

    let second = s.activate(Backplane::<String>::new("ONCE"));
    let why = failure(join(&second).await);
    assert!(why.contains("a backplane named `ONCE` already exists"), "{why}");

    assert!(!first.has_ended());
    let svc = s.tracker().retrieve_service(&inbox_service("ONCE")).unwrap();
    assert_eq!(svc.component().id(), first.id(), "the name still belongs to the first");
    let mut sub = subscriber(&s, "ONCE");
    let mut publisher = Handle::new(PublishTo::<String>::new("ONCE"), &s);
    publisher.send("still works".to_owned()).await;
    assert_eq!(recv(&mut sub).await, "still works");
}

#[tokio::test(start_paused = true)]
async fn a_backplane_activated_without_register_registers_when_activated() {
    let s = Scheduler::new();
    let bp = s.activate(Backplane::<String>::new("LATE"));
    for service in [inbox_service("LATE"), configuration_service("LATE")] {
        let found = s.tracker().retrieve_service(&service).expect("registered by the time activate returns");
        assert_eq!(found.component().id(), bp.id());
    }
    let mut sub = subscriber(&s, "LATE");
    let mut publisher = Handle::new(PublishTo::<String>::new("LATE"), &s);
    publisher.send("hi".to_owned()).await;
    assert_eq!(recv(&mut sub).await, "hi");
}

#[tokio::test(start_paused = true)]
async fn a_shutdown_ends_the_backplane_and_its_subscribers_and_withdraws_its_name() {
    let s = Scheduler::new();
    let mut bp = Handle::new(Backplane::<String>::new("DOWN").register(&s).unwrap(), &s);
    let bp_ref = bp.component().clone();
    let mut subs = vec![subscriber(&s, "DOWN"), subscriber(&s, "DOWN")];
    bp.send_control(ShutdownMicroprocess::new()).await;
    assert!(recv_signal(&mut bp).await.is_shutdown_microprocess(), "the backplane passes it on");
    assert_eq!(join(&bp_ref).await, Exit::Finished);
    for sub in &mut subs {
        assert!(recv_signal(sub).await.is_shutdown_microprocess(), "each subscriber passes it on");
        assert_eq!(join(sub.component()).await, Exit::Finished);
    }
    assert!(s.tracker().retrieve_service(&inbox_service("DOWN")).is_err());
    assert!(s.tracker().retrieve_service(&configuration_service("DOWN")).is_err());
    assert!(Backplane::<String>::new("DOWN").register(&s).is_ok(), "the name is free again");
}

#[tokio::test(start_paused = true)]
async fn a_producer_finished_delivers_what_was_published_before_it() {
    let s = Scheduler::new();
    let mut bp = Handle::new(Backplane::<String>::new("LAST").register(&s).unwrap(), &s);
    let bp_ref = bp.component().clone();
    let mut sub = subscriber(&s, "LAST");
    for i in 0..5 {
        bp.send(format!("item {i}")).await;
    }
    bp.send_control(ProducerFinished::new()).await;
    for i in 0..5 {
        assert_eq!(recv(&mut sub).await, format!("item {i}"));
    }
    assert!(recv_signal(&mut sub).await.is_producer_finished(), "then the ProducerFinished");
    assert_eq!(join(sub.component()).await, Exit::Finished);
    assert!(recv_signal(&mut bp).await.is_producer_finished());
    assert_eq!(join(&bp_ref).await, Exit::Finished);
}

#[tokio::test(start_paused = true)]
async fn other_control_messages_go_to_the_subscribers_and_the_backplane_runs_on() {
    let s = Scheduler::new();
    let mut bp = Handle::new(Backplane::<String>::new("NOTE").register(&s).unwrap(), &s);
    let bp_ref = bp.component().clone();
    let mut sub = subscriber(&s, "NOTE");
    bp.send_control("flurble").await;
    assert!(matches!(recv_signal(&mut sub).await, Ipc::Other(m) if m == "flurble"), "echoed by the subscriber");
    settle().await;
    assert!(!bp_ref.has_ended() && !sub.component().has_ended());
    assert!(bp.get_signal().is_err());
}

#[tokio::test(start_paused = true)]
async fn a_subscriber_ends_on_its_own_control_and_is_forgotten() {
    let s = Scheduler::new();
    let bp = backplane(&s, "BYE");
    let boxes_before = bp.box_names(BoxKind::Outbox);
    let mut stays = subscriber(&s, "BYE");
    let mut leaves = subscriber(&s, "BYE");
    leaves.send_control(ShutdownMicroprocess::new()).await;
    assert!(recv_signal(&mut leaves).await.is_shutdown_microprocess());
    assert_eq!(join(leaves.component()).await, Exit::Finished);
    wait_until("the backplane forgets it", || subscriber_count(&bp) == 1).await;

    let mut publisher = Handle::new(PublishTo::<String>::new("BYE"), &s);
    publisher.send("for those still here".to_owned()).await;
    assert_eq!(recv(&mut stays).await, "for those still here");
    stays.send_control(ShutdownMicroprocess::new()).await;
    wait_until("the backplane forgets it", || subscriber_count(&bp) == 0).await;
    assert_eq!(bp.box_names(BoxKind::Outbox), boxes_before, "its outboxes went with them");
    assert!(bp.owned_linkages().is_empty(), "and so did its linkages");
}

#[tokio::test(start_paused = true)]
async fn subscribers_coming_and_going_do_not_grow_the_backplane() {
    let s = Scheduler::new();
    let bp = backplane(&s, "CHURN");
    let boxes_before = bp.box_names(BoxKind::Outbox);
    for round in 0..50 {
        let mut sub = subscriber(&s, "CHURN");
        if round % 2 == 0 {
            sub.send_control(ShutdownMicroprocess::new()).await; // says goodbye
            join(sub.component()).await;
        } else {
            sub.component().stop(); // ends without a word: forgotten when next seen
            join(sub.component()).await;
            bp.deliver("inbox", format!("round {round}")).unwrap();
        }
        wait_until("the backplane forgets it", || subscriber_count(&bp) == 0).await;
    }
    assert_eq!(bp.box_names(BoxKind::Outbox), boxes_before);
    assert!(bp.owned_linkages().is_empty());
    let snapshot = s.introspect();
    let info = snapshot.component(bp.id()).unwrap();
    assert_eq!(info.boxes.len(), 5, "inbox, control, configuration, outbox, signal: nothing more");
}

/// A backplane with a small inbox, one fast subscriber (a handle), and one slow one, whose
/// downstream (a puppet holding one message) does not read until told to.
struct SlowRig {
    s: Scheduler,
    bp: Handle<String, String>,
    fast: Handle<String, String>,
    slow_sink: Ctx,
    publisher: Handle<String, String>,
}

impl SlowRig {
    async fn new(name: &str) -> SlowRig {
        let s = Scheduler::new();
        let bp = Handle::new(Backplane::<String>::new(name).with_capacity(4).register(&s).unwrap(), &s);
        let fast = subscriber(&s, name);
        let slow_sink = puppet(&s).await;
        slow_sink.inbox.set_capacity(Some(1));
        let slow = Instance::new(SubscribeTo::<String>::new(name).with_capacity(2));
        s.link((slow.component(), "outbox"), (slow_sink.me(), "inbox")).unwrap();
        s.activate(slow);
        let publisher = Handle::new(PublishTo::<String>::new(name), &s);
        SlowRig { s, bp, fast, slow_sink, publisher }
    }

    /// Publishes without waiting until nothing more is taken; returns how many were taken.
    async fn publish_until_full(&mut self) -> usize {
        let mut accepted = 0;
        loop {
            let before = accepted;
            while self.publisher.put(format!("m{accepted}")).is_ok() {
                accepted += 1;
            }
            settle().await;
            if accepted == before {
                return accepted;
            }
        }
    }
}

// The documented choice: the backplane waits for a slow subscriber, and publishers wait for it.
#[tokio::test(start_paused = true)]
async fn a_slow_subscriber_holds_publishers_back_and_nothing_is_lost() {
    let mut r = SlowRig::new("SLOW").await;
    let accepted = r.publish_until_full().await;
    // The slow sink (1) + the slow SubscribeTo's send (1) + its inbox (2) + the backplane's send
    // (1) + the backplane's inbox (4): then publishers wait.
    assert_eq!(accepted, 9, "back-pressure reaches the publisher after a bounded number of messages");
    assert!(r.publisher.put("one more".to_owned()).is_err(), "the publisher is held back");

    // The slow one catches up: everything arrives, in order, at both.
    for i in 0..accepted {
        let got = tokio::time::timeout(DEADLINE, r.slow_sink.inbox.recv()).await.expect("it arrives");
        assert_eq!(got, Some(format!("m{i}")));
    }
    for i in 0..accepted {
        assert_eq!(recv(&mut r.fast).await, format!("m{i}"));
    }
    r.publisher.send("and then".to_owned()).await;
    assert_eq!(recv(&mut r.fast).await, "and then");
}

#[tokio::test(start_paused = true)]
async fn a_shutdown_gets_through_while_a_subscriber_is_stuck() {
    let mut r = SlowRig::new("STUCK").await;
    r.publish_until_full().await;
    let bp = r.bp.component().clone();
    assert!(!bp.has_ended());
    r.bp.send_control(ShutdownMicroprocess::new()).await;
    assert!(recv_signal(&mut r.bp).await.is_shutdown_microprocess());
    assert_eq!(join(&bp).await, Exit::Finished, "the backplane ends though a subscriber is stuck");
    // The fast subscriber is told too, and stops (at once: what it still holds is dropped).
    assert!(recv_signal(&mut r.fast).await.is_shutdown_microprocess());
    assert_eq!(join(r.fast.component()).await, Exit::Finished);
}

#[tokio::test(start_paused = true)]
async fn a_forwarder_publishes_and_passes_everything_on() {
    let s = Scheduler::new();
    backplane(&s, "FWD");
    let mut sub = subscriber(&s, "FWD");
    let mut fwd = Handle::new(PublishTo::<String>::forwarder("FWD"), &s);
    for m in ["a", "b"] {
        fwd.send(m.to_owned()).await;
    }
    fwd.send_control(ProducerFinished::new()).await;
    for m in ["a", "b"] {
        assert_eq!(recv(&mut fwd).await, m, "out of its own outbox");
        assert_eq!(recv(&mut sub).await, m, "and to the backplane");
    }
    assert!(recv_signal(&mut fwd).await.is_producer_finished());
    assert_eq!(join(fwd.component()).await, Exit::Finished);
}

#[tokio::test(start_paused = true)]
async fn a_subscriber_passes_on_what_reaches_its_own_inbox() {
    let s = Scheduler::new();
    backplane(&s, "LOCAL");
    let mut sub = subscriber(&s, "LOCAL");
    sub.send("local".to_owned()).await;
    assert_eq!(recv(&mut sub).await, "local");
}

#[tokio::test(start_paused = true)]
async fn a_subscriber_ends_when_its_backplane_is_stopped() {
    let s = Scheduler::new();
    let bp = backplane(&s, "GONE");
    let mut sub = subscriber(&s, "GONE");
    bp.stop();
    assert!(recv_signal(&mut sub).await.is_producer_finished());
    assert_eq!(join(sub.component()).await, Exit::Finished);
}

#[tokio::test(start_paused = true)]
async fn a_publisher_or_subscriber_of_another_type_is_refused_naming_both_types() {
    let s = Scheduler::new();
    backplane(&s, "TYPED");
    let publisher = s.activate(PublishTo::<u32>::new("TYPED"));
    let why = failure(join(&publisher).await);
    assert!(why.contains("TYPED") && why.contains("u32") && why.contains("String"), "{why}");
    let subscriber = s.activate(SubscribeTo::<u32>::new("TYPED"));
    let why = failure(join(&subscriber).await);
    assert!(why.contains("TYPED") && why.contains("Subscription<u32>") && why.contains("String"), "{why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_publishers_and_subscribers_on_many_threads() {
    const SUBSCRIBERS: usize = 8;
    const PUBLISHERS: usize = 4;
    const EACH: usize = 250;
    let s = Scheduler::new();
    let mut bp = Handle::new(Backplane::<String>::new("BUSY").register(&s).unwrap(), &s);
    let mut subs = Vec::new();
    for _ in 0..SUBSCRIBERS {
        subs.push(subscriber(&s, "BUSY"));
    }
    let mut publishing = Vec::new();
    for p in 0..PUBLISHERS {
        let mut publisher = Handle::new(PublishTo::<String>::new("BUSY"), &s);
        publishing.push(tokio::spawn(async move {
            for i in 0..EACH {
                publisher.send(format!("{p} {i}")).await;
            }
            publisher
        }));
    }
    let reading: Vec<_> = subs
        .into_iter()
        .map(|mut sub| {
            tokio::spawn(async move {
                let mut next = [0; PUBLISHERS];
                for _ in 0..PUBLISHERS * EACH {
                    let m = tokio::time::timeout(DEADLINE, sub.recv()).await.expect("it arrives").expect("open");
                    let (p, i) = m.split_once(' ').unwrap();
                    let (p, i): (usize, usize) = (p.parse().unwrap(), i.parse().unwrap());
                    assert_eq!(i, next[p], "each publisher's messages arrive in order");
                    next[p] += 1;
                }
                sub
            })
        })
        .collect();
    let mut publishers = Vec::new();
    for p in publishing {
        publishers.push(tokio::time::timeout(DEADLINE, p).await.expect("publishing ends").unwrap());
    }
    let mut subs = Vec::new();
    for r in reading {
        subs.push(tokio::time::timeout(DEADLINE, r).await.expect("reading ends").unwrap());
    }
    bp.send_control(ProducerFinished::new()).await;
    for sub in &mut subs {
        assert!(recv_signal(sub).await.is_producer_finished());
        assert!(sub.get().is_err(), "nothing more than was published");
    }
    assert!(recv_signal(&mut bp).await.is_producer_finished());
    drop(publishers);
    assert!(s.failures().is_empty());
}

// ----- Ending when the publishers have finished -----

#[tokio::test(start_paused = true)]
async fn end_after_publishers_ends_once_that_many_have_finished_and_none_is_publishing() {
    let s = Scheduler::new();
    let mut bp = Handle::new(Backplane::<String>::new("COUNT").end_after_publishers(2), &s);
    let bp_ref = bp.component().clone();
    let mut sub = subscriber(&s, "COUNT");
    let mut first = Handle::new(PublishTo::<String>::new("COUNT"), &s);
    let mut second = Handle::new(PublishTo::<String>::new("COUNT"), &s);
    let mut third = Handle::new(PublishTo::<String>::new("COUNT"), &s);
    first.send("1".to_owned()).await;
    first.send_control(ProducerFinished::new()).await;
    second.send("2".to_owned()).await;
    // Any end counts as finishing: here a shutdown.
    second.send_control(ShutdownMicroprocess::new()).await;
    for p in [&first, &second] {
        assert_eq!(join(p.component()).await, Exit::Finished);
    }
    settle().await;
    assert!(!bp_ref.has_ended(), "two have finished, but the third is still publishing");
    assert!(sub.get_signal().is_err(), "and the subscriber was told nothing");

    third.send("3".to_owned()).await;
    drop(third); // its control closes: it ends, and counts as finished
    for m in ["1", "2", "3"] {
        assert_eq!(recv(&mut sub).await, m);
    }
    assert!(recv_signal(&mut sub).await.is_producer_finished(), "then the end, passed on");
    assert_eq!(join(sub.component()).await, Exit::Finished);
    let end = recv_signal(&mut bp).await;
    assert!(matches!(&end, Ipc::ProducerFinished(p) if p.caller == Some(bp_ref.id())), "its own: {end:?}");
    assert_eq!(join(&bp_ref).await, Exit::Finished);
    assert!(s.tracker().retrieve_service(&inbox_service("COUNT")).is_err(), "its name is withdrawn");
    assert!(s.failures().is_empty());
}

#[tokio::test(start_paused = true)]
async fn without_end_after_publishers_the_backplane_outlives_its_publishers() {
    let s = Scheduler::new();
    let bp = backplane(&s, "FOREVER");
    for _ in 0..3 {
        let mut p = Handle::new(PublishTo::<String>::new("FOREVER"), &s);
        p.send_control(ProducerFinished::new()).await;
        join(p.component()).await;
    }
    settle().await;
    assert!(!bp.has_ended(), "as in Kamaelia, it runs until told otherwise");
}

// Nothing published can be lost at the end: a publisher that comes once the backplane has begun
// to end is refused, and says why.
#[tokio::test(start_paused = true)]
async fn a_publisher_that_comes_once_the_backplane_has_begun_to_end_is_refused() {
    let mut r = SlowRig::new("CLOSING").await;
    let accepted = r.publish_until_full().await;
    // The backplane begins to end, and waits to deliver what it holds to the slow subscriber.
    r.bp.send_control(ProducerFinished::new()).await;
    settle().await;
    assert!(!r.bp.component().has_ended());
    let late = r.s.activate(PublishTo::<String>::new("CLOSING"));
    let why = failure(join(&late).await);
    assert_eq!(why, BackplaneError::Ended { name: "CLOSING".into() }.to_string());
    assert!(why.contains("backplane `CLOSING` has ended or is ending"), "{why}");
    // Everything accepted before the end still arrives, then the end.
    for i in 0..accepted {
        let got = tokio::time::timeout(DEADLINE, r.slow_sink.inbox.recv()).await.expect("it arrives");
        assert_eq!(got, Some(format!("m{i}")));
        assert_eq!(recv(&mut r.fast).await, format!("m{i}"));
    }
    assert!(recv_signal(&mut r.fast).await.is_producer_finished());
    assert_eq!(join(r.bp.component()).await, Exit::Finished);
}

#[tokio::test(start_paused = true)]
async fn a_publisher_that_cannot_link_is_not_counted() {
    let s = Scheduler::new();
    let bp = s.activate(Backplane::<String>::new("STRICT").end_after_publishers(1));
    let wrong = s.activate(PublishTo::<u32>::new("STRICT"));
    failure(join(&wrong).await);
    settle().await;
    assert!(!bp.has_ended(), "a publisher of another type never published: it does not end the backplane");
}

// The hub a publisher counts itself in is found through the scheduler's tracker, by name: a
// backplane re-created under a name once the first has ended counts its own publishers, not the
// first one's.
#[tokio::test(start_paused = true)]
async fn a_backplane_recreated_under_the_same_name_counts_its_own_publishers() {
    let s = Scheduler::new();
    for round in 0..3 {
        let bp = s.activate(Backplane::<String>::new("AGAIN").end_after_publishers(1));
        let mut sub = subscriber(&s, "AGAIN");
        let mut publisher = Handle::new(PublishTo::<String>::new("AGAIN"), &s);
        publisher.send(format!("round {round}")).await;
        publisher.send_control(ProducerFinished::new()).await;
        assert_eq!(recv(&mut sub).await, format!("round {round}"));
        assert!(recv_signal(&mut sub).await.is_producer_finished());
        assert_eq!(join(&bp).await, Exit::Finished);
        // Once it has ended, a publisher of that name finds no backplane.
        let late = s.activate(PublishTo::<String>::new("AGAIN"));
        assert!(failure(join(&late).await).contains("AGAIN"));
    }
    assert!(s.tracker().information_items_logged().contains(&"Backplane_H_AGAIN".to_owned()));
}

// ----- The obvious program: one publisher, two subscribers, run to the end, many times -----

/// Sends 0, 1, ... `n - 1`, then says it has finished.
fn count(n: u32) -> impl Component<Inbox = (), Outbox = u32> {
    from_fn("Count", move |mut ctx: Context<(), u32>| async move {
        for i in 0..n {
            ctx.outbox.send(i).await;
        }
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    })
}

/// What a collector received, and the control message that ended it (`None`: its inputs closed).
type Collected = (Vec<u32>, Option<Ipc>);

/// Collects what reaches its inbox until a control message arrives (then takes what is still
/// queued), and reports it on `tx` as it ends.
fn collector(tx: mpsc::Sender<Collected>) -> impl Component<Inbox = u32, Outbox = ()> {
    from_fn("Collect", move |mut ctx: Context<u32, ()>| async move {
        let mut got = Vec::new();
        let mut end = None;
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(n) => got.push(n),
                Event::Control(msg) => {
                    got.extend(ctx.inbox.drain());
                    end = Some(msg);
                    break;
                }
            }
        }
        let _ = tx.send((got, end));
        Ok(())
    })
}

/// A `SubscribeTo` of `name` whose `outbox` and `signal` feed a collector; both activated.
fn subscribe_and_collect(s: &Scheduler, name: &str) -> mpsc::Receiver<Collected> {
    let (tx, rx) = mpsc::channel();
    let subscriber = Instance::new(SubscribeTo::<u32>::new(name));
    let sink = Instance::new(collector(tx));
    s.link((&subscriber, "outbox"), (&sink, "inbox")).unwrap();
    s.link((&subscriber, "signal"), (&sink, "control")).unwrap();
    sink.activate(s);
    subscriber.activate(s);
    rx
}

/// Runs `program` on a thread of its own and returns what it returns, failing the test if that
/// takes longer than `deadline` (the program hangs) or the program panics.
fn within<R: Send + 'static>(deadline: Duration, what: &str, program: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(program());
    });
    match rx.recv_timeout(deadline) {
        Ok(r) => r,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: not done after {deadline:?}: it hangs"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: the program panicked (see above)"),
    }
}

/// The program, written the obvious way: a backplane that ends after its one publisher, two
/// subscribers each feeding a collector, then a pipeline that counts to `n` into a `PublishTo`;
/// `run` until everything has ended. Returns what each collector received.
fn obvious_program(scheduler: Scheduler, n: u32) -> Vec<Collected> {
    scheduler.activate(Backplane::<u32>::new("NEWS").end_after_publishers(1));
    let collectors = [subscribe_and_collect(&scheduler, "NEWS"), subscribe_and_collect(&scheduler, "NEWS")];
    scheduler.activate(pipeline![count(n), PublishTo::<u32>::new("NEWS")]);
    scheduler.run().expect("nothing fails");
    collectors.iter().map(|rx| rx.try_recv().expect("every collector has ended, and reported")).collect()
}

/// Checks that each of two subscribers got 0..n, in order, then a `ProducerFinished`.
fn check(collected: &[Collected], n: u32, what: &str) {
    assert_eq!(collected.len(), 2);
    for (i, (got, end)) in collected.iter().enumerate() {
        assert_eq!(got.len(), n as usize, "{what}: subscriber {i} got {} of {n}", got.len());
        assert!(got.iter().copied().eq(0..n), "{what}: subscriber {i} got them out of order");
        assert!(end.as_ref().is_some_and(Ipc::is_producer_finished), "{what}: subscriber {i} ended with {end:?}");
    }
}

/// Runs the obvious program `runs` times with `n` messages on schedulers made by `scheduler`.
fn run_the_obvious_program(scheduler: fn() -> Scheduler, kind: &str, runs: usize, n: u32, deadline: Duration) {
    for run in 0..runs {
        let what = format!("{kind}, {n} messages, run {run}");
        let collected = within(deadline, &what, move || obvious_program(scheduler(), n));
        check(&collected, n, &what);
    }
}

fn per_thread() -> Scheduler {
    Scheduler::per_thread(2)
}

#[test]
fn the_obvious_program_delivers_ten_messages_to_both_subscribers_and_ends() {
    run_the_obvious_program(Scheduler::new, "default scheduler", 50, 10, Duration::from_secs(60));
}

#[test]
fn the_obvious_program_delivers_ten_messages_to_both_subscribers_and_ends_per_thread() {
    run_the_obvious_program(per_thread, "per_thread(2)", 50, 10, Duration::from_secs(60));
}

#[test]
fn the_obvious_program_delivers_100_000_messages_to_both_subscribers_and_ends() {
    run_the_obvious_program(Scheduler::new, "default scheduler", RUNS_OF_100_000, 100_000, Duration::from_secs(300));
}

#[test]
fn the_obvious_program_delivers_100_000_messages_to_both_subscribers_and_ends_per_thread() {
    run_the_obvious_program(per_thread, "per_thread(2)", RUNS_OF_100_000, 100_000, Duration::from_secs(300));
}

/// How many times the 100,000-message program runs per scheduler.
const RUNS_OF_100_000: usize = 50;

/// The module docs' example: handles, the backplane registered, nothing to wait for. Returns what
/// each subscriber received before its outbox closed.
fn with_handles(scheduler: Scheduler, n: u32, backplane_last: bool) -> Vec<Vec<u32>> {
    // Registered first, so that it can also be activated after its subscribers and publisher.
    let mut registered = Some(Backplane::<u32>::new("NEWS").register(&scheduler).expect("the name is free"));
    let mut backplane = None;
    if !backplane_last {
        backplane = registered.take().map(|b| scheduler.activate(b));
    }
    let mut subscribers = [
        Handle::new(SubscribeTo::<u32>::new("NEWS"), &scheduler),
        Handle::new(SubscribeTo::<u32>::new("NEWS"), &scheduler),
    ];
    let mut publisher = Handle::new(PublishTo::<u32>::new("NEWS"), &scheduler);
    for i in 0..n {
        publisher.send_blocking(i);
    }
    let backplane = backplane.or_else(|| registered.take().map(|b| scheduler.activate(b))).expect("activated");
    let mut got: Vec<Vec<u32>> =
        subscribers.iter_mut().map(|h| (0..n).filter_map(|_| h.recv_blocking()).collect()).collect();
    // Then the end: the backplane delivers nothing more, and its subscribers end.
    backplane.deliver("control", Ipc::from(ProducerFinished::new())).unwrap();
    for (h, got) in subscribers.iter_mut().zip(&mut got) {
        got.extend(std::iter::from_fn(|| h.recv_blocking()));
    }
    got
}

#[test]
fn handles_written_the_obvious_way_receive_everything_every_time() {
    for (make, kind) in [(Scheduler::new as fn() -> Scheduler, "default scheduler"), (per_thread, "per_thread(2)")] {
        for backplane_last in [false, true] {
            for run in 0..50 {
                let what = format!("{kind}, backplane activated last: {backplane_last}, run {run}");
                let got = within(Duration::from_secs(60), &what, move || with_handles(make(), 10, backplane_last));
                for (i, got) in got.iter().enumerate() {
                    assert!(got.iter().copied().eq(0..10), "{what}: subscriber {i} got {got:?}");
                }
            }
        }
    }
}
