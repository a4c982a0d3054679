//! Axon's `test_Ipc.py` (Axon tests 95–113): the Ipc messages of [`axon_core::ipc`] and what
//! each carries.
//!
//! Axon's messages are classes deriving from `ipc`; "is an ipc" becomes "converts into the
//! [`Ipc`] enum that `control` and `signal` carry, as the matching variant". Axon's callers and
//! payloads were arbitrary objects; here a caller is a [`ComponentId`]. Missing constructor
//! arguments (Axon's `TypeError` tests) cannot be written in Rust, so those tests are not ported.

use std::sync::mpsc;

use axon_core::ipc::{ErrorInformation, Ipc, Notify, ProducerFinished, ShutdownMicroprocess, Status, WouldBlock};
use axon_core::prelude::*;
use axon_core::{ComponentId, Exit, NewComponent};

/// A component id to use as a caller (Axon's tests passed `self` or `"caller"`).
fn some_id() -> ComponentId {
    Instance::new(from_fn("Caller", |_ctx: Context<(), ()>| async { Ok(()) })).id()
}

/// An instance named `name` that sends its name on `tx` when it runs.
fn named(name: &'static str, tx: mpsc::Sender<&'static str>) -> Instance<impl Component<Inbox = (), Outbox = ()>> {
    Instance::new(from_fn(name, move |_ctx: Context<(), ()>| async move {
        tx.send(name).unwrap();
        Ok(())
    }))
}

fn three(tx: &mpsc::Sender<&'static str>) -> (NewComponent, Vec<ComponentId>) {
    let instances =
        [named("ba", tx.clone()).boxed(), named("da", tx.clone()).boxed(), named("bing", tx.clone()).boxed()];
    let ids = instances.iter().map(|i| i.component().id()).collect();
    (NewComponent::new(instances), ids)
}

// Axon 95: ipc_Test.test_SmokeTest — not ported (Python's `isinstance(ipc(), object)`).

// Axon 96: newComponent_Test.test___init__SmokeTest_NoArguments
#[test]
fn a_new_component_request_without_components_holds_none() {
    assert!(NewComponent::default().components().is_empty());
    assert!(NewComponent::new([]).components().is_empty());
    assert!(NewComponent::new([]).into_components().is_empty());
}

// Axon 97: newComponent_Test.test___init__SmokeTest
#[test]
fn a_new_component_request_holds_its_components_in_order() {
    let (tx, _rx) = mpsc::channel();
    let (nc, ids) = three(&tx);
    let held: Vec<_> = nc.components().iter().map(|c| c.component().id()).collect();
    assert_eq!(held, ids);
    let names: Vec<_> = nc.components().iter().map(|c| c.component().name().to_owned()).collect();
    for (name, prefix) in names.iter().zip(["ba_", "da_", "bing_"]) {
        assert!(name.starts_with(prefix), "{name}");
    }
}

// Axon 98: newComponent_Test.test_components
#[test]
fn the_components_of_a_request_come_out_in_order_ready_to_activate() {
    let (tx, rx) = mpsc::channel();
    let (nc, ids) = three(&tx);
    drop(tx);
    let out = nc.into_components();
    assert_eq!(out.iter().map(|c| c.component().id()).collect::<Vec<_>>(), ids);

    // What the receiver of the request does with them: activate each.
    let s = Scheduler::new();
    let started: Vec<_> = out.into_iter().map(|c| c.activate_boxed(&s)).collect();
    s.run().unwrap();
    for c in &started {
        assert_eq!(c.exit(), Some(Exit::Finished));
    }
    // Every one has ended, so every one has already sent its name.
    let mut ran: Vec<_> = rx.try_iter().collect();
    ran.sort_unstable();
    assert_eq!(ran, ["ba", "bing", "da"]);
}

// Axon 99: shutdownMicroprocess_Test.test___init__SmokeTest_NoArguments
#[test]
fn a_shutdown_request_without_arguments_names_no_microprocesses() {
    let sm = ShutdownMicroprocess::new();
    assert!(sm.microprocesses().is_empty());
    assert_eq!(sm, ShutdownMicroprocess::default());
    let ipc: Ipc = sm.into();
    assert!(ipc.is_shutdown_microprocess());
    assert!(ipc.is_shutdown_request());
    assert!(!ipc.is_producer_finished());
}

// Axon 100: shutdownMicroprocess_Test.test___init__SmokeTest
#[test]
fn a_shutdown_request_keeps_the_microprocesses_it_names_in_order() {
    let ids = [some_id(), some_id(), some_id()];
    let sm = ShutdownMicroprocess::of(ids);
    assert_eq!(sm.microprocesses(), ids);
    match Ipc::from(sm.clone()) {
        Ipc::ShutdownMicroprocess(back) => assert_eq!(back, sm),
        other => panic!("expected ShutdownMicroprocess, got {other:?}"),
    }
}

// Axon 101: shutdownMicroprocess_Test.test_microprocesses
#[test]
fn microprocesses_returns_what_the_shutdown_request_was_made_with() {
    let ids = vec![some_id(), some_id()];
    let sm = ShutdownMicroprocess::of(ids.clone());
    assert_eq!(sm.microprocesses().to_vec(), ids);
    assert_eq!(sm.microprocesses().len(), 2);
}

// Axon 102: notify_Test.test_SmokeTest_NoArguments — not ported (missing arguments do not compile).

// Axon 103: notify_Test.test_SmokeTest_MinArguments
#[test]
fn a_notification_keeps_its_caller_and_payload() {
    let caller = some_id();
    let n = Notify::new(Some(caller), "payload");
    assert_eq!(n.caller, Some(caller));
    assert_eq!(n.object::<&str>(), Some(&"payload"));
    assert_eq!(n.object::<String>(), None, "the payload is only itself");
    match Ipc::from(n) {
        Ipc::Notify(back) => assert_eq!(back.object::<&str>(), Some(&"payload")),
        other => panic!("expected Notify, got {other:?}"),
    }
}

// Axon 104: status_Test.test_SmokeTest_NoArguments — not ported (missing arguments do not compile).

// Axon 105: status_Test.test_SmokeTest_MinArguments
#[test]
fn a_status_keeps_its_message() {
    let s = Status::new("Status message.");
    assert_eq!(s.status(), "Status message.");
    assert!(matches!(Ipc::from(s), Ipc::Status(_)));
}

// Axon 106: status_Test.test_status
#[test]
fn status_returns_the_message_it_was_made_with() {
    let s = Status::new(String::from("Status message."));
    match Ipc::from(s.clone()) {
        Ipc::Status(back) => {
            assert_eq!(back.status(), "Status message.");
            assert_eq!(back, s);
        }
        other => panic!("expected Status, got {other:?}"),
    }
}

// Axon 107: wouldblock_Test.test_SmokeTest_NoArguments — not ported (missing arguments do not compile).

// Axon 108: wouldblock_Test.test_SmokeTest_MinArguments
#[test]
fn a_would_block_hint_keeps_its_caller() {
    let caller = some_id();
    let wb = WouldBlock { caller: Some(caller) };
    assert_eq!(wb.caller, Some(caller));
    match Ipc::from(wb) {
        Ipc::WouldBlock(back) => assert_eq!(back.caller, Some(caller)),
        other => panic!("expected WouldBlock, got {other:?}"),
    }
}

// Axon 109: producerFinished_Test.test_SmokeTest_NoArguments
#[test]
fn producer_finished_defaults_to_no_caller_and_no_message() {
    let pf = ProducerFinished::new();
    assert_eq!(pf.caller, None);
    assert_eq!(pf.message, None);
    assert_eq!(pf, ProducerFinished::default());
    let ipc: Ipc = pf.into();
    assert!(ipc.is_producer_finished());
    assert!(ipc.is_shutdown_request());
    assert!(!ipc.is_shutdown_microprocess());
}

// Axon 110: producerFinished_Test.test_SmokeTest_MinArguments
#[test]
fn producer_finished_keeps_the_caller_and_message_it_is_given() {
    let caller = some_id();
    // Axon by position: producerFinished(caller, message).
    let pf = ProducerFinished::from(caller).with_message("message");
    assert_eq!(pf.caller, Some(caller));
    assert_eq!(pf.message.as_deref(), Some("message"));
    // Axon by name: producerFinished(message=..., caller=...).
    let pf2 = ProducerFinished { message: Some("message".into()), caller: Some(caller) };
    assert_eq!(pf2, pf);
}

// Axon 111: errorInformation_Test.test_SmokeTest_NoArguments — not ported (missing arguments do not compile).

// Axon 112: errorInformation_Test.test_SmokeTest_MinArguments
#[test]
fn error_information_keeps_its_caller_and_defaults_the_rest() {
    let caller = some_id();
    let ei = ErrorInformation::new(Some(caller));
    assert_eq!(ei.caller, Some(caller));
    assert_eq!(ei.exception, None);
    assert_eq!(ei.message, None);
    assert!(matches!(Ipc::from(ei), Ipc::ErrorInformation(_)));
}

// Axon 113: errorInformation_Test.test_SmokeTest_MinSensibleArguments
#[test]
fn error_information_keeps_caller_exception_and_message() {
    let caller = some_id();
    // Axon by position: errorInformation(caller, exception, message).
    let ei = ErrorInformation::new(Some(caller)).with_exception("exception").with_message("message");
    assert_eq!(ei.caller, Some(caller));
    assert_eq!(ei.exception.as_deref(), Some("exception"));
    assert_eq!(ei.message.as_deref(), Some("message"));
    // Axon by name; the exception is kept as its text.
    let err = std::io::Error::other("exception");
    let ei2 =
        ErrorInformation { message: Some("message".into()), exception: Some(err.to_string()), caller: Some(caller) };
    assert_eq!(ei2, ei);
    assert_eq!(ErrorInformation::new(Some(caller)).with_exception(err).with_message("message"), ei);
}
