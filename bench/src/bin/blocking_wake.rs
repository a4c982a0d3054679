//! `blocking_wake`: axon's boxes on their blocking side against crossbeam-channel, where
//! crossbeam could fit the model (issue 18, item 4).
//!
//! Run it with
//!
//! ```sh
//! cargo run --release -p kamaelia-bench --bin blocking_wake
//! ```
//!
//! Two places were named where crossbeam-channel might serve: the threaded components' wake
//! path, and the blocking side of a file-like handle (`LikeFile`, `Handle`'s `*_blocking`
//! forms). Each is measured as it is now and as it would be with crossbeam, `MESSAGES` `u64`s
//! through a box (or channel) of capacity [`DEFAULT_CAPACITY`], `REPEATS` times each after a
//! warm-up, median and spread of messages per second printed:
//!
//! 1. **Thread to thread (the threaded components' wake path).** A threaded component sends with
//!    `Outbox::send_blocking` to another that receives with `Inbox::recv_blocking` (the thread
//!    parks on a waker that unparks it). Peers: a crossbeam `bounded(64)` channel between two
//!    threads (what a crossbeam box would be), and `std::sync::mpsc::sync_channel(64)`.
//! 2. **Plain thread → component → plain thread (a file-like handle's blocking side).** A thread
//!    writes through a split `Handle` (`HandleInput::send_blocking`) into a pass-through
//!    component on the scheduler, and another reads with `HandleOutput::recv_blocking`. The peer
//!    puts crossbeam where the plain threads are: the threads use crossbeam `bounded(64)`
//!    channels, and a pump on each side moves messages between crossbeam and the component's
//!    boxes (a crossbeam channel cannot be awaited, so a component cannot wait on one: that is
//!    what a crossbeam blocking side would need).
//!
//! A closing table gives the ratios (ours / crossbeam): above 1, ours is faster.

use std::time::Instant;

use axon_core::{
    from_fn, ComponentResult, Context, Handle, Instance, Scheduler, Threaded, ThreadedComponent, DEFAULT_CAPACITY,
};
use kamaelia_bench::median;

/// Messages in one measurement.
const MESSAGES: u64 = 1_000_000;
/// Measurements of each side (after one warm-up of each).
const REPEATS: usize = 7;

/// Sends `0..n` with the blocking send.
struct Send(u64);

impl ThreadedComponent for Send {
    type Inbox = ();
    type Outbox = u64;

    fn main(self, mut ctx: Context<(), u64>) -> ComponentResult {
        for m in 0..self.0 {
            ctx.outbox.send_blocking(m);
        }
        Ok(())
    }
}

/// Receives until its inbox closes, checking the order; reports the count.
struct Recv(std::sync::mpsc::Sender<u64>);

impl ThreadedComponent for Recv {
    type Inbox = u64;
    type Outbox = ();

    fn main(self, mut ctx: Context<u64, ()>) -> ComponentResult {
        let mut next = 0;
        while let Some(m) = ctx.inbox.recv_blocking() {
            assert_eq!(m, next, "out of order");
            next += 1;
        }
        let _ = self.0.send(next);
        Ok(())
    }
}

/// Messages per second of one run of `f`, which moves `MESSAGES` messages and returns how many
/// arrived.
fn rate(f: impl FnOnce() -> u64) -> f64 {
    let start = Instant::now();
    let n = f();
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(n, MESSAGES, "messages lost");
    n as f64 / secs
}

/// Side 1: two threaded components, linked.
fn threads_axon() -> u64 {
    let scheduler = Scheduler::new();
    let (tx, rx) = std::sync::mpsc::channel();
    let a = Instance::new(Threaded(Send(MESSAGES)));
    let b = Instance::new(Threaded(Recv(tx)));
    scheduler.link((a.component(), "outbox"), (b.component(), "inbox")).unwrap();
    b.activate(&scheduler);
    a.activate(&scheduler);
    rx.recv().unwrap()
}

/// Drives `fut` on this thread as `axon_core`'s blocking forms do (poll; park until woken), but
/// first spins and re-polls for a while, as crossbeam's `Backoff` does before it blocks: the
/// experiment that says where crossbeam's lead on side 1 comes from.
fn spin_block_on<F: std::future::Future>(fut: F) -> F::Output {
    use std::task::{Context as TaskContext, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let mut fut = std::pin::pin!(fut);
    let waker = Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    let mut cx = TaskContext::from_waker(&waker);
    loop {
        // crossbeam-utils' Backoff::snooze: 2^step spins up to step 6, then yields, to step 10.
        for step in 0..=10u32 {
            if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                return v;
            }
            if step <= 6 {
                for _ in 0..1u32 << step {
                    std::hint::spin_loop();
                }
            } else {
                std::thread::yield_now();
            }
        }
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// Side 1, the experiment: [`Send`], waiting with [`spin_block_on`].
struct SpinSend(u64);

impl ThreadedComponent for SpinSend {
    type Inbox = ();
    type Outbox = u64;

    fn main(self, mut ctx: Context<(), u64>) -> ComponentResult {
        for m in 0..self.0 {
            spin_block_on(ctx.outbox.send(m));
        }
        Ok(())
    }
}

/// Side 1, the experiment: [`Recv`], waiting with [`spin_block_on`].
struct SpinRecv(std::sync::mpsc::Sender<u64>);

impl ThreadedComponent for SpinRecv {
    type Inbox = u64;
    type Outbox = ();

    fn main(self, mut ctx: Context<u64, ()>) -> ComponentResult {
        let mut next = 0;
        while let Some(m) = spin_block_on(ctx.inbox.recv()) {
            assert_eq!(m, next, "out of order");
            next += 1;
        }
        let _ = self.0.send(next);
        Ok(())
    }
}

/// Side 1, the experiment: two threaded components on linked boxes, waiting with
/// [`spin_block_on`].
fn threads_axon_spinning() -> u64 {
    let scheduler = Scheduler::new();
    let (tx, rx) = std::sync::mpsc::channel();
    let a = Instance::new(Threaded(SpinSend(MESSAGES)));
    let b = Instance::new(Threaded(SpinRecv(tx)));
    scheduler.link((a.component(), "outbox"), (b.component(), "inbox")).unwrap();
    b.activate(&scheduler);
    a.activate(&scheduler);
    rx.recv().unwrap()
}

/// Side 1: two threads and a crossbeam bounded channel.
fn threads_crossbeam() -> u64 {
    let (tx, rx) = crossbeam_channel::bounded::<u64>(DEFAULT_CAPACITY);
    let sender = std::thread::spawn(move || {
        for m in 0..MESSAGES {
            tx.send(m).unwrap();
        }
    });
    let mut next = 0;
    while let Ok(m) = rx.recv() {
        assert_eq!(m, next);
        next += 1;
    }
    sender.join().unwrap();
    next
}

/// Side 1: two threads and std's sync_channel.
fn threads_std() -> u64 {
    let (tx, rx) = std::sync::mpsc::sync_channel::<u64>(DEFAULT_CAPACITY);
    let sender = std::thread::spawn(move || {
        for m in 0..MESSAGES {
            tx.send(m).unwrap();
        }
    });
    let mut next = 0;
    while let Ok(m) = rx.recv() {
        assert_eq!(m, next);
        next += 1;
    }
    sender.join().unwrap();
    next
}

/// A pass-through component.
fn relay() -> impl axon_core::Component<Inbox = u64, Outbox = u64> {
    from_fn("Relay", |mut ctx: Context<u64, u64>| async move {
        while let Some(m) = ctx.inbox.recv().await {
            ctx.outbox.send(m).await;
        }
        Ok(())
    })
}

/// Side 2: a plain thread writes through a handle, another reads: the boxes' blocking forms.
fn handle_axon(scheduler: &Scheduler) -> u64 {
    let (mut input, mut output) = Handle::new(relay(), scheduler).split();
    let writer = std::thread::spawn(move || {
        for m in 0..MESSAGES {
            input.send_blocking(m);
        }
    });
    let mut next = 0;
    while let Some(m) = output.recv_blocking() {
        assert_eq!(m, next);
        next += 1;
    }
    writer.join().unwrap();
    next
}

/// Side 2: the same with crossbeam on the threads' side: a pump thread on each side, between a
/// crossbeam channel and the handle's boxes.
fn handle_crossbeam(scheduler: &Scheduler) -> u64 {
    let (mut input, mut output) = Handle::new(relay(), scheduler).split();
    let (in_tx, in_rx) = crossbeam_channel::bounded::<u64>(DEFAULT_CAPACITY);
    let (out_tx, out_rx) = crossbeam_channel::bounded::<u64>(DEFAULT_CAPACITY);
    let pump_in = std::thread::spawn(move || {
        while let Ok(m) = in_rx.recv() {
            input.send_blocking(m);
        }
    });
    let pump_out = std::thread::spawn(move || {
        while let Some(m) = output.recv_blocking() {
            if out_tx.send(m).is_err() {
                break;
            }
        }
    });
    let writer = std::thread::spawn(move || {
        for m in 0..MESSAGES {
            in_tx.send(m).unwrap();
        }
    });
    let mut next = 0;
    while let Ok(m) = out_rx.recv() {
        assert_eq!(m, next);
        next += 1;
    }
    writer.join().unwrap();
    pump_in.join().unwrap();
    pump_out.join().unwrap();
    next
}

/// `REPEATS` rates of each of `sides` in turn, after a warm-up of each.
fn measure(sides: &[(&str, &dyn Fn() -> u64)]) -> Vec<Vec<f64>> {
    for (_, f) in sides {
        rate(f);
    }
    let mut rates = vec![Vec::new(); sides.len()];
    for _ in 0..REPEATS {
        for (i, (_, f)) in sides.iter().enumerate() {
            rates[i].push(rate(f));
        }
    }
    rates
}

fn show(title: &str, sides: &[(&str, &dyn Fn() -> u64)], rates: &[Vec<f64>]) {
    println!("{title}");
    for ((name, _), r) in sides.iter().zip(rates) {
        let lo = r.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = r.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        println!("  {name:<44} {:>7.2} M/s  ({:.2} to {:.2})", median(r) / 1e6, lo / 1e6, hi / 1e6);
    }
}

fn main() {
    println!(
        "blocking_wake: {MESSAGES} u64 messages per run, boxes and channels of {DEFAULT_CAPACITY}, median of \
         {REPEATS} runs (after a warm-up), {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let threads: [(&str, &dyn Fn() -> u64); 4] = [
        ("axon: threaded component -> threaded component", &threads_axon),
        ("crossbeam-channel bounded, thread -> thread", &threads_crossbeam),
        ("std sync_channel, thread -> thread", &threads_std),
        ("experiment: axon boxes, spin before parking", &threads_axon_spinning),
    ];
    let t = measure(&threads);
    show("1. thread to thread (the threaded components' wake path)", &threads, &t);

    let scheduler = Scheduler::new();
    let via_axon = || handle_axon(&scheduler);
    let via_crossbeam = || handle_crossbeam(&scheduler);
    let handles: [(&str, &dyn Fn() -> u64); 2] = [
        ("axon: thread -> Handle -> component -> thread", &via_axon),
        ("crossbeam on the threads' side, with pumps", &via_crossbeam),
    ];
    let h = measure(&handles);
    show("2. plain thread -> component -> plain thread (a file-like handle's blocking side)", &handles, &h);

    println!("ratios (ours / peer; above 1: ours is faster)");
    println!("  threads: axon / crossbeam     {:.2}x", median(&t[0]) / median(&t[1]));
    println!("  threads: axon / std           {:.2}x", median(&t[0]) / median(&t[2]));
    println!("  threads: spinning / crossbeam {:.2}x  (the experiment)", median(&t[3]) / median(&t[1]));
    println!("  handle:  axon / crossbeam     {:.2}x", median(&h[0]) / median(&h[1]));
}
