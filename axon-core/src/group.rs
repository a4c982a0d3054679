//! Co-scheduling: components activated together run on one tokio task
//! ([`Scheduler::together`](crate::Scheduler::together)).
//!
//! Each component is normally a tokio task of its own, and a message from one to another wakes
//! the receiver's task, often on another worker thread. Components that talk mostly to each other
//! (the components serving one connection, say) can instead share a task: a *group*. The group's
//! task polls its members in turn; a delivery from one member to another marks the receiver ready
//! in the group's queue, and it is polled in the same turn, on the same thread, with no
//! cross-thread wake-up. Members behave exactly as other components do (boxes, linkages,
//! children, stopping, panics contained), and can talk to components outside the group as usual.
//!
//! A component activated while a group member is being polled (a child it starts) joins that
//! group, so a whole subsystem started from one place stays together. A group's task ends when
//! its last member has ended.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Wake, Waker};

use crate::sync::lock;

type Body = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// How many member polls one turn of the group's task makes before yielding to tokio, so that a
/// busy group does not starve the other tasks of its worker (tokio's own budget is 128 steps).
const POLLS_PER_TURN: usize = 128;

/// A group, shared by its task, its members' wakers and whoever adds members.
pub(crate) struct Group {
    /// The scheduler whose components may join (by address of its shared state).
    scheduler: usize,
    state: Mutex<State>,
}

struct State {
    /// Members added since the task last looked.
    incoming: Vec<(Arc<Slot>, Body)>,
    /// Members to poll.
    ready: VecDeque<Arc<Slot>>,
    /// The group task's waker.
    waker: Option<Waker>,
    /// The task is polling members right now: a wake needs no tokio wake-up.
    polling: bool,
    /// The task has ended: nothing more can join.
    ended: bool,
}

/// One member's place in its group: its waker, and how it is stopped.
pub(crate) struct Slot {
    group: Weak<Group>,
    /// Where the task keeps the member's body.
    index: std::sync::atomic::AtomicUsize,
    /// Already in the ready queue.
    queued: AtomicBool,
    /// Stopped from outside: the task drops the body instead of polling it.
    aborted: AtomicBool,
}

impl Slot {
    /// Stops the member: its body is dropped by the group's task at its next turn.
    pub(crate) fn abort(self: &Arc<Self>) {
        self.aborted.store(true, Ordering::Release);
        self.clone().wake();
    }
}

impl Wake for Slot {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.queued.swap(true, Ordering::AcqRel) {
            return;
        }
        // Woken by another member of its group, in the group's turn on this thread (the usual
        // case: a message passed along a connection's components): the group is at hand and
        // polling, so neither a reference to it nor a tokio wake-up is needed.
        let queued_here = CURRENT.with(|c| match c.try_borrow().as_deref() {
            Ok(Some(current)) if std::ptr::eq(Arc::as_ptr(current), self.group.as_ptr()) => {
                let mut st = lock(&current.state);
                if st.polling {
                    st.ready.push_back(self.clone());
                    true
                } else {
                    false
                }
            }
            _ => false,
        });
        if queued_here {
            return;
        }
        let Some(group) = self.group.upgrade() else { return };
        let waker = {
            let mut st = lock(&group.state);
            st.ready.push_back(self.clone());
            if st.polling {
                None
            } else {
                st.waker.take()
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

// Thread-local, like tokio's current task: the runtime's context while a group is polled or filled.
thread_local! {
    /// The group whose member is being polled on this thread, or that
    /// [`Scheduler::together`](crate::Scheduler::together) is filling.
    static CURRENT: RefCell<Option<Arc<Group>>> = const { RefCell::new(None) };
}

/// Runs `f` with `group` as the current group (restored afterwards, also on panic).
pub(crate) fn with_current<R>(group: Option<Arc<Group>>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Arc<Group>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            CURRENT.with(|c| *c.borrow_mut() = previous);
        }
    }
    let _restore = Restore(CURRENT.with(|c| c.replace(group)));
    f()
}

/// Gives the other components a turn, then carries on: Axon's `yield 1`, as
/// `axon_core::yield_now().await`. A component with a long run of work and no `.await` that
/// waits (a busy loop, a long transfer) calls it now and then, so that it does not keep its
/// thread from the others.
///
/// A co-scheduled component ([`Scheduler::together`](crate::Scheduler::together)) stays in its
/// group's turn: it goes to the back of the group's ready queue, and the members that are ready
/// now (a child it has just sent a message to, say) run first, in the same turn of the group's
/// task, on the same thread, with no tokio wake-up. Elsewhere it is a plain yield to tokio, like
/// [`tokio::task::yield_now`]. (Tokio's `yield_now` inside a group would make the whole group's
/// task wait for the worker's other tasks, and may wake another worker thread to take it.)
///
/// ```
/// use axon_core::prelude::*;
///
/// let c = from_fn("Polite", |mut ctx: Context<u8, u8>| async move {
///     while let Some(n) = ctx.inbox.recv().await {
///         axon_core::yield_now().await;
///         ctx.outbox.send(n).await;
///     }
///     Ok(())
/// });
/// let mut h = Handle::new(c, &Scheduler::new());
/// h.send_blocking(7);
/// assert_eq!(h.recv_blocking(), Some(7));
/// ```
pub fn yield_now() -> impl Future<Output = ()> + Send {
    YieldNow { yielded: false }
}

/// The future of [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub(crate) struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // In a group this waker is the member's slot: the wake queues it behind the members that
        // are ready, without waking the group's task (it is polling). Outside one, tokio sees a
        // task that woke itself while running and puts it at the back of its worker's queue.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl Group {
    pub(crate) fn new(scheduler: usize) -> Arc<Group> {
        Arc::new(Group {
            scheduler,
            state: Mutex::new(State {
                incoming: Vec::new(),
                ready: VecDeque::new(),
                waker: None,
                polling: false,
                ended: false,
            }),
        })
    }

    /// The current group, if it belongs to `scheduler`.
    pub(crate) fn current(scheduler: usize) -> Option<Arc<Group>> {
        CURRENT.with(|c| c.borrow().as_ref().filter(|g| g.scheduler == scheduler).cloned())
    }

    /// Adds a member; gives the body back if the group's task has already ended.
    pub(crate) fn add(self: &Arc<Self>, body: Body) -> Result<Arc<Slot>, Body> {
        let slot = Arc::new(Slot {
            group: Arc::downgrade(self),
            index: std::sync::atomic::AtomicUsize::new(usize::MAX),
            queued: AtomicBool::new(true),
            aborted: AtomicBool::new(false),
        });
        let waker = {
            let mut st = lock(&self.state);
            if st.ended {
                return Err(body);
            }
            st.incoming.push((slot.clone(), body));
            if st.polling {
                None
            } else {
                st.waker.take()
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(slot)
    }

    /// Whether members are waiting to be taken in (so the group needs a task).
    pub(crate) fn has_incoming(&self) -> bool {
        !lock(&self.state).incoming.is_empty()
    }

    /// The future that runs the group: spawn it once.
    pub(crate) fn task(self: Arc<Self>) -> GroupTask {
        GroupTask { group: self, members: Vec::new(), free: Vec::new(), live: 0 }
    }
}

/// The task that polls a group's members.
pub(crate) struct GroupTask {
    group: Arc<Group>,
    members: Vec<Option<(Arc<Slot>, Body)>>,
    free: Vec<usize>,
    live: usize,
}

impl GroupTask {
    /// Takes in new members and polls each once, in the order they were added; returns how many.
    fn take_incoming(&mut self, incoming: Vec<(Arc<Slot>, Body)>) -> usize {
        let taken = incoming.len();
        // The members of a group are usually all added at once (a connection's components):
        // room for exactly those, not the next power of two.
        let spare = self.free.len() + self.members.capacity() - self.members.len();
        if incoming.len() > spare {
            self.members.reserve_exact(incoming.len() - spare);
        }
        for (slot, body) in incoming {
            let index = match self.free.pop() {
                Some(i) => i,
                None => {
                    self.members.push(None);
                    self.members.len() - 1
                }
            };
            slot.index.store(index, Ordering::Release);
            self.members[index] = Some((slot.clone(), body));
            self.live += 1;
            self.step(&slot);
        }
        taken
    }

    /// Polls one member (or drops it, if stopped).
    fn step(&mut self, slot: &Arc<Slot>) {
        slot.queued.store(false, Ordering::Release);
        let index = slot.index.load(Ordering::Acquire);
        let Some(Some((held, _))) = self.members.get(index) else { return };
        if !Arc::ptr_eq(held, slot) {
            return; // a stale wake for a member that has ended and whose place was reused
        }
        let done = if slot.aborted.load(Ordering::Acquire) {
            true
        } else {
            let waker = Waker::from(slot.clone());
            let mut cx = Context::from_waker(&waker);
            let Some(Some((_, body))) = self.members.get_mut(index) else { return };
            body.as_mut().poll(&mut cx).is_ready()
        };
        if done {
            // Dropped outside any lock: a body's end-of-life bookkeeping may wake other members.
            let member = self.members[index].take();
            self.free.push(index);
            self.live -= 1;
            drop(member);
        }
    }
}

impl Future for GroupTask {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let group = this.group.clone();
        with_current(Some(group.clone()), || {
            let mut polls = 0;
            loop {
                let (incoming, next) = {
                    let mut st = lock(&group.state);
                    if !st.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                        st.waker = Some(cx.waker().clone());
                    }
                    st.polling = true;
                    let incoming = std::mem::take(&mut st.incoming);
                    let next = if incoming.is_empty() { st.ready.pop_front() } else { None };
                    (incoming, next)
                };
                if !incoming.is_empty() {
                    polls += this.take_incoming(incoming);
                    continue;
                }
                let Some(slot) = next else { break };
                polls += 1;
                this.step(&slot);
                if polls >= POLLS_PER_TURN {
                    break;
                }
            }
        });
        let mut st = lock(&group.state);
        st.polling = false;
        if this.live == 0 && st.incoming.is_empty() {
            st.ended = true;
            return Poll::Ready(());
        }
        if !st.ready.is_empty() || !st.incoming.is_empty() {
            // More to do: yield to tokio (its budget, and other tasks), then carry on.
            drop(st);
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

impl Drop for GroupTask {
    fn drop(&mut self) {
        lock(&self.group.state).ended = true;
        // Members are dropped (and so end, as stopped) with the task; any not yet taken in too.
        let incoming = std::mem::take(&mut lock(&self.group.state).incoming);
        drop(incoming);
    }
}
