//! Axon's `test_ThreadedComponent.py` (tests 114–133 of the reference inventory), ported to
//! [`ThreadedComponent`] bodies wrapped in [`Threaded`]: the standard boxes, the body running on
//! an OS thread of its own, messages flowing in and out through the ordinary boxes with blocking
//! calls, linking from the thread while others link from outside, the capacity a threaded sender
//! or receiver sees, ending, and boxes added from the thread (Axon's
//! `threadedadaptivecommscomponent`).
//!
//! Axon put a second set of queues (`queuelengths`) between a thread and its boxes, so a sender
//! saw "inbox size + queue length". Here the thread uses its boxes directly: the capacity a sender
//! sees is exactly the destination inbox's capacity, so the queue-length tests (116, 122–126, 131)
//! check that exact number, and that collecting k messages frees exactly k places.
//!
//! Threads and tests talk over `std::sync::mpsc` channels; every wait has a deadline.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::{self, ThreadId};
use std::time::Duration;

use axon_core::ipc::ShutdownMicroprocess;
use axon_core::prelude::*;
use axon_core::{
    BoxKind, ComponentError, ComponentKind, ComponentState, Exit, LinkOptions, Threaded, ThreadedComponent,
    DEFAULT_CAPACITY,
};

const DEADLINE: Duration = Duration::from_secs(10);

/// Waits (at most [`DEADLINE`]) for `c` to end.
fn join_within(c: &ComponentRef, scheduler: &Scheduler) -> Exit {
    scheduler
        .runtime_handle()
        .block_on(async { tokio::time::timeout(DEADLINE, c.join()).await })
        .unwrap_or_else(|_| panic!("{} did not end in time", c.name()))
}

/// Waits (at most [`DEADLINE`]) for everything on `scheduler` to end.
fn run_within(scheduler: &Scheduler) -> Result<(), axon_core::RunError> {
    scheduler
        .runtime_handle()
        .block_on(async { tokio::time::timeout(DEADLINE, scheduler.run_async()).await })
        .expect("every component ended in time")
}

/// Takes the next report from a thread or component, failing the test after [`DEADLINE`].
fn next<T>(rx: &Receiver<T>) -> T {
    rx.recv_timeout(DEADLINE).expect("a report arrived in time")
}

fn names(c: &ComponentRef, kind: BoxKind) -> Vec<String> {
    c.box_names(kind).into_iter().map(|n| n.into_owned()).collect()
}

fn shutdown() -> Ipc {
    ShutdownMicroprocess::new().into()
}

// ----- components shared by several tests -----

/// A thread that does nothing but wait for a message on `control` (or for its end).
struct DoesNothingThread;

impl ThreadedComponent for DoesNothingThread {
    type Inbox = u32;
    type Outbox = u32;
    fn main(self, mut ctx: Context<u32, u32>) -> ComponentResult {
        ctx.control.recv_blocking();
        Ok(())
    }
}

/// A thread whose body returns at once.
struct Empty;

impl ThreadedComponent for Empty {
    type Inbox = ();
    type Outbox = ();
    fn main(self, _ctx: Context<(), ()>) -> ComponentResult {
        Ok(())
    }
}

/// What a sender reports after a batch (Axon's `feedback` queue).
#[derive(Debug, PartialEq, Eq)]
enum Feedback {
    /// Every message of the batch was accepted.
    AllSent,
    /// `sent` messages were accepted, then the destination refused one.
    NoSpace { sent: usize, capacity: usize, destination: String },
}

/// Sends `count` numbered messages with `try_send`, continuing the numbering across batches
/// (a refused message is not counted, and is sent again first in the next batch).
fn send_batch(outbox: &mut Outbox<u32>, next: &mut u32, count: usize) -> Feedback {
    for sent in 0..count {
        match outbox.try_send(*next) {
            Ok(()) => *next += 1,
            Err(e) => {
                assert_eq!(e.message, *next, "the refused message comes back");
                return Feedback::NoSpace { sent, capacity: e.capacity, destination: e.destination };
            }
        }
    }
    Feedback::AllSent
}

/// Axon's `ThreadedSender`: the thread waits for "how many to send", sends them with
/// `try_send`, and reports; it ends when the test drops its end of `how_many`.
struct ThreadedSender {
    how_many: Receiver<usize>,
    feedback: Sender<Feedback>,
}

impl ThreadedComponent for ThreadedSender {
    type Inbox = ();
    type Outbox = u32;
    fn main(self, mut ctx: Context<(), u32>) -> ComponentResult {
        let mut next = 0;
        while let Ok(count) = self.how_many.recv() {
            let _ = self.feedback.send(send_batch(&mut ctx.outbox, &mut next, count));
        }
        Ok(())
    }
}

fn threaded_sender() -> (Instance<Threaded<ThreadedSender>>, Sender<usize>, Receiver<Feedback>) {
    let (how_many, rx) = channel();
    let (tx, feedback) = channel();
    (Instance::new(Threaded(ThreadedSender { how_many: rx, feedback: tx })), how_many, feedback)
}

/// What the test asks a holder to do.
#[derive(Debug)]
enum Cmd {
    /// Take up to this many messages that are waiting now (without waiting), and report them.
    Collect(usize),
    /// Wait for this many messages, and report them.
    Recv(usize),
    /// Change the inbox's capacity, and report nothing (an empty list).
    SetCapacity(Option<usize>),
}

/// Axon's `DoesNothingComponent` as a receiver: an ordinary (task) component that leaves its
/// inbox alone except when the test tells it to collect. Ends when the test drops its commands.
struct Holder {
    capacity: Option<usize>,
    cmds: tokio::sync::mpsc::UnboundedReceiver<Cmd>,
    report: Sender<Vec<u32>>,
}

impl Component for Holder {
    type Inbox = u32;
    type Outbox = ();

    fn declare(&self, boxes: &mut axon_core::Declarations) {
        if let Some(c) = self.capacity {
            boxes.capacity("inbox", Some(c));
        }
    }

    async fn main(mut self, mut ctx: Context<u32, ()>) -> ComponentResult {
        while let Some(cmd) = self.cmds.recv().await {
            let got = match cmd {
                Cmd::Collect(k) => ctx.inbox.drain().take(k).collect(),
                Cmd::Recv(n) => {
                    let mut got = Vec::with_capacity(n);
                    while got.len() < n {
                        match ctx.inbox.recv().await {
                            Some(m) => got.push(m),
                            None => break,
                        }
                    }
                    got
                }
                Cmd::SetCapacity(c) => {
                    ctx.inbox.set_capacity(c);
                    Vec::new()
                }
            };
            let _ = self.report.send(got);
        }
        Ok(())
    }
}

/// The test's side of a [`Holder`].
struct HolderCtl {
    cmds: tokio::sync::mpsc::UnboundedSender<Cmd>,
    report: Receiver<Vec<u32>>,
}

impl HolderCtl {
    fn ask(&self, cmd: Cmd) -> Vec<u32> {
        self.cmds.send(cmd).expect("the holder is running");
        next(&self.report)
    }
}

fn holder(capacity: Option<usize>) -> (Instance<Holder>, HolderCtl) {
    let (cmd_tx, cmds) = tokio::sync::mpsc::unbounded_channel();
    let (report, report_rx) = channel();
    (Instance::new(Holder { capacity, cmds, report }), HolderCtl { cmds: cmd_tx, report: report_rx })
}

/// An ordinary component that sends one message and ends (Axon's `OneShotTo`).
fn one_shot_to(msg: &'static str) -> Instance<impl Component<Inbox = (), Outbox = String>> {
    Instance::new(from_fn("OneShotTo", move |mut ctx: Context<(), String>| async move {
        ctx.outbox.send(msg.to_owned()).await;
        Ok(())
    }))
}

/// An ordinary component that collects until its inbox closes, then reports (Axon's `RecvFrom`).
fn recv_from(report: Sender<Vec<String>>) -> Instance<impl Component<Inbox = String, Outbox = ()>> {
    Instance::new(from_fn("RecvFrom", move |mut ctx: Context<String, ()>| async move {
        let mut rec = Vec::new();
        while let Some(m) = ctx.inbox.recv().await {
            rec.push(m);
        }
        let _ = report.send(rec);
        Ok(())
    }))
}

// ----- threadedcomponent_Test -----

// Axon 114: threadedcomponent_Test.test_smoketest_init
#[test]
fn a_threaded_component_has_exactly_the_standard_two_inboxes_and_two_outboxes() {
    let t = Instance::new(Threaded(DoesNothingThread));
    assert_eq!(names(t.component(), BoxKind::Inbox), ["inbox", "control"]);
    assert_eq!(names(t.component(), BoxKind::Outbox), ["outbox", "signal"]);
}

// Axon 115: threadedcomponent_Test.test_smoketest_args
#[test]
fn a_threaded_component_can_be_made_without_arguments() {
    let t = Instance::new(Threaded(Empty));
    assert_eq!(t.component().state(), ComponentState::Created);
    let name = t.name().to_owned();
    let (_, suffix) = name.rsplit_once('_').expect("names are Class_<id>");
    assert!(name.contains("Empty_"), "{name}");
    assert_eq!(suffix, t.id().get().to_string());
}

/// A thread whose inbox holds `capacity` messages: its one constructor argument (Axon's
/// `threadedcomponent(queuelengths)`). It never collects.
struct Sized(usize);

impl ThreadedComponent for Sized {
    type Inbox = u32;
    type Outbox = ();
    fn declare(&self, boxes: &mut axon_core::Declarations) {
        boxes.capacity("inbox", Some(self.0));
    }
    fn main(self, mut ctx: Context<u32, ()>) -> ComponentResult {
        ctx.control.recv_blocking();
        Ok(())
    }
}

// Axon 116: threadedcomponent_Test.test_smoketest_oneargs (adapt: the one argument, Axon's queue
// length, is here the capacity of the thread's inbox, and a sender sees exactly that)
#[test]
fn a_threaded_components_one_argument_sets_exactly_the_capacity_a_sender_sees() {
    let scheduler = Scheduler::new();
    let mut h = Handle::new(Threaded(Sized(10)), &scheduler);
    let snap = scheduler.introspect();
    let info = snap.component(h.component().id()).expect("it is live");
    assert_eq!(info.find_box(BoxKind::Inbox, "inbox").unwrap().capacity, Some(10));
    for i in 0..10 {
        h.put(i).unwrap_or_else(|e| panic!("message {i} refused: {e}"));
    }
    let refused = h.put(10).unwrap_err();
    assert_eq!((refused.capacity, refused.message), (10, 10));
    h.put_control(shutdown()).unwrap();
    assert_eq!(join_within(h.component(), &scheduler), Exit::Finished);
}

// Axon 117: threadedcomponent_Test.test_localprocessterminates
#[test]
fn a_threaded_component_with_an_empty_body_ends_and_so_does_the_run() {
    let scheduler = Scheduler::new();
    let t = scheduler.activate(Threaded(Empty));
    assert_eq!(run_within(&scheduler), Ok(()));
    assert_eq!(t.exit(), Some(Exit::Finished));
    assert_eq!(scheduler.live(), 0);
    assert!(scheduler.components().is_empty());
}

// Axon 118: threadedcomponent_Test.test_threadisseparate
#[test]
fn the_body_runs_on_an_os_thread_of_its_own_named_after_the_component() {
    struct Test(Sender<(ThreadId, Option<String>)>);
    impl ThreadedComponent for Test {
        type Inbox = ();
        type Outbox = ();
        fn main(self, _ctx: Context<(), ()>) -> ComponentResult {
            let me = thread::current();
            let _ = self.0.send((me.id(), me.name().map(str::to_owned)));
            Ok(())
        }
    }
    let scheduler = Scheduler::new();
    let (tx, rx) = channel();
    let (task_tx, task_rx) = channel();
    let t = scheduler.activate(Threaded(Test(tx)));
    // An ordinary component, for comparison: it runs on one of the runtime's workers.
    scheduler.activate(from_fn("Task", move |_ctx: Context<(), ()>| async move {
        let _ = task_tx.send(thread::current().id());
        Ok(())
    }));
    let (id, name) = next(&rx);
    assert_ne!(id, thread::current().id(), "not the test's thread");
    assert_ne!(id, next(&task_rx), "not the thread ordinary components ran on");
    assert_eq!(name.as_deref(), Some(t.name()));
    assert_eq!(join_within(&t, &scheduler), Exit::Finished);
    assert_eq!(t.kind(), ComponentKind::Thread);
}

// Axon 119: threadedcomponent_Test.test_flow_in
#[test]
fn a_message_delivered_to_the_inbox_is_received_by_the_thread() {
    struct ThreadedReceiver(Sender<Vec<String>>);
    impl ThreadedComponent for ThreadedReceiver {
        type Inbox = String;
        type Outbox = ();
        fn main(self, mut ctx: Context<String, ()>) -> ComponentResult {
            let mut rec = Vec::new();
            // Until the inbox closes: its only sender is the one-shot component.
            while let Some(m) = ctx.inbox.recv_blocking() {
                assert_eq!(ctx.inbox.data_ready(), 0, "one message was sent");
                rec.push(m);
            }
            let _ = self.0.send(rec);
            Ok(())
        }
    }
    let scheduler = Scheduler::new();
    let (tx, rx) = channel();
    let r = Instance::new(Threaded(ThreadedReceiver(tx)));
    let o = one_shot_to("hello!");
    scheduler.link((&o, "outbox"), (&r, "inbox")).unwrap();
    r.activate(&scheduler);
    o.activate(&scheduler);
    assert_eq!(next(&rx), ["hello!"]);
    assert_eq!(run_within(&scheduler), Ok(()));
}

// Axon 120: threadedcomponent_Test.test_flow_out
#[test]
fn a_message_the_thread_sends_reaches_a_linked_ordinary_component() {
    struct ThreadedSend(&'static str);
    impl ThreadedComponent for ThreadedSend {
        type Inbox = ();
        type Outbox = String;
        fn main(self, mut ctx: Context<(), String>) -> ComponentResult {
            ctx.outbox.send_blocking(self.0.to_owned());
            Ok(())
        }
    }
    let scheduler = Scheduler::new();
    let (tx, rx) = channel();
    let t = Instance::new(Threaded(ThreadedSend("hello there!")));
    let r = recv_from(tx);
    scheduler.link((&t, "outbox"), (&r, "inbox")).unwrap();
    t.activate(&scheduler);
    r.activate(&scheduler);
    assert_eq!(next(&rx), ["hello there!"]);
    assert_eq!(run_within(&scheduler), Ok(()));
}

// Axon 121: threadedcomponent_Test.test_linksafe (adapt: Axon mocked the postoffice to catch
// re-entrant calls; here the thread links and unlinks its own boxes while the test links and
// unlinks other boxes of the same component at the same time, and every step is checked)
#[test]
fn linking_from_the_thread_while_others_link_from_outside_keeps_the_wiring_intact() {
    const ROUNDS: u32 = 200;
    /// Says when it starts; waits to be told the outside is done before ending.
    struct ThreadedLinker(Sender<()>, Receiver<()>);
    impl ThreadedComponent for ThreadedLinker {
        type Inbox = u32;
        type Outbox = u32;
        fn main(self, mut ctx: Context<u32, u32>) -> ComponentResult {
            let _ = self.0.send(());
            for i in 0..ROUNDS {
                let linkage = ctx.link((ctx.me(), "outbox"), (ctx.me(), "inbox"))?;
                if !linkage.is_linked() || ctx.me().owned_linkages().len() != 1 {
                    return Err(ComponentError::msg(format!("round {i}: the new linkage is not in place")));
                }
                ctx.outbox.try_send(i)?;
                match ctx.inbox.try_recv() {
                    Ok(got) if got == i => {}
                    other => return Err(ComponentError::msg(format!("round {i}: looped back {other:?}"))),
                }
                ctx.unlink(&linkage);
                if linkage.is_linked() || !ctx.me().owned_linkages().is_empty() {
                    return Err(ComponentError::msg(format!("round {i}: the linkage survived unlink")));
                }
            }
            // Stay alive until the outside is done too: ending removes linkages out of our boxes.
            self.1.recv_timeout(DEADLINE).map_err(|e| ComponentError::msg(format!("never told: {e}")))?;
            Ok(())
        }
    }
    let scheduler = Scheduler::new();
    let (started_tx, started) = channel();
    let (done, done_rx) = channel();
    let t = scheduler.activate(Threaded(ThreadedLinker(started_tx, done_rx)));
    next(&started);
    for i in 0..ROUNDS {
        let linkage = scheduler.link((&t, "signal"), (&t, "control")).unwrap();
        assert!(linkage.is_linked(), "round {i}");
        assert_eq!(linkage.source_pair(), (t.id(), "signal"));
        scheduler.unlink(&linkage);
        assert!(!linkage.is_linked(), "round {i}");
    }
    let _ = done.send(()); // fails only if the thread already ended, which the join reports
    assert_eq!(join_within(&t, &scheduler), Exit::Finished);
    assert!(t.owned_linkages().is_empty());
    assert!(scheduler.introspect().linkages.is_empty());
}

// Axon 122: threadedcomponent_Test.test_ThereIsADefaultOutgoingQueueSize (adapt: the limit a
// threaded sender meets is the destination's capacity, DEFAULT_CAPACITY unless declared)
#[test]
fn a_threaded_sender_meets_the_default_capacity_of_a_receiver_that_does_not_collect() {
    let scheduler = Scheduler::new();
    let (t, how_many, feedback) = threaded_sender();
    let (d, _ctl) = holder(None);
    scheduler.link((&t, "outbox"), (&d, "inbox")).unwrap();
    let destination = format!("{}.inbox", d.name());
    let t = t.activate(&scheduler);
    let d = d.activate(&scheduler);
    how_many.send(99_999).unwrap();
    let result = next(&feedback);
    assert_ne!(result, Feedback::AllSent);
    assert_eq!(result, Feedback::NoSpace { sent: DEFAULT_CAPACITY, capacity: DEFAULT_CAPACITY, destination });
    assert_eq!(d.data_ready("inbox"), DEFAULT_CAPACITY);
    drop(how_many);
    assert_eq!(join_within(&t, &scheduler), Exit::Finished);
}

// Axon 123: threadedcomponent_Test.test_CanSetOutgoingQueueSize (adapt: Axon's queuelengths=20
// becomes a capacity of 20 set on the linkage, Axon's pipewidth)
#[test]
fn a_capacity_set_on_the_linkage_limits_a_threaded_sender_to_exactly_that_many() {
    const QSIZE: usize = 20;
    let scheduler = Scheduler::new();
    let (t, how_many, feedback) = threaded_sender();
    let (d, _ctl) = holder(None);
    scheduler.link_with((&t, "outbox"), (&d, "inbox"), LinkOptions::default().pipewidth(QSIZE)).unwrap();
    let destination = format!("{}.inbox", d.name());
    let t = t.activate(&scheduler);
    d.activate(&scheduler);
    how_many.send(99_999).unwrap();
    assert_eq!(next(&feedback), Feedback::NoSpace { sent: QSIZE, capacity: QSIZE, destination });
    drop(how_many);
    assert_eq!(join_within(&t, &scheduler), Exit::Finished);
}

/// Axon's `DoesNothingThread` as a receiver: sets its inbox's capacity, says it is ready, then
/// leaves its inbox alone except when the test tells it to collect (`Some(k)`: up to k waiting
/// messages). Ends when the test drops its commands.
struct ThreadedHolder {
    capacity: usize,
    ready: Sender<()>,
    cmds: Receiver<usize>,
    report: Sender<Vec<u32>>,
}

impl ThreadedComponent for ThreadedHolder {
    type Inbox = u32;
    type Outbox = ();
    fn main(self, mut ctx: Context<u32, ()>) -> ComponentResult {
        ctx.inbox.set_capacity(Some(self.capacity));
        let _ = self.ready.send(());
        while let Ok(k) = self.cmds.recv() {
            let _ = self.report.send(ctx.inbox.drain().take(k).collect());
        }
        Ok(())
    }
}

// Axon 124: threadedcomponent_Test.test_RestrictedInboxSize (adapt: Axon's inbox size 10 +
// queue 20 = 30 becomes exactly the inbox's 10; then collecting k frees exactly k)
#[test]
fn a_sender_to_a_threaded_component_can_deliver_exactly_its_inbox_capacity() {
    const BSIZE: usize = 10;
    let scheduler = Scheduler::new();
    let (ready_tx, ready) = channel();
    let (cmds, cmds_rx) = channel();
    let (report_tx, report) = channel();
    let t =
        Instance::new(Threaded(ThreadedHolder { capacity: BSIZE, ready: ready_tx, cmds: cmds_rx, report: report_tx }));
    // An ordinary component sends, when told how many, and reports.
    let (go, mut go_rx) = tokio::sync::mpsc::unbounded_channel::<usize>();
    let (fb_tx, feedback) = channel();
    let d = Instance::new(from_fn("Sender", move |mut ctx: Context<(), u32>| async move {
        let mut next = 0;
        while let Some(count) = go_rx.recv().await {
            let _ = fb_tx.send(send_batch(&mut ctx.outbox, &mut next, count));
        }
        Ok(())
    }));
    scheduler.link((&d, "outbox"), (&t, "inbox")).unwrap();
    let destination = format!("{}.inbox", t.name());
    let t = t.activate(&scheduler);
    d.activate(&scheduler);
    next(&ready);

    go.send(BSIZE + 20).unwrap();
    let full = Feedback::NoSpace { sent: BSIZE, capacity: BSIZE, destination: destination.clone() };
    assert_eq!(next(&feedback), full);
    assert_eq!(t.data_ready("inbox"), BSIZE);
    // Nothing collected, no room.
    go.send(1).unwrap();
    assert_eq!(next(&feedback), Feedback::NoSpace { sent: 0, capacity: BSIZE, destination: destination.clone() });
    // The thread collects 3: exactly 3 more fit.
    cmds.send(3).unwrap();
    assert_eq!(next(&report), [0, 1, 2]);
    go.send(BSIZE + 20).unwrap();
    assert_eq!(next(&feedback), Feedback::NoSpace { sent: 3, capacity: BSIZE, destination });
    cmds.send(usize::MAX).unwrap();
    assert_eq!(next(&report), (3..13).collect::<Vec<u32>>());

    drop((go, cmds));
    assert_eq!(run_within(&scheduler), Ok(()));
    assert_eq!(t.exit(), Some(Exit::Finished));
}

// Axon 125: threadedcomponent_Test.test_NoSpaceInBoxExceptionsReachThread (adapt: Axon's inbox
// size 10 + queue 20 = 30 becomes exactly the inbox's 10)
#[test]
fn a_thread_sending_to_a_restricted_inbox_gets_no_space_after_exactly_its_capacity() {
    const BSIZE: usize = 10;
    let scheduler = Scheduler::new();
    let (t, how_many, feedback) = threaded_sender();
    let (d, _ctl) = holder(Some(BSIZE));
    scheduler.link((&t, "outbox"), (&d, "inbox")).unwrap();
    let destination = format!("{}.inbox", d.name());
    let d = d.activate(&scheduler);
    let t = t.activate(&scheduler);
    how_many.send(BSIZE + 10).unwrap();
    let result = next(&feedback);
    assert_ne!(result, Feedback::AllSent);
    assert_eq!(result, Feedback::NoSpace { sent: BSIZE, capacity: BSIZE, destination });
    assert_eq!(d.data_ready("inbox"), BSIZE);
    drop(how_many);
    assert_eq!(join_within(&t, &scheduler), Exit::Finished);
}

// Axon 126: threadedcomponent_Test.test_TakingFromDestinationAllowsMoreToBeDelivered (adapt: no
// intermediate queue to fill and flush: the thread fills the inbox, gets nothing more in while
// nothing is collected, then exactly as many as were collected)
#[test]
fn collecting_at_the_destination_lets_the_thread_deliver_exactly_as_many_more() {
    const BSIZE: usize = 10;
    const NUM_COLLECT: usize = BSIZE / 2;
    let scheduler = Scheduler::new();
    let (t, how_many, feedback) = threaded_sender();
    let (d, ctl) = holder(Some(BSIZE));
    scheduler.link((&t, "outbox"), (&d, "inbox")).unwrap();
    let destination = format!("{}.inbox", d.name());
    let no_space = |sent| Feedback::NoSpace { sent, capacity: BSIZE, destination: destination.clone() };
    d.activate(&scheduler);
    let t = t.activate(&scheduler);

    how_many.send(BSIZE + 10).unwrap();
    assert_eq!(next(&feedback), no_space(BSIZE));
    how_many.send(BSIZE + 10).unwrap();
    assert_eq!(next(&feedback), no_space(0));
    assert_eq!(ctl.ask(Cmd::Collect(NUM_COLLECT)), [0, 1, 2, 3, 4]);
    how_many.send(BSIZE + 10).unwrap();
    assert_eq!(next(&feedback), no_space(NUM_COLLECT));
    // Everything arrived in order, nothing was lost or doubled.
    assert_eq!(ctl.ask(Cmd::Collect(usize::MAX)), (5..15).collect::<Vec<u32>>());
    // And with room for all, a batch goes through whole.
    how_many.send(BSIZE).unwrap();
    assert_eq!(next(&feedback), Feedback::AllSent);

    drop(how_many);
    assert_eq!(join_within(&t, &scheduler), Exit::Finished);
}

// Axon 127: threadedcomponent_Test.test_localprocessterminatesifInQueueFull (adapt: no inner
// queue; the inbox itself is full, and the component still ends when its thread returns)
#[test]
fn a_threaded_component_ends_when_its_thread_returns_even_with_a_full_inbox() {
    struct Test;
    impl ThreadedComponent for Test {
        type Inbox = u32;
        type Outbox = ();
        fn declare(&self, boxes: &mut axon_core::Declarations) {
            boxes.capacity("inbox", Some(5));
        }
        fn main(self, mut ctx: Context<u32, ()>) -> ComponentResult {
            match ctx.control.recv_timeout(DEADLINE) {
                Ok(_) => Ok(()),
                Err(e) => Err(ComponentError::msg(format!("no control message: {e}"))),
            }
        }
    }
    let scheduler = Scheduler::new();
    let t = scheduler.activate(Threaded(Test));
    // More data than the inbox can hold: the last five are refused.
    let accepted = (0..10u32).filter(|&i| t.deliver("inbox", i).is_ok()).count();
    assert_eq!(accepted, 5);
    t.deliver("control", shutdown()).unwrap();
    assert_eq!(run_within(&scheduler), Ok(()));
    assert_eq!(t.exit(), Some(Exit::Finished));
    assert_eq!(t.data_ready("inbox"), 0, "what it never read went with it");
}

// Axon 128: threadedcomponent_Test.test_localprocessterminatesOnlyIfOutqueueFlushed (adapt: no
// out-queue; the thread's sends wait for room, so it cannot end before everything it sent is
// delivered, and the receiver gets every message)
#[test]
fn a_threaded_component_ends_only_once_all_its_messages_are_delivered() {
    const COUNT: u32 = 20;
    struct Test(Sender<u32>);
    impl ThreadedComponent for Test {
        type Inbox = ();
        type Outbox = u32;
        fn main(self, mut ctx: Context<(), u32>) -> ComponentResult {
            for i in 0..COUNT {
                let _ = self.0.send(i); // "about to send i"
                ctx.outbox.send_blocking(i);
            }
            Ok(())
        }
    }
    let scheduler = Scheduler::new();
    let (tx, progress) = channel();
    let t = Instance::new(Threaded(Test(tx)));
    let (r, ctl) = holder(Some(1));
    scheduler.link((&t, "outbox"), (&r, "inbox")).unwrap();
    let r = r.activate(&scheduler);
    let t = t.activate(&scheduler);

    assert_eq!(next(&progress), 0);
    assert_eq!(next(&progress), 1, "message 0 was delivered");
    // Message 1 cannot be delivered until the receiver collects.
    assert!(!t.has_ended(), "the threaded component should not have finished yet");
    assert_eq!(r.data_ready("inbox"), 1, "there should be data waiting at the receiver's inbox");

    // Relax the receiver's capacity and take everything.
    assert_eq!(ctl.ask(Cmd::SetCapacity(Some(999))), []);
    assert_eq!(ctl.ask(Cmd::Recv(COUNT as usize)), (0..COUNT).collect::<Vec<_>>());
    assert_eq!(join_within(&t, &scheduler), Exit::Finished);
    assert_eq!(r.data_ready("inbox"), 0, "nothing more than was counted");
}

// ----- threadedadaptivecommscomponent_Test -----

/// A thread that adds and removes boxes at run time; `report` hears what it did.
struct Adaptive(Option<Sender<String>>);

impl ThreadedComponent for Adaptive {
    type Inbox = ();
    type Outbox = ();
    fn main(self, ctx: Context<(), ()>) -> ComponentResult {
        let added_in = ctx.add_inbox::<u8>("added", "added by the thread");
        let added_out = ctx.add_outbox::<u8>("added", "added by the thread");
        let seen = format!("{:?}", (names(ctx.me(), BoxKind::Inbox), names(ctx.me(), BoxKind::Outbox)));
        ctx.delete_inbox(added_in)?;
        ctx.delete_outbox(added_out)?;
        if let Some(report) = self.0 {
            let _ = report.send(seen);
        }
        Ok(())
    }
}

// Axon 129: threadedadaptivecommscomponent_Test.test_smoketest_init
#[test]
fn an_adaptive_threaded_component_starts_with_exactly_the_standard_boxes() {
    let t = Instance::new(Threaded(Adaptive(None)));
    assert_eq!(names(t.component(), BoxKind::Inbox), ["inbox", "control"]);
    assert_eq!(names(t.component(), BoxKind::Outbox), ["outbox", "signal"]);
}

// Axon 130: threadedadaptivecommscomponent_Test.test_smoketest_args
#[test]
fn an_adaptive_threaded_component_can_be_made_without_arguments_and_runs() {
    let scheduler = Scheduler::new();
    let (tx, rx) = channel();
    let t = Instance::new(Threaded(Adaptive(Some(tx))));
    assert_eq!(t.component().state(), ComponentState::Created);
    let t = t.activate(&scheduler);
    assert_eq!(next(&rx), r#"(["inbox", "control", "added"], ["outbox", "signal", "added"])"#);
    assert_eq!(join_within(&t, &scheduler), Exit::Finished);
}

// Axon 131: threadedadaptivecommscomponent_Test.test_smoketest_oneargs (adapt: the one argument
// is the capacity the thread gives an inbox it adds; a sender sees exactly that)
#[test]
fn an_adaptive_threaded_components_one_argument_sizes_the_inbox_it_adds() {
    struct SizedAdder(usize, Sender<String>);
    impl ThreadedComponent for SizedAdder {
        type Inbox = ();
        type Outbox = ();
        fn main(self, mut ctx: Context<(), ()>) -> ComponentResult {
            let added = ctx.add_inbox::<u32>("newbox", "sized by the argument");
            added.set_capacity(Some(self.0));
            let _ = self.1.send(added.name().to_owned());
            ctx.control.recv_blocking();
            Ok(())
        }
    }
    let scheduler = Scheduler::new();
    let (tx, rx) = channel();
    let t = scheduler.activate(Threaded(SizedAdder(10, tx)));
    let boxname = next(&rx);
    let accepted = (0..11u32).filter(|&i| t.deliver(&boxname, i).is_ok()).count();
    assert_eq!(accepted, 10);
    assert_eq!(t.data_ready(&boxname), 10);
    t.deliver("control", shutdown()).unwrap();
    assert_eq!(join_within(&t, &scheduler), Exit::Finished);
}

// Axon 132: threadedadaptivecommscomponent_Test.test_addInbox
#[test]
fn the_thread_receives_what_is_delivered_to_an_inbox_it_added() {
    struct T {
        to_test_case: Sender<Result<String, String>>,
        from_test_case: Receiver<()>,
    }
    impl ThreadedComponent for T {
        type Inbox = ();
        type Outbox = ();
        fn main(self, ctx: Context<(), ()>) -> ComponentResult {
            let mut newbox = ctx.add_inbox::<String>("newbox", "added by the thread");
            let _ = self.to_test_case.send(Ok(newbox.name().to_owned()));
            let _ = self.from_test_case.recv();
            let reply = if newbox.data_ready() == 0 {
                Err("data should have been ready at the new inbox".to_owned())
            } else {
                newbox.try_recv().map_err(|e| e.to_string())
            };
            let _ = self.to_test_case.send(reply);
            Ok(())
        }
    }
    let scheduler = Scheduler::new();
    let (to_test_case, from_thread) = channel();
    let (to_thread, from_test_case) = channel();
    let t = scheduler.activate(Threaded(T { to_test_case, from_test_case }));
    let boxname = next(&from_thread).expect("the thread added a box");
    assert_eq!(boxname, "newbox");
    t.deliver(&boxname, "hello".to_owned()).unwrap();
    to_thread.send(()).unwrap();
    assert_eq!(next(&from_thread), Ok("hello".to_owned()));
    assert_eq!(join_within(&t, &scheduler), Exit::Finished);
}

// Axon 133: threadedadaptivecommscomponent_Test.test_addOutbox
#[test]
fn the_thread_sends_through_an_outbox_it_added_and_linked() {
    struct T {
        dst: ComponentRef,
        from_test_case: Receiver<String>,
    }
    impl ThreadedComponent for T {
        type Inbox = ();
        type Outbox = ();
        fn main(self, ctx: Context<(), ()>) -> ComponentResult {
            let mut newbox = ctx.add_outbox::<String>("newbox", "added by the thread");
            ctx.link((ctx.me(), newbox.name()), (&self.dst, "inbox"))?;
            if let Ok(msg) = self.from_test_case.recv() {
                newbox.send_blocking(msg);
            }
            Ok(())
        }
    }
    let scheduler = Scheduler::new();
    let (tx, rec) = channel();
    let r = recv_from(tx).activate(&scheduler);
    let (to_thread, from_test_case) = channel();
    let t = scheduler.activate(Threaded(T { dst: r.clone(), from_test_case }));
    to_thread.send("hello".to_owned()).unwrap();
    // The thread's linkage goes when it ends, which closes the receiver's inbox.
    assert_eq!(next(&rec), ["hello"]);
    assert_eq!(join_within(&t, &scheduler), Exit::Finished);
    assert_eq!(join_within(&r, &scheduler), Exit::Finished);
}

// ----- what the port adds (no Axon test) -----

// Port: Axon could not stop a threaded component (§10.14); here stopping closes its boxes, so a
// thread blocked on them returns.
#[test]
fn stopping_a_threaded_component_releases_a_thread_blocked_on_its_inbox() {
    struct Blocked(Sender<Option<u32>>);
    impl ThreadedComponent for Blocked {
        type Inbox = u32;
        type Outbox = ();
        fn main(self, mut ctx: Context<u32, ()>) -> ComponentResult {
            let _ = self.0.send(Some(0)); // started
            let _ = self.0.send(ctx.inbox.recv_blocking());
            Ok(())
        }
    }
    let scheduler = Scheduler::new();
    let (tx, rx) = channel();
    let t = scheduler.activate(Threaded(Blocked(tx)));
    assert_eq!(next(&rx), Some(0), "the thread has started");
    t.stop();
    assert_eq!(next(&rx), None, "the blocking receive returned: the inbox closed");
    assert_eq!(join_within(&t, &scheduler), Exit::Stopped);
    assert_eq!(run_within(&scheduler), Ok(()));
}

// Port: a panic in the thread ends that component alone, reported like any component's.
#[test]
fn a_panic_in_the_thread_ends_that_component_alone() {
    struct Bad;
    impl ThreadedComponent for Bad {
        type Inbox = ();
        type Outbox = ();
        fn main(self, _ctx: Context<(), ()>) -> ComponentResult {
            panic!("thread boom")
        }
    }
    let scheduler = Scheduler::new();
    let bad = scheduler.activate(Threaded(Bad));
    let mut h = Handle::new(Threaded(Sized(4)), &scheduler);
    assert_eq!(join_within(&bad, &scheduler), Exit::Panicked("thread boom".into()));
    h.put(1).unwrap();
    assert!(!h.component().has_ended(), "the other threaded component runs on");
    h.put_control(shutdown()).unwrap();
    assert_eq!(join_within(h.component(), &scheduler), Exit::Finished);
    match run_within(&scheduler) {
        Err(axon_core::RunError::ComponentsFailed(f)) => assert_eq!(f.len(), 1, "{f:?}"),
        other => panic!("the panic is reported: {other:?}"),
    }
}
