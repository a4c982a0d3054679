//! Axon's `test_CoordinatingAssistantTracker.py` (tests 154–171 of the reference inventory),
//! ported to [`Tracker`]: registering, retrieving and withdrawing services, tracking named values,
//! and a tracker's parent. A few tests at the end cover what the port adds (services withdrawn
//! when their component ends, lookups falling through to the parent, the scheduler's tracker).

use std::time::Duration;

use axon_core::prelude::*;
use axon_core::{Exit, Tracker, TrackerError};

/// A component that does nothing (Axon's `dummyComponent`); never activated unless a test does.
fn dummy() -> Instance<impl Component<Inbox = (), Outbox = ()>> {
    Instance::new(from_fn("Dummy", |_ctx: Context<(), ()>| async { Ok(()) }))
}

// Axon 154: test_SmokeTest_NoArguments
#[test]
fn a_new_tracker_has_no_services_no_values_and_no_parent() {
    let cat = Tracker::new();
    assert_eq!(cat.services_registered(), Vec::<String>::new());
    assert_eq!(cat.information_items_logged(), Vec::<String>::new());
    assert!(cat.parent().is_none());
}

// Axon 155: test_SmokeTest_SingleParent
#[test]
fn a_tracker_made_with_a_parent_keeps_that_parent() {
    let parent = Tracker::new();
    let cat = Tracker::with_parent(&parent);
    let kept = cat.parent().expect("the parent is kept");
    // No identity comparison on trackers: show that `kept` is the very tracker given, by
    // changing `parent` and reading the change through `kept`.
    parent.track_value("only.in.parent", 1u8).unwrap();
    assert_eq!(kept.information_items_logged(), vec!["only.in.parent".to_owned()]);
    assert!(cat.information_items_logged().is_empty(), "the child's own values are its own");
    assert!(parent.parent().is_none());
}

// Axon 157: test_registerService_Add
#[test]
fn registering_a_service_lists_its_name() {
    let cat = Tracker::new();
    let c = dummy();
    cat.register_service("someservice", c.component(), "control").unwrap();
    assert_eq!(cat.services_registered(), vec!["someservice".to_owned()]);
}

// Axon 158: test_registerService_AddExisting
#[test]
fn registering_a_name_twice_fails_even_with_the_same_arguments() {
    let cat = Tracker::new();
    let c = dummy();
    cat.register_service("someservice", c.component(), "control").unwrap();
    assert_eq!(
        cat.register_service("someservice", c.component(), "control"),
        Err(TrackerError::ServiceAlreadyExists("someservice".into()))
    );
    assert_eq!(cat.services_registered(), vec!["someservice".to_owned()]);
}

// Axon 159: test_registerService_BadComponent (adapt: a non-component cannot be passed in Rust;
// the port's BadComponent is a component that has ended and so cannot serve)
#[test]
fn registering_a_component_that_has_ended_fails_with_bad_component() {
    let cat = Tracker::new();
    let c = dummy();
    c.component().stop();
    assert_eq!(c.component().exit(), Some(Exit::Stopped));
    assert_eq!(
        cat.register_service("someservice", c.component(), "control"),
        Err(TrackerError::BadComponent(c.name().to_owned()))
    );
    assert!(cat.services_registered().is_empty());
}

// Axon 160: test_registerService_BadInbox
#[test]
fn registering_a_missing_inbox_fails_with_bad_inbox() {
    let cat = Tracker::new();
    let c = dummy();
    let bad_inbox = |inbox: &str| TrackerError::BadInbox { component: c.name().to_owned(), inbox: inbox.to_owned() };
    assert_eq!(cat.register_service("someservice", c.component(), "badinbox"), Err(bad_inbox("badinbox")));
    // An outbox is not an inbox, even though the component has a box of that name.
    assert_eq!(cat.register_service("someservice", c.component(), "outbox"), Err(bad_inbox("outbox")));
    assert!(cat.services_registered().is_empty());
}

// Axon 161: test_retrieveService_basic
#[test]
fn retrieving_a_service_gives_the_component_and_inbox_registered() {
    let cat = Tracker::new();
    let c = dummy();
    cat.register_service("someservice", c.component(), "control").unwrap();
    let service = cat.retrieve_service("someservice").unwrap();
    assert_eq!(service.component(), c.component());
    assert_eq!(service.inbox(), "control");
    assert_eq!(service.endpoint().name, "control");
}

// Axon 162: test_retrieveService_nonexistantservice (adapt: Axon's bare KeyError is a typed
// error naming the service)
#[test]
fn retrieving_an_unknown_service_fails_naming_it() {
    let cat = Tracker::new();
    assert_eq!(cat.retrieve_service("someservice").unwrap_err(), TrackerError::UnknownService("someservice".into()));
}

// Axon 163: test_deRegisterService
#[test]
fn deregistering_a_service_removes_it() {
    let cat = Tracker::new();
    let c = dummy();
    cat.register_service("someservice", c.component(), "control").unwrap();
    cat.deregister_service("someservice").unwrap();
    assert!(cat.services_registered().is_empty());
    assert!(matches!(cat.retrieve_service("someservice"), Err(TrackerError::UnknownService(_))));
    // The name is free again.
    cat.register_service("someservice", c.component(), "inbox").unwrap();
    assert_eq!(cat.retrieve_service("someservice").unwrap().inbox(), "inbox");
}

// Axon 164: test_deRegisterService_nonExistantService
#[test]
fn deregistering_an_unknown_service_fails_with_multiple_service_deletion() {
    let cat = Tracker::new();
    assert_eq!(cat.deregister_service("someservice"), Err(TrackerError::MultipleServiceDeletion("someservice".into())));
    // Deleting twice is the case the name describes.
    let c = dummy();
    cat.register_service("someservice", c.component(), "control").unwrap();
    cat.deregister_service("someservice").unwrap();
    assert_eq!(cat.deregister_service("someservice"), Err(TrackerError::MultipleServiceDeletion("someservice".into())));
}

// Axon 165: test_trackValue_basic
#[test]
fn tracking_a_value_lists_its_name() {
    let cat = Tracker::new();
    cat.track_value("stats.pages.hitcount", 5i64).unwrap();
    assert_eq!(cat.information_items_logged(), vec!["stats.pages.hitcount".to_owned()]);
}

// Axon 166: test_trackValue_addTwice
#[test]
fn tracking_a_name_twice_fails_with_namespace_clash_and_keeps_the_first_value() {
    let cat = Tracker::new();
    cat.track_value("stats.pages.hitcount", 5i64).unwrap();
    assert_eq!(
        cat.track_value("stats.pages.hitcount", 6i64),
        Err(TrackerError::NamespaceClash("stats.pages.hitcount".into()))
    );
    assert_eq!(cat.retrieve_value_as::<i64>("stats.pages.hitcount"), Ok(Some(5)));
}

// Axon 167: test_retrieveValue_basic
#[test]
fn retrieving_a_value_gives_the_value_tracked() {
    let cat = Tracker::new();
    cat.track_value("stats.pages.hitcount", 5i64).unwrap();
    assert_eq!(cat.retrieve_value_as::<i64>("stats.pages.hitcount"), Ok(Some(5)));
    let raw = cat.retrieve_value("stats.pages.hitcount").unwrap();
    assert_eq!(raw.downcast_ref::<i64>(), Some(&5));
    // Asking for another type finds the name but not a value of that type.
    assert_eq!(cat.retrieve_value_as::<String>("stats.pages.hitcount"), Ok(None));
}

// Axon 168: test_retrieveValue_notStored
#[test]
fn retrieving_an_untracked_value_fails_with_access_to_undeclared_tracked_variable() {
    let cat = Tracker::new();
    assert_eq!(
        cat.retrieve_value("stats.pages.hitcount").unwrap_err(),
        TrackerError::AccessToUndeclaredTrackedVariable("stats.pages.hitcount".into())
    );
}

// Axon 169: test_updateValue_basic
#[test]
fn updating_a_value_replaces_it() {
    let cat = Tracker::new();
    cat.track_value("stats.pages.hitcount", 5i64).unwrap();
    cat.update_value("stats.pages.hitcount", 10i64).unwrap();
    assert_eq!(cat.retrieve_value_as::<i64>("stats.pages.hitcount"), Ok(Some(10)));
    assert_eq!(cat.information_items_logged(), vec!["stats.pages.hitcount".to_owned()]);
}

// Axon 170: test_updateValue_undeclaredTrackedVariable
#[test]
fn updating_an_untracked_value_fails_and_does_not_track_it() {
    let cat = Tracker::new();
    assert_eq!(
        cat.update_value("stats.pages.hitcount", 10i64),
        Err(TrackerError::AccessToUndeclaredTrackedVariable("stats.pages.hitcount".into()))
    );
    assert!(cat.information_items_logged().is_empty());
    assert!(cat.retrieve_value("stats.pages.hitcount").is_err());
}

// Axon 171: test_informationItemsLogged
#[test]
fn information_items_logged_lists_every_tracked_name() {
    let cat = Tracker::new();
    cat.track_value("stats.pages.hitcount", 5i64).unwrap();
    cat.track_value("stats.pages.pagecount", 6i64).unwrap();
    cat.track_value("stats.foobar.count", 7i64).unwrap();
    let mut items = cat.information_items_logged();
    items.sort();
    assert_eq!(items, ["stats.foobar.count", "stats.pages.hitcount", "stats.pages.pagecount"]);
}

// ----- what the port adds (no Axon test) -----

// Port: Axon kept services of dead components (§10.15); here a service goes with its component.
#[test]
fn a_service_is_withdrawn_when_its_component_ends() {
    let scheduler = Scheduler::new();
    let cat = scheduler.tracker().clone();
    let provider = Instance::new(from_fn("Provider", |mut ctx: Context<(), ()>| async move {
        // Serves until told to stop.
        ctx.control.recv().await;
        Ok(())
    }));
    let provider_ref = provider.component().clone();
    cat.register_service("provider", &provider_ref, "inbox").unwrap();
    provider.activate(&scheduler);
    assert_eq!(cat.retrieve_service("provider").unwrap().component(), &provider_ref);

    provider_ref.deliver("control", Ipc::from(ShutdownMicroprocess::new())).unwrap();
    let exit = scheduler
        .runtime_handle()
        .block_on(async { tokio::time::timeout(Duration::from_secs(10), provider_ref.join()).await })
        .expect("the provider ends when told to");
    assert_eq!(exit, Exit::Finished);
    assert!(cat.services_registered().is_empty());
    assert!(matches!(cat.retrieve_service("provider"), Err(TrackerError::UnknownService(_))));
}

// Port: Axon stored the parent but never used it; here lookups fall through to it.
#[test]
fn lookups_fall_through_to_the_parent_tracker() {
    let parent = Tracker::new();
    let cat = Tracker::with_parent(&parent);
    let c = dummy();
    parent.register_service("wide", c.component(), "inbox").unwrap();
    parent.track_value("wide.value", 1u32).unwrap();
    assert_eq!(cat.retrieve_service("wide").unwrap().component(), c.component());
    assert_eq!(cat.retrieve_value_as::<u32>("wide.value"), Ok(Some(1)));
    // A name registered in the child shadows the parent's; registrations stay where they were made.
    cat.track_value("wide.value", 2u32).unwrap();
    assert_eq!(cat.retrieve_value_as::<u32>("wide.value"), Ok(Some(2)));
    assert_eq!(parent.retrieve_value_as::<u32>("wide.value"), Ok(Some(1)));
    assert!(cat.services_registered().is_empty());
    // The parent does not see the child's.
    let d = dummy();
    cat.register_service("narrow", d.component(), "inbox").unwrap();
    assert!(parent.retrieve_service("narrow").is_err());
}

// Port: Axon's `zap()`.
#[test]
fn zap_forgets_every_service_and_value() {
    let cat = Tracker::new();
    let c = dummy();
    cat.register_service("someservice", c.component(), "control").unwrap();
    cat.track_value("stats.pages.hitcount", 5i64).unwrap();
    cat.zap();
    assert!(cat.services_registered().is_empty());
    assert!(cat.information_items_logged().is_empty());
}

// Port: the typical use of a service from inside components (look it up, link to it, send).
#[test]
fn a_component_finds_a_service_through_its_schedulers_tracker_and_uses_it() {
    let scheduler = Scheduler::new();
    let (tx, rx) = std::sync::mpsc::channel();
    let server = Instance::new(from_fn("Server", move |mut ctx: Context<String, ()>| async move {
        if let Some(request) = ctx.inbox.recv().await {
            tx.send(request).unwrap();
        }
        Ok(())
    }));
    scheduler.tracker().register_service("echo", server.component(), "inbox").unwrap();
    let server = server.activate(&scheduler);
    let client = scheduler.activate(from_fn("Client", |mut ctx: Context<(), String>| async move {
        let service = ctx.tracker().retrieve_service("echo")?;
        ctx.link((ctx.me(), "outbox"), service.endpoint())?;
        ctx.outbox.send("request".to_owned()).await;
        Ok(())
    }));
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok("request".to_owned()));
    let exits = scheduler.runtime_handle().block_on(async {
        tokio::time::timeout(Duration::from_secs(10), async { (client.join().await, server.join().await) }).await
    });
    assert_eq!(exits, Ok((Exit::Finished, Exit::Finished)));
}
