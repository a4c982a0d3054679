//! The [`Scheduler`]: where components run, and the registry of those that are alive.
//!
//! Axon's scheduler is a process-wide singleton that steps generators in turn. Here components
//! are tokio tasks, and a `Scheduler` is an explicit, cheap-to-clone handle that holds:
//!
//! * the tokio runtime components are spawned on: the one current when the scheduler first
//!   activates something, or else a multi-threaded runtime of its own; or, made with
//!   [`Scheduler::per_thread`], a single-threaded runtime on each of several threads of its own,
//!   each group of co-scheduled components kept on one of them;
//! * the registry of live components (for [introspection](Scheduler::introspect) and
//!   [`run`](Scheduler::run), which returns when none is left: Axon's `runThreads()`);
//! * the failures reported by components that panicked or returned an error;
//! * a services registry ([`Tracker`], Axon's Coordinating Assistant Tracker).
//!
//! [`Scheduler::global`] is a convenient process-wide default; tests and libraries should make
//! their own with [`Scheduler::new`] so that systems do not see each other.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::component_ref::{Abort, ComponentRef, Core, Home};
use crate::context::Context;
use crate::error::{LinkError, RunError};
use crate::group::Group;
use crate::id::ComponentId;
use crate::introspect::Snapshot;
use crate::lifecycle::{ChildExit, ComponentKind, ComponentState, Exit, LostMessages};
use crate::link;
use crate::linkage::{link_endpoints, Endpoint, LinkOptions, Linkage, Passthrough};
use crate::sync::lock;
use crate::tracker::Tracker;

/// How many reports of lost messages a scheduler keeps ([`Scheduler::lost_messages`]).
pub const LOST_KEPT: usize = 64;

struct Runtime {
    /// Where components go when no better place is known, and what
    /// [`Scheduler::runtime_handle`] gives off the scheduler's own threads.
    handle: tokio::runtime::Handle,
    owned: Mutex<Option<tokio::runtime::Runtime>>,
    /// With [`Scheduler::per_thread`]: a single-threaded runtime on each of several threads.
    threads: Option<PerThread>,
}

/// The runtimes of a [`Scheduler::per_thread`] scheduler, one per thread, and which is next.
struct PerThread {
    /// Identifies these threads (see [`WORKER`]).
    id: usize,
    handles: Vec<tokio::runtime::Handle>,
    next: AtomicUsize,
    /// Dropped (with the scheduler) to end the threads: each then drops its runtime, and so the
    /// tasks still on it.
    _stop: Vec<tokio::sync::oneshot::Sender<()>>,
}

// Thread-local, like tokio's current runtime: each scheduler thread sets it once, for itself.
thread_local! {
    /// On a thread of a [`Scheduler::per_thread`] scheduler: that scheduler's threads' id and this
    /// thread's index among them.
    static WORKER: std::cell::Cell<Option<(usize, usize)>> = const { std::cell::Cell::new(None) };
}

impl Runtime {
    /// A multi-threaded runtime (one worker per core) owned by the scheduler.
    fn owned() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("axon-worker")
            .build()
            .expect("a tokio runtime can be built (threads and an I/O driver are available)");
        Runtime { handle: rt.handle().clone(), owned: Mutex::new(Some(rt)), threads: None }
    }

    /// `threads` threads, each running a single-threaded runtime of its own until the scheduler
    /// is dropped.
    fn per_thread(threads: usize) -> Self {
        static NEXT_ID: AtomicUsize = AtomicUsize::new(1);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let mut handles = Vec::with_capacity(threads);
        let mut stop = Vec::with_capacity(threads);
        for index in 0..threads {
            let (handle_tx, handle_rx) = std::sync::mpsc::channel();
            let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
            std::thread::Builder::new()
                .name(format!("axon-worker-{index}"))
                .spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("a tokio runtime can be built (an I/O driver is available)");
                    WORKER.with(|w| w.set(Some((id, index))));
                    let _ = handle_tx.send(rt.handle().clone());
                    // Runs this thread's tasks until the scheduler is dropped; the tasks left are
                    // dropped with the runtime.
                    let _ = rt.block_on(stop_rx);
                })
                .expect("a scheduler thread can be started");
            handles.push(handle_rx.recv().expect("a scheduler thread sends its runtime's handle"));
            stop.push(stop_tx);
        }
        Runtime {
            handle: handles[0].clone(),
            owned: Mutex::new(None),
            threads: Some(PerThread { id, handles, next: AtomicUsize::new(0), _stop: stop }),
        }
    }

    /// Where a component activated now runs: on the calling thread's runtime if it is one of
    /// these, else on the next in turn.
    fn here(&self) -> &tokio::runtime::Handle {
        self.current().unwrap_or_else(|| self.next())
    }

    /// The next runtime in turn (for a new group).
    fn next(&self) -> &tokio::runtime::Handle {
        let Some(t) = &self.threads else { return &self.handle };
        &t.handles[t.next.fetch_add(1, Ordering::Relaxed) % t.handles.len()]
    }

    /// The runtime of the calling thread, if it is one of these.
    fn current(&self) -> Option<&tokio::runtime::Handle> {
        let t = self.threads.as_ref()?;
        match WORKER.with(std::cell::Cell::get) {
            Some((id, index)) if id == t.id => Some(&t.handles[index]),
            _ => None,
        }
    }
}

/// How many shards the registry of live components has.
const SHARDS: usize = 8;

type Shard = Mutex<HashMap<ComponentId, ComponentRef, BuildHasherDefault<IdHasher>>>;

/// A value alone in its cache lines: two threads writing two such values, or one writing it
/// while another reads a neighbour, do not slow each other.
#[repr(align(128))]
struct Padded<T>(T);

/// The registry of live components, by id. It is sharded by thread: a component is registered in
/// the shard of the thread that activates it (and remembers which), so that worker threads making
/// and ending components at the same time seldom touch the same lock or memory.
/// [`Scheduler::components`] sorts what it reads, to list them in id order.
struct Registry {
    shards: [Padded<Shard>; SHARDS],
}

/// The registry shard of the current thread.
fn thread_shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    // Thread-local: each thread's own shard, chosen once, so threads spread over the shards.
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    SHARD.with(|s| *s)
}

impl Registry {
    fn new() -> Self {
        Registry { shards: std::array::from_fn(|_| Padded(Mutex::new(HashMap::default()))) }
    }

    fn insert(&self, c: &ComponentRef) {
        let shard = thread_shard();
        c.0.registry_shard.store(shard as u8, Ordering::Relaxed);
        lock(&self.shards[shard].0).insert(c.id(), c.clone());
    }

    /// Removes it; true if it was there.
    fn remove(&self, core: &Core) -> bool {
        let shard = usize::from(core.registry_shard.load(Ordering::Relaxed));
        let removed = lock(&self.shards[shard % SHARDS].0).remove(&core.ident.id);
        removed.is_some()
    }

    /// Every component, in id order.
    fn all(&self) -> Vec<ComponentRef> {
        let mut all = Vec::new();
        for shard in &self.shards {
            all.extend(lock(&shard.0).values().cloned());
        }
        all.sort_unstable_by_key(|c| c.id());
        all
    }
}

/// Hashes a component id (a unique counter) with one multiplication (Fibonacci hashing): ids
/// need no protection against chosen collisions.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

struct Inner {
    components: Registry,
    /// Written by every activation and every end, on every worker: kept apart from the fields
    /// that are only read (the runtime, the slow-motion delay, the tracker).
    live: Padded<AtomicUsize>,
    idle: tokio::sync::Notify,
    failures: Mutex<Vec<ChildExit>>,
    /// The most recent reports of messages lost as a component ended ([`Snapshot::lost`]).
    lost: Mutex<std::collections::VecDeque<LostMessages>>,
    tracker: Tracker,
    runtime: OnceLock<Runtime>,
    /// Nanoseconds; `u64::MAX` for none.
    slowmo: AtomicU64,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.get().and_then(|r| lock(&r.owned).take()) {
            // Safe from any context, including one of this runtime's own workers.
            rt.shutdown_background();
        }
    }
}

/// Where components run; see the [module docs](self).
#[derive(Clone)]
pub struct Scheduler(Arc<Inner>);

impl fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scheduler").field("live", &self.live()).finish_non_exhaustive()
    }
}

impl Default for Scheduler {
    fn default() -> Self {
        Self::new()
    }
}

impl Scheduler {
    /// A new scheduler with nothing running, and a tracker of its own.
    pub fn new() -> Self {
        Self::with_tracker(Tracker::new())
    }

    /// A new scheduler whose components share `tracker` (for example a child of another
    /// scheduler's tracker, see [`Tracker::with_parent`]).
    pub fn with_tracker(tracker: Tracker) -> Self {
        Scheduler(Arc::new(Inner {
            components: Registry::new(),
            live: Padded(AtomicUsize::new(0)),
            idle: tokio::sync::Notify::new(),
            failures: Mutex::new(Vec::new()),
            lost: Mutex::new(std::collections::VecDeque::new()),
            tracker,
            runtime: OnceLock::new(),
            slowmo: AtomicU64::new(u64::MAX),
        }))
    }

    /// A scheduler that spawns on an existing tokio runtime.
    pub fn on_runtime(handle: tokio::runtime::Handle) -> Self {
        let s = Self::new();
        let _ = s.0.runtime.set(Runtime { handle, owned: Mutex::new(None), threads: None });
        s
    }

    /// A scheduler with `threads` threads of its own (`0`: one per core, as
    /// [`std::thread::available_parallelism`] counts them), each running a single-threaded tokio
    /// runtime: one runtime per thread, as nginx's workers and actix-web's run.
    ///
    /// Each group of co-scheduled components ([`together`](Self::together): the components of
    /// one connection, in a server) goes to the threads in turn and stays on its thread for life;
    /// a component activated from one of these threads runs on that thread, and one activated
    /// from elsewhere goes to the next in turn. Nothing moves from one thread to another
    /// afterwards, so a connection's memory stays in one core's cache and its components never
    /// wake each other across threads; the price is that a thread with more work than the others
    /// is not helped by them (the default, [`new`](Self::new), shares one multi-threaded runtime
    /// whose workers take work from each other). The threads end when the scheduler is dropped.
    ///
    /// A socket, timer or other tokio resource belongs to the runtime it was made on: one made on
    /// another runtime still works, but its events reach the component through that runtime's
    /// thread. (The socket adapters of `kamaelia-chassis` move their sockets to the runtime they
    /// run on.)
    ///
    /// ```
    /// use axon_core::prelude::*;
    ///
    /// let scheduler = Scheduler::per_thread(2);
    /// let c = from_fn("Where", |mut ctx: Context<(), String>| async move {
    ///     let name = std::thread::current().name().unwrap_or("").to_owned();
    ///     ctx.outbox.send(name).await;
    ///     Ok(())
    /// });
    /// let mut h = Handle::new(c, &scheduler);
    /// assert!(h.recv_blocking().unwrap().starts_with("axon-worker-"));
    /// ```
    pub fn per_thread(threads: usize) -> Self {
        let threads = if threads == 0 { std::thread::available_parallelism().map_or(1, usize::from) } else { threads };
        let s = Self::new();
        let _ = s.0.runtime.set(Runtime::per_thread(threads));
        s
    }

    /// How many threads of its own a [`per_thread`](Self::per_thread) scheduler runs; `None` for
    /// one that shares a multi-threaded runtime.
    pub fn threads(&self) -> Option<usize> {
        self.runtime().threads.as_ref().map(|t| t.handles.len())
    }

    /// The process-wide default scheduler (made on first use). It always runs on a runtime of its
    /// own, never on whichever runtime happened to be current at first use (which might be a
    /// short-lived one, such as a test's).
    pub fn global() -> Scheduler {
        static GLOBAL: OnceLock<Scheduler> = OnceLock::new();
        GLOBAL
            .get_or_init(|| {
                let s = Scheduler::new();
                let _ = s.0.runtime.set(Runtime::owned());
                s
            })
            .clone()
    }

    /// Slow motion, for watching a system run (Axon's `runThreads(slowmo=...)`): components
    /// activated from now on wait `delay` before each step of their body (each poll). `None`
    /// turns it off for components activated later.
    pub fn set_slowmo(&self, delay: Option<Duration>) {
        // A delay of 584 years or more is taken as 584 years less a nanosecond.
        let nanos = delay.map_or(u64::MAX, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX - 1).min(u64::MAX - 1));
        self.0.slowmo.store(nanos, Ordering::Relaxed);
    }

    pub(crate) fn slowmo(&self) -> Option<Duration> {
        match self.0.slowmo.load(Ordering::Relaxed) {
            u64::MAX => None,
            nanos => Some(Duration::from_nanos(nanos)),
        }
    }

    /// The services registry its components share.
    pub fn tracker(&self) -> &Tracker {
        &self.0.tracker
    }

    /// The tokio runtime its components run on (made on first use, see the module docs).
    ///
    /// For a [`per_thread`](Self::per_thread) scheduler: the runtime of the calling thread if it
    /// is one of the scheduler's, else the first thread's.
    pub fn runtime_handle(&self) -> tokio::runtime::Handle {
        let rt = self.runtime();
        rt.current().unwrap_or(&rt.handle).clone()
    }

    fn runtime(&self) -> &Runtime {
        self.0.runtime.get_or_init(|| match tokio::runtime::Handle::try_current() {
            Ok(handle) => Runtime { handle, owned: Mutex::new(None), threads: None },
            Err(_) => Runtime::owned(),
        })
    }

    /// Runs `body`, the body of `me`, which [`Instance::activate`](crate::Instance::activate) has
    /// already attached to this scheduler (so that `main` could use it).
    pub(crate) fn spawn_body(&self, me: &ComponentRef, body: impl Future<Output = ()> + Send + 'static) {
        self.0.components.insert(me);
        self.0.live.0.fetch_add(1, Ordering::SeqCst);
        me.0.set_state(ComponentState::Running);
        if let Some(group) = Group::current(self.key()) {
            match group.add(Box::pin(body)) {
                Ok(slot) => me.attach(&self.0, Some(Abort::Member(slot))),
                Err(body) => {
                    let task = self.runtime().here().spawn(body);
                    me.attach(&self.0, Some(Abort::Task(task.abort_handle())));
                }
            }
            return;
        }
        let task = self.runtime().here().spawn(body);
        me.attach(&self.0, Some(Abort::Task(task.abort_handle())));
    }

    /// Notes, before its body is made, that `me` is activated on this scheduler (see
    /// [`Instance::activate`](crate::Instance::activate)).
    pub(crate) fn attach(&self, me: &ComponentRef) {
        me.attach(&self.0, None);
    }

    /// The scheduler behind a component's [`Home`].
    fn from_home(home: &Arc<dyn Home>) -> Scheduler {
        match home.clone().into_any().downcast::<Inner>() {
            Ok(inner) => Scheduler(inner),
            Err(_) => unreachable!("a component's home is a scheduler"),
        }
    }

    /// This scheduler's identity, for groups.
    fn key(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    /// Runs `f`, co-scheduling every component it activates on this scheduler on one tokio task,
    /// together with every component those activate in turn: a *group*. Returns what `f`
    /// returns.
    ///
    /// Components that exchange many messages with each other and few with the rest (those
    /// serving one connection, for instance) then wake each other without a cross-thread
    /// wake-up: the group's task polls its members in turn, and a delivery from one member to
    /// another marks the receiver ready to be polled in the same turn, on the same thread. They
    /// behave as they would apart (boxes, linkages, children, stopping, panics contained), and
    /// talk to components outside the group as usual; only their scheduling changes. A component
    /// activated while a member runs (a child it starts) joins the group, and the group's task
    /// ends with its last member. [`yield_now`](crate::yield_now) gives the other members a
    /// turn. Threaded components are not affected (they have their own threads).
    ///
    /// ```
    /// use axon_core::prelude::*;
    ///
    /// let scheduler = Scheduler::new();
    /// let (a, b) = scheduler.together(|| {
    ///     let a = scheduler.activate(from_fn("A", |mut ctx: Context<(), u32>| async move {
    ///         ctx.outbox.send(7).await;
    ///         Ok(())
    ///     }));
    ///     let b = scheduler.activate(from_fn("B", |mut ctx: Context<u32, ()>| async move {
    ///         assert_eq!(ctx.inbox.recv().await, Some(7));
    ///         Ok(())
    ///     }));
    ///     (a, b)
    /// });
    /// # let _ = (a, b);
    /// ```
    pub fn together<R>(&self, f: impl FnOnce() -> R) -> R {
        let group = Group::new(self.key());
        let result = crate::group::with_current(Some(group.clone()), f);
        if group.has_incoming() {
            self.runtime().next().spawn(group.task());
        }
        result
    }

    /// Registers ordinary code's stand-in component (a [`Handle`](crate::Handle)'s), which has no
    /// body to run.
    pub(crate) fn register(&self, me: &ComponentRef) {
        me.attach(&self.0, None);
        self.0.components.insert(me);
    }

    /// Records a failure, for [`failures`](Self::failures) and `run`: a component's, or a body's
    /// a component hosted (`Context::host`).
    pub(crate) fn record_failure(&self, report: ChildExit) {
        lock(&self.0.failures).push(report);
    }

    /// The most recent reports (at most [`LOST_KEPT`], oldest first) of components that ended
    /// after a `ProducerFinished` with messages still queued in an inbox: data sent before the
    /// end of the stream and never read. Each was also logged as a warning. Empty in a program
    /// whose components all drain their inboxes before they end.
    pub fn lost_messages(&self) -> Vec<LostMessages> {
        lock(&self.0.lost).iter().cloned().collect()
    }

    /// How many components are running (activated and not yet ended; handles not counted).
    pub fn live(&self) -> usize {
        self.0.live.0.load(Ordering::SeqCst)
    }

    /// Every component currently alive, in id order (Axon's `listAllThreads()`), handles
    /// included.
    pub fn components(&self) -> Vec<ComponentRef> {
        self.0.components.all()
    }

    /// A snapshot of the running graph: components, their boxes, and every linkage.
    pub fn introspect(&self) -> Snapshot {
        let mut snapshot = Snapshot::take(&self.components());
        snapshot.lost = self.lost_messages();
        snapshot
    }

    /// The failures (panics and errors) reported so far and not yet returned by `run`.
    pub fn failures(&self) -> Vec<ChildExit> {
        lock(&self.0.failures).clone()
    }

    /// Waits until no component is running.
    pub async fn wait_idle(&self) {
        loop {
            let idle = self.0.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.live() == 0 {
                return;
            }
            idle.await;
        }
    }

    /// Waits until every component has ended, then reports: `Err` lists the components that
    /// panicked or failed (the others ran on regardless). The async form of [`run`](Self::run).
    pub async fn run_async(&self) -> Result<(), RunError> {
        self.wait_idle().await;
        let failures = std::mem::take(&mut *lock(&self.0.failures));
        if failures.is_empty() {
            Ok(())
        } else {
            Err(RunError::ComponentsFailed(failures))
        }
    }

    /// Blocks the calling thread until every component has ended (Axon's `runThreads()`). With
    /// nothing activated it returns at once.
    ///
    /// Returns [`RunError::InsideRuntime`] if called from async code, where blocking would stall
    /// a runtime worker: use [`run_async`](Self::run_async) there.
    pub fn run(&self) -> Result<(), RunError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(RunError::InsideRuntime);
        }
        self.runtime_handle().block_on(self.run_async())
    }

    /// Stops every running component (Axon's `scheduler.stop()`, but each gets its end-of-life
    /// bookkeeping, which Axon skipped).
    pub fn stop(&self) {
        for c in self.components() {
            c.stop();
        }
    }

    /// Links two boxes from outside any component; the linkage belongs to no component.
    pub fn link<'a>(&self, from: impl Into<Endpoint<'a>>, to: impl Into<Endpoint<'a>>) -> Result<Linkage, LinkError> {
        link_endpoints(None, from.into(), to.into(), LinkOptions::default())
    }

    /// Links with a passthrough kind, from outside any component.
    pub fn link_passthrough<'a>(
        &self,
        from: impl Into<Endpoint<'a>>,
        to: impl Into<Endpoint<'a>>,
        passthrough: Passthrough,
    ) -> Result<Linkage, LinkError> {
        link_endpoints(None, from.into(), to.into(), LinkOptions::passthrough(passthrough))
    }

    /// Links with full options, from outside any component.
    pub fn link_with<'a>(
        &self,
        from: impl Into<Endpoint<'a>>,
        to: impl Into<Endpoint<'a>>,
        options: LinkOptions,
    ) -> Result<Linkage, LinkError> {
        link_endpoints(None, from.into(), to.into(), options)
    }

    /// Removes a linkage (unknown ones are ignored).
    pub fn unlink(&self, linkage: &Linkage) {
        link::unlink(linkage)
    }
}

/// What a component's end tells its scheduler (see [`Home`]).
impl Home for Inner {
    fn component_ended(&self, core: &Arc<Core>, exit: &Exit) {
        let was_live = self.components.remove(core);
        if core.provides_services() {
            self.tracker.forget_component(core.ident.id);
        }
        if exit.is_failure() {
            let report = ChildExit { id: core.ident.id, name: core.ident.name.to_string(), exit: exit.clone() };
            lock(&self.failures).push(report);
        }
        if was_live && core_counts(core) && self.live.0.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }

    /// Keeps the report for introspection: the last [`LOST_KEPT`].
    fn record_lost(&self, report: LostMessages) {
        let mut lost = lock(&self.lost);
        if lost.len() == LOST_KEPT {
            lost.pop_front();
        }
        lost.push_back(report);
    }

    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}

/// Handles are registered (so they show in introspection) but are not running components.
fn core_counts(core: &Core) -> bool {
    core.kind() != ComponentKind::Handle
}

// ----- a component's view of its scheduler: written here, where the scheduler's type is known -----

impl ComponentRef {
    /// The scheduler it was activated on.
    pub fn scheduler(&self) -> Option<Scheduler> {
        self.0.home().map(Scheduler::from_home)
    }
}

impl<I: Send + 'static, O: Send + 'static> Context<I, O> {
    /// The scheduler this component runs on.
    ///
    /// # Panics
    /// If called before activation (a body only runs once activated, so only hand-made contexts
    /// can see this).
    pub fn scheduler(&self) -> Scheduler {
        self.me().scheduler().expect("a running component has a scheduler")
    }

    /// The services registry (Axon's Coordinating Assistant Tracker) of this component's
    /// scheduler.
    pub fn tracker(&self) -> Tracker {
        self.scheduler().tracker().clone()
    }
}
