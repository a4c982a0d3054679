//! Axon's `test_Postoffice.py` (tests 39–66 of the reference inventory), ported to axon-core.
//!
//! * `postoffice_Test` (39–51): making and removing linkages, and which component they belong
//!   to. Axon's postoffice is the per-component list of the linkages it made; here that list is
//!   [`ComponentRef::owned_linkages`], and the graph itself is read with
//!   [`Scheduler::introspect`] instead of mock boxes recording `addsource`/`removesource`.
//! * `linkagechaining_Test` (52–57): messages reach the end of a chain of linkages whatever the
//!   order the chain was built in, and cutting a chain makes the cut box the destination.
//! * `SizeLimitedBoxes_Test` (58–66): bounded inboxes; `noSpaceInBox` is
//!   [`Outbox::try_send`] returning [`NoSpaceInBox`].
//!
//! As in Axon's tests, the components' boxes are worked from the test: a *puppet* component hands
//! its [`Context`] to the test and waits.

use std::future::{poll_fn, Future};
use std::task::Poll;
use std::time::Duration;

use axon_core::prelude::*;
use axon_core::{BoxKind, LinkError, NoSpaceInBox, TryRecvError};
use tokio::sync::{mpsc, oneshot};

/// Deadline for things that must happen promptly (only reached if the behaviour is broken).
const DEADLINE: Duration = Duration::from_secs(5);

/// The context these tests use: text in, text out.
type Ctx = Context<&'static str, &'static str>;

/// Activates a component whose body hands its context to the test and then waits for ever, so
/// the test can work its boxes directly, as Axon's tests call `send`/`recv` on a component.
async fn puppet(s: &Scheduler, name: &'static str) -> Ctx {
    let (tx, rx) = oneshot::channel();
    s.activate(from_fn(name, move |ctx: Ctx| async move {
        let _ = tx.send(ctx);
        std::future::pending::<ComponentResult>().await
    }));
    rx.await.expect("a puppet's body runs once activated")
}

/// Every linkage in the system, as `source (kind) -> sink (kind)`.
fn wiring(s: &Scheduler) -> Vec<String> {
    s.introspect()
        .linkages
        .iter()
        .map(|l| format!("{} ({:?}) -> {} ({:?})", l.source, l.source.kind, l.sink, l.sink.kind))
        .collect()
}

/// `component.box (Kind)`, as [`wiring`] prints one end.
fn end(c: &Ctx, name: &str, kind: BoxKind) -> String {
    format!("{}.{name} ({kind:?})", c.name())
}

/// The ids of the linkages `c` made that are still in place.
fn owned(c: &Ctx) -> Vec<axon_core::LinkId> {
    c.me().owned_linkages().iter().map(|l| l.id()).collect()
}

/// Sends a message out of `from` and checks that it is the next thing `to` receives.
fn assert_delivers(from: &mut Outbox<&'static str>, to: &mut Inbox<&'static str>, msg: &'static str) {
    from.try_send(msg).unwrap();
    assert_eq!(to.try_recv(), Ok(msg), "{msg:?} sent from {from:?} should arrive in {to:?}");
}

/// Sends `n` messages that must all fit.
fn fill(out: &mut Outbox<&'static str>, n: usize) {
    for i in 0..n {
        if let Err(e) = out.try_send("filler") {
            panic!("message {i} of {n} should fit: {e}");
        }
    }
}

/// Checks that one more message does not fit in the inbox at the end of `out`'s chain, `dest`,
/// whose capacity is `capacity`; the message comes back.
fn assert_full(out: &mut Outbox<&'static str>, dest: &Ctx, capacity: usize) {
    match out.try_send("one too many") {
        Err(NoSpaceInBox { message, destination, capacity: c }) => {
            assert_eq!(message, "one too many", "the message is handed back");
            assert_eq!(destination, format!("{}.inbox", dest.name()));
            assert_eq!(c, capacity);
        }
        Ok(()) => panic!("{out:?} should be refused: {}.inbox is full", dest.name()),
    }
}

// ----- postoffice_Test -----

// Axon 39: test___init__SmokeTest_NoArguments
#[tokio::test]
async fn a_new_component_has_made_no_linkages() {
    let s = Scheduler::new();
    let p = puppet(&s, "p").await;
    assert!(p.me().owned_linkages().is_empty());
    assert!(wiring(&s).is_empty());
}

// Axon 40: test___init__SmokeTest_DebugnameArgument
#[tokio::test]
async fn the_linkages_a_component_makes_are_labelled_with_it() {
    let s = Scheduler::new();
    let p = puppet(&s, "p").await;
    let (c1, c2) = (puppet(&s, "c1").await, puppet(&s, "c2").await);
    let mine = p.link((c1.me(), "outbox"), (c2.me(), "inbox")).unwrap();
    let nobodys = s.link((c1.me(), "signal"), (c2.me(), "control")).unwrap();
    let snap = s.introspect();
    let owner_of = |id| snap.linkages.iter().find(|l| l.id == id).map(|l| l.owner);
    assert_eq!(owner_of(mine.id()), Some(Some(p.id())));
    assert_eq!(owner_of(nobodys.id()), Some(None), "made from outside any component");
}

// Axon 42: test_linkestablishes
#[tokio::test]
async fn a_normal_linkage_joins_the_source_outbox_to_the_sink_inbox_and_nothing_else() {
    let s = Scheduler::new();
    let p = puppet(&s, "p").await;
    let (mut c1, mut c2) = (puppet(&s, "c1").await, puppet(&s, "c2").await);
    p.link((c1.me(), "outbox"), (c2.me(), "inbox")).unwrap();
    assert_eq!(
        wiring(&s),
        [format!("{} -> {}", end(&c1, "outbox", BoxKind::Outbox), end(&c2, "inbox", BoxKind::Inbox))]
    );
    assert_delivers(&mut c1.outbox, &mut c2.inbox, "x");
}

// Axon 43: test_linkestablishes_inboxinboxpassthrough
#[tokio::test]
async fn an_inbound_linkage_joins_the_source_inbox_to_the_sink_inbox_and_nothing_else() {
    let s = Scheduler::new();
    let p = puppet(&s, "p").await;
    let (c1, mut c2) = (puppet(&s, "c1").await, puppet(&s, "c2").await);
    p.link_passthrough((c1.me(), "inbox"), (c2.me(), "inbox"), Passthrough::Inbound).unwrap();
    assert_eq!(wiring(&s), [format!("{} -> {}", end(&c1, "inbox", BoxKind::Inbox), end(&c2, "inbox", BoxKind::Inbox))]);
    c1.me().deliver("inbox", "x").unwrap();
    assert_eq!(c2.inbox.try_recv(), Ok("x"));
}

// Axon 44: test_linkestablishes_outboxoutboxpassthrough
#[tokio::test]
async fn an_outbound_linkage_joins_the_source_outbox_to_the_sink_outbox_and_nothing_else() {
    let s = Scheduler::new();
    let p = puppet(&s, "p").await;
    let (c1, c2) = (puppet(&s, "c1").await, puppet(&s, "c2").await);
    p.link_passthrough((c1.me(), "outbox"), (c2.me(), "outbox"), Passthrough::Outbound).unwrap();
    assert_eq!(
        wiring(&s),
        [format!("{} -> {}", end(&c1, "outbox", BoxKind::Outbox), end(&c2, "outbox", BoxKind::Outbox))]
    );
}

// Axon 45: test_linkregistered
#[tokio::test]
async fn the_linkages_a_component_makes_are_listed_as_its_own() {
    let s = Scheduler::new();
    let p = puppet(&s, "p").await;
    let (c1, c2) = (puppet(&s, "c1").await, puppet(&s, "c2").await);
    let l1 = p.link((c1.me(), "outbox"), (c2.me(), "inbox")).unwrap();
    assert_eq!(owned(&p), [l1.id()]);
    let l2 = p.link((c1.me(), "signal"), (c2.me(), "control")).unwrap();
    assert_eq!(owned(&p), [l1.id(), l2.id()]);
    assert!(c1.me().owned_linkages().is_empty(), "they belong to whoever made them");
}

// Axon 46: test_linkderegisters
#[tokio::test]
async fn unlinking_one_linkage_removes_only_that_one() {
    let s = Scheduler::new();
    let p = puppet(&s, "p").await;
    let (c1, c2) = (puppet(&s, "c1").await, puppet(&s, "c2").await);
    let l1 = p.link((c1.me(), "outbox"), (c2.me(), "inbox")).unwrap();
    let l2 = p.link((c1.me(), "signal"), (c2.me(), "control")).unwrap();
    p.unlink(&l1);
    assert_eq!(owned(&p), [l2.id()]);
    assert!(!l1.is_linked());
    assert!(l2.is_linked());
    p.unlink(&l1); // already removed: ignored, as in Axon
    assert_eq!(owned(&p), [l2.id()]);
}

// Axon 47: test_componentlinksderegisters
#[tokio::test]
async fn unlinking_a_component_removes_only_the_linkages_that_involve_it() {
    let s = Scheduler::new();
    let p = puppet(&s, "p").await;
    let (c1, c2, c3) = (puppet(&s, "c1").await, puppet(&s, "c2").await, puppet(&s, "c3").await);
    let l1 = p.link((c1.me(), "outbox"), (c2.me(), "inbox")).unwrap();
    let l2 = p.link((c1.me(), "signal"), (c2.me(), "control")).unwrap();
    let l3 = p.link((c2.me(), "outbox"), (c3.me(), "inbox")).unwrap();
    let l4 = p.link((c2.me(), "signal"), (c3.me(), "control")).unwrap();
    p.unlink_component(c1.me());
    assert_eq!(owned(&p), [l3.id(), l4.id()]);
    assert!(!l1.is_linked() && !l2.is_linked());
    assert!(l3.is_linked() && l4.is_linked());
}

// Axon 48: test_linkdisengages
#[tokio::test]
async fn unlinking_a_normal_linkage_disconnects_the_outbox_from_the_inbox() {
    let s = Scheduler::new();
    let p = puppet(&s, "p").await;
    let (mut c1, mut c2) = (puppet(&s, "c1").await, puppet(&s, "c2").await);
    let l = p.link((c1.me(), "outbox"), (c2.me(), "inbox")).unwrap();
    p.unlink(&l);
    assert!(wiring(&s).is_empty());
    assert!(!c1.outbox.is_linked());
    c1.outbox.try_send("lost").unwrap(); // an unlinked outbox discards, as in Axon
    assert_eq!(c2.inbox.data_ready(), 0);
    assert_eq!(c2.inbox.try_recv(), Err(TryRecvError::Closed), "its only sender went");
}

// Axon 49: test_linkdisengages_inboxinboxpassthrough
#[tokio::test]
async fn unlinking_an_inbound_linkage_makes_the_source_inbox_the_destination_again() {
    let s = Scheduler::new();
    let p = puppet(&s, "p").await;
    let (mut c1, c2) = (puppet(&s, "c1").await, puppet(&s, "c2").await);
    let l = p.link_passthrough((c1.me(), "inbox"), (c2.me(), "inbox"), Passthrough::Inbound).unwrap();
    p.unlink(&l);
    assert!(wiring(&s).is_empty());
    c1.me().deliver("inbox", "stays").unwrap();
    assert_eq!(c2.inbox.data_ready(), 0);
    assert_eq!(c1.inbox.try_recv(), Ok("stays"));
}

// Axon 50: test_linkdisengages_outboxoutboxpassthrough
#[tokio::test]
async fn unlinking_an_outbound_linkage_disconnects_the_inner_outbox() {
    let s = Scheduler::new();
    let p = puppet(&s, "p").await;
    let (mut c1, c2, mut c3) = (puppet(&s, "c1").await, puppet(&s, "c2").await, puppet(&s, "c3").await);
    let l = p.link_passthrough((c1.me(), "outbox"), (c2.me(), "outbox"), Passthrough::Outbound).unwrap();
    s.link((c2.me(), "outbox"), (c3.me(), "inbox")).unwrap();
    assert_delivers(&mut c1.outbox, &mut c3.inbox, "through c2");
    p.unlink(&l);
    assert_eq!(
        wiring(&s),
        [format!("{} -> {}", end(&c2, "outbox", BoxKind::Outbox), end(&c3, "inbox", BoxKind::Inbox))],
        "only the linkage onward from c2 is left"
    );
    assert!(!c1.outbox.is_linked());
    c1.outbox.try_send("lost").unwrap();
    assert_eq!(c3.inbox.data_ready(), 0);
}

// Axon 51: test_BoxAlreadyLinkedToDestinationException
#[tokio::test]
async fn an_outbox_links_to_one_destination_at_a_time() {
    let s = Scheduler::new();
    let p = puppet(&s, "p").await;
    let (mut c1, c2, mut c3) = (puppet(&s, "c1").await, puppet(&s, "c2").await, puppet(&s, "c3").await);
    let l1 = p.link((c1.me(), "outbox"), (c2.me(), "inbox")).unwrap();
    let refused = p.link((c1.me(), "outbox"), (c3.me(), "inbox"));
    assert!(matches!(refused, Err(LinkError::AlreadyLinked { .. })), "{refused:?}");
    assert_eq!(owned(&p), [l1.id()], "a refused linkage changes nothing");
    p.unlink(&l1);
    p.link((c1.me(), "outbox"), (c3.me(), "inbox")).unwrap();
    assert_delivers(&mut c1.outbox, &mut c3.inbox, "to c3 now");
}

// ----- linkagechaining_Test -----

// Axon 52: test_Simple
#[tokio::test]
async fn a_message_sent_over_a_linkage_arrives() {
    let s = Scheduler::new();
    let (mut a, mut b) = (puppet(&s, "a").await, puppet(&s, "b").await);
    a.link((a.me(), "outbox"), (b.me(), "inbox")).unwrap();
    assert_delivers(&mut a.outbox, &mut b.inbox, "simple");
}

// Axon 53: test_SimpleThenInboxPassthrough
#[tokio::test]
async fn adding_an_inbound_passthrough_after_a_linkage_delivers_to_the_last_inbox() {
    let s = Scheduler::new();
    let (mut a, mut b, mut c) = (puppet(&s, "a").await, puppet(&s, "b").await, puppet(&s, "c").await);
    a.link((a.me(), "outbox"), (b.me(), "inbox")).unwrap();
    a.link_passthrough((b.me(), "inbox"), (c.me(), "inbox"), Passthrough::Inbound).unwrap();
    assert_delivers(&mut a.outbox, &mut c.inbox, "to the end");
    // Axon's mid-chain recv popped the final box (§10.9); here the mid-chain inbox holds nothing.
    a.outbox.try_send("not for b").unwrap();
    assert_eq!(b.inbox.data_ready(), 0);
    assert_eq!(b.inbox.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(c.inbox.try_recv(), Ok("not for b"));
}

// Axon 54: test_InboxPassthroughThenNormal
#[tokio::test]
async fn adding_a_linkage_into_an_inbound_passthrough_delivers_to_the_last_inbox() {
    let s = Scheduler::new();
    let (mut a, mut b, mut c) = (puppet(&s, "a").await, puppet(&s, "b").await, puppet(&s, "c").await);
    a.link_passthrough((b.me(), "inbox"), (c.me(), "inbox"), Passthrough::Inbound).unwrap();
    a.link((a.me(), "outbox"), (b.me(), "inbox")).unwrap();
    assert_delivers(&mut a.outbox, &mut c.inbox, "to the end");
    assert_eq!(b.inbox.try_recv(), Err(TryRecvError::Empty));
}

// Axon 55: test_SimpleThenOutboxPassthrough
#[tokio::test]
async fn adding_an_outbound_passthrough_before_a_linkage_delivers_from_both_outboxes() {
    let s = Scheduler::new();
    let (mut a, mut b, mut c) = (puppet(&s, "a").await, puppet(&s, "b").await, puppet(&s, "c").await);
    a.link((b.me(), "outbox"), (c.me(), "inbox")).unwrap();
    a.link_passthrough((a.me(), "outbox"), (b.me(), "outbox"), Passthrough::Outbound).unwrap();
    assert_delivers(&mut a.outbox, &mut c.inbox, "from a");
    assert_delivers(&mut b.outbox, &mut c.inbox, "from b");
}

// Axon 56: test_OutboxPassthroughThenNormal
#[tokio::test]
async fn linking_onward_from_an_outbound_passthrough_delivers_from_both_outboxes() {
    let s = Scheduler::new();
    let (mut a, mut b, mut c) = (puppet(&s, "a").await, puppet(&s, "b").await, puppet(&s, "c").await);
    a.link_passthrough((a.me(), "outbox"), (b.me(), "outbox"), Passthrough::Outbound).unwrap();
    a.link((b.me(), "outbox"), (c.me(), "inbox")).unwrap();
    assert_delivers(&mut a.outbox, &mut c.inbox, "from a");
    assert_delivers(&mut b.outbox, &mut c.inbox, "from b");
}

// Axon 57: test_InboxPassthrougthDeletion
#[tokio::test]
async fn cutting_an_inbound_passthrough_makes_the_middle_inbox_the_destination() {
    let s = Scheduler::new();
    let (mut a, mut b, mut c) = (puppet(&s, "a").await, puppet(&s, "b").await, puppet(&s, "c").await);
    a.link((a.me(), "outbox"), (b.me(), "inbox")).unwrap();
    let pt = a.link_passthrough((b.me(), "inbox"), (c.me(), "inbox"), Passthrough::Inbound).unwrap();
    assert_delivers(&mut a.outbox, &mut c.inbox, "to c");
    a.unlink(&pt);
    assert_delivers(&mut a.outbox, &mut b.inbox, "to b now");
    assert_eq!(c.inbox.data_ready(), 0);
}

// Not in Axon: what the reference's mid-chain defect (§10.9) becomes here. A mid-chain inbox is
// empty but not closed: its owner may wait on it, and it receives again once the chain is cut.
#[tokio::test]
async fn a_mid_chain_inbox_is_empty_but_not_closed_and_receives_again_once_cut() {
    let s = Scheduler::new();
    let (mut a, mut b, c) = (puppet(&s, "a").await, puppet(&s, "b").await, puppet(&s, "c").await);
    a.link((a.me(), "outbox"), (b.me(), "inbox")).unwrap();
    let pt = b.link_passthrough((b.me(), "inbox"), (c.me(), "inbox"), Passthrough::Inbound).unwrap();
    assert!(!b.inbox.is_closed(), "a is still sending, through b");
    assert_eq!(b.inbox.try_recv(), Err(TryRecvError::Empty));
    let recv = b.inbox.recv();
    tokio::pin!(recv);
    let first_poll = poll_fn(|cx| Poll::Ready(recv.as_mut().poll(cx))).await;
    assert_eq!(first_poll, Poll::Pending, "b waits: nothing for it now, but its input has not ended");
    a.outbox.try_send("to c").unwrap();
    s.unlink(&pt);
    a.outbox.try_send("to b").unwrap();
    assert_eq!(tokio::time::timeout(DEADLINE, recv).await, Ok(Some("to b")));
    assert_eq!(c.inbox.data_ready(), 1);
}

// Not in Axon: a chassis that passes its inbox on to a child keeps hearing its control inbox.
// (Before the fix this tests, the passed-on inbox counted as "closed", so `next_event` ended.)
#[tokio::test]
async fn a_component_whose_inbox_is_passed_on_to_a_child_still_receives_control_messages() {
    let s = Scheduler::new();
    let mut upstream = puppet(&s, "upstream").await;
    let mut child = puppet(&s, "child").await;
    let child_ref = child.me().clone();
    let (tx, mut events) = mpsc::unbounded_channel();
    let chassis = Instance::new(from_fn("Chassis", move |mut ctx: Ctx| async move {
        ctx.link_passthrough((ctx.me(), "inbox"), (&child_ref, "inbox"), Passthrough::Inbound)?;
        let _ = tx.send("linked".to_owned());
        while let Some(ev) = ctx.next_event().await {
            let _ = tx.send(match ev {
                Event::Control(Ipc::Other(t)) => t,
                other => format!("unexpected {other:?}"),
            });
        }
        let _ = tx.send("input ended".to_owned());
        Ok(())
    }));
    s.link((upstream.me(), "outbox"), (&chassis, "inbox")).unwrap();
    s.link((upstream.me(), "signal"), (&chassis, "control")).unwrap();
    let chassis = chassis.activate(&s);
    let mut next = async || tokio::time::timeout(DEADLINE, events.recv()).await.expect("an event").unwrap();
    assert_eq!(next().await, "linked");
    assert_delivers(&mut upstream.outbox, &mut child.inbox, "data goes to the child");
    upstream.signal.try_send("hello".into()).unwrap();
    assert_eq!(next().await, "hello");
    assert!(!chassis.has_ended());
}

// ----- SizeLimitedBoxes_Test -----

// Axon 58: test_smoketest
#[tokio::test]
async fn an_inbox_capacity_can_be_set() {
    let s = Scheduler::new();
    let a = puppet(&s, "a").await;
    assert_eq!(a.inbox.capacity(), Some(axon_core::DEFAULT_CAPACITY), "bounded by default (§10.1)");
    a.inbox.set_capacity(Some(5));
    assert_eq!(a.inbox.capacity(), Some(5));
}

/// `a.outbox → b.inbox`, with `b.inbox` holding at most 5.
async fn limited_pair(s: &Scheduler) -> (Ctx, Ctx) {
    let (a, b) = (puppet(s, "a").await, puppet(s, "b").await);
    b.inbox.set_capacity(Some(5));
    a.link((a.me(), "outbox"), (b.me(), "inbox")).unwrap();
    (a, b)
}

// Axon 59: test_BoxSizeGetsLimited
#[tokio::test]
async fn an_inbox_of_capacity_five_takes_five_messages() {
    let s = Scheduler::new();
    let (mut a, b) = limited_pair(&s).await;
    fill(&mut a.outbox, 5);
    assert_eq!(b.inbox.data_ready(), 5);
}

// Axon 60: test_ExceedBoxSizeAndGetException
#[tokio::test]
async fn a_sixth_message_into_an_inbox_of_capacity_five_is_refused() {
    let s = Scheduler::new();
    let (mut a, b) = limited_pair(&s).await;
    fill(&mut a.outbox, 5);
    assert_full(&mut a.outbox, &b, 5);
    assert_eq!(b.inbox.data_ready(), 5);
}

// Axon 61: test_removingFromInboxAllowsYouToPutMoreIn
#[tokio::test]
async fn collecting_three_from_a_full_inbox_makes_room_for_exactly_three() {
    let s = Scheduler::new();
    let (mut a, mut b) = limited_pair(&s).await;
    fill(&mut a.outbox, 5);
    for _ in 0..3 {
        b.inbox.try_recv().unwrap();
    }
    fill(&mut a.outbox, 3);
    assert_full(&mut a.outbox, &b, 5);
}

/// `a.outbox → b.inbox →pt1→ c.inbox`, with the mid-chain `b.inbox` limited to 5.
async fn limited_middle(s: &Scheduler) -> (Ctx, Ctx, Ctx, axon_core::Linkage) {
    let (a, b, c) = (puppet(s, "a").await, puppet(s, "b").await, puppet(s, "c").await);
    b.inbox.set_capacity(Some(5));
    a.link((a.me(), "outbox"), (b.me(), "inbox")).unwrap();
    let pt = b.link_passthrough((b.me(), "inbox"), (c.me(), "inbox"), Passthrough::Inbound).unwrap();
    (a, b, c, pt)
}

// Axon 62: test_SizeLimitMidLinkageChainHasNoEffect
#[tokio::test]
async fn a_capacity_on_a_mid_chain_inbox_has_no_effect() {
    let s = Scheduler::new();
    let (mut a, b, c, _) = limited_middle(&s).await;
    fill(&mut a.outbox, 10);
    assert_eq!((b.inbox.data_ready(), c.inbox.data_ready()), (0, 10));
}

// Axon 63: test_SizeLimitMidLinkageChainComesIntoEffectIfChainBroken
#[tokio::test]
async fn a_mid_chain_capacity_applies_once_the_chain_is_cut_there() {
    let s = Scheduler::new();
    let (mut a, b, c, pt) = limited_middle(&s).await;
    fill(&mut a.outbox, 10);
    b.unlink(&pt);
    assert_eq!(c.inbox.data_ready(), 10, "what was delivered stays delivered");
    fill(&mut a.outbox, 5);
    assert_full(&mut a.outbox, &b, 5);
}

// Axon 64: test_SettingSizeLimitToNoneSetsToUnlimited
#[tokio::test]
async fn an_inbox_of_capacity_none_is_unbounded() {
    let s = Scheduler::new();
    let (mut a, b) = limited_pair(&s).await;
    b.inbox.set_capacity(None);
    assert_eq!(b.inbox.capacity(), None);
    fill(&mut a.outbox, 9999);
    assert_eq!(b.inbox.data_ready(), 9999);
    assert!(!a.outbox.is_full());
}

// Axon 65: test_TurningOffSizeLimit
#[tokio::test]
async fn lifting_the_capacity_of_a_full_inbox_lets_more_in() {
    let s = Scheduler::new();
    let (mut a, b) = limited_pair(&s).await;
    fill(&mut a.outbox, 5);
    assert!(a.outbox.is_full());
    b.inbox.set_capacity(None);
    fill(&mut a.outbox, 500);
    assert_eq!(b.inbox.data_ready(), 505);
}

// Axon 66: test_AllProducersExperienceSameSizeLimit
#[tokio::test]
async fn every_producer_into_one_inbox_meets_the_same_limit() {
    let s = Scheduler::new();
    let [mut a, mut b, mut c, mut d, e] = [
        puppet(&s, "a").await,
        puppet(&s, "b").await,
        puppet(&s, "c").await,
        puppet(&s, "d").await,
        puppet(&s, "e").await,
    ];
    e.inbox.set_capacity(Some(4 * 4));
    a.link((a.me(), "outbox"), (e.me(), "inbox")).unwrap();
    b.link((b.me(), "outbox"), (e.me(), "inbox")).unwrap();
    c.link_passthrough((c.me(), "outbox"), (b.me(), "outbox"), Passthrough::Outbound).unwrap();
    d.link_passthrough((d.me(), "outbox"), (b.me(), "outbox"), Passthrough::Outbound).unwrap();

    let producers = [&mut a.outbox, &mut b.outbox, &mut c.outbox, &mut d.outbox];
    for i in 1..=100 {
        let out = &mut *producers[(i - 1) % 4];
        if i <= 16 {
            out.try_send("fits").unwrap();
        } else {
            assert_full(out, &e, 16);
        }
    }
    assert_eq!(e.inbox.data_ready(), 16);
}
