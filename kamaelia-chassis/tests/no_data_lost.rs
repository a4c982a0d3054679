//! Every way the docs teach to write a component's loop delivers everything (issue 20): each
//! pattern, as the docs write it, passes 100,000 messages through a `Pipeline`, and, as a
//! `SimpleServer` protocol, echoes 100,000 lines to clients that send everything and then
//! half-close (several at once), every byte checked.
//!
//! The patterns: the `next_event` loop (guide §3, the server's module docs), reading `inbox`
//! until it closes (the README; pipelines only: a protocol must look at `control`, since a
//! half-closed client's connection stays open for the reply), `Context::select` with a declared
//! inbox, a `biased` `tokio::select!` that drains on shutdown (the `events` module docs), Axon's
//! `wait_any` loop, and the chassis' `PureTransformer` and `Filter`.

mod tcp_support;

use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

use axon_core::prelude::*;
use axon_core::{Declarations, Exit};
use kamaelia_chassis::server::SimpleServer;
use kamaelia_chassis::socket::Bytes;
use kamaelia_chassis::{pipeline, Filter, PureTransformer};
use tcp_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MESSAGES: u64 = 100_000;

/// Guide §3: take data; on a shutdown request pass it on and break.
struct NextEvent<T>(PhantomData<fn(T) -> T>);

impl<T: Send + 'static> Component for NextEvent<T> {
    type Inbox = T;
    type Outbox = T;

    async fn main(self, mut ctx: Context<T, T>) -> ComponentResult {
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(m) => ctx.outbox.send(m).await,
                Event::Control(msg) if msg.is_shutdown_request() => {
                    ctx.signal.send(msg).await;
                    break;
                }
                Event::Control(_) => {}
            }
        }
        Ok(())
    }
}

/// The README: read `inbox` until it closes, then say so.
struct UntilClosed<T>(PhantomData<fn(T) -> T>);

impl<T: Send + 'static> Component for UntilClosed<T> {
    type Inbox = T;
    type Outbox = T;

    async fn main(self, mut ctx: Context<T, T>) -> ComponentResult {
        while let Some(m) = ctx.inbox.recv().await {
            ctx.outbox.send(m).await;
        }
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

/// The `events` docs: `select` over `inbox` and a declared `extra` inbox.
struct SelectTwo<T>(PhantomData<fn(T) -> T>);

impl<T: Send + 'static> Component for SelectTwo<T> {
    type Inbox = T;
    type Outbox = T;

    fn declare(&self, boxes: &mut Declarations) {
        boxes.inbox::<T>("extra", "More of the same");
    }

    async fn main(self, mut ctx: Context<T, T>) -> ComponentResult {
        let mut extra = ctx.take_inbox::<T>("extra")?;
        while let Some(event) = ctx.select(|m| m).or(&mut extra, |m| m).next().await {
            match event {
                Event::Data(m) => ctx.outbox.send(m).await,
                Event::Control(msg) if msg.is_shutdown_request() => {
                    ctx.signal.send(msg).await;
                    break;
                }
                Event::Control(_) => {}
            }
        }
        Ok(())
    }
}

/// The `events` docs: a `biased` `tokio::select!` with control last, draining on shutdown.
struct BiasedSelect<T>(PhantomData<fn(T) -> T>);

impl<T: Send + 'static> Component for BiasedSelect<T> {
    type Inbox = T;
    type Outbox = T;

    async fn main(self, mut ctx: Context<T, T>) -> ComponentResult {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tokio::select! {
                biased;
                Some(m) = ctx.inbox.recv() => ctx.outbox.send(m).await,
                _ = tick.tick() => {}
                Some(msg) = ctx.control.recv() => {
                    if !msg.is_urgent() {
                        while let Ok(m) = ctx.inbox.try_recv() {
                            ctx.outbox.send(m).await;
                        }
                    }
                    if msg.is_shutdown_request() {
                        ctx.signal.send(msg).await;
                        return Ok(());
                    }
                }
                else => return Ok(()),
            }
        }
    }
}

/// Axon's loop: ask which inbox is ready, and take from it.
struct WaitAny<T>(PhantomData<fn(T) -> T>);

impl<T: Send + 'static> Component for WaitAny<T> {
    type Inbox = T;
    type Outbox = T;

    async fn main(self, mut ctx: Context<T, T>) -> ComponentResult {
        loop {
            let ready = ctx.wait_any().await;
            if ready == "control" {
                let msg = ctx.control.try_recv().expect("named as ready");
                if msg.is_shutdown_request() {
                    ctx.signal.send(msg).await;
                    return Ok(());
                }
            } else if let Ok(m) = ctx.inbox.try_recv() {
                ctx.outbox.send(m).await;
            }
        }
    }
}

fn p<T>() -> PhantomData<fn(T) -> T> {
    PhantomData
}

/// 0..MESSAGES then a ProducerFinished.
fn source() -> impl Component<Inbox = (), Outbox = u64> {
    from_fn("Source", |mut ctx: Context<(), u64>| async move {
        for i in 0..MESSAGES {
            ctx.outbox.send(i).await;
        }
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    })
}

/// Checks that 0..MESSAGES arrive in order, then reports how many did.
fn sink(report: mpsc::Sender<u64>) -> impl Component<Inbox = u64, Outbox = ()> {
    from_fn("Sink", move |mut ctx: Context<u64, ()>| async move {
        let mut next = 0;
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(n) => {
                    assert_eq!(n, next, "out of order");
                    next += 1;
                }
                Event::Control(msg) if msg.is_shutdown_request() => break,
                Event::Control(_) => {}
            }
        }
        report.send(next).unwrap();
        Ok(())
    })
}

/// Runs `source → stage → sink` as a Pipeline, on a thread with a deadline; returns how many
/// messages reached the sink.
fn through_pipeline<C>(stage: C) -> u64
where
    C: Component<Inbox = u64, Outbox = u64>,
{
    let (tx, rx) = mpsc::channel();
    let (done_tx, done) = mpsc::channel();
    let scheduler = Scheduler::new();
    let s = scheduler.clone();
    std::thread::spawn(move || {
        s.activate(pipeline![source(), stage, sink(tx)]);
        let _ = done_tx.send(s.run().map_err(|e| e.to_string()));
    });
    done.recv_timeout(DEADLINE * 3).expect("the pipeline ended").expect("the pipeline ran without a failure");
    assert!(scheduler.lost_messages().is_empty(), "{:?}", scheduler.lost_messages());
    rx.recv().unwrap()
}

#[test]
fn every_pattern_passes_every_message_through_a_pipeline() {
    assert_eq!(through_pipeline(NextEvent(p())), MESSAGES, "next_event");
    assert_eq!(through_pipeline(UntilClosed(p())), MESSAGES, "until inbox closes");
    assert_eq!(through_pipeline(SelectTwo(p())), MESSAGES, "select");
    assert_eq!(through_pipeline(BiasedSelect(p())), MESSAGES, "biased tokio::select!");
    assert_eq!(through_pipeline(WaitAny(p())), MESSAGES, "wait_any");
    assert_eq!(through_pipeline(PureTransformer::new(|n: u64| n)), MESSAGES, "PureTransformer");
    assert_eq!(through_pipeline(Filter::new(|_: &u64| true)), MESSAGES, "Filter");
}

#[test]
fn short_pipelines_keep_their_tails_every_time() {
    // The tail is what a race loses: many short streams, each ending in a race.
    for _ in 0..20 {
        let (tx, rx) = mpsc::channel();
        let numbers = from_fn("Numbers", |mut ctx: Context<(), u64>| async move {
            for n in 1..=5 {
                ctx.outbox.send(n).await;
            }
            ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
            Ok(())
        });
        let square = PureTransformer::new(|n: u64| n * n);
        let printer = from_fn("Printer", move |mut ctx: Context<u64, ()>| async move {
            while let Some(event) = ctx.next_event().await {
                match event {
                    Event::Data(n) => tx.send(n).unwrap(),
                    Event::Control(msg) if msg.is_shutdown_request() => break,
                    Event::Control(_) => {}
                }
            }
            Ok(())
        });
        pipeline![numbers, square, printer].run().unwrap();
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), [1, 4, 9, 16, 25]);
    }
}

#[test]
fn a_nested_pipeline_ends_when_its_source_ends_before_it_is_wired() {
    // The source ends (no ProducerFinished: its outbox simply goes) while the inner pipeline may
    // not yet have passed its inbox on to its first child. That child's inbox must still close,
    // whichever comes first; before the fix it waited for ever when the source won the race.
    for round in 0..50 {
        let (tx, rx) = mpsc::channel();
        let (done_tx, done) = mpsc::channel();
        std::thread::spawn(move || {
            let numbers = from_fn("Numbers", |mut ctx: Context<(), u64>| async move {
                for n in 1..=3 {
                    ctx.outbox.send(n).await;
                }
                Ok(())
            });
            let inner: kamaelia_chassis::Pipeline<u64, u64> =
                pipeline![Filter::new(|n: &u64| n % 2 == 1), PureTransformer::new(|n: u64| n + 1)];
            let printer = from_fn("Printer", move |mut ctx: Context<u64, ()>| async move {
                while let Some(n) = ctx.inbox.recv().await {
                    tx.send(n).unwrap();
                }
                Ok(())
            });
            let _ = done_tx.send(pipeline![numbers, inner, printer].run().map_err(|e| e.to_string()));
        });
        let ran = done.recv_timeout(DEADLINE).unwrap_or_else(|_| panic!("round {round}: the pipeline never ended"));
        ran.expect("the pipeline ran without a failure");
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), [2, 4], "round {round}");
    }
}

/// The lines a client sends: 100,000 of them.
fn lines() -> Vec<u8> {
    (0..MESSAGES).flat_map(|i| format!("line {i}\n").into_bytes()).collect()
}

/// `clients` clients at once each send all the lines, half-close, and read until the server
/// closes; each must get back exactly what it sent.
async fn echo_to_half_closing_clients<P>(name: &str, protocol: fn() -> P, clients: usize)
where
    P: Component<Inbox = Bytes, Outbox = Bytes>,
{
    let server = SimpleServer::new(protocol, 0).bind().await.unwrap();
    let (scheduler, running, handle, address) = start(server);
    let sent = std::sync::Arc::new(lines());
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let sent = sent.clone();
            tokio::spawn(async move { half_closing_client(address, &sent).await })
        })
        .collect();
    for (i, t) in tasks.into_iter().enumerate() {
        let back = within("a client", t).await.unwrap();
        assert!(
            back.len() == sent.len() && back == *sent,
            "{name}: client {i} got {} of {} bytes back",
            back.len(),
            sent.len()
        );
    }
    handle.shutdown();
    assert_eq!(within("the server's end", running.join()).await, Exit::Finished);
    assert!(scheduler.failures().is_empty(), "{name}: {:?}", scheduler.failures());
    assert!(scheduler.lost_messages().is_empty(), "{name}: {:?}", scheduler.lost_messages());
}

async fn half_closing_client(address: SocketAddr, sent: &[u8]) -> Vec<u8> {
    let client = tokio::net::TcpStream::connect(address).await.unwrap();
    let (mut rd, mut wr) = client.into_split();
    // Read while writing: the echo comes back as it is sent.
    let reading = tokio::spawn(async move {
        let mut back = Vec::new();
        rd.read_to_end(&mut back).await.map(|_| back)
    });
    wr.write_all(sent).await.unwrap();
    wr.shutdown().await.unwrap();
    within("the echo and the close", reading).await.unwrap().expect("read until the server closes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_protocol_pattern_echoes_everything_to_half_closing_clients() {
    echo_to_half_closing_clients("next_event", || NextEvent(p()), 4).await;
    echo_to_half_closing_clients("select", || SelectTwo(p()), 4).await;
    echo_to_half_closing_clients("biased tokio::select!", || BiasedSelect(p()), 4).await;
    echo_to_half_closing_clients("wait_any", || WaitAny(p()), 4).await;
    echo_to_half_closing_clients("PureTransformer", || PureTransformer::new(|b: Bytes| b), 4).await;
    echo_to_half_closing_clients("Filter", || Filter::new(|_: &Bytes| true), 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_half_closing_clients_at_once_each_get_everything() {
    // Reported: 9 of 20 concurrent clients got nothing.
    echo_to_half_closing_clients("next_event, 20 clients", || NextEvent(p()), 20).await;
}
