//! `lifecycle`: what one short-lived child component costs its parent, the pattern of Kamaelia's
//! web server (one handler component per request) and of `Carousel`.
//!
//! ```sh
//! cargo run --release -p kamaelia-bench --bin lifecycle
//! ```
//!
//! A parent component makes `ROUNDS` children one after another. For each it links four boxes
//! (the child's `outbox` and `signal` to two inboxes of its own, two outboxes of its own to the
//! child's `inbox` and `control`) with one `Context::link_all`, adds it as a child, activates it,
//! receives the one message the child sends and its `ProducerFinished`, and removes it
//! (`remove_child`, which unlinks). The parent runs inside a co-scheduled group
//! (`Scheduler::together`), so the children join it, as a connection's handlers do. The peer is
//! the same exchange with a tokio task spawned per round that answers on a `oneshot` channel. It
//! prints the time per round of each (median of `REPEATS` runs, on one worker thread so that
//! the figure is the CPU cost, not how two threads share the work) and the ratio. It is the
//! largest share of what our server spends on a `/hello` request (see `docs/benchmarks.md`).
//!
//! `--results FILE` appends the runs to `FILE` in the raw-results format of the suite
//! (`bench/run.sh`, which runs it in its components part); `LIFECYCLE_ROUNDS` sets the rounds
//! per run (fewer, to run it under valgrind).
use kamaelia_bench::median;
use std::time::{Duration, Instant};

use axon_core::ipc::{Ipc, ProducerFinished};
use axon_core::{from_fn, Component, ComponentResult, Context, Declarations, Instance, Scheduler};

const ROUNDS: u64 = 200_000;
const REPEATS: usize = 7;

/// Rounds per run: `ROUNDS`, or `LIFECYCLE_ROUNDS` from the environment (fewer, under valgrind).
fn rounds() -> u64 {
    std::env::var("LIFECYCLE_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(ROUNDS)
}

/// The parent: makes `rounds` children, one at a time.
struct Parent {
    rounds: u64,
    report: std::sync::mpsc::Sender<Duration>,
}

impl Component for Parent {
    type Inbox = ();
    type Outbox = ();

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .inbox::<u64>("_in", "from the child's outbox")
            .inbox::<Ipc>("_ctl", "from the child's signal")
            .outbox::<u64>("_out", "to the child's inbox")
            .outbox::<Ipc>("_sig", "to the child's control");
    }

    async fn main(self, ctx: Context<(), ()>) -> ComponentResult {
        let mut from_child = ctx.take_inbox::<u64>("_in")?;
        let mut child_done = ctx.take_inbox::<Ipc>("_ctl")?;
        let started = Instant::now();
        for n in 0..self.rounds {
            let child = Instance::new(from_fn("Child", move |mut c: Context<u64, u64>| async move {
                c.outbox.send(n).await;
                c.signal.send(ProducerFinished::from(c.id()).into()).await;
                Ok(())
            }));
            let child_ref = child.component().clone();
            ctx.link_all([
                ((&child_ref, "outbox"), (ctx.me(), "_in")),
                ((&child_ref, "signal"), (ctx.me(), "_ctl")),
                ((ctx.me(), "_out"), (&child_ref, "inbox")),
                ((ctx.me(), "_sig"), (&child_ref, "control")),
            ])?;
            ctx.add_child(&child_ref);
            ctx.activate(child);
            let got = from_child.recv().await;
            assert_eq!(got, Some(n));
            assert!(child_done.recv().await.is_some());
            ctx.remove_child(&child_ref);
        }
        let _ = self.report.send(started.elapsed());
        Ok(())
    }
}

fn axon_round(rt: &tokio::runtime::Runtime, rounds: u64) -> Duration {
    let scheduler = Scheduler::on_runtime(rt.handle().clone());
    let (tx, rx) = std::sync::mpsc::channel();
    scheduler.together(|| {
        scheduler.activate(Parent { rounds, report: tx });
    });
    rx.recv().expect("the parent reports its time")
}

fn tokio_round(rt: &tokio::runtime::Runtime, rounds: u64) -> Duration {
    rt.block_on(async {
        tokio::spawn(async move {
            let started = Instant::now();
            for n in 0..rounds {
                let (tx, rx) = tokio::sync::oneshot::channel();
                tokio::spawn(async move {
                    let _ = tx.send(n);
                });
                assert_eq!(rx.await, Ok(n));
            }
            started.elapsed()
        })
        .await
        .expect("the tokio parent ends")
    })
}

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let results_file = match args.as_slice() {
        [] => None,
        [flag, file] if flag == "--results" => Some(file.clone()),
        _ => {
            eprintln!("usage: lifecycle [--results FILE]; got {args:?}");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("a runtime");
    let rounds = rounds();
    let per = |d: Duration| d.as_nanos() as f64 / rounds as f64;
    axon_round(&rt, rounds / 10);
    tokio_round(&rt, rounds / 10);
    let (mut axon, mut tokio) = (Vec::new(), Vec::new());
    for _ in 0..REPEATS {
        axon.push(per(axon_round(&rt, rounds)));
        tokio.push(per(tokio_round(&rt, rounds)));
    }
    let (a, t) = (median(&axon), median(&tokio));
    println!("lifecycle: {rounds} rounds, median of {REPEATS} runs, one worker thread");
    println!("   child component (made, 4 boxes linked, run, removed): {a:>6.0} ns per round");
    println!("   tokio task spawned + oneshot answer:                  {t:>6.0} ns per round");
    println!("   ratio: {:.2}x", a / t);
    if let Some(file) = results_file {
        let mut rows = String::new();
        for (side, runs) in [("ours", &axon), ("tokio_task", &tokio)] {
            for (i, ns) in runs.iter().enumerate() {
                rows += &format!("components\tchild_lifecycle_ns\t{side}\t-\t{}\t{ns:.1}\tns\n", i + 1);
            }
        }
        kamaelia_bench::append_results_or_exit("lifecycle", &file, &rows);
    }
}
