//! Pipeline: Kamaelia's `test_Pipeline.py` (tests 1–6 of the chassis reference, §6), ported,
//! and the Rust additions (circular pipelines, shutdown along the chain, typed stages, failures).
//!
//! Each test drives [`MockChild`](mock_child::MockChild)ren by hand through their puppets and
//! drives the Pipeline's own boxes through a [`Handle`]; every wait has a deadline.

mod mock_child;

use axon_core::ipc::{ProducerFinished, ShutdownMicroprocess};
use axon_core::prelude::*;
use axon_core::{ComponentState, Exit};
use kamaelia_chassis::graphline::{child, Graphline};
use kamaelia_chassis::pipeline;
use kamaelia_chassis::pipeline::Pipeline;
use mock_child::{mock, within, Puppet};

type Text = Puppet<String, String>;

fn four_mocks() -> (Pipeline<String, String>, [Text; 4]) {
    let (a, pa) = mock();
    let (b, pb) = mock();
    let (c, pc) = mock();
    let (d, pd) = mock();
    (pipeline![a, b, c, d], [pa, pb, pc, pd])
}

async fn all_activated(puppets: &mut [Text]) {
    for p in puppets {
        p.activated().await;
    }
}

fn is_other(msg: &Ipc, text: &str) -> bool {
    matches!(msg, Ipc::Other(s) if s == text)
}

/// Test 1 (`test_PipelineActivatesChildrenOnlyWhenActivated`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn children_are_activated_when_the_pipeline_is_and_no_sooner() {
    let (a, pa) = mock::<String, String>();
    let (b, pb) = mock::<String, String>();
    let (c, pc) = mock::<String, String>();
    let mut puppets = [pa, pb, pc];
    let pipeline = Instance::new(pipeline![a, b, c]);
    for p in &puppets {
        assert!(!p.was_activated());
        assert_eq!(p.component().state(), ComponentState::Created);
    }

    let _h = Handle::new(pipeline, &Scheduler::new());
    all_activated(&mut puppets).await;
    assert!(puppets.iter().all(|p| p.was_activated()));
}

/// Test 2 (`test_PipelineTerminatesOnlyWhenAllChildrenHaveTerminated`): the children are stopped
/// one at a time; the Pipeline outlives every one but the last.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pipeline_ends_only_when_all_its_children_have_ended() {
    let (a, pa) = mock::<String, String>();
    let (b, pb) = mock::<String, String>();
    let (c, pc) = mock::<String, String>();
    let scheduler = Scheduler::new();
    let h = Handle::new(pipeline![a, b, c], &scheduler);
    let mut puppets = [pa, pb, pc];
    all_activated(&mut puppets).await;

    for p in &puppets {
        assert!(!h.component().has_ended(), "the Pipeline ended while a child was running");
        assert_eq!(p.stop().await, Exit::Finished);
    }
    assert_eq!(within("the Pipeline to end", h.join()).await, Exit::Finished);
}

/// Test 3 (`test_PipelineChildrenWiredOutboxInbox`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_childs_outbox_feeds_the_next_childs_inbox() {
    let (pipeline, mut children) = four_mocks();
    let _h = Handle::new(pipeline, &Scheduler::new());
    all_activated(&mut children).await;

    let mut msg = "from child 0".to_owned();
    children[0].send(msg.clone()).await;
    for (i, child) in children.iter().enumerate().skip(1) {
        assert_eq!(child.recv().await, msg);
        msg = format!("from child {i}");
        child.send(msg.clone()).await;
    }
}

/// Test 4 (`test_PipelineChildrenWiredSignalControl`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_childs_signal_feeds_the_next_childs_control() {
    let (pipeline, mut children) = four_mocks();
    let _h = Handle::new(pipeline, &Scheduler::new());
    all_activated(&mut children).await;

    let mut msg = "signal 0".to_owned();
    children[0].signal(msg.as_str()).await;
    for (i, child) in children.iter().enumerate().skip(1).take(2) {
        let got = child.recv_control().await;
        assert!(is_other(&got, &msg), "child {i} got {got:?}, expected {msg}");
        msg = format!("signal {i}");
        child.signal(msg.as_str()).await;
    }
    assert!(is_other(&children[3].recv_control().await, &msg));
}

/// Test 5 (`test_PipelineFirstChildWiredToParentInboxes`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pipelines_inbox_and_control_reach_the_first_child() {
    let (pipeline, mut children) = four_mocks();
    let mut h = Handle::new(pipeline, &Scheduler::new());
    all_activated(&mut children).await;

    h.send("data in".to_owned()).await;
    assert_eq!(children[0].recv().await, "data in");
    h.send_control("control in").await;
    assert!(is_other(&children[0].recv_control().await, "control in"));
    assert!(children.iter().all(|c| !c.any_ready()), "a message reached a child it was not meant for");
}

/// Test 6 (`test_PipelineLastChildWiredToParentOutboxes`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_childs_outbox_and_signal_leave_through_the_pipeline() {
    let (pipeline, mut children) = four_mocks();
    let mut h = Handle::new(pipeline, &Scheduler::new());
    all_activated(&mut children).await;

    children[3].send("data out".to_owned()).await;
    assert_eq!(h.get().as_deref(), Ok("data out"));
    children[3].signal("signal out").await;
    assert!(is_other(&h.get_signal().unwrap(), "signal out"));
}

/// Kamaelia's `circular=True`: the last child feeds the first, and nothing leaves the Pipeline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_circular_pipeline_feeds_its_last_child_back_to_the_first_and_sends_nothing_out() {
    let (a, pa) = mock::<String, String>();
    let (b, pb) = mock::<String, String>();
    let pipeline = pipeline![a, b].circular();
    assert!(pipeline.is_circular());
    let mut h = Handle::new(pipeline, &Scheduler::new());
    let mut children = [pa, pb];
    all_activated(&mut children).await;

    children[1].send("round again".to_owned()).await;
    assert_eq!(children[0].recv().await, "round again");
    children[1].signal("signal round").await;
    assert!(is_other(&children[0].recv_control().await, "signal round"));
    // The Pipeline's own inbox still reaches the first child.
    h.send("from outside".to_owned()).await;
    assert_eq!(children[0].recv().await, "from outside");

    for c in &children {
        c.stop().await;
    }
    within("the Pipeline to end", h.join()).await;
    assert_eq!(within("the outbox to close", h.recv()).await, None, "a circular Pipeline sent data out");
    assert!(within("the signal to close", h.recv_signal()).await.is_none(), "a circular Pipeline signalled");
}

/// §1.1: "It terminates when all children have terminated, and emits no message of its own."
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pipeline_sends_no_message_of_its_own_when_it_ends() {
    let (pipeline, mut children) = four_mocks();
    let mut h = Handle::new(pipeline, &Scheduler::new());
    all_activated(&mut children).await;
    for c in &children {
        c.stop().await;
    }
    assert_eq!(within("the Pipeline to end", h.join()).await, Exit::Finished);
    assert_eq!(within("the outbox to close", h.recv()).await, None);
    assert!(within("the signal to close", h.recv_signal()).await.is_none());
}

/// A source, a worker: data flows through, and the source's `ProducerFinished` travels along the
/// signal→control chain and out of the Pipeline's `signal`; then everything has ended.
fn numbers() -> impl Component<Inbox = (), Outbox = u32> {
    from_fn("Numbers", |mut ctx: Context<(), u32>| async move {
        for n in 1..=3 {
            ctx.outbox.send(n).await;
        }
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    })
}

fn double() -> impl Component<Inbox = u32, Outbox = u32> {
    from_fn("Double", |mut ctx: Context<u32, u32>| async move {
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(n) => ctx.outbox.send(n * 2).await,
                Event::Control(msg) => {
                    // `next_event` reads control first: what arrived before it is still queued.
                    for n in ctx.inbox.drain() {
                        ctx.outbox.send(n * 2).await;
                    }
                    ctx.signal.send(msg).await;
                    break;
                }
            }
        }
        Ok(())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_and_shutdown_flow_through_a_pipeline_of_real_components() {
    let pipeline = Pipeline::new(numbers()).then(double()).then(double());
    let mut h = Handle::new(pipeline, &Scheduler::new());
    for expected in [4, 8, 12] {
        assert_eq!(within("a number", h.recv()).await, Some(expected));
    }
    let last = within("the signal", h.recv_signal()).await.expect("a signal");
    assert!(last.is_producer_finished(), "got {last:?}");
    assert_eq!(within("the Pipeline to end", h.join()).await, Exit::Finished);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_sent_to_the_pipelines_control_travels_down_the_chain_and_out() {
    let mut h = Handle::new(pipeline![double(), double()], &Scheduler::new());
    h.send(5).await;
    assert_eq!(within("a number", h.recv()).await, Some(20));
    h.send_control(ShutdownMicroprocess::new()).await;
    let last = within("the signal", h.recv_signal()).await.expect("a signal");
    assert!(last.is_shutdown_microprocess(), "got {last:?}");
    assert_eq!(within("the Pipeline to end", h.join()).await, Exit::Finished);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graphline_instance_can_be_a_stage_of_a_pipeline() {
    let stage = Graphline::<u32, u32>::typed(
        [("D", child(double()))],
        [
            (("self", "inbox"), ("D", "inbox")),
            (("self", "control"), ("D", "control")),
            (("D", "outbox"), ("self", "outbox")),
            (("D", "signal"), ("self", "signal")),
        ],
    )
    .expect("a sound declaration");
    let mut h = Handle::new(pipeline![numbers(), stage], &Scheduler::new());
    for expected in [2, 4, 6] {
        assert_eq!(within("a number", h.recv()).await, Some(expected));
    }
    assert!(within("the signal", h.recv_signal()).await.expect("a signal").is_producer_finished());
    assert_eq!(within("the Pipeline to end", h.join()).await, Exit::Finished);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_of_one_child_passes_all_four_boxes_through_to_it() {
    let (a, mut pa) = mock::<String, String>();
    let mut h = Handle::new(pipeline![a], &Scheduler::new());
    pa.activated().await;
    h.send("in".to_owned()).await;
    assert_eq!(pa.recv().await, "in");
    h.send_control("control").await;
    assert!(is_other(&pa.recv_control().await, "control"));
    pa.send("out".to_owned()).await;
    assert_eq!(h.get().as_deref(), Ok("out"));
    pa.signal("signal").await;
    assert!(is_other(&h.get_signal().unwrap(), "signal"));
}

/// A child's box that is already linked cannot be wired: the Pipeline fails, naming the linkage,
/// and its children (which never ran) are stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_already_linked_elsewhere_makes_the_pipeline_fail_naming_the_linkage() {
    let scheduler = Scheduler::new();
    let (a, pa) = mock::<String, String>();
    let (b, pb) = mock::<String, String>();
    let (elsewhere, _pe) = mock::<String, String>();
    scheduler.link((&a, "outbox"), (&elsewhere, "inbox")).unwrap();
    let h = Handle::new(pipeline![a, b], &scheduler);

    match within("the Pipeline to end", h.join()).await {
        Exit::Failed(why) => {
            assert!(why.contains("child 0's outbox to child 1's inbox"), "{why}");
            assert!(why.contains("already linked"), "{why}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    for p in [&pa, &pb] {
        assert_eq!(within("a child to end", p.component().join()).await, Exit::Stopped);
        assert!(!p.was_activated());
    }
}

/// A child that panics ends alone; the Pipeline goes on waiting for the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_that_panics_ends_alone_and_the_pipeline_waits_for_the_rest() {
    let (a, pa) = mock::<String, String>();
    let (c, pc) = mock::<String, String>();
    let fragile = Instance::new(from_fn("Fragile", |mut ctx: Context<String, String>| async move {
        let msg = ctx.inbox.recv().await;
        panic!("cannot handle {msg:?}");
    }));
    let fragile_ref = fragile.component().clone();
    let scheduler = Scheduler::new();
    let h = Handle::new(pipeline![a, fragile, c], &scheduler);
    let mut puppets = [pa, pc];
    all_activated(&mut puppets).await;

    puppets[0].send("boom".to_owned()).await;
    assert!(matches!(within("the fragile child to end", fragile_ref.join()).await, Exit::Panicked(_)));
    assert!(!h.component().has_ended(), "the Pipeline ended with children still running");
    for p in &puppets {
        p.stop().await;
    }
    assert_eq!(within("the Pipeline to end", h.join()).await, Exit::Finished);
    assert_eq!(scheduler.failures().len(), 1);
}

/// Stopping a Pipeline from outside stops its children too.
#[tokio::test(flavor = "multi_thread")]
async fn stopping_a_pipeline_stops_its_children() {
    let forever = || {
        from_fn("Forever", |_ctx: Context<u32, u32>| async move {
            std::future::pending::<()>().await;
            Ok(())
        })
    };
    let s = Scheduler::new();
    let running = s.activate(kamaelia_chassis::Pipeline::new(forever()).then(forever()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while running.children().len() < 2 {
        assert!(std::time::Instant::now() < deadline, "the children start");
        tokio::task::yield_now().await;
    }
    let children = running.children();
    running.stop();
    for c in children {
        let exit = tokio::time::timeout(std::time::Duration::from_secs(10), c.join()).await.expect("a child ends");
        assert_eq!(exit, Exit::Stopped);
    }
}
