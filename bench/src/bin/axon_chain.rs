//! `axon_chain`: axon-core against plain tokio, on the two figures the component model promises.
//!
//! Run it with
//!
//! ```sh
//! cargo run --release -p kamaelia-bench --bin axon_chain
//! ```
//!
//! It prints, in one run (about half a minute on two cores):
//!
//! 1. **Chain throughput.** A source sends `MESSAGES` `u64`s through `STAGES` pass-through
//!    components (`while let Some(m) = ctx.inbox.recv().await { ctx.outbox.send(m).await }`) to a
//!    counting sink, wired with `Scheduler::link`, on a multi-threaded tokio runtime with
//!    `WORKERS` workers. The peer is the same shape built from plain tokio tasks joined by bounded
//!    `tokio::sync::mpsc` channels of capacity [`DEFAULT_CAPACITY`] (axon's default inbox size), on
//!    the same runtime. The second peer is `STAGES` actix 0.13 actors (see [`actix_chain`] for
//!    how they forward and why). The three take turns, `REPEATS` times each after one warm-up of
//!    each; the median and the spread (min to max) of messages per second are printed, and the
//!    ratios of the medians.
//! 2. **Idle memory.** The bytes that `IDLE` idle components cost: each is activated and awaits
//!    `ctx.inbox.recv()` on an inbox that is never linked (so it never closes). The bench waits
//!    until every one has been polled and reports `Paused`, reads the process's resident memory
//!    (`VmRSS` in `/proc/self/status`) and the live bytes of a counting global allocator, then
//!    stops them all (`Scheduler::stop`, `wait_idle`). The peer is `IDLE` plain tokio tasks, each
//!    awaiting the receiver of its own bounded mpsc channel (whose sender is kept alive). Each
//!    of the two is measured in a fresh child process (this binary re-run with `--idle axon` or
//!    `--idle tokio`), so that neither sees memory the other (or the chain runs) freed.
//! 3. **A closing table** of the figures, the ratios, and whether each aim is met: the axon chain
//!    at least 0.8x the mpsc chain and at least 2x the actix chain, and under 2 KiB per idle
//!    component.
//!
//! `--results FILE` also appends every figure to `FILE` as tab-separated rows
//! (`section figure side connections run value unit`), the raw-results format of the HTTP suite
//! (`bench/run.sh`), which runs this binary as its components part.

use kamaelia_bench::median;
use std::alloc::{GlobalAlloc, Layout, System};
use std::future::poll_fn;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axon_core::DEFAULT_CAPACITY;
use axon_core::{Component, ComponentRef, ComponentResult, ComponentState, Context, Instance, Scheduler};
use tokio::sync::{mpsc, oneshot};

/// Messages sent through the chain in one measurement.
const MESSAGES: u64 = 2_000_000;
/// Pass-through components (or tasks) between the source and the sink.
const STAGES: usize = 10;
/// Measurements of each chain (after one warm-up of each).
const REPEATS: usize = 7;
/// Tokio worker threads, for both the chain and the idle measurements.
const WORKERS: usize = 2;
/// Idle components (or tasks) in the memory measurement.
const IDLE: usize = 100_000;
/// The aims.
const AIM_CHAIN_RATIO: f64 = 0.8;
const AIM_ACTIX_RATIO: f64 = 2.0;
const AIM_IDLE_BYTES: f64 = 2048.0;

// ----- a counting global allocator -----

/// Wraps the system allocator and, once enabled, keeps the live bytes and blocks.
struct Counting;

/// Counting is off in the chain runs (the counters would be a shared hot cache line between the
/// workers) and on from the start of an idle-memory child process.
static COUNTING: AtomicBool = AtomicBool::new(false);
/// Bytes requested and not yet freed (sizes as asked for, without malloc's own overhead).
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);
/// The same, rounded as glibc's malloc rounds chunks on 64-bit Linux (size + 8, to a multiple of
/// 16, at least 32): an estimate of what the allocations occupy inside malloc's arenas.
static LIVE_CHUNK_BYTES: AtomicIsize = AtomicIsize::new(0);
/// Blocks allocated and not yet freed.
static LIVE_BLOCKS: AtomicIsize = AtomicIsize::new(0);

fn chunk(size: usize) -> isize {
    ((size + 8).div_ceil(16) * 16).max(32) as isize
}

fn count(size: usize, sign: isize) {
    if COUNTING.load(Ordering::Relaxed) {
        LIVE_BYTES.fetch_add(sign * size as isize, Ordering::Relaxed);
        LIVE_CHUNK_BYTES.fetch_add(sign * chunk(size), Ordering::Relaxed);
        LIVE_BLOCKS.fetch_add(sign, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards its arguments unchanged to `System` and returns what `System`
// returned; the only addition is updating relaxed atomic counters, which never allocates.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size(), 1);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size(), 1);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator, i.e. by `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        count(layout.size(), -1);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; `new_size` is checked by the caller.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(layout.size(), -1);
            count(new_size, 1);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

// ----- small helpers -----

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .expect("a tokio runtime can be built")
}

/// The resident set of this process, in bytes (`VmRSS` in `/proc/self/status`).
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status is readable (Linux)");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS is reported");
    let kib: u64 = line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("VmRSS is a number of kB");
    kib * 1024
}

/// Clock ticks from `/proc/stat` (whole machine) and `/proc/self/stat` (this process), to tell
/// how quiet the machine was while the chains ran.
#[derive(Clone, Copy)]
struct CpuTicks {
    total: u64,
    idle: u64,
    steal: u64,
    mine: u64,
}

fn cpu_ticks() -> CpuTicks {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let cpu: Vec<u64> =
        stat.lines().next().unwrap_or_default().split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    let at = |i: usize| cpu.get(i).copied().unwrap_or(0);
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let total = (0..8).map(at).sum();
    let own = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the `(comm)`: state is field 3; utime and stime are fields 14 and 15.
    let after_comm = own.rsplit_once(')').map_or("", |(_, rest)| rest);
    let f: Vec<u64> = after_comm.split_whitespace().skip(11).take(2).filter_map(|v| v.parse().ok()).collect();
    CpuTicks { total, idle: at(3) + at(4), steal: at(7), mine: f.iter().sum() }
}

/// `(share used by other processes, share stolen by the hypervisor)` between two readings.
fn cpu_noise(a: CpuTicks, b: CpuTicks) -> (f64, f64) {
    let total = b.total.saturating_sub(a.total).max(1) as f64;
    let busy = (b.total - b.idle - b.steal).saturating_sub(a.total - a.idle - a.steal) as f64;
    let mine = b.mine.saturating_sub(a.mine) as f64;
    (((busy - mine) / total).max(0.0), b.steal.saturating_sub(a.steal) as f64 / total)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map_or_else(|_| "?".into(), |l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| (lo.min(x), hi.max(x)))
}

fn mega(x: f64) -> String {
    format!("{:.2} M/s", x / 1e6)
}

// ----- 1. the chain -----

/// Sends `0..n` out of its outbox.
struct Source(u64);

impl Component for Source {
    type Inbox = ();
    type Outbox = u64;

    async fn main(self, mut ctx: Context<(), u64>) -> ComponentResult {
        for m in 0..self.0 {
            ctx.outbox.send(m).await;
        }
        Ok(())
    }
}

/// Passes every message on unchanged.
struct Pass;

impl Component for Pass {
    type Inbox = u64;
    type Outbox = u64;

    async fn main(self, mut ctx: Context<u64, u64>) -> ComponentResult {
        while let Some(m) = ctx.inbox.recv().await {
            ctx.outbox.send(m).await;
        }
        Ok(())
    }
}

/// Passes every message on unchanged, waiting with `next_event` (the loop the guide teaches),
/// and passes the end of the stream on.
struct PassEvents;

impl Component for PassEvents {
    type Inbox = u64;
    type Outbox = u64;

    async fn main(self, mut ctx: Context<u64, u64>) -> ComponentResult {
        while let Some(event) = ctx.next_event().await {
            match event {
                axon_core::Event::Data(m) => ctx.outbox.send(m).await,
                axon_core::Event::Control(msg) => {
                    ctx.signal.send(msg).await;
                    break;
                }
            }
        }
        Ok(())
    }
}

/// Counts and sums what arrives; reports both when its inbox closes.
struct Sink(oneshot::Sender<(u64, u64)>);

impl Component for Sink {
    type Inbox = u64;
    type Outbox = ();

    async fn main(self, mut ctx: Context<u64, ()>) -> ComponentResult {
        let (mut count, mut sum) = (0u64, 0u64);
        while let Some(m) = ctx.inbox.recv().await {
            count += 1;
            sum = sum.wrapping_add(m);
        }
        let _ = self.0.send((count, sum));
        Ok(())
    }
}

fn check(n: u64, (count, sum): (u64, u64)) {
    assert_eq!(count, n, "every message reached the sink");
    assert_eq!(sum, n * (n - 1) / 2, "the sink saw each message once");
}

/// One run of the axon chain: the components are made and linked before the clock starts; the
/// clock runs from activation until the sink has counted every message.
async fn axon_chain(handle: &tokio::runtime::Handle, n: u64) -> Duration {
    axon_chain_of(handle, n, || Pass).await
}

/// [`axon_chain`] with the pass-through stages `stage` makes.
async fn axon_chain_of<P: Component<Inbox = u64, Outbox = u64>>(
    handle: &tokio::runtime::Handle,
    n: u64,
    stage: impl Fn() -> P,
) -> Duration {
    let scheduler = Scheduler::on_runtime(handle.clone());
    let (tx, rx) = oneshot::channel();
    let source = Instance::new(Source(n));
    let passes: Vec<Instance<P>> = (0..STAGES).map(|_| Instance::new(stage())).collect();
    let sink = Instance::new(Sink(tx));
    let mut from = source.component().clone();
    for p in &passes {
        scheduler.link((&from, "outbox"), (p, "inbox")).expect("outbox to inbox, both u64");
        from = p.component().clone();
    }
    scheduler.link((&from, "outbox"), (&sink, "inbox")).expect("outbox to inbox, both u64");

    let start = Instant::now();
    sink.activate(&scheduler);
    for p in passes {
        p.activate(&scheduler);
    }
    source.activate(&scheduler);
    let got = rx.await.expect("the sink reports");
    let elapsed = start.elapsed();
    check(n, got);
    scheduler.run_async().await.expect("no component failed");
    elapsed
}

/// One run of the same shape in plain tokio: tasks joined by bounded mpsc channels of axon's
/// default capacity. Channels are made before the clock starts, tasks spawned after.
async fn tokio_chain(handle: &tokio::runtime::Handle, n: u64) -> Duration {
    let (done_tx, done_rx) = oneshot::channel();
    let mut senders = Vec::with_capacity(STAGES + 1);
    let mut receivers = Vec::with_capacity(STAGES + 1);
    for _ in 0..=STAGES {
        let (tx, rx) = mpsc::channel::<u64>(DEFAULT_CAPACITY);
        senders.push(tx);
        receivers.push(rx);
    }
    let mut senders = senders.into_iter();
    let mut receivers = receivers.into_iter();

    let start = Instant::now();
    let mut rx = receivers.next_back().expect("the sink's channel");
    let sink = handle.spawn(async move {
        let (mut count, mut sum) = (0u64, 0u64);
        while let Some(m) = rx.recv().await {
            count += 1;
            sum = sum.wrapping_add(m);
        }
        let _ = done_tx.send((count, sum));
    });
    let first = senders.next().expect("the source's channel");
    let mut tasks = vec![sink];
    for (mut rx, tx) in receivers.zip(senders) {
        tasks.push(handle.spawn(async move {
            while let Some(m) = rx.recv().await {
                if tx.send(m).await.is_err() {
                    break;
                }
            }
        }));
    }
    tasks.push(handle.spawn(async move {
        for m in 0..n {
            if first.send(m).await.is_err() {
                break;
            }
        }
    }));
    let got = done_rx.await.expect("the sink reports");
    let elapsed = start.elapsed();
    check(n, got);
    for t in tasks {
        t.await.expect("no task panicked");
    }
    elapsed
}

/// The message of the actix chain.
#[derive(actix::Message)]
#[rtype(result = "()")]
struct ActixMsg(u64);

/// An actix pass-through: forwards every message to the next actor with `do_send`.
struct ActixStage {
    next: actix::Recipient<ActixMsg>,
}

impl actix::Actor for ActixStage {
    type Context = actix::Context<Self>;
}

impl actix::Handler<ActixMsg> for ActixStage {
    type Result = ();

    fn handle(&mut self, m: ActixMsg, _: &mut Self::Context) {
        self.next.do_send(m);
    }
}

/// The actix sink: counts and sums what arrives; reports both when it stops, which it does when
/// its mailbox is empty and every address of it is gone (the end of the chain, in order).
struct ActixSink {
    count: u64,
    sum: u64,
    done: Option<oneshot::Sender<(u64, u64)>>,
}

impl actix::Actor for ActixSink {
    type Context = actix::Context<Self>;

    fn stopped(&mut self, _: &mut Self::Context) {
        if let Some(done) = self.done.take() {
            let _ = done.send((self.count, self.sum));
        }
    }
}

impl actix::Handler<ActixMsg> for ActixSink {
    type Result = ();

    fn handle(&mut self, m: ActixMsg, _: &mut Self::Context) {
        self.count += 1;
        self.sum = self.sum.wrapping_add(m.0);
    }
}

/// One run of the same shape in actix 0.13: `STAGES` pass-through actors and a sink, on the
/// System's one arbiter (actix runs the actors of a System on one thread; this is how an actix
/// program is usually written). Run inside `actix::System::block_on`.
///
/// How bounded it is, as close to the other two as actix allows. Every mailbox is set to
/// `DEFAULT_CAPACITY` (64) with `set_mailbox_capacity`. The stages forward with `do_send`, actix's
/// fire-and-forget send, which ignores that capacity; `send().await` would honour it, but it also
/// waits for the next actor's reply, and a stage that waited for its reply before taking its next
/// message would leave one message in flight in the whole chain. The source feeds the first stage
/// with `send()`, which waits while that mailbox is full, and keeps at most `DEFAULT_CAPACITY`
/// sends outstanding (so at most 64 messages wait at the head, as with a box of 64). Downstream
/// mailboxes are not bounded by actix; on one thread they stay short, since each actor drains its
/// mailbox in turn.
///
/// The clock starts before the actors are started (actix starts an actor when it is made) and stops
/// when the sink reports, after the chain has wound down: when the source drops the first stage's
/// address, each actor stops once its mailbox is empty, which drops its address of the next.
async fn actix_chain(n: u64) -> Duration {
    use actix::Actor;
    use futures_util::StreamExt;

    let (done_tx, done_rx) = oneshot::channel();
    let start = Instant::now();
    let sink = ActixSink::create(|ctx| {
        ctx.set_mailbox_capacity(DEFAULT_CAPACITY);
        ActixSink { count: 0, sum: 0, done: Some(done_tx) }
    });
    let mut next = sink.recipient();
    for _ in 0..STAGES {
        next = ActixStage::create(|ctx| {
            ctx.set_mailbox_capacity(DEFAULT_CAPACITY);
            ActixStage { next }
        })
        .recipient();
    }
    let first = next;
    futures_util::stream::iter(0..n)
        .map(|m| first.send(ActixMsg(m)))
        .buffer_unordered(DEFAULT_CAPACITY)
        .for_each(|sent| {
            sent.expect("the first stage takes every message");
            std::future::ready(())
        })
        .await;
    drop(first);
    let got = done_rx.await.expect("the sink reports");
    let elapsed = start.elapsed();
    check(n, got);
    elapsed
}

struct ChainFigures {
    axon: Vec<f64>,
    tokio: Vec<f64>,
    actix: Vec<f64>,
}

fn run_chains() -> ChainFigures {
    let rt = runtime();
    let handle = rt.handle().clone();
    let actix_system = actix::System::new();
    let rate = |d: Duration| MESSAGES as f64 / d.as_secs_f64();
    println!(
        "1. Chain: source -> {STAGES} pass-throughs -> sink, {MESSAGES} u64 messages, box/channel/mailbox capacity \
         {DEFAULT_CAPACITY}; axon and mpsc on a tokio multi-thread runtime with {WORKERS} workers, actix on its \
         System's one arbiter"
    );
    println!("   load average before: {}; warm-up: one run of each (not counted)", load_average());
    let ticks = cpu_ticks();
    rt.block_on(axon_chain(&handle, MESSAGES));
    rt.block_on(tokio_chain(&handle, MESSAGES));
    actix_system.block_on(actix_chain(MESSAGES));
    let mut figures = ChainFigures { axon: Vec::new(), tokio: Vec::new(), actix: Vec::new() };
    for i in 0..REPEATS {
        // Take turns at going first, so that none always runs on a machine the other just warmed.
        let mut order = [0, 1, 2];
        order.rotate_left(i % 3);
        let mut line = format!("   run {}:", i + 1);
        for side in order {
            match side {
                0 => {
                    let r = rate(rt.block_on(axon_chain(&handle, MESSAGES)));
                    figures.axon.push(r);
                    line += &format!("  axon  {:>10}", mega(r));
                }
                1 => {
                    let r = rate(rt.block_on(tokio_chain(&handle, MESSAGES)));
                    figures.tokio.push(r);
                    line += &format!("  mpsc  {:>10}", mega(r));
                }
                _ => {
                    let r = rate(actix_system.block_on(actix_chain(MESSAGES)));
                    figures.actix.push(r);
                    line += &format!("  actix {:>10}", mega(r));
                }
            }
        }
        println!("{line}");
    }
    for (name, v) in [
        ("axon components ", &figures.axon),
        ("tokio tasks+mpsc", &figures.tokio),
        ("actix actors    ", &figures.actix),
    ] {
        let (lo, hi) = min_max(v);
        let m = median(v);
        println!(
            "   {name}: median {:>10}  (min {}, max {}, spread {:.1}% of the median)",
            mega(m),
            mega(lo),
            mega(hi),
            (hi - lo) / m * 100.0
        );
    }
    println!("   ratio axon/mpsc (medians): {:.2}x", median(&figures.axon) / median(&figures.tokio));
    println!("   ratio axon/actix (medians): {:.2}x", median(&figures.axon) / median(&figures.actix));
    let (others, steal) = cpu_noise(ticks, cpu_ticks());
    println!(
        "   noise while measuring: other processes used {:.1}% of the machine's CPU, the hypervisor stole {:.1}%",
        others * 100.0,
        steal * 100.0
    );
    println!();
    figures
}

// ----- 2. idle memory -----

/// Waits on an inbox that is never linked, so never closes: an idle component.
struct Idle;

impl Component for Idle {
    type Inbox = u64;
    type Outbox = u64;

    async fn main(self, mut ctx: Context<u64, u64>) -> ComponentResult {
        while ctx.inbox.recv().await.is_some() {}
        Ok(())
    }
}

/// What one idle-memory child measured.
#[derive(Debug, Default, Clone, Copy)]
struct IdleFigures {
    rss: f64,
    heap: f64,
    chunks: f64,
    blocks: f64,
    heap_left_after_stop: f64,
}

impl IdleFigures {
    fn encode(&self) -> String {
        format!(
            "IDLE rss={} heap={} chunks={} blocks={} left={}",
            self.rss, self.heap, self.chunks, self.blocks, self.heap_left_after_stop
        )
    }

    fn decode(out: &str) -> Option<Self> {
        let line = out.lines().find(|l| l.starts_with("IDLE "))?;
        let mut f = IdleFigures::default();
        for kv in line.split_whitespace().skip(1) {
            let (k, v) = kv.split_once('=')?;
            let v: f64 = v.parse().ok()?;
            match k {
                "rss" => f.rss = v,
                "heap" => f.heap = v,
                "chunks" => f.chunks = v,
                "blocks" => f.blocks = v,
                "left" => f.heap_left_after_stop = v,
                _ => return None,
            }
        }
        Some(f)
    }
}

#[derive(Clone, Copy)]
struct Snapshot {
    rss: u64,
    heap: isize,
    chunks: isize,
    blocks: isize,
}

fn snapshot() -> Snapshot {
    Snapshot {
        rss: rss_bytes(),
        heap: LIVE_BYTES.load(Ordering::SeqCst),
        chunks: LIVE_CHUNK_BYTES.load(Ordering::SeqCst),
        blocks: LIVE_BLOCKS.load(Ordering::SeqCst),
    }
}

fn per_item(before: Snapshot, after: Snapshot, n: usize, left: Snapshot) -> IdleFigures {
    let n = n as f64;
    IdleFigures {
        rss: (after.rss as f64 - before.rss as f64) / n,
        heap: (after.heap - before.heap) as f64 / n,
        chunks: (after.chunks - before.chunks) as f64 / n,
        blocks: (after.blocks - before.blocks) as f64 / n,
        // Rounded, so that a few bytes' drift over `n` prints as 0.0 rather than -0.0.
        heap_left_after_stop: ((left.heap - before.heap) as f64 / n * 10.0).round() / 10.0 + 0.0,
    }
}

/// Activates `n` idle components, waits until each has been polled once and reports `Paused`.
async fn spawn_idle_components(scheduler: &Scheduler, refs: &mut Vec<ComponentRef>, n: usize) {
    for _ in 0..n {
        refs.push(scheduler.activate(Idle));
    }
    while refs.iter().any(|r| r.state() != ComponentState::Paused) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

async fn stop_idle_components(scheduler: &Scheduler, refs: &mut Vec<ComponentRef>) {
    scheduler.stop();
    scheduler.wait_idle().await;
    refs.clear();
}

fn idle_axon(n: usize) -> IdleFigures {
    let rt = runtime();
    let scheduler = Scheduler::on_runtime(rt.handle().clone());
    rt.block_on(async {
        let mut refs = Vec::with_capacity(n);
        // Warm-up: one-time costs (runtime internals, thread-locals) are not per component.
        spawn_idle_components(&scheduler, &mut refs, 1000).await;
        stop_idle_components(&scheduler, &mut refs).await;

        let before = snapshot();
        spawn_idle_components(&scheduler, &mut refs, n).await;
        let after = snapshot();
        stop_idle_components(&scheduler, &mut refs).await;
        per_item(before, after, n, snapshot())
    })
}

/// Waits on the receiver of a channel whose sender is kept: an idle tokio task. Counts itself in
/// `polled` the first time its receive returns `Pending`, and in `ended` when it ends.
async fn idle_task(mut rx: mpsc::Receiver<u64>, polled: Arc<AtomicUsize>, ended: Arc<AtomicUsize>) {
    let mut first = true;
    while poll_fn(|cx| {
        let r = rx.poll_recv(cx);
        if r.is_pending() && first {
            first = false;
            polled.fetch_add(1, Ordering::SeqCst);
        }
        r
    })
    .await
    .is_some()
    {}
    ended.fetch_add(1, Ordering::SeqCst);
}

/// Spawns `n` idle tasks, keeping their senders in `senders`, and waits until each has been
/// polled once. Returns the count of those that have ended, for [`stop_idle_tasks`].
async fn spawn_idle_tasks(senders: &mut Vec<mpsc::Sender<u64>>, n: usize) -> Arc<AtomicUsize> {
    let polled = Arc::new(AtomicUsize::new(0));
    let ended = Arc::new(AtomicUsize::new(0));
    for _ in 0..n {
        let (tx, rx) = mpsc::channel::<u64>(DEFAULT_CAPACITY);
        senders.push(tx);
        tokio::spawn(idle_task(rx, polled.clone(), ended.clone()));
    }
    while polled.load(Ordering::SeqCst) < n {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    ended
}

/// Drops the senders, so that every idle task's receive returns `None`, and waits until all
/// `n` have ended.
async fn stop_idle_tasks(senders: &mut Vec<mpsc::Sender<u64>>, ended: Arc<AtomicUsize>, n: usize) {
    senders.clear();
    while ended.load(Ordering::SeqCst) < n {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn idle_tokio(n: usize) -> IdleFigures {
    let rt = runtime();
    rt.block_on(async {
        let mut senders = Vec::with_capacity(n);
        let ended = spawn_idle_tasks(&mut senders, 1000).await;
        stop_idle_tasks(&mut senders, ended, 1000).await;

        let before = snapshot();
        let ended = spawn_idle_tasks(&mut senders, n).await;
        let after = snapshot();
        stop_idle_tasks(&mut senders, ended, n).await;
        per_item(before, after, n, snapshot())
    })
}

/// Runs one idle measurement in a fresh process (this binary with `--idle <which>`).
fn idle_in_child(which: &str) -> IdleFigures {
    let exe = std::env::current_exe().expect("the bench knows its own path");
    let out = Command::new(exe).args(["--idle", which]).output().expect("the bench can re-run itself");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "idle child `{which}` failed: {}", String::from_utf8_lossy(&out.stderr));
    IdleFigures::decode(&stdout).unwrap_or_else(|| panic!("idle child `{which}` printed no figures: {stdout}"))
}

fn run_idle() -> (IdleFigures, IdleFigures) {
    println!(
        "2. Idle memory: {IDLE} idle components (each awaiting an unlinked inbox) vs {IDLE} tokio tasks (each \
         awaiting an mpsc receiver), each set in a fresh process, after all were polled once"
    );
    let axon = idle_in_child("axon");
    let tokio = idle_in_child("tokio");
    for (name, f) in [("axon component", axon), ("tokio task+mpsc", tokio)] {
        println!(
            "   {name:<15}: RSS {:>7.0} B  heap (allocator) {:>7.0} B  heap incl. malloc headers {:>7.0} B  \
             {:>4.1} allocations; heap left after stop {:.1} B",
            f.rss, f.heap, f.chunks, f.blocks, f.heap_left_after_stop
        );
    }
    println!();
    (axon, tokio)
}

// ----- 3. the table -----

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

fn main() {
    // `--idle axon|tokio [count]`: one idle-memory measurement, run by `idle_in_child` (or by hand,
    // e.g. under valgrind with a smaller count).
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--idle") {
        COUNTING.store(true, Ordering::SeqCst);
        let n = args.get(2).map_or(IDLE, |c| c.parse().expect("the count is a number"));
        let figures = match args.get(1).map(String::as_str) {
            Some("axon") => idle_axon(n),
            Some("tokio") => idle_tokio(n),
            other => panic!("--idle takes `axon` or `tokio` (and optionally a count), not {other:?}"),
        };
        println!("{}", figures.encode());
        return;
    }

    // `--once recv|events [count]`: one axon chain and nothing else, its stages waiting with
    // `inbox.recv()` or `next_event()`: for callgrind, whose instruction counts are the steady
    // figure for "unchanged" on a shared machine.
    if args.first().map(String::as_str) == Some("--once") {
        let n = args.get(2).map_or(MESSAGES, |c| c.parse().expect("the count is a number"));
        let rt = runtime();
        let elapsed = match args.get(1).map(String::as_str) {
            Some("recv") => rt.block_on(axon_chain(rt.handle(), n)),
            Some("events") => rt.block_on(axon_chain_of(rt.handle(), n, || PassEvents)),
            other => panic!("--once takes `recv` or `events` (and optionally a count), not {other:?}"),
        };
        println!("{n} messages through {STAGES} stages in {elapsed:?}");
        return;
    }

    let results_file = match args.as_slice() {
        [] => None,
        [flag, file] if flag == "--results" => Some(file.clone()),
        _ => panic!(
            "usage: axon_chain [--results FILE] | --idle axon|tokio [count] | --once recv|events [count]; got {args:?}"
        ),
    };

    let total = Instant::now();
    let chains = run_chains();
    let (idle_axon, idle_tokio) = run_idle();

    let (ca, ct, cx) = (median(&chains.axon), median(&chains.tokio), median(&chains.actix));
    let chain_ratio = ca / ct;
    let actix_ratio = ca / cx;
    println!("3. Summary");
    println!(
        "   | figure                               | axon         | peer         | value        | ratio | aim            | verdict |"
    );
    println!(
        "   |--------------------------------------|--------------|--------------|--------------|-------|----------------|---------|"
    );
    println!(
        "   | chain of {STAGES}, messages/s (median)     | {:>12} | tokio+mpsc   | {:>12} | {:.2}x | {:<14} | {:<7} |",
        mega(ca),
        mega(ct),
        chain_ratio,
        format!(">= {AIM_CHAIN_RATIO}x mpsc"),
        verdict(chain_ratio >= AIM_CHAIN_RATIO)
    );
    println!(
        "   | chain of {STAGES}, messages/s (median)     | {:>12} | actix actors | {:>12} | {:.2}x | {:<14} | {:<7} |",
        mega(ca),
        mega(cx),
        actix_ratio,
        format!(">= {AIM_ACTIX_RATIO}x actix"),
        verdict(actix_ratio >= AIM_ACTIX_RATIO)
    );
    for (figure, a, t) in [
        ("idle, bytes each (allocator)", idle_axon.heap, idle_tokio.heap),
        ("idle, bytes each (incl. malloc hdrs)", idle_axon.chunks, idle_tokio.chunks),
        ("idle, bytes each (RSS)", idle_axon.rss, idle_tokio.rss),
    ] {
        println!(
            "   | {figure:<36} | {:>10.0} B | tokio task   | {:>10.0} B | {:.2}x | < 2 KiB        | {:<7} |",
            a,
            t,
            a / t,
            verdict(a < AIM_IDLE_BYTES)
        );
    }
    println!("   (whole run: {:.1} s)", total.elapsed().as_secs_f64());

    if let Some(file) = results_file {
        let mut rows = String::new();
        let mut row = |figure: &str, side: &str, run: usize, value: f64, unit: &str| {
            rows += &format!("components\t{figure}\t{side}\t-\t{run}\t{value:.1}\t{unit}\n");
        };
        for (side, runs) in [("ours", &chains.axon), ("tokio_mpsc", &chains.tokio), ("actix", &chains.actix)] {
            for (i, &r) in runs.iter().enumerate() {
                row("pipeline_msgs_per_s", side, i + 1, r, "msg/s");
            }
        }
        for (side, f) in [("ours", idle_axon), ("tokio_task", idle_tokio)] {
            row("idle_component_heap_bytes", side, 1, f.heap, "B");
            row("idle_component_rss_bytes", side, 1, f.rss, "B");
        }
        kamaelia_bench::append_results_or_exit("axon_chain", &file, &rows);
    }
}
