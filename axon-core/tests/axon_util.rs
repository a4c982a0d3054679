//! Axon's `test_util.py`, `test___str__.py` and `test_Axon.py` (tests 172–185 of the reference
//! inventory). Most of them test Python helpers with no Rust counterpart (see the mapping in
//! `docs/porting/threaded-adaptive-tracker-util.md`); what remains is `testInterface`, ported to
//! [`ComponentRef::has_interface`]: a component satisfies any subset of its boxes, and a missing
//! box is reported with its kind, its name and the component.

use axon_core::prelude::*;
use axon_core::LinkError;

/// A component with the four standard boxes (Axon's bare `component()`).
fn component() -> Instance<impl Component<Inbox = (), Outbox = ()>> {
    Instance::new(from_fn("Component", |_ctx: Context<(), ()>| async { Ok(()) }))
}

/// A component that declares boxes beyond the standard ones.
fn server() -> Instance<impl Component<Inbox = (), Outbox = ()>> {
    Instance::new(from_fn("Server", |_ctx: Context<(), ()>| async { Ok(()) }).with_boxes(|d| {
        d.inbox::<u64>("_socketactivity", "new connections").outbox::<String>("protocol", "to the handler");
    }))
}

// Axon 177: test_testInterface_smokeSuccess
#[test]
fn a_component_has_every_subset_of_its_boxes_as_interface() {
    let c = component();
    let c = c.component();
    assert_eq!(c.has_interface(&["inbox", "control"], &["outbox", "signal"]), Ok(()));
    assert_eq!(c.has_interface(&[], &[]), Ok(()));
    assert_eq!(c.has_interface(&["inbox"], &[]), Ok(()));
    assert_eq!(c.has_interface(&[], &["outbox"]), Ok(()));
    let s = server();
    assert_eq!(s.component().has_interface(&["_socketactivity", "control"], &["protocol"]), Ok(()));
}

/// The error for a missing box of `kind` named `name` on `c`, whatever it lists as available.
fn missing(r: Result<(), LinkError>, c: &ComponentRef, kind: &str, name: &str) {
    match r {
        Err(LinkError::NoSuchBox { component, name: n, kind: k, .. }) => {
            assert_eq!((component.as_str(), n.as_str(), k), (c.name(), name, kind));
        }
        other => panic!("expected a missing {kind} `{name}`, got {other:?}"),
    }
}

// Axon 178: test_testInterface_failmodes (adapt: invalidComponentInterface("inboxes"|"outboxes",
// comp, iface) becomes LinkError::NoSuchBox naming the component, the kind and the box)
#[test]
fn a_missing_box_fails_the_interface_check_naming_its_kind_the_box_and_the_component() {
    let c = component();
    let c = c.component();
    missing(c.has_interface(&["fred"], &[]), c, "inbox", "fred");
    missing(c.has_interface(&[], &["fred"]), c, "outbox", "fred");
    missing(c.has_interface(&["inbox", "control", "fred"], &[]), c, "inbox", "fred");
    missing(c.has_interface(&["inbox", "control"], &["outbox", "signal", "fred"]), c, "outbox", "fred");
    // A box of the other kind does not count.
    missing(c.has_interface(&["outbox"], &[]), c, "inbox", "outbox");
    missing(c.has_interface(&[], &["control"]), c, "outbox", "control");
    // The error says what the component does have.
    match c.has_interface(&["fred"], &[]) {
        Err(LinkError::NoSuchBox { available, .. }) => assert_eq!(available, "inbox, control"),
        other => panic!("{other:?}"),
    }
}
