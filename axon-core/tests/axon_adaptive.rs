//! Axon's `test_AdaptiveCommsComponent.py` (tests 134–153 of the reference inventory), ported to
//! boxes added and removed at run time ([`Context::add_inbox`], [`Context::add_outbox`],
//! [`Context::delete_box`], [`Context::delete_inbox`], [`Context::delete_outbox`]) and to
//! [`ResourceTracker`]. In Axon any component made from `AdaptiveCommsComponent` could do this
//! from outside; here a component adds and deletes its own boxes from its body, so most tests run
//! their assertions inside a component (a failed assertion panics that component, and `run`
//! reports it). The last tests cover what the port adds: deleting a box removes its linkages, and
//! ceasing to track a resource forgets it in both directions.

use std::future::Future;

use axon_core::prelude::*;
use axon_core::tuning::OutboxTuning;
use axon_core::{BoxError, BoxKind, ComponentResult, ResourceTracker, TryRecvError};

/// Runs `body` as the body of a fresh component on a scheduler of its own, and fails the test
/// (with the component's panic message) unless the body finishes cleanly.
fn within_a_component<F, Fut>(body: F)
where
    F: FnOnce(Context<u32, u32>) -> Fut + Send + 'static,
    Fut: Future<Output = ComponentResult> + Send,
{
    if let Err(e) = Instance::new(from_fn("Adaptive", body)).run() {
        panic!("the component's body failed: {e}");
    }
}

/// A component's boxes of one kind, as plain strings.
fn names(c: &ComponentRef, kind: BoxKind) -> Vec<String> {
    c.box_names(kind).into_iter().map(|n| n.into_owned()).collect()
}

/// A component made and never activated.
fn plain() -> Instance<impl Component<Inbox = u32, Outbox = u32>> {
    Instance::new(from_fn("Plain", |_ctx: Context<u32, u32>| async { Ok(()) }))
}

// Axon 134: test_SmokeTest_NoArguments
#[test]
fn a_component_starts_with_only_the_four_standard_boxes_all_empty() {
    let a = plain();
    let c = a.component();
    assert_eq!(names(c, BoxKind::Inbox), ["inbox", "control"]);
    assert_eq!(names(c, BoxKind::Outbox), ["outbox", "signal"]);
    assert_eq!(c.data_ready("inbox"), 0);
    assert_eq!(c.data_ready("control"), 0);
    // And the same seen from its own body.
    within_a_component(|ctx| async move {
        assert_eq!(names(ctx.me(), BoxKind::Inbox), ["inbox", "control"]);
        assert_eq!(names(ctx.me(), BoxKind::Outbox), ["outbox", "signal"]);
        assert!(ctx.inbox.is_empty() && ctx.control.is_empty());
        Ok(())
    });
}

// Axon 136: test_addInbox_newName
#[test]
fn adding_an_inbox_under_a_free_name_uses_that_name_and_the_box_starts_empty() {
    within_a_component(|ctx| async move {
        let mut added = ctx.add_inbox::<String>("name", "an inbox added at run time");
        assert_eq!(added.name(), "name");
        assert!(names(ctx.me(), BoxKind::Inbox).contains(&"name".to_owned()));
        assert_eq!(added.data_ready(), 0);
        assert_eq!(ctx.me().data_ready("name"), 0);
        // It is a working inbox: a delivery by name lands in it.
        ctx.me().deliver("name", "hello".to_owned())?;
        assert_eq!(added.try_recv().as_deref(), Ok("hello"));
        Ok(())
    });
}

// Axon 137: test_addInbox_existingName
#[test]
fn adding_an_inbox_under_a_taken_name_uses_a_longer_name_starting_with_it() {
    within_a_component(|ctx| async move {
        let first = ctx.add_inbox::<u8>("name", "first");
        let second = ctx.add_inbox::<u8>("name", "second");
        assert_eq!(first.name(), "name");
        assert_ne!(second.name(), "name");
        assert!(second.name().starts_with("name"), "{}", second.name());
        // A standard name is taken too.
        let third = ctx.add_inbox::<u8>("inbox", "third");
        assert!(third.name() != "inbox" && third.name().starts_with("inbox"), "{}", third.name());
        // The names given are the names the boxes are known by.
        ctx.me().deliver(second.name(), 2u8)?;
        assert_eq!((first.data_ready(), second.data_ready(), third.data_ready()), (0, 1, 0));
        Ok(())
    });
}

// Axon 138: test_addOutbox_newName
#[test]
fn adding_an_outbox_under_a_free_name_uses_that_name_and_the_box_starts_empty() {
    within_a_component(|ctx| async move {
        let mut added = ctx.add_outbox::<String>("name", "an outbox added at run time");
        assert_eq!(added.name(), "name");
        assert!(names(ctx.me(), BoxKind::Outbox).contains(&"name".to_owned()));
        assert!(!added.is_linked());
        assert_eq!(added.destination_len(), 0);
        Ok(())
    });
}

// Axon 139: test_addOutbox_existingName
#[test]
fn adding_an_outbox_under_a_taken_name_uses_a_longer_name_starting_with_it() {
    within_a_component(|ctx| async move {
        let first = ctx.add_outbox::<u8>("name", "first");
        let second = ctx.add_outbox::<u8>("name", "second");
        assert_eq!(first.name(), "name");
        assert_ne!(second.name(), "name");
        assert!(second.name().starts_with("name"), "{}", second.name());
        let third = ctx.add_outbox::<u8>("outbox", "third");
        assert!(third.name() != "outbox" && third.name().starts_with("outbox"), "{}", third.name());
        assert!(ctx.me().has_box(BoxKind::Outbox, second.name()));
        Ok(())
    });
}

// Axon 140: test_InboxModification
#[test]
fn inboxes_added_under_one_name_get_distinct_names_and_deleting_them_leaves_the_standard_ones() {
    within_a_component(|ctx| async move {
        let mut added = Vec::new();
        for _ in 0..4 {
            let before = names(ctx.me(), BoxKind::Inbox);
            let b = ctx.add_inbox::<u32>("name", "added");
            assert!(!before.contains(&b.name().to_owned()), "{} was already there", b.name());
            assert!(ctx.me().has_box(BoxKind::Inbox, b.name()));
            assert_eq!(b.data_ready(), 0);
            added.push(b);
        }
        for b in added {
            let name = b.name().to_owned();
            ctx.delete_inbox(b)?;
            assert!(!ctx.me().has_box(BoxKind::Inbox, &name), "{name} was not deleted");
        }
        assert_eq!(names(ctx.me(), BoxKind::Inbox), ["inbox", "control"]);
        assert!(ctx.inbox.is_empty() && ctx.control.is_empty());
        Ok(())
    });
}

// Axon 141: test_OutboxModification
#[test]
fn outboxes_added_under_one_name_get_distinct_names_and_deleting_them_leaves_the_standard_ones() {
    within_a_component(|ctx| async move {
        let mut added = Vec::new();
        for _ in 0..4 {
            let before = names(ctx.me(), BoxKind::Outbox);
            let b = ctx.add_outbox::<u32>("name", "added");
            assert!(!before.contains(&b.name().to_owned()), "{} was already there", b.name());
            assert!(ctx.me().has_box(BoxKind::Outbox, b.name()));
            added.push(b);
        }
        for b in added {
            let name = b.name().to_owned();
            ctx.delete_outbox(b)?;
            assert!(!ctx.me().has_box(BoxKind::Outbox, &name), "{name} was not deleted");
        }
        assert_eq!(names(ctx.me(), BoxKind::Outbox), ["outbox", "signal"]);
        Ok(())
    });
}

// Axon 142: test_deleteInbox_invalidInbox (adapt: KeyError becomes BoxError::NoSuchBox)
#[test]
fn deleting_an_unknown_or_already_deleted_inbox_fails_with_no_such_box() {
    within_a_component(|ctx| async move {
        let no_such =
            |name: &str| BoxError::NoSuchBox { component: ctx.name().to_owned(), kind: "inbox", name: name.to_owned() };
        assert_eq!(ctx.delete_box(BoxKind::Inbox, "NonExistantInbox"), Err(no_such("NonExistantInbox")));
        // An outbox's name does not name an inbox.
        assert_eq!(ctx.delete_box(BoxKind::Inbox, "outbox"), Err(no_such("outbox")));
        // Deleting twice.
        let b = ctx.add_inbox::<u32>("dynamic", "added");
        let name = b.name().to_owned();
        ctx.delete_box(BoxKind::Inbox, &name)?;
        assert_eq!(ctx.delete_box(BoxKind::Inbox, &name), Err(no_such(&name)));
        assert_eq!(names(ctx.me(), BoxKind::Inbox), ["inbox", "control"]);
        Ok(())
    });
}

// Axon 143: test_deleteInbox_validInbox (Axon picked one standard inbox at random; both are
// deleted here, each in its own component)
#[test]
fn a_standard_inbox_can_be_deleted_and_what_it_held_is_dropped() {
    for victim in ["inbox", "control"] {
        within_a_component(move |mut ctx| async move {
            let c = ctx.me().clone();
            c.deliver("inbox", 7u32)?;
            c.deliver("control", Ipc::from("flurble"))?;
            ctx.delete_box(BoxKind::Inbox, victim)?;
            let left = names(&c, BoxKind::Inbox);
            assert!(!left.contains(&victim.to_owned()), "{victim} is still there: {left:?}");
            assert_eq!(left.len(), 1);
            // The handle of the deleted box sees a closed, empty box; nothing more can be put in.
            match victim {
                "inbox" => assert_eq!(ctx.inbox.try_recv(), Err(TryRecvError::Closed)),
                _ => assert!(matches!(ctx.control.try_recv(), Err(TryRecvError::Closed))),
            }
            assert!(matches!(c.deliver(victim, 8u32), Err(BoxError::NoSuchBox { .. })));
            Ok(())
        });
    }
}

// Axon 144: test_deleteOutbox_invalidOutbox (adapt: KeyError becomes BoxError::NoSuchBox)
#[test]
fn deleting_an_unknown_or_already_deleted_outbox_fails_with_no_such_box() {
    within_a_component(|ctx| async move {
        let no_such = |name: &str| BoxError::NoSuchBox {
            component: ctx.name().to_owned(),
            kind: "outbox",
            name: name.to_owned(),
        };
        assert_eq!(ctx.delete_box(BoxKind::Outbox, "NonExistantInbox"), Err(no_such("NonExistantInbox")));
        assert_eq!(ctx.delete_box(BoxKind::Outbox, "inbox"), Err(no_such("inbox")));
        let b = ctx.add_outbox::<u32>("dynamic", "added");
        let name = b.name().to_owned();
        ctx.delete_box(BoxKind::Outbox, &name)?;
        assert_eq!(ctx.delete_box(BoxKind::Outbox, &name), Err(no_such(&name)));
        assert_eq!(names(ctx.me(), BoxKind::Outbox), ["outbox", "signal"]);
        Ok(())
    });
}

// Axon 145: test_deleteOutbox_validOutbox
#[test]
fn a_standard_outbox_can_be_deleted() {
    for victim in ["outbox", "signal"] {
        within_a_component(move |ctx| async move {
            let before = names(ctx.me(), BoxKind::Outbox);
            ctx.delete_box(BoxKind::Outbox, victim)?;
            let after = names(ctx.me(), BoxKind::Outbox);
            assert_ne!(before, after);
            assert!(!after.contains(&victim.to_owned()), "{victim} is still there: {after:?}");
            assert_eq!(after.len(), 1);
            Ok(())
        });
    }
}

// Axon 146: test_trackResource_validDefaultInbox
#[test]
fn a_resource_tracked_on_a_standard_inbox_is_retrieved_by_that_inbox() {
    let a = plain();
    let mut resources: ResourceTracker<&str, ()> = ResourceTracker::new(a.component());
    resources.track_resource("resource", "inbox").unwrap();
    assert_eq!(resources.retrieve_tracked_resource("inbox"), Some(&"resource"));
    assert_eq!(resources.retrieve_tracked_resource("control"), None);
}

// Axon 147: test_trackResource_validDynamicInbox
#[test]
fn a_resource_tracked_on_an_added_inbox_is_retrieved_by_that_inbox() {
    within_a_component(|ctx| async move {
        let mut resources: ResourceTracker<&str, ()> = ResourceTracker::new(ctx.me());
        let dynamic = ctx.add_inbox::<Vec<u8>>("dynamic", "from one connection");
        resources.track_resource("resource", dynamic.name())?;
        assert_eq!(resources.retrieve_tracked_resource(dynamic.name()), Some(&"resource"));
        Ok(())
    });
}

// Axon 148: test_trackResource_invalidInbox (adapt: KeyError becomes BoxError::NoSuchBox)
#[test]
fn tracking_a_resource_on_a_missing_inbox_fails_and_records_nothing() {
    within_a_component(|ctx| async move {
        let mut resources: ResourceTracker<&str, ()> = ResourceTracker::new(ctx.me());
        let missing = format!("{}-not-a-box", ctx.add_inbox::<u8>("name", "added").name());
        assert_eq!(
            resources.track_resource("resource", &missing),
            Err(BoxError::NoSuchBox { component: ctx.name().to_owned(), kind: "inbox", name: missing.clone() })
        );
        assert_eq!(resources.retrieve_tracked_resource(&missing), None);
        // An outbox is not an inbox.
        assert!(resources.track_resource("resource", "outbox").is_err());
        Ok(())
    });
}

const INFO: &str = "qwertyuiopasdfghjklzxcvbnm";

// Axon 149: test_trackResourceInformation_validDefaultBoxes
#[test]
fn resource_information_on_the_standard_boxes_round_trips() {
    let a = plain();
    let mut resources: ResourceTracker<&str, &str> = ResourceTracker::new(a.component());
    resources.track_resource_information("resource", &["inbox", "control"], &["outbox", "signal"], INFO).unwrap();
    let (inboxes, outboxes, info) = resources.retrieve_tracked_resource_information(&"resource").unwrap();
    assert_eq!(inboxes, &["inbox", "control"]);
    assert_eq!(outboxes, &["outbox", "signal"]);
    assert_eq!(*info, INFO);
    assert!(resources.retrieve_tracked_resource_information(&"other").is_none());
}

// Axon 150: test_trackResourceInformation_validDynamicBoxes
#[test]
fn resource_information_on_added_boxes_round_trips() {
    within_a_component(|ctx| async move {
        let mut resources: ResourceTracker<&str, &str> = ResourceTracker::new(ctx.me());
        let ins: Vec<_> = (0..3).map(|_| ctx.add_inbox::<u8>("dynamic", "in")).collect();
        let outs: Vec<_> = (0..3).map(|_| ctx.add_outbox::<u8>("dynamic", "out")).collect();
        let in_names: Vec<&str> = ins.iter().map(|b| b.name()).collect();
        let out_names: Vec<&str> = outs.iter().map(|b| b.name()).collect();
        resources.track_resource_information("resource", &in_names, &out_names, INFO)?;
        let (inboxes, outboxes, info) = resources.retrieve_tracked_resource_information(&"resource").unwrap();
        assert_eq!(inboxes, &in_names);
        assert_eq!(outboxes, &out_names);
        assert_eq!(*info, INFO);
        Ok(())
    });
}

// Axon 151: test_trackResourceInformation_invalidInboxes (adapt: KeyError becomes NoSuchBox)
#[test]
fn resource_information_naming_a_missing_inbox_fails_and_records_nothing() {
    within_a_component(|ctx| async move {
        let mut resources: ResourceTracker<&str, &str> = ResourceTracker::new(ctx.me());
        let missing = format!("{}-not-a-box", ctx.add_inbox::<u8>("name", "added").name());
        let out = ctx.add_outbox::<u8>("dynamic", "valid");
        let r = resources.track_resource_information("resource", &[missing.as_str()], &[out.name()], INFO);
        assert_eq!(r, Err(BoxError::NoSuchBox { component: ctx.name().to_owned(), kind: "inbox", name: missing }));
        assert!(resources.retrieve_tracked_resource_information(&"resource").is_none());
        Ok(())
    });
}

// Axon 152: test_trackResourceInformation_invalidOutboxes (adapt: KeyError becomes NoSuchBox)
#[test]
fn resource_information_naming_a_missing_outbox_fails_and_records_nothing() {
    within_a_component(|ctx| async move {
        let mut resources: ResourceTracker<&str, &str> = ResourceTracker::new(ctx.me());
        let inbox = ctx.add_inbox::<u8>("dynamic", "valid");
        let missing = format!("{}-not-a-box", ctx.add_outbox::<u8>("name", "added").name());
        let r = resources.track_resource_information("resource", &[inbox.name()], &[missing.as_str()], INFO);
        assert_eq!(r, Err(BoxError::NoSuchBox { component: ctx.name().to_owned(), kind: "outbox", name: missing }));
        assert!(resources.retrieve_tracked_resource_information(&"resource").is_none());
        Ok(())
    });
}

// ----- what the port adds (no Axon test) -----

// Port: Axon's deleteInbox left linkages in place (§10.15); here they go with the box.
#[test]
fn deleting_a_box_removes_the_linkages_into_and_out_of_it() {
    let scheduler = Scheduler::new();
    let (tx, rx) = std::sync::mpsc::channel();
    let feeder = Instance::new(from_fn("Feeder", |_ctx: Context<(), u32>| async { Ok(()) }));
    let feeder_ref = feeder.component().clone();
    let body = move |ctx: Context<u32, u32>| async move {
        let added_in = ctx.add_inbox::<u32>("dynamic", "fed from outside");
        let added_out = ctx.add_outbox::<u32>("dynamic", "loops back");
        let into = ctx.link((&feeder_ref, "outbox"), (ctx.me(), added_in.name()))?;
        let out_of = ctx.link((ctx.me(), added_out.name()), (ctx.me(), "inbox"))?;
        assert!(into.is_linked() && out_of.is_linked());
        assert_eq!(ctx.me().owned_linkages().len(), 2);
        ctx.delete_inbox(added_in)?;
        ctx.delete_outbox(added_out)?;
        tx.send((into.is_linked(), out_of.is_linked(), ctx.me().owned_linkages().len())).unwrap();
        Ok(())
    };
    let c = Instance::new(from_fn("Adaptive", body)).activate(&scheduler);
    assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(10)), Ok((false, false, 0)));
    drop(feeder);
    let exit = scheduler
        .runtime_handle()
        .block_on(async { tokio::time::timeout(std::time::Duration::from_secs(10), c.join()).await });
    assert_eq!(exit, Ok(axon_core::Exit::Finished));
}

// Port: Axon's ceaseTrackingResource left the inbox → resource entry behind (§10.15).
#[test]
fn ceasing_to_track_a_resource_forgets_it_in_both_directions() {
    let a = plain();
    let mut resources: ResourceTracker<&str, &str> = ResourceTracker::new(a.component());
    resources.track_resource("resource", "inbox").unwrap();
    resources.track_resource_information("resource", &["inbox"], &["outbox"], INFO).unwrap();
    let info = resources.cease_tracking_resource(&"resource").expect("its information comes back");
    assert_eq!(info.2, INFO);
    assert_eq!(resources.retrieve_tracked_resource("inbox"), None);
    assert!(resources.retrieve_tracked_resource_information(&"resource").is_none());
    assert!(resources.cease_tracking_resource(&"resource").is_none());
}
