//! Axon's `test_Linkage.py` (tests 30–38 of the reference inventory), ported to [`Linkage`], the
//! handle a linking call returns: the boxes it joins (`source_pair` / `sink_pair`), its kind
//! ([`Passthrough`]), and how it prints. Axon could build a `linkage` object without connecting
//! anything; here a linkage only exists once made, so each test makes one with
//! [`Scheduler::link`] (or a variant) between components that are never activated.

use axon_core::prelude::*;
use axon_core::{LinkError, LinkOptions, Linkage};

/// A component that does nothing; these tests never activate it.
struct Nop;

impl Component for Nop {
    type Inbox = u32;
    type Outbox = u32;
    async fn main(self, _ctx: Context<u32, u32>) -> ComponentResult {
        Ok(())
    }
}

fn pair() -> (Instance<Nop>, Instance<Nop>) {
    (Instance::new(Nop), Instance::new(Nop))
}

/// Checks the boxes and kind a linkage records.
fn assert_linkage(l: &Linkage, source: (&Instance<Nop>, &str), sink: (&Instance<Nop>, &str), kind: Passthrough) {
    assert_eq!(l.source_pair(), (source.0.id(), source.1));
    assert_eq!(l.sink_pair(), (sink.0.id(), sink.1));
    assert_eq!(l.passthrough(), kind);
    assert!(l.is_linked());
}

// Axon 31: test_SmokeTest_MinArguments
#[test]
fn by_default_a_linkage_is_a_normal_one_from_an_outbox_to_an_inbox() {
    assert_eq!(LinkOptions::default(), LinkOptions { passthrough: Passthrough::Normal, pipewidth: None });
    let s = Scheduler::new();
    let (a, b) = pair();
    let plain = s.link((&a, "outbox"), (&b, "inbox")).unwrap();
    assert_linkage(&plain, (&a, "outbox"), (&b, "inbox"), Passthrough::Normal);
    // The long form with default options is the same thing.
    let (c, d) = pair();
    let long = s.link_with((&c, "outbox"), (&d, "inbox"), LinkOptions::default()).unwrap();
    assert_linkage(&long, (&c, "outbox"), (&d, "inbox"), Passthrough::Normal);
}

// Axon 32: test_SmokeTest_SpecificBoxesArguments
#[test]
fn a_linkage_records_the_boxes_it_was_made_between() {
    let s = Scheduler::new();
    let (a, b) = pair();
    let l = s.link((&a, "signal"), (&b, "control")).unwrap();
    assert_linkage(&l, (&a, "signal"), (&b, "control"), Passthrough::Normal);
}

// Axon 33: test_SmokeTest_defaultPassthrough
#[test]
fn a_normal_linkage_records_passthrough_normal() {
    let s = Scheduler::new();
    let (a, b) = pair();
    let l = s.link_passthrough((&a, "outbox"), (&b, "inbox"), Passthrough::Normal).unwrap();
    assert_eq!(l.passthrough(), Passthrough::Normal);
    assert_eq!(Passthrough::Normal as u8, 0, "Axon's passthrough=0");
}

// Axon 34: test_SmokeTest_inboxPassthrough
#[test]
fn an_inbound_linkage_joins_two_inboxes_and_records_passthrough_inbound() {
    let s = Scheduler::new();
    let (parent, child) = pair();
    let l = s.link_passthrough((&parent, "inbox"), (&child, "inbox"), Passthrough::Inbound).unwrap();
    assert_linkage(&l, (&parent, "inbox"), (&child, "inbox"), Passthrough::Inbound);
    let (p2, c2) = pair();
    let l2 = s.link_with((&p2, "control"), (&c2, "control"), LinkOptions::passthrough(Passthrough::Inbound)).unwrap();
    assert_linkage(&l2, (&p2, "control"), (&c2, "control"), Passthrough::Inbound);
    assert_eq!(Passthrough::Inbound as u8, 1, "Axon's passthrough=1");
    // Axon did not check the kind against the boxes (§10.10); here an outbox is not an inbox.
    let wrong = s.link_passthrough((&p2, "outbox"), (&c2, "inbox"), Passthrough::Inbound);
    assert!(matches!(wrong, Err(LinkError::NoSuchBox { kind: "inbox", .. })), "{wrong:?}");
}

// Axon 35: test_SmokeTest_outboxPassthrough
#[test]
fn an_outbound_linkage_joins_two_outboxes_and_records_passthrough_outbound() {
    let s = Scheduler::new();
    let (child, parent) = pair();
    let l = s.link_passthrough((&child, "outbox"), (&parent, "outbox"), Passthrough::Outbound).unwrap();
    assert_linkage(&l, (&child, "outbox"), (&parent, "outbox"), Passthrough::Outbound);
    assert_eq!(Passthrough::Outbound as u8, 2, "Axon's passthrough=2");
    let wrong = s.link_passthrough((&child, "signal"), (&parent, "control"), Passthrough::Outbound);
    assert!(matches!(wrong, Err(LinkError::NoSuchBox { kind: "outbox", .. })), "{wrong:?}");
}

// Axon 36: test_sourcePair (first definition, shadowed in Axon and never run)
#[test]
fn source_pair_is_the_source_component_and_box() {
    let s = Scheduler::new();
    let (a, b) = pair();
    let l = s.link((&a, "signal"), (&b, "control")).unwrap();
    assert_eq!(l.source_pair(), (a.id(), "signal"));
}

// Axon 37: test_sourcePair (second definition, which checks sinkPair)
#[test]
fn sink_pair_is_the_sink_component_and_box() {
    let s = Scheduler::new();
    let (a, b) = pair();
    let l = s.link((&a, "signal"), (&b, "control")).unwrap();
    assert_eq!(l.sink_pair(), (b.id(), "control"));
}

// Axon 38: test___str__strict
#[test]
fn a_linkage_displays_as_axon_prints_it() {
    let s = Scheduler::new();
    let (a, b) = pair();
    let l = s.link((&a, "signal"), (&b, "control")).unwrap();
    assert_eq!(l.to_string(), format!("Link( source:[{},signal], sink:[{},control] )", a.name(), b.name()));
}
