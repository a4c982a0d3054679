//! `Context::host`, the mechanism under [`ChildHost`](super::ChildHost): a component running
//! other components' bodies in its own boxes, one after another, and telling whether each left
//! it as it found it. (Crate-private, so tested here; `tests/child_host.rs` tests the feature
//! through its public face.) And the kept host's box tables, against what it declares.

use std::sync::mpsc;
use std::time::Duration;

use super::body::{hostable, Hosted};
use crate::prelude::*;
use crate::{BoxError, ComponentError, Declarations, Exit, Inbox, Scheduler};

const DEADLINE: Duration = Duration::from_secs(10);

/// The bodies the tests host.
enum Body {
    /// Reads one number and sends it back doubled, with its component's name.
    Double,
    /// Starts a component and makes it its child, then ends.
    Parent,
    /// Gives its inbox handle away: it outlives the body.
    Keeper(mpsc::Sender<Inbox<u32>>),
    /// Ends at once.
    Plain,
    /// Asks for its component (the host) to be stopped, and ends.
    StopsItself,
    /// Panics.
    Panics,
    /// Returns an error.
    Fails,
}

fn explode() {
    panic!("hosted boom");
}

impl Component for Body {
    type Inbox = u32;
    type Outbox = (String, u32);

    async fn main(self, mut ctx: Context<u32, (String, u32)>) -> ComponentResult {
        match self {
            Body::Double => {
                if let Some(n) = ctx.inbox.recv().await {
                    let name = ctx.name().to_owned();
                    ctx.outbox.send((name, 2 * n)).await;
                }
            }
            Body::Parent => {
                let child = ctx.activate(from_fn("Child", |_c: Context<(), ()>| async move { Ok(()) }));
                ctx.add_child(&child);
            }
            Body::Keeper(keep) => keep.send(ctx.inbox).unwrap(),
            Body::Plain => {}
            Body::StopsItself => ctx.me().stop(),
            Body::Panics => explode(),
            Body::Fails => return Err(ComponentError::msg("gave up")),
        }
        Ok(())
    }
}

/// Runs `bodies` in turn in its boxes and reports each run.
struct Host {
    bodies: Vec<Body>,
    report: mpsc::Sender<Hosted>,
}

impl Component for Host {
    type Inbox = u32;
    type Outbox = (String, u32);

    async fn main(self, mut ctx: Context<u32, (String, u32)>) -> ComponentResult {
        for body in self.bodies {
            assert!(hostable(&body));
            let run = ctx.host(body).await;
            self.report.send(run).unwrap();
        }
        // The host's own boxes are still its own, and still linked.
        ctx.outbox.send(("host".into(), 0)).await;
        Ok(())
    }
}

/// Collects what reaches it.
fn sink(out: mpsc::Sender<(String, u32)>) -> impl Component<Inbox = (String, u32), Outbox = ()> {
    from_fn("Sink", move |mut ctx: Context<(String, u32), ()>| async move {
        while let Some(m) = ctx.inbox.recv().await {
            let last = m.0 == "host";
            out.send(m).unwrap();
            if last {
                break;
            }
        }
        Ok(())
    })
}

fn run_host(bodies: Vec<Body>, inputs: &[u32]) -> (Vec<Hosted>, Vec<(String, u32)>, Scheduler) {
    let (report, reports) = mpsc::channel();
    let (out, outs) = mpsc::channel();
    let scheduler = Scheduler::new();
    let host = Instance::new(Host { bodies, report });
    let sink = Instance::new(sink(out));
    scheduler.link((&host, "outbox"), (&sink, "inbox")).unwrap();
    for n in inputs {
        host.component().deliver("inbox", *n).unwrap();
    }
    host.activate(&scheduler);
    sink.activate(&scheduler);
    let runner = scheduler.clone();
    let done = std::thread::spawn(move || runner.run());
    let runs: Vec<Hosted> = reports.iter().collect();
    let got: Vec<(String, u32)> = outs.iter().collect();
    let _ = done.join().unwrap();
    (runs, got, scheduler)
}

#[test]
fn bodies_run_in_turn_in_the_hosts_boxes_and_under_its_name() {
    let (runs, got, _) = run_host(vec![Body::Double, Body::Double, Body::Double], &[1, 2, 3]);
    assert_eq!(runs, vec![Hosted { exit: Exit::Finished, clean: true }; 3]);
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names[0].contains("Host_"), "{names:?}");
    assert_eq!(names[..3], [names[0]; 3]);
    assert_eq!(got.iter().map(|(_, v)| *v).collect::<Vec<_>>(), [2, 4, 6, 0]);
}

#[test]
fn a_body_that_leaves_a_child_or_a_handle_behind_is_not_clean() {
    // Each in a host of its own, followed by a plain body: what the first left behind is still
    // there after the second.
    let (keep, kept) = mpsc::channel::<Inbox<u32>>();
    let clean = |body: Body| run_host(vec![body, Body::Plain], &[]).0.iter().map(|r| r.clean).collect::<Vec<_>>();
    assert_eq!(clean(Body::Plain), [true, true]);
    // Told to stop, the host is not clean (it may still run the second body in the same turn,
    // before it is dropped).
    assert!(!clean(Body::StopsItself)[0]);
    assert_eq!(clean(Body::Parent), [false, false]);
    assert_eq!(clean(Body::Keeper(keep)), [false, false]);
    drop(kept);
}

#[test]
fn a_body_that_panics_or_fails_is_reported_as_a_components_failure_would_be() {
    let bodies = vec![Body::Panics, Body::Fails];
    let (runs, _, scheduler) = run_host(bodies, &[]);
    assert_eq!(runs[0].exit, Exit::Panicked("hosted boom".into()));
    assert!(!runs[0].clean);
    assert_eq!(runs[1].exit, Exit::Failed("gave up".into()));
    assert!(runs[1].clean);
    // `run` hands the failures over; they are no longer pending after it.
    assert!(scheduler.failures().is_empty());
}

#[test]
fn only_a_task_with_the_standard_boxes_at_their_capacities_is_hostable() {
    struct Extra;
    impl Component for Extra {
        type Inbox = u32;
        type Outbox = u32;
        fn declare(&self, boxes: &mut Declarations) {
            boxes.inbox::<u8>("more", "one box too many");
        }
        async fn main(self, _ctx: Context<u32, u32>) -> ComponentResult {
            Ok(())
        }
    }
    struct Resized;
    impl Component for Resized {
        type Inbox = u32;
        type Outbox = u32;
        fn declare(&self, boxes: &mut Declarations) {
            boxes.capacity("inbox", Some(1));
        }
        async fn main(self, _ctx: Context<u32, u32>) -> ComponentResult {
            Ok(())
        }
    }
    struct Described;
    impl Component for Described {
        type Inbox = u32;
        type Outbox = u32;
        fn declare(&self, boxes: &mut Declarations) {
            boxes.describe(crate::BoxKind::Inbox, "inbox", "numbers");
        }
        async fn main(self, _ctx: Context<u32, u32>) -> ComponentResult {
            Ok(())
        }
    }
    /// Asks about the standard boxes, as a declaration may, and asks for nothing more.
    struct Asks;
    impl Component for Asks {
        type Inbox = u32;
        type Outbox = u32;
        fn declare(&self, boxes: &mut Declarations) {
            assert!(boxes.has(crate::BoxKind::Inbox, "control"));
            assert_eq!(boxes.type_name_of(crate::BoxKind::Outbox, "outbox"), Some("u32"));
            boxes.capacity("inbox", Some(crate::DEFAULT_CAPACITY));
        }
        async fn main(self, _ctx: Context<u32, u32>) -> ComponentResult {
            Ok(())
        }
    }
    /// Describes a box it does not have: not hostable (making it panics, as for any component).
    struct DescribesAStranger;
    impl Component for DescribesAStranger {
        type Inbox = u32;
        type Outbox = u32;
        fn declare(&self, boxes: &mut Declarations) {
            boxes.describe(crate::BoxKind::Outbox, "inbox", "no such outbox");
        }
        async fn main(self, _ctx: Context<u32, u32>) -> ComponentResult {
            Ok(())
        }
    }
    assert!(hostable(&Asks));
    assert!(!hostable(&DescribesAStranger));
    assert!(std::panic::catch_unwind(|| Instance::new(DescribesAStranger)).is_err());
    assert!(!hostable(&Extra));
    assert!(!hostable(&Resized));
    assert!(hostable(&Described));
}

#[tokio::test]
async fn dropping_a_hosted_run_drops_the_body_and_the_host_can_host_again() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let scheduler = Scheduler::new();
    let host = scheduler.activate(from_fn("Host", move |mut ctx: Context<u32, u32>| async move {
        let forever = from_fn("Forever", |_c: Context<u32, u32>| async move {
            std::future::pending::<()>().await;
            Ok(())
        });
        // Polled once (it waits for ever), then dropped: no timer involved.
        let dropped = tokio::select! {
            biased;
            _ = ctx.host(forever) => false,
            () = std::future::ready(()) => true,
        };
        let again = ctx.host(from_fn("Quick", |_c: Context<u32, u32>| async move { Ok(()) })).await;
        tx.send((dropped, again)).unwrap();
        Ok(())
    }));
    let (dropped, again) = tokio::time::timeout(DEADLINE, rx).await.unwrap().unwrap();
    assert!(dropped);
    assert_eq!(again, Hosted { exit: Exit::Finished, clean: true });
    tokio::time::timeout(DEADLINE, host.join()).await.unwrap();
}

#[test]
fn delivering_the_wrong_type_says_so_rather_than_full() {
    let c = Instance::new(Body::Double);
    match c.component().deliver("inbox", 1i64) {
        Err(BoxError::WrongType { requested, .. }) => assert_eq!(requested, "i64"),
        other => panic!("{other:?}"),
    }
    for n in 0..crate::DEFAULT_CAPACITY as u32 {
        c.component().deliver("inbox", n).unwrap();
    }
    assert!(matches!(c.component().deliver("inbox", 0u32), Err(BoxError::Full { .. })), "a full inbox");
}

/// The kept host is crate-private, so no test outside the crate can make one: its box tables, in
/// the module docs, are checked here against what it declares, word for word.
#[test]
fn the_kept_host_lists_the_boxes_it_declares_word_for_word() {
    use super::kept::HostComponent;
    use crate::kinds::BoxKind;

    let host = Instance::new(HostComponent::<u32, String> { slot: Default::default(), class: "Host".into() });
    let mut declared: Vec<(BoxKind, String, String)> = host.component().0.boxes.with_all(|boxes| {
        boxes.map(|b| (b.meta().kind, b.meta().name.to_string(), b.meta().description.to_string())).collect()
    });
    // The module docs' `## Inboxes` and `## Outboxes` tables: `| `name` | type | description |`.
    let doc: String = include_str!("mod.rs")
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let mut listed = Vec::new();
    let mut kind = None;
    for line in doc.lines() {
        match line {
            "## Inboxes" => kind = Some(BoxKind::Inbox),
            "## Outboxes" => kind = Some(BoxKind::Outbox),
            l if l.starts_with('#') => kind = None,
            l => {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                if let (Some(kind), [_, name, _carries, what, _]) = (kind, cells.as_slice()) {
                    if let Some(name) = name.strip_prefix('`').and_then(|n| n.strip_suffix('`')) {
                        listed.push((kind, name.to_owned(), (*what).to_owned()));
                    }
                }
            }
        }
    }
    declared.sort_by(|a, b| (a.1.as_str(), a.0 as u8).cmp(&(b.1.as_str(), b.0 as u8)));
    listed.sort_by(|a, b| (a.1.as_str(), a.0 as u8).cmp(&(b.1.as_str(), b.0 as u8)));
    assert_eq!(listed, declared);
}
