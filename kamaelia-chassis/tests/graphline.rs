//! Graphline: Kamaelia's `test_Graphline.py` (tests 7–30 of the chassis reference, §6), ported,
//! and the Rust additions: wiring mistakes refused when the Graphline is built, external boxes
//! per instance (Kamaelia's class-dict leak), and the `graphline!` macro.
//!
//! Each test drives [`MockChild`](mock_child::MockChild)ren by hand through their puppets and
//! drives the Graphline's standard boxes through a [`Handle`]; every wait has a deadline.
//!
//! Kamaelia's mock children carry anything on any box. Here boxes are typed, so each test picks
//! the mocks' types its linkages need: a child whose `outbox` feeds another's `control` sends
//! [`Ipc`], and so on.

mod mock_child;

use axon_core::boxes::{CONTROL_DESCRIPTION, INBOX_DESCRIPTION, SIGNAL_DESCRIPTION};
use axon_core::ipc::{ProducerFinished, ShutdownMicroprocess};
use axon_core::prelude::*;
use axon_core::{AnyInstance, BoxKind, ComponentState, Exit, TryRecvError};
use kamaelia_chassis::graphline;
use kamaelia_chassis::graphline::{child, Graphline, GraphlineError};
use mock_child::{mock, within, Puppet};

type Text = Puppet<String, String>;

/// `N` mocks carrying text, boxed to be named as children, and their puppets.
fn text_mocks<const N: usize>() -> ([Box<dyn AnyInstance>; N], [Text; N]) {
    let mut puppets = Vec::with_capacity(N);
    let instances = std::array::from_fn(|_| {
        let (instance, puppet) = mock::<String, String>();
        puppets.push(puppet);
        instance.boxed()
    });
    (instances, puppets.try_into().unwrap_or_else(|_| unreachable!("one puppet per mock")))
}

/// Named children, as `Graphline::new` takes them.
type Children<const N: usize> = [(&'static str, Box<dyn AnyInstance>); N];

/// Three mocks `A`, `B`, `C`; `A`'s outbox carries `Ipc` so that it can feed `B`'s control.
fn abc_ipc_a() -> (Children<3>, Puppet<String, Ipc>, Text, Text) {
    let (a, pa) = mock::<String, Ipc>();
    let (b, pb) = mock::<String, String>();
    let (c, pc) = mock::<String, String>();
    ([("A", child(a)), ("B", child(b)), ("C", child(c))], pa, pb, pc)
}

async fn activated<I: Send + 'static, O: Send + 'static>(p: &mut Puppet<I, O>) {
    p.activated().await
}

fn is_other(msg: &Ipc, text: &str) -> bool {
    matches!(msg, Ipc::Other(s) if s == text)
}

fn same_shutdown(msg: &Ipc, sent: &ShutdownMicroprocess) -> bool {
    matches!(msg, Ipc::ShutdownMicroprocess(s) if s == sent)
}

// ----- building (tests 7–12) -----

// Tests 7 and 8 (`Graphline()` and `Graphline(A=.., B=..)` without linkages raise) have no
// run-time meaning: the linkages are a required argument, so leaving them out does not compile
// (the `compile_fail` doctests in `graphline.rs`).

/// Test 9 (`test_graphlineEmptyLinkagesArg`).
#[test]
fn children_with_an_empty_linkage_declaration_build() {
    let (kids, _p) = text_mocks::<2>();
    let [a, b] = kids;
    let g = Graphline::new([("A", a), ("B", b)], []).expect("an empty declaration is sound");
    assert_eq!(g.behaviour().child_names().collect::<Vec<_>>(), ["A", "B"]);
}

/// Test 10 (`test_graphlineNoComponentsEmptyLinkagesArg`); run, it ends at once with a
/// `ProducerFinished` (no children to wait for).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_children_and_no_linkages_build_and_end_at_once_with_producer_finished() {
    let g = Graphline::new([], []).expect("an empty Graphline is sound");
    let mut h = Handle::new(g, &Scheduler::new());
    assert_eq!(within("the Graphline to end", h.join()).await, Exit::Finished);
    let last = within("the signal", h.recv_signal()).await.expect("a signal");
    assert!(last.is_producer_finished(), "got {last:?}");
}

/// Test 11 (`test_graphlineHasChildren`) and test 12 (`test_unactivatedGraphlineHasNoChildren`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_children_become_its_children_once_it_runs_and_not_before() {
    let (kids, mut puppets) = text_mocks::<2>();
    let [a, b] = kids;
    let g = Graphline::new([("A", a), ("B", b)], []).unwrap();
    assert!(g.component().children().is_empty(), "children before activation");
    assert_eq!(g.behaviour().child("A"), Some(puppets[0].component()));

    let h = Handle::new(g, &Scheduler::new());
    for p in &mut puppets {
        activated(p).await; // children are added before they are activated
    }
    let children = h.component().children();
    for p in &puppets {
        assert!(children.contains(p.component()), "{} is not a child", p.component().name());
        assert_eq!(p.component().parent(), Some(h.component().id()));
    }
}

/// Test 13 (`test_activatesChildrenOnlyWhenActivatedNotLinked`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlinked_children_are_activated_with_the_graphline_and_not_before() {
    let (kids, mut puppets) = text_mocks::<3>();
    let [a, b, c] = kids;
    let g = Graphline::new([("A", a), ("B", b), ("C", c)], []).unwrap();
    for p in &puppets {
        assert!(!p.was_activated());
        assert_eq!(p.component().state(), ComponentState::Created);
    }
    let _h = Handle::new(g, &Scheduler::new());
    for p in &mut puppets {
        activated(p).await;
    }
}

/// Test 14 (`test_activatesChildrenOnlyWhenActivatedLinked`), with a cycle A→B→C→A.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linked_children_are_activated_with_the_graphline_and_not_before() {
    let (kids, mut puppets) = text_mocks::<3>();
    let [a, b, c] = kids;
    let g = Graphline::new(
        [("A", a), ("B", b), ("C", c)],
        [(("A", "outbox"), ("B", "inbox")), (("B", "outbox"), ("C", "inbox")), (("C", "outbox"), ("A", "inbox"))],
    )
    .unwrap();
    for p in &puppets {
        assert!(!p.was_activated());
    }
    let _h = Handle::new(g, &Scheduler::new());
    for p in &mut puppets {
        activated(p).await;
    }
    // And the cycle carries data.
    puppets[2].send("round".to_owned()).await;
    assert_eq!(puppets[0].recv().await, "round");
}

// ----- linkages between children (tests 15–17) -----

/// Test 15 (`test_linkagesBetweenComponents`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linkage_between_children_delivers_to_its_sink_and_nowhere_else() {
    let (kids, mut puppets) = text_mocks::<2>();
    let [a, b] = kids;
    let g = Graphline::new([("A", a), ("B", b)], [(("A", "outbox"), ("B", "inbox"))]).unwrap();
    let mut h = Handle::new(g, &Scheduler::new());
    for p in &mut puppets {
        activated(p).await;
    }
    puppets[0].send("A to B".to_owned()).await;
    assert!(!puppets[0].any_ready());
    assert_eq!(puppets[1].recv().await, "A to B");
    assert_eq!(h.get_signal().unwrap_err(), TryRecvError::Empty);
    assert_eq!(h.get().unwrap_err(), TryRecvError::Empty);
}

/// Test 16 (`test_severalLinkagesBetweenComponents`): outbox→inbox, outbox→control,
/// signal→inbox and signal→control, each delivering only where declared.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_linkages_between_children_all_deliver_and_nothing_leaks() {
    let (a, mut pa) = mock::<Ipc, String>(); // C's signal feeds A's inbox
    let (b, mut pb) = mock::<String, String>();
    let (c, mut pc) = mock::<String, Ipc>(); // C's outbox feeds D's control
    let (d, mut pd) = mock::<String, String>();
    let g = Graphline::new(
        [("A", child(a)), ("B", child(b)), ("C", child(c)), ("D", child(d))],
        [
            (("A", "outbox"), ("B", "inbox")),
            (("C", "outbox"), ("D", "control")),
            (("C", "signal"), ("A", "inbox")),
            (("B", "signal"), ("A", "control")),
        ],
    )
    .unwrap();
    let _h = Handle::new(g, &Scheduler::new());
    activated(&mut pa).await;
    activated(&mut pb).await;
    activated(&mut pc).await;
    activated(&mut pd).await;
    let quiet = |pa: &Puppet<Ipc, String>, pb: &Text, pc: &Puppet<String, Ipc>, pd: &Text| {
        !pa.any_ready() && !pb.any_ready() && !pc.any_ready() && !pd.any_ready()
    };

    pa.send("A.outbox".to_owned()).await;
    assert_eq!(pb.recv().await, "A.outbox");
    assert!(quiet(&pa, &pb, &pc, &pd));

    pc.send("C.outbox".into()).await;
    assert!(is_other(&pd.recv_control().await, "C.outbox"));
    assert!(quiet(&pa, &pb, &pc, &pd));

    pc.signal("C.signal").await;
    assert!(is_other(&pa.recv().await, "C.signal"));
    assert!(quiet(&pa, &pb, &pc, &pd));

    pb.signal("B.signal").await;
    assert!(is_other(&pa.recv_control().await, "B.signal"));
    assert!(quiet(&pa, &pb, &pc, &pd));
}

/// Test 17 (`test_terminateWhenAllChildrenHaveTerminated`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_graphline_ends_only_when_all_its_children_have_ended() {
    let (kids, mut puppets) = text_mocks::<3>();
    let [a, b, c] = kids;
    let g = Graphline::new([("A", a), ("B", b), ("C", c)], [(("A", "outbox"), ("B", "inbox"))]).unwrap();
    let scheduler = Scheduler::new();
    let h = Handle::new(g, &scheduler);
    for p in &mut puppets {
        activated(p).await;
    }
    for p in &puppets {
        assert!(scheduler.components().contains(h.component()), "the Graphline ended with a child running");
        p.stop().await;
    }
    assert_eq!(within("the Graphline to end", h.join()).await, Exit::Finished);
    assert!(!scheduler.components().contains(h.component()));
}

// ----- passthroughs and the Graphline's own boxes (tests 18–21) -----

/// Test 18 (`test_specifyingPassthruInLinkage`): `("self", "inbox")` and `("self", "control")` as
/// sources pass the Graphline's boxes through to children.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_inbox_and_control_pass_through_to_the_children_they_are_linked_to() {
    let (a, mut pa) = mock::<String, String>();
    let (b, mut pb) = mock::<Ipc, String>(); // the Graphline's control feeds B's inbox
    let (c, mut pc) = mock::<String, String>();
    // The Graphline's inbox feeds A's control, so it carries Ipc.
    let g = Graphline::<Ipc, ()>::typed(
        [("A", child(a)), ("B", child(b)), ("C", child(c))],
        [
            (("self", "inbox"), ("A", "control")),
            (("self", "control"), ("B", "inbox")),
            (("C", "outbox"), ("A", "inbox")),
        ],
    )
    .unwrap();
    let mut h = Handle::new(g, &Scheduler::new());
    activated(&mut pa).await;
    activated(&mut pb).await;
    activated(&mut pc).await;

    h.send("to self.inbox".into()).await;
    assert!(is_other(&pa.recv_control().await, "to self.inbox"));
    assert!(!pa.any_ready() && !pb.any_ready() && !pc.any_ready());

    h.send_control("to self.control").await;
    assert!(is_other(&pb.recv().await, "to self.control"));
    assert!(!pa.any_ready() && !pb.any_ready() && !pc.any_ready());
}

/// Test 18, the other names: Kamaelia takes any unknown name (`""`, `"pig"`, ...) as the Graphline
/// itself. Here only `"self"` does; any other unknown name is refused when the Graphline is built.
#[test]
fn a_name_that_is_neither_a_child_nor_self_is_refused() {
    for name in ["", "flurble", "a", "component", "pig", "Self"] {
        let (kids, _p) = text_mocks::<2>();
        let [a, b] = kids;
        let err = Graphline::new([("A", a), ("B", b)], [((name, "inbox"), ("A", "control"))]).unwrap_err();
        match &err {
            GraphlineError::UnknownChild { name: unknown, children, linkage } => {
                assert_eq!(unknown, name);
                assert_eq!(children, "A, B");
                assert_eq!(linkage.source, (name.to_owned(), "inbox".to_owned()));
            }
            other => panic!("expected UnknownChild, got {other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains(&format!("({name:?}, \"inbox\"): (\"A\", \"control\")")), "{text}");
        assert!(text.contains("\"self\""), "the message should say how to name the Graphline: {text}");
    }
}

/// Test 19 (`test_specifyingPassthruInLinkageNewBox`): a new `("self", X)` source becomes an inbox
/// of the Graphline, typed and described like the child's inbox it feeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_self_source_box_becomes_an_inbox_of_the_graphline() {
    let (a, mut pa) = mock::<String, String>();
    let (b, mut pb) = mock::<u64, String>();
    let (c, mut pc) = mock::<String, String>();
    let g = Graphline::new(
        [("A", child(a)), ("B", child(b)), ("C", child(c))],
        [
            (("self", "novel-inbox"), ("A", "control")),
            (("self", "another-novel-inbox"), ("B", "inbox")),
            (("C", "outbox"), ("A", "inbox")),
        ],
    )
    .unwrap();
    let me = g.component().clone();
    assert_eq!(me.box_type(BoxKind::Inbox, "novel-inbox").unwrap().1, std::any::type_name::<Ipc>());
    assert_eq!(me.box_type(BoxKind::Inbox, "another-novel-inbox").unwrap().1, "u64");
    assert_eq!(me.box_names(BoxKind::Inbox), ["inbox", "control", "novel-inbox", "another-novel-inbox"]);

    let scheduler = Scheduler::new();
    let _h = Handle::new(g, &scheduler);
    activated(&mut pa).await;
    activated(&mut pb).await;
    activated(&mut pc).await;
    // Descriptions are copied from the child's box (Kamaelia's addExternalPostboxes).
    let snapshot = scheduler.introspect();
    let info = snapshot.component(me.id()).expect("the Graphline is alive");
    assert_eq!(info.find_box(BoxKind::Inbox, "novel-inbox").unwrap().description, CONTROL_DESCRIPTION);
    assert_eq!(info.find_box(BoxKind::Inbox, "another-novel-inbox").unwrap().description, INBOX_DESCRIPTION);

    me.deliver("novel-inbox", Ipc::from("to novel-inbox")).unwrap();
    assert!(is_other(&pa.recv_control().await, "to novel-inbox"));
    me.deliver("another-novel-inbox", 42u64).unwrap();
    assert_eq!(pb.recv().await, 42);
    assert!(!pa.any_ready() && !pb.any_ready() && !pc.any_ready());
}

/// Test 20 (`test_specifyingPassthruOutLinkage`): children's boxes linked to
/// `("self", "signal")` / `("self", "outbox")` leave through the Graphline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_boxes_linked_to_self_outbox_and_signal_leave_through_the_graphline() {
    let (a, mut pa) = mock::<String, Ipc>(); // A's outbox leaves through the Graphline's signal
    let (b, mut pb) = mock::<String, String>();
    let (c, mut pc) = mock::<String, String>();
    // B's signal leaves through the Graphline's outbox, so that carries Ipc.
    let g = Graphline::<(), Ipc>::typed(
        [("A", child(a)), ("B", child(b)), ("C", child(c))],
        [
            (("A", "outbox"), ("self", "signal")),
            (("B", "signal"), ("self", "outbox")),
            (("C", "outbox"), ("A", "inbox")),
        ],
    )
    .unwrap();
    let mut h = Handle::new(g, &Scheduler::new());
    activated(&mut pa).await;
    activated(&mut pb).await;
    activated(&mut pc).await;

    pa.send("A.outbox".into()).await;
    assert!(is_other(&h.get_signal().unwrap(), "A.outbox"));
    pb.signal("B.signal").await;
    assert!(is_other(&h.get().unwrap(), "B.signal"));
    assert!(!pa.any_ready() && !pb.any_ready() && !pc.any_ready());
}

/// Test 21 (`test_specifyingPassthruOutLinkageNewBox`): a new `("self", Y)` sink becomes an outbox
/// of the Graphline, typed and described like the child's outbox that feeds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_self_sink_box_becomes_an_outbox_of_the_graphline() {
    let (a, mut pa) = mock::<String, String>();
    let (b, mut pb) = mock::<String, String>();
    let (c, mut pc) = mock::<String, String>();
    let g = Graphline::new(
        [("A", child(a)), ("B", child(b)), ("C", child(c))],
        [
            (("A", "outbox"), ("self", "novel-boxname")),
            (("B", "signal"), ("self", "another-novel-boxname")),
            (("C", "outbox"), ("A", "inbox")),
        ],
    )
    .unwrap();
    let scheduler = Scheduler::new();
    // Kamaelia's ensureHandlerForOutbox: something listening on each new outbox.
    let (data_sink, mut data) = mock::<String, ()>();
    let (signal_sink, mut signals) = mock::<Ipc, ()>();
    scheduler.link((g.component(), "novel-boxname"), (&data_sink, "inbox")).unwrap();
    scheduler.link((g.component(), "another-novel-boxname"), (&signal_sink, "inbox")).unwrap();
    scheduler.activate(data_sink);
    scheduler.activate(signal_sink);
    let me = g.component().clone();
    let _h = Handle::new(g, &scheduler);
    activated(&mut data).await;
    activated(&mut signals).await;
    activated(&mut pa).await;
    activated(&mut pb).await;
    activated(&mut pc).await;
    let snapshot = scheduler.introspect();
    let info = snapshot.component(me.id()).expect("the Graphline is alive");
    assert_eq!(info.find_box(BoxKind::Outbox, "another-novel-boxname").unwrap().description, SIGNAL_DESCRIPTION);

    pa.send("A.outbox".to_owned()).await;
    assert_eq!(data.recv().await, "A.outbox");
    pb.signal("B.signal").await;
    assert!(is_other(&signals.recv().await, "B.signal"));
    assert!(!pa.any_ready() && !pb.any_ready() && !pc.any_ready());
}

/// The class-dict leak fixed: Kamaelia wrote external boxes into `Graphline.Inboxes`/`Outboxes`,
/// so a second, unrelated Graphline had the first one's boxes.
#[test]
fn a_second_graphline_does_not_get_the_first_ones_boxes() {
    let (kids, _p) = text_mocks::<2>();
    let [video, audio] = kids;
    let first = Graphline::new(
        [("videoHandler", video), ("audioHandler", audio)],
        [(("self", "video"), ("videoHandler", "inbox")), (("audioHandler", "outbox"), ("self", "audio_out"))],
    )
    .unwrap();
    assert!(first.component().has_box(BoxKind::Inbox, "video"));
    assert!(first.component().has_box(BoxKind::Outbox, "audio_out"));

    let (kids, _q) = text_mocks::<1>();
    let [other] = kids;
    let second = Graphline::new([("other", other)], []).unwrap();
    assert_eq!(second.component().box_names(BoxKind::Inbox), ["inbox", "control"]);
    assert_eq!(second.component().box_names(BoxKind::Outbox), ["outbox", "signal"]);
}

// ----- shutdown (tests 22–30) -----

/// Test 22 (`test_emissionOfShutdownSignal_1`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_nothing_on_control_it_sends_producer_finished_once_every_child_has_ended() {
    let (kids, mut puppets) = text_mocks::<3>();
    let [a, b, c] = kids;
    let g = Graphline::new([("A", a), ("B", b), ("C", c)], [(("A", "outbox"), ("B", "inbox"))]).unwrap();
    let mut h = Handle::new(g, &Scheduler::new());
    for p in &mut puppets {
        activated(p).await;
    }
    assert_eq!(h.get_signal().unwrap_err(), TryRecvError::Empty, "signalled while children run");
    for p in &puppets {
        p.stop().await;
    }
    assert_eq!(within("the Graphline to end", h.join()).await, Exit::Finished);
    match within("the signal", h.recv_signal()).await {
        Some(Ipc::ProducerFinished(pf)) => assert_eq!(pf.caller, Some(h.component().id())),
        other => panic!("expected ProducerFinished, got {other:?}"),
    }
}

/// Test 23 (`test_emissionOfShutdownSignal_2`): the same `ShutdownMicroprocess` comes back out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_microprocess_received_is_the_message_sent_at_the_end() {
    let (kids, mut puppets) = text_mocks::<3>();
    let [a, b, c] = kids;
    let g = Graphline::new([("A", a), ("B", b), ("C", c)], [(("A", "outbox"), ("B", "inbox"))]).unwrap();
    let mut h = Handle::new(g, &Scheduler::new());
    for p in &mut puppets {
        activated(p).await;
    }
    assert_eq!(h.get_signal().unwrap_err(), TryRecvError::Empty);

    // Naming a component makes this message distinguishable from any other.
    let shutdown = ShutdownMicroprocess::of([puppets[1].component().id()]);
    h.send_control(shutdown.clone()).await;
    for p in &puppets {
        assert!(same_shutdown(&p.recv_control().await, &shutdown));
    }
    for p in &puppets {
        p.stop().await;
    }
    within("the Graphline to end", h.join()).await;
    let last = within("the signal", h.recv_signal()).await.expect("a signal");
    assert!(same_shutdown(&last, &shutdown), "got {last:?}");
}

/// Test 24 (`test_receivesShutdownPassesThru`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_passed_through_to_a_child_reaches_that_child_only() {
    let (kids, mut puppets) = text_mocks::<3>();
    let [a, b, c] = kids;
    let g = Graphline::new([("A", a), ("B", b), ("C", c)], [(("self", "control"), ("A", "control"))]).unwrap();
    let mut h = Handle::new(g, &Scheduler::new());
    for p in &mut puppets {
        activated(p).await;
    }
    let shutdown = ShutdownMicroprocess::new();
    h.send_control(shutdown.clone()).await;
    assert!(same_shutdown(&puppets[0].recv_control().await, &shutdown));
    assert!(puppets.iter().all(|p| !p.any_ready()));
    // No broadcast outboxes were made: the user is in charge of control.
    assert!(!h.component().box_names(BoxKind::Outbox).iter().any(|n| n.starts_with("_cs")));
}

/// Test 25 (`test_receivesShutdownDisseminated`): B's control is linked (from A), so only A and C
/// get the message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_messages_go_to_every_child_whose_control_is_not_linked() {
    let (kids, mut pa, mut pb, mut pc) = abc_ipc_a();
    let g = Graphline::new(kids, [(("A", "outbox"), ("B", "control"))]).unwrap();
    let mut h = Handle::new(g, &Scheduler::new());
    activated(&mut pa).await;
    activated(&mut pb).await;
    activated(&mut pc).await;

    let shutdown = ShutdownMicroprocess::new();
    h.send_control(shutdown.clone()).await;
    assert!(same_shutdown(&pa.recv_control().await, &shutdown));
    // Passed on in the order the children were given: had B been included, it would have had
    // the message before C.
    assert!(same_shutdown(&pc.recv_control().await, &shutdown));
    assert!(!pb.any_ready(), "B's control is linked; it must not get control messages");
    let outboxes = h.component().box_names(BoxKind::Outbox);
    assert!(outboxes.iter().any(|n| n == "_cs_A") && outboxes.iter().any(|n| n == "_cs_C"), "{outboxes:?}");
    assert!(!outboxes.iter().any(|n| n == "_cs_B"), "{outboxes:?}");
}

/// Test 26 (`test_receivesShutdownAndPropagates`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_microprocess_goes_out_on_signal_after_the_children_have_ended() {
    let (kids, mut pa, mut pb, mut pc) = abc_ipc_a();
    let g = Graphline::new(kids, [(("A", "outbox"), ("B", "control"))]).unwrap();
    let mut h = Handle::new(g, &Scheduler::new());
    activated(&mut pa).await;
    activated(&mut pb).await;
    activated(&mut pc).await;

    let shutdown = ShutdownMicroprocess::of([pa.component().id()]);
    h.send_control(shutdown.clone()).await;
    assert!(same_shutdown(&pa.recv_control().await, &shutdown));
    assert!(same_shutdown(&pc.recv_control().await, &shutdown));
    assert!(!h.component().has_ended(), "the Graphline ended before its children");
    assert_eq!(h.get_signal().unwrap_err(), TryRecvError::Empty);

    pa.stop().await;
    pb.stop().await;
    pc.stop().await;
    assert_eq!(within("the Graphline to end", h.join()).await, Exit::Finished);
    let last = within("the signal", h.recv_signal()).await.expect("a signal");
    assert!(same_shutdown(&last, &shutdown), "got {last:?}");
}

/// Test 27 (`test_receivesShutdownAndPropagates2`): a `ProducerFinished` on control gives a *new*
/// `ProducerFinished` at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn producer_finished_on_control_gives_a_new_producer_finished_at_the_end() {
    let (kids, mut pa, mut pb, mut pc) = abc_ipc_a();
    let g = Graphline::new(kids, [(("A", "outbox"), ("B", "control"))]).unwrap();
    let mut h = Handle::new(g, &Scheduler::new());
    activated(&mut pa).await;
    activated(&mut pb).await;
    activated(&mut pc).await;

    let sent = ProducerFinished::new().with_message("sent by the test");
    h.send_control(sent.clone()).await;
    assert!(matches!(pa.recv_control().await, Ipc::ProducerFinished(pf) if pf == sent));
    assert!(!h.component().has_ended());

    pa.stop().await;
    pb.stop().await;
    pc.stop().await;
    within("the Graphline to end", h.join()).await;
    match within("the signal", h.recv_signal()).await {
        Some(Ipc::ProducerFinished(pf)) => {
            assert_ne!(pf, sent, "the Graphline passed the received ProducerFinished on");
            assert_eq!(pf.caller, Some(h.component().id()));
        }
        other => panic!("expected ProducerFinished, got {other:?}"),
    }
}

/// Test 28 (`test_receivesShutdownAndPropagates23`): with control passed through to a child and
/// signal not linked, the end is always a new `ProducerFinished`, whatever came in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_control_passed_through_the_end_is_always_a_new_producer_finished() {
    let messages: [Ipc; 3] = [ProducerFinished::new().into(), ShutdownMicroprocess::new().into(), Ipc::from("flurble")];
    for msg in messages {
        let (kids, mut pa, mut pb, mut pc) = abc_ipc_a();
        let g = Graphline::new(kids, [(("self", "control"), ("A", "control")), (("A", "outbox"), ("B", "control"))])
            .unwrap();
        let mut h = Handle::new(g, &Scheduler::new());
        activated(&mut pa).await;
        activated(&mut pb).await;
        activated(&mut pc).await;

        h.send_control(msg.clone()).await;
        let got = pa.recv_control().await;
        assert_eq!(format!("{got:?}"), format!("{msg:?}"));
        assert!(!h.component().has_ended());

        pa.stop().await;
        pb.stop().await;
        pc.stop().await;
        within("the Graphline to end", h.join()).await;
        match within("the signal", h.recv_signal()).await {
            Some(Ipc::ProducerFinished(pf)) => assert_eq!(pf.caller, Some(h.component().id()), "after {msg:?}"),
            other => panic!("after {msg:?}: expected a new ProducerFinished, got {other:?}"),
        }
    }
}

/// Test 29 (`test_doesNotPropagateShutdownMsg`): a child linked to `("self", "signal")` means the
/// Graphline never sends anything of its own, before or after its children end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_linked_to_self_signal_stops_the_graphline_sending_its_own() {
    let (kids, mut pa, mut pb, mut pc) = abc_ipc_a();
    let g = Graphline::new(kids, [(("A", "signal"), ("self", "signal")), (("A", "outbox"), ("B", "control"))]).unwrap();
    let mut h = Handle::new(g, &Scheduler::new());
    activated(&mut pa).await;
    activated(&mut pb).await;
    activated(&mut pc).await;

    h.send_control(ProducerFinished::new()).await;
    h.send_control(ShutdownMicroprocess::new()).await;
    // Passed on to A and C (control is not passed through); wait until both have both.
    assert!(pa.recv_control().await.is_producer_finished());
    assert!(pa.recv_control().await.is_shutdown_microprocess());
    assert!(pc.recv_control().await.is_producer_finished());
    assert!(pc.recv_control().await.is_shutdown_microprocess());
    assert!(!h.component().has_ended());
    assert_eq!(h.get_signal().unwrap_err(), TryRecvError::Empty);

    pa.stop().await;
    pb.stop().await;
    pc.stop().await;
    within("the Graphline to end", h.join()).await;
    assert!(within("the signal to close", h.recv_signal()).await.is_none(), "the Graphline sent a message of its own");
}

/// Test 30 (`test_manuallyImplementedShutdownOverrides`): with control and signal both linked, the
/// user's linkages work and the Graphline sends nothing of its own, then ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_control_and_signal_both_linked_the_graphline_sends_nothing_of_its_own() {
    let (kids, mut puppets) = text_mocks::<3>();
    let [a, b, c] = kids;
    let g = Graphline::new(
        [("A", a), ("B", b), ("C", c)],
        [
            (("self", "control"), ("A", "control")),
            (("A", "signal"), ("self", "signal")),
            (("B", "outbox"), ("C", "inbox")),
        ],
    )
    .unwrap();
    let mut h = Handle::new(g, &Scheduler::new());
    for p in &mut puppets {
        activated(p).await;
    }
    assert_eq!(h.get().unwrap_err(), TryRecvError::Empty);
    assert_eq!(h.get_signal().unwrap_err(), TryRecvError::Empty);

    h.send_control("to A").await;
    assert!(is_other(&puppets[0].recv_control().await, "to A"));
    puppets[0].signal("from A").await;
    assert!(is_other(&h.get_signal().unwrap(), "from A"));
    puppets[1].send("B to C".to_owned()).await;
    assert_eq!(puppets[2].recv().await, "B to C");
    assert!(puppets.iter().all(|p| !p.any_ready()));

    for p in &puppets {
        p.stop().await;
    }
    assert_eq!(within("the Graphline to end", h.join()).await, Exit::Finished);
    assert_eq!(within("the outbox to close", h.recv()).await, None);
    assert!(within("the signal to close", h.recv_signal()).await.is_none());
}

// ----- wiring mistakes, refused when the Graphline is built -----

#[test]
fn an_unknown_box_is_refused_naming_the_linkage_and_the_boxes_the_child_has() {
    let (kids, _p) = text_mocks::<2>();
    let [a, b] = kids;
    let err = Graphline::new([("A", a), ("B", b)], [(("A", "outbx"), ("B", "inbox"))]).unwrap_err();
    assert!(
        matches!(&err, GraphlineError::UnknownBox { component, kind: "outbox", name, .. } if component == "A" && name == "outbx"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "in linkage (\"A\", \"outbx\"): (\"B\", \"inbox\"): `A` has no outbox named `outbx` (its outboxes: outbox, signal)"
    );
}

#[test]
fn a_childs_inbox_used_as_a_source_is_refused_as_an_unknown_outbox() {
    let (kids, _p) = text_mocks::<2>();
    let [a, b] = kids;
    let err = Graphline::new([("A", a), ("B", b)], [(("A", "inbox"), ("B", "inbox"))]).unwrap_err();
    assert!(matches!(&err, GraphlineError::UnknownBox { kind: "outbox", name, .. } if name == "inbox"), "{err:?}");
}

#[test]
fn a_type_mismatch_between_children_is_refused_naming_both_types() {
    let (a, _pa) = mock::<(), u32>();
    let (b, _pb) = mock::<String, ()>();
    let err = Graphline::new([("A", child(a)), ("B", child(b))], [(("A", "outbox"), ("B", "inbox"))]).unwrap_err();
    match &err {
        GraphlineError::TypeMismatch { source_type, sink_type, hint, .. } => {
            assert_eq!(*source_type, "u32");
            assert_eq!(*sink_type, std::any::type_name::<String>());
            assert!(hint.is_empty());
        }
        other => panic!("expected TypeMismatch, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.starts_with("in linkage (\"A\", \"outbox\"): (\"B\", \"inbox\"): the source carries `u32`"), "{text}");
}

#[test]
fn a_self_inbox_of_unstated_type_linked_to_a_typed_child_says_to_state_the_types() {
    let (a, _pa) = mock::<String, ()>();
    let err = Graphline::new([("A", child(a))], [(("self", "inbox"), ("A", "inbox"))]).unwrap_err();
    match &err {
        GraphlineError::TypeMismatch { source_type: "()", hint, .. } => {
            assert!(hint.contains("typed"), "{hint}");
        }
        other => panic!("expected TypeMismatch, got {other:?}"),
    }
    // Stated, it builds.
    let (a, _pa) = mock::<String, ()>();
    Graphline::<String, ()>::typed([("A", child(a))], [(("self", "inbox"), ("A", "inbox"))]).unwrap();
}

#[test]
fn fan_in_to_a_new_self_outbox_must_agree_on_the_type() {
    let (a, _pa) = mock::<(), String>();
    let (b, _pb) = mock::<(), u32>();
    let err = Graphline::new(
        [("A", child(a)), ("B", child(b))],
        [(("A", "outbox"), ("self", "merged")), (("B", "outbox"), ("self", "merged"))],
    )
    .unwrap_err();
    assert!(
        matches!(&err, GraphlineError::TypeMismatch { linkage, .. } if linkage.source.0 == "B"),
        "the second linkage is the mismatch: {err:?}"
    );
    // Same types: fan-in is allowed.
    let (a, _pa) = mock::<(), String>();
    let (b, _pb) = mock::<(), String>();
    Graphline::new(
        [("A", child(a)), ("B", child(b))],
        [(("A", "outbox"), ("self", "merged")), (("B", "outbox"), ("self", "merged"))],
    )
    .unwrap();
}

#[test]
fn a_source_box_used_twice_is_refused_as_fan_out_naming_both_linkages() {
    let (kids, _p) = text_mocks::<3>();
    let [a, b, c] = kids;
    let err = Graphline::new(
        [("A", a), ("B", b), ("C", c)],
        [(("A", "outbox"), ("B", "inbox")), (("A", "outbox"), ("C", "inbox"))],
    )
    .unwrap_err();
    match &err {
        GraphlineError::FanOut { linkage, first } => {
            assert_eq!(linkage.sink.0, "C");
            assert_eq!(first.sink.0, "B");
        }
        other => panic!("expected FanOut, got {other:?}"),
    }
    assert!(err.to_string().contains("fan-out"), "{err}");
}

#[test]
fn a_linkage_between_two_of_the_graphlines_own_boxes_is_refused() {
    let err = Graphline::new([], [(("self", "outbox"), ("self", "inbox"))]).unwrap_err();
    assert!(matches!(err, GraphlineError::SelfToSelf { .. }), "{err:?}");
}

#[test]
fn two_children_with_one_name_or_a_child_named_self_are_refused() {
    let (kids, _p) = text_mocks::<2>();
    let [a, b] = kids;
    let err = Graphline::new([("A", a), ("A", b)], []).unwrap_err();
    assert_eq!(err, GraphlineError::DuplicateChild { name: "A".to_owned() });

    let (kids, _p) = text_mocks::<1>();
    let [a] = kids;
    assert_eq!(Graphline::new([("self", a)], []).unwrap_err(), GraphlineError::ReservedName);
}

#[test]
fn a_child_box_already_linked_elsewhere_is_refused_when_built() {
    let (a, _pa) = mock::<(), String>();
    let (b, _pb) = mock::<String, ()>();
    let (elsewhere, _pe) = mock::<String, ()>();
    Scheduler::new().link((&a, "outbox"), (&elsewhere, "inbox")).unwrap();
    let err = Graphline::new([("A", child(a)), ("B", child(b))], [(("A", "outbox"), ("B", "inbox"))]).unwrap_err();
    assert!(matches!(&err, GraphlineError::Link { source: axon_core::LinkError::AlreadyLinked { .. }, .. }), "{err:?}");
}

// ----- the macro -----

/// `graphline!` reads like Kamaelia's `Graphline(A=.., B=.., linkages={..})`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_graphline_macro_builds_the_declared_graphline() {
    let (a, mut pa) = mock::<String, String>();
    let (b, mut pb) = mock::<String, String>();
    let g: Instance<Graphline<String, String>> = graphline! {
        A = a,
        B = b,
        linkages = {
            ("self", "inbox"): ("A", "inbox"),
            ("A", "outbox"): ("B", "inbox"),
            ("B", "outbox"): ("self", "outbox"),
        }
    }
    .unwrap();
    assert_eq!(g.behaviour().linkages().count(), 3);
    let mut h = Handle::new(g, &Scheduler::new());
    activated(&mut pa).await;
    activated(&mut pb).await;

    h.send("in".to_owned()).await;
    let got = pa.recv().await;
    pa.send(format!("{got} via A")).await;
    let got = pb.recv().await;
    pb.send(format!("{got} via B")).await;
    assert_eq!(h.get().as_deref(), Ok("in via A via B"));

    // Its errors are the builder's.
    let (c, _pc) = mock::<String, String>();
    let err = graphline! { C = c, linkages = { ("D", "outbox"): ("C", "inbox") } }.map(|_: Instance<Graphline>| ());
    assert!(matches!(err, Err(GraphlineError::UnknownChild { .. })));
}

/// Stopping a Graphline from outside (a server giving up on a protocol, say) stops its children:
/// they exist only as its parts and would otherwise run on, unreachable.
#[tokio::test(flavor = "multi_thread")]
async fn stopping_a_graphline_stops_its_children() {
    let forever = || {
        from_fn("Forever", |_ctx: Context<(), ()>| async move {
            std::future::pending::<()>().await;
            Ok(())
        })
    };
    let g: axon_core::Instance<Graphline> = graphline! {
        A = forever(),
        B = forever(),
        linkages = {}
    }
    .unwrap();
    let s = Scheduler::new();
    let running = s.activate(g);
    within("the children start", async {
        while running.children().len() < 2 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    let children = running.children();
    running.stop();
    for c in children {
        assert_eq!(within("a child ends", c.join()).await, Exit::Stopped);
    }
    within("run returns", s.run_async()).await.unwrap();
}

// ----- the signal chain that keeps a downstream child until the upstream one is done -----

/// Adds one to what it receives; on a control message, passes on what is still queued, then the
/// message, and ends.
fn add_one() -> impl Component<Inbox = u32, Outbox = u32> {
    from_fn("AddOne", |mut ctx: Context<u32, u32>| async move {
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(n) => ctx.outbox.send(n + 1).await,
                Event::Control(msg) => {
                    for n in ctx.inbox.drain() {
                        ctx.outbox.send(n + 1).await;
                    }
                    ctx.signal.send(msg).await;
                    break;
                }
            }
        }
        Ok(())
    })
}

/// The module docs' Graphline: `UP` feeds `DOWN`, and `UP`'s signal is `DOWN`'s control, so a
/// `ProducerFinished` on the Graphline's control reaches `UP` only, and `DOWN` after `UP`'s data.
fn add_two() -> axon_core::Instance<Graphline<u32, u32>> {
    graphline! {
        UP = add_one(),
        DOWN = add_one(),
        linkages = {
            ("self", "inbox"): ("UP", "inbox"),
            ("UP", "outbox"): ("DOWN", "inbox"),
            ("DOWN", "outbox"): ("self", "outbox"),
            ("UP", "signal"): ("DOWN", "control"),
            ("DOWN", "signal"): ("self", "signal"),
        }
    }
    .unwrap()
}

/// 100,000 messages, then a `ProducerFinished` on the Graphline's control, from a source ahead of
/// it in a pipeline; a collector behind it keeps what comes out until the end. Every message
/// arrives, in order, before the end; `run` returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_signal_chain_100_000_messages_all_arrive_before_the_end() {
    const N: u32 = 100_000;
    let source = from_fn("Source", |mut ctx: Context<(), u32>| async move {
        for n in 0..N {
            ctx.outbox.send(n).await;
        }
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    });
    let (tx, rx) = std::sync::mpsc::channel();
    let collect = from_fn("Collect", move |mut ctx: Context<u32, ()>| async move {
        let mut got = Vec::with_capacity(N as usize);
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
        tx.send((got, end)).unwrap();
        Ok(())
    });
    let s = Scheduler::new();
    let pipeline = s.activate(kamaelia_chassis::pipeline![source, add_two(), collect]);
    let ran = tokio::time::timeout(std::time::Duration::from_secs(300), s.run_async()).await;
    ran.expect("run returns: every component ends").expect("nothing fails");
    assert_eq!(pipeline.exit(), Some(Exit::Finished));
    let (got, end) = rx.try_recv().expect("the collector has reported");
    assert_eq!(got.len(), N as usize, "all {N} arrive");
    assert!(got.iter().copied().eq(2..N + 2), "each once, in order, each added to twice");
    assert!(end.as_ref().is_some_and(Ipc::is_producer_finished), "then the end: {end:?}");
}
