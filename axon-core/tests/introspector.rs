//! The `Introspector`: it sends the whole graph first, then each change (components born and
//! gone, states, parents, inbox depths, linkages made and unmade); a copy kept with its deltas
//! is the graph; a slow consumer holds it back and then gets one delta covering everything it
//! missed; it stops in band, and when its consumer goes away. Every wait has a deadline.

use std::time::{Duration, Instant};

use axon_core::introspect::{GraphDelta, Snapshot};
use axon_core::introspector::Introspector;
use axon_core::ipc::ShutdownMicroprocess;
use axon_core::prelude::*;
use axon_core::{BoxKind, ComponentId, Declarations, Exit};

/// How long anything here may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(20);

/// Looks often, so that the tests wait little.
const EVERY: Duration = Duration::from_millis(10);

/// A copy of the graph kept with the deltas from a handle on an introspector.
struct Watcher {
    deltas: Handle<(), GraphDelta>,
    copy: Snapshot,
    received: Vec<GraphDelta>,
}

impl Watcher {
    fn new(scheduler: &Scheduler) -> Watcher {
        let deltas = Handle::new(Introspector::new(EVERY), scheduler);
        Watcher { deltas, copy: Snapshot::default(), received: Vec::new() }
    }

    /// Applies deltas until `done` holds of the copy; panics at the deadline.
    fn until(&mut self, what: &str, done: impl Fn(&Snapshot) -> bool) {
        let end = Instant::now() + DEADLINE;
        while !done(&self.copy) {
            let left = end.saturating_duration_since(Instant::now());
            match self.deltas.recv_timeout(left) {
                Ok(delta) => {
                    self.copy.apply(&delta);
                    self.received.push(delta);
                }
                Err(e) => panic!("waiting for {what}: {e:?}; the copy is\n{}", self.copy),
            }
        }
    }
}

/// A component's id, name, parent and box names.
type Shape = (ComponentId, String, Option<ComponentId>, Vec<String>);

/// What must agree between a copy and the graph: who is there, their parents and boxes, and
/// the linkages (states and depths move as the test looks).
fn shape(s: &Snapshot) -> (Vec<Shape>, Vec<String>) {
    let components = s
        .components
        .iter()
        .map(|c| (c.id, c.name.clone(), c.parent, c.boxes.iter().map(|b| b.name.to_string()).collect()))
        .collect();
    let linkages = s.linkages.iter().map(|l| format!("{} -> {}", l.source, l.sink)).collect();
    (components, linkages)
}

/// A component that reads nothing, and ends when it is stopped or its `control` closes.
fn idle(name: &'static str) -> impl Component<Inbox = u32, Outbox = ()> {
    from_fn(name, |mut ctx: Context<u32, ()>| async move {
        ctx.control.recv().await;
        Ok(())
    })
}

#[test]
fn the_first_delta_is_the_whole_graph_and_shows_the_introspector() {
    let scheduler = Scheduler::new();
    let mut w = Watcher::new(&scheduler);
    w.until("a first delta", |copy| !copy.components.is_empty());
    let first = &w.received[0];
    assert!(first.full);
    assert_eq!(first.seq, 0);
    let me = first.added.iter().find(|c| c.name.starts_with("Introspector_")).expect("itself");
    assert!(me.find_box(BoxKind::Outbox, "outbox").is_some());
    // The handle's stand-in is there too, linked from the introspector's outbox.
    assert!(first.links_added.iter().any(|l| l.source.component == me.id && l.source.name == "outbox"));
}

#[test]
fn components_born_and_gone_and_linkages_made_and_unmade_are_sent() {
    let scheduler = Scheduler::new();
    let mut w = Watcher::new(&scheduler);
    w.until("a first delta", |copy| !copy.components.is_empty());

    let a = Instance::new(idle("Alpha"));
    let b = Instance::new(idle("Beta"));
    let linkage = scheduler.link((&a, "signal"), (&b, "control")).unwrap();
    let (a, b) = (a.activate(&scheduler), b.activate(&scheduler));
    w.until("Alpha, Beta and their linkage", |copy| {
        copy.component_named("Alpha").is_some()
            && copy.component_named("Beta").is_some()
            && copy.linkages.iter().any(|l| l.id == linkage.id())
    });
    let added = w.received.iter().flat_map(|d| &d.links_added).find(|l| l.id == linkage.id()).unwrap();
    assert_eq!((added.source.component, added.sink.component), (a.id(), b.id()));
    assert_eq!(added.owner, None, "made from outside any component");

    scheduler.unlink(&linkage);
    w.until("the linkage gone", |copy| !copy.linkages.iter().any(|l| l.id == linkage.id()));
    assert!(w.received.last().unwrap().links_removed.contains(&linkage.id()));

    a.stop();
    b.stop();
    w.until("Alpha and Beta gone", |copy| {
        copy.component_named("Alpha").is_none() && copy.component_named("Beta").is_none()
    });
    let removed: Vec<ComponentId> = w.received.iter().flat_map(|d| d.removed.iter().copied()).collect();
    assert!(removed.contains(&a.id()) && removed.contains(&b.id()), "{removed:?}");
    assert!(w.received.iter().skip(1).all(|d| !d.full), "only the first delta is full here");
    let seqs: Vec<u64> = w.received.iter().map(|d| d.seq).collect();
    assert_eq!(seqs, (0..seqs.len() as u64).collect::<Vec<_>>(), "numbered from 0, none skipped");
}

#[test]
fn the_depth_of_a_filling_inbox_and_a_new_parent_are_sent() {
    let scheduler = Scheduler::new();
    let mut w = Watcher::new(&scheduler);
    let holder = scheduler.activate(
        from_fn("Holder", |mut ctx: Context<u32, ()>| async move {
            ctx.control.recv().await;
            Ok(())
        })
        .with_boxes(|boxes: &mut Declarations| {
            boxes.capacity("inbox", Some(5));
        }),
    );
    let id = holder.id();
    w.until("the Holder", |copy| copy.component(id).is_some());
    for n in 0..3u32 {
        holder.deliver("inbox", n).unwrap();
    }
    w.until("the Holder's inbox at 3 of 5", |copy| {
        copy.component(id)
            .and_then(|c| c.find_box(BoxKind::Inbox, "inbox"))
            .is_some_and(|b| (b.depth, b.capacity) == (3, Some(5)))
    });
    let depth = w.received.iter().flat_map(|d| &d.depths).find(|d| d.component == id).expect("a depth change");
    assert_eq!((&*depth.name, depth.depth, depth.capacity), ("inbox", 3, Some(5)));

    // A component that takes the Holder as its child: a change of parent, not a new component.
    let adopted = holder.clone();
    let parent = scheduler.activate(from_fn("Parent", move |mut ctx: Context<(), ()>| async move {
        ctx.add_child(&adopted);
        ctx.control.recv().await;
        Ok(())
    }));
    let parent_id = parent.id();
    w.until("the Holder under its Parent", |copy| {
        copy.component(id).is_some_and(|c| c.parent == Some(parent_id))
            && copy.component(parent_id).is_some_and(|p| p.children == [id])
    });
    let change = w.received.iter().flat_map(|d| &d.changed).find(|c| c.id == id && c.parent.is_some());
    assert_eq!(change.map(|c| c.parent), Some(Some(parent_id)));
    assert_eq!(w.received.iter().flat_map(|d| &d.added).filter(|c| c.id == id).count(), 1, "added once");
    parent.stop();
    holder.stop();
    w.until("both gone", |copy| copy.component(id).is_none() && copy.component(parent_id).is_none());
}

#[test]
fn a_copy_kept_with_the_deltas_is_the_graph() {
    let scheduler = Scheduler::new();
    let mut w = Watcher::new(&scheduler);
    let mut alive = Vec::new();
    for round in 0..5 {
        for _ in 0..4 {
            let a = Instance::new(idle("Left"));
            let b = Instance::new(idle("Right"));
            scheduler.link((&a, "signal"), (&b, "control")).unwrap();
            alive.push(a.activate(&scheduler));
            alive.push(b.activate(&scheduler));
        }
        // Stop some of those made before.
        for c in alive.drain(..round * 2) {
            c.stop();
            let _ = scheduler.runtime_handle().block_on(c.join());
        }
        w.until("the copy to be the graph", |copy| shape(copy) == shape(&scheduler.introspect()));
    }
}

/// A consumer whose inbox holds one delta, and which reads none until `gate` opens; then it
/// passes each one on.
fn gated(gate: std::sync::Arc<tokio::sync::Notify>) -> impl Component<Inbox = GraphDelta, Outbox = GraphDelta> {
    from_fn("Gated", move |mut ctx: Context<GraphDelta, GraphDelta>| async move {
        gate.notified().await;
        while let Some(delta) = ctx.inbox.recv().await {
            ctx.outbox.send(delta).await;
        }
        Ok(())
    })
    .with_boxes(|boxes: &mut Declarations| {
        boxes.capacity("inbox", Some(1));
    })
}

#[test]
fn a_slow_consumer_holds_it_back_then_gets_one_delta_for_all_it_missed() {
    let scheduler = Scheduler::new();
    let gate = std::sync::Arc::new(tokio::sync::Notify::new());
    let introspector = Instance::new(Introspector::new(EVERY));
    let consumer = Instance::new(gated(gate.clone()));
    scheduler.link((&introspector, "outbox"), (&consumer, "inbox")).unwrap();
    let mut out = Handle::new(consumer, &scheduler);
    let introspector = introspector.activate(&scheduler);
    // The first delta fills the consumer's inbox; the introspector now waits for room.
    let end = Instant::now() + DEADLINE;
    while introspector_outbox_full(&scheduler, introspector.id()).is_none() {
        assert!(Instant::now() < end, "the first delta never arrived");
        std::thread::yield_now();
    }

    // Meanwhile the graph changes a lot: 40 components come and go, 3 stay.
    let mut stay = Vec::new();
    for n in 0..43 {
        let c = scheduler.activate(idle("Churn"));
        if n < 3 {
            stay.push(c);
        } else {
            c.stop();
            let _ = scheduler.runtime_handle().block_on(c.join());
        }
    }
    let depth = introspector_outbox_full(&scheduler, introspector.id()).unwrap();
    assert_eq!(depth, (1, Some(1)), "the consumer's inbox holds one delta, no more");

    gate.notify_one();
    let mut copy = Snapshot::default();
    let mut deltas = 0;
    let end = Instant::now() + DEADLINE;
    while copy.components.iter().filter(|c| c.name.starts_with("Churn")).count() != 3 {
        let left = end.saturating_duration_since(Instant::now());
        let delta = out.recv_timeout(left).unwrap_or_else(|e| panic!("no delta: {e:?}; copy:\n{copy}"));
        copy.apply(&delta);
        deltas += 1;
    }
    // The stale full delta, then one (full or not) covering the churn: nothing queued up while
    // the consumer was not reading.
    assert!(deltas <= 3, "{deltas} deltas to catch up");
    for c in stay {
        c.stop();
    }
}

/// The depth and capacity of the inbox the introspector `id`'s outbox leads to, once it holds
/// something.
fn introspector_outbox_full(scheduler: &Scheduler, id: ComponentId) -> Option<(usize, Option<usize>)> {
    let snap = scheduler.introspect();
    let link = snap.linkages.iter().find(|l| l.source.component == id && l.source.name == "outbox")?;
    let sink = snap.component(link.sink.component)?.find_box(BoxKind::Inbox, &link.sink.name)?;
    (sink.depth > 0).then_some((sink.depth, sink.capacity))
}

#[test]
fn it_stops_on_shutdown_and_passes_the_message_on() {
    let scheduler = Scheduler::new();
    let mut watch = Handle::new(Introspector::new(EVERY), &scheduler);
    assert!(watch.recv_timeout(DEADLINE).unwrap().full);
    watch.send_control_blocking(ShutdownMicroprocess::new());
    assert!(watch.recv_signal_timeout(DEADLINE).unwrap().is_shutdown_microprocess());
    assert_eq!(watch.join_blocking(), Exit::Finished);
}

#[test]
fn it_stops_when_its_consumer_goes_away() {
    let scheduler = Scheduler::new();
    let introspector = Instance::new(Introspector::new(EVERY));
    // Takes one delta, then ends.
    let consumer = Instance::new(from_fn("OneDelta", |mut ctx: Context<GraphDelta, ()>| async move {
        ctx.inbox.recv().await;
        Ok(())
    }));
    scheduler.link((&introspector, "outbox"), (&consumer, "inbox")).unwrap();
    let consumer = consumer.activate(&scheduler);
    let introspector = introspector.activate(&scheduler);
    let rt = scheduler.runtime_handle();
    let ended = rt.block_on(async { tokio::time::timeout(DEADLINE, introspector.join()).await });
    assert_eq!(ended, Ok(Exit::Finished));
    assert!(consumer.has_ended());
    assert!(scheduler.introspect().component_named("Introspector").is_none());
}

#[test]
fn the_wire_form_names_every_field() {
    let scheduler = Scheduler::new();
    let mut w = Watcher::new(&scheduler);
    w.until("a first delta", |copy| !copy.components.is_empty());
    let json: serde_json::Value = serde_json::to_value(&w.received[0]).unwrap();
    for field in ["seq", "full", "added", "changed", "removed", "depths", "links_added", "links_removed"] {
        assert!(json.get(field).is_some(), "{field} missing from {json}");
    }
    assert_eq!(json["full"], true);
    let me = json["added"].as_array().unwrap().iter().find(|c| c["class"] == "Introspector").expect("itself");
    assert!(me["name"].as_str().unwrap().starts_with("Introspector_"));
    assert!(me["id"].is_u64());
    assert_eq!(me["kind"], "task");
    assert!(["running", "paused"].contains(&me["state"].as_str().unwrap()), "{me}");
    let control = me["boxes"].as_array().unwrap().iter().find(|b| b["name"] == "control").unwrap();
    assert_eq!(control["kind"], "inbox");
    assert_eq!(control["type"], "axon_core::ipc::Ipc");
    assert_eq!(control["description"], "ProducerFinished or ShutdownMicroprocess: it stops");
    assert_eq!(control["capacity"], 64);
    let outbox = me["boxes"].as_array().unwrap().iter().find(|b| b["name"] == "outbox").unwrap();
    assert_eq!((outbox["kind"].as_str(), outbox["capacity"].is_null()), (Some("outbox"), true));
    let links = json["links_added"].as_array().unwrap();
    let link = links.iter().find(|l| l["from"]["component"] == me["id"] && l["from"]["box"] == "outbox").unwrap();
    assert!(link["id"].is_u64());
    assert_eq!(link["to"]["kind"], "inbox");
    assert_eq!(link["passthrough"], "normal");

    // A component going away is its id in `removed`.
    let gone = scheduler.activate(idle("Gone"));
    w.until("Gone", |copy| copy.component_named("Gone").is_some());
    gone.stop();
    w.until("Gone gone", |copy| copy.component_named("Gone").is_none());
    let json: serde_json::Value = serde_json::to_value(w.received.last().unwrap()).unwrap();
    assert!(json["removed"].as_array().unwrap().contains(&serde_json::json!(gone.id().get())), "{json}");
}
