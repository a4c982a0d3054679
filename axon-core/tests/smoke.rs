//! Smoke tests of the main paths: a handle, a hand-wired chain, a contained panic.

use axon_core::ipc::ProducerFinished;
use axon_core::prelude::*;
use axon_core::{Exit, Scheduler};

struct Source(Vec<u32>);
impl Component for Source {
    type Inbox = ();
    type Outbox = u32;
    async fn main(self, mut ctx: Context<(), u32>) -> ComponentResult {
        for n in self.0 {
            ctx.outbox.send(n).await;
        }
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

struct Double;
impl Component for Double {
    type Inbox = u32;
    type Outbox = u32;
    async fn main(self, mut ctx: Context<u32, u32>) -> ComponentResult {
        while let Some(n) = ctx.inbox.recv().await {
            ctx.outbox.send(n * 2).await;
        }
        Ok(())
    }
}

#[test]
fn chain_with_handle() {
    let s = Scheduler::new();
    let mut h = Handle::new(Double, &s);
    for i in 0..200 {
        h.send_blocking(i);
        assert_eq!(h.recv_blocking(), Some(i * 2));
    }
    drop(h);
    s.run().unwrap();
    assert_eq!(s.live(), 0);
}

#[test]
fn pipeline_by_hand_closes_downstream() {
    let s = Scheduler::new();
    let src = Instance::new(Source((0..1000).collect()));
    let d1 = Instance::new(Double);
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = Instance::new(from_fn("Sink", move |mut ctx: Context<u32, ()>| async move {
        let mut v = vec![];
        while let Some(n) = ctx.inbox.recv().await {
            v.push(n);
        }
        tx.send(v).unwrap();
        Ok(())
    }));
    s.link((&src, "outbox"), (&d1, "inbox")).unwrap();
    s.link((&d1, "outbox"), (&sink, "inbox")).unwrap();
    let e = s.link((&d1, "outbox"), (&src, "control"));
    assert!(e.is_err(), "{e:?}");
    src.activate(&s);
    d1.activate(&s);
    sink.activate(&s);
    s.run().unwrap();
    let v = rx.recv().unwrap();
    assert_eq!(v, (0..1000).map(|n| n * 2).collect::<Vec<_>>());
}

#[test]
fn panic_is_contained() {
    let s = Scheduler::new();
    let bad = s.activate(from_fn("Bad", |_ctx: Context<(), ()>| async move { panic!("boom") }));
    let good = s.activate(from_fn("Good", |_ctx: Context<(), ()>| async move { Ok(()) }));
    let r = s.run();
    assert!(matches!(r, Err(axon_core::RunError::ComponentsFailed(ref f)) if f.len() == 1), "{r:?}");
    assert_eq!(bad.exit(), Some(Exit::Panicked("boom".into())));
    assert_eq!(good.exit(), Some(Exit::Finished));
}
