//! [`ComponentAddr`]: a component as an actix-style address, for code that asks and awaits an
//! answer (actix actors, actix-web handlers, any async code).
//!
//! # Example
//!
//! ```
//! use axon_core::prelude::*;
//! use kamaelia_actix::ComponentAddr;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! // Answers each number with its square.
//! let square = from_fn("Square", |mut ctx: Context<u64, u64>| async move {
//!     while let Some(n) = ctx.inbox.recv().await {
//!         ctx.outbox.send(n * n).await;
//!     }
//!     Ok(())
//! });
//! let addr = ComponentAddr::new(square, &Scheduler::new());
//! assert_eq!(addr.send(12).await.unwrap(), 144);
//! // Clones share the component; their questions are answered in the order they were asked.
//! let (a, b) = tokio::join!(addr.send(2), addr.clone().send(3));
//! assert_eq!((a.unwrap(), b.unwrap()), (4, 9));
//! # });
//! ```
//!
//! # How it works
//!
//! A `ComponentAddr` is a [`Handle`] on the component, split: its input, shared by the clones
//! behind a lock, and its output, read by a task on the scheduler's runtime. It expects what a
//! request–reply actor gives: **one answer on `outbox` for each message taken from `inbox`, in
//! order**. Each [`send`](ComponentAddr::send) puts its message into the component's `inbox`
//! (waiting while the inbox is full: the box's bound holds, as for any sender) and, in the same
//! step under the lock, queues a place for its answer; the task hands each message that leaves
//! `outbox` to the oldest place waiting. So many callers can have questions in flight at once
//! (as many as the inbox holds, plus the one being worked on), each gets its own answer, and a
//! caller that gives up (drops its future) before its message was delivered has sent nothing.
//! [`try_send`](ComponentAddr::try_send) does not wait: a full inbox gives the message back
//! ([`TrySendError::Full`]), as actix's `try_send` does on a full mailbox.
//!
//! If the component ends, every answer still awaited fails with [`AddrError::Ended`], saying how
//! it ended (a panic, an error); so do later sends. An answer that comes with nobody waiting for
//! it (a component that answers twice, or unasked) is dropped with a warning naming the component.
//!
//! Dropping the last clone (and every [`Answer`] still pending) drops the handle: the component's
//! `inbox` and `control` close, as they do when a `Handle` is dropped, and a component that reads
//! them until they close ends. [`close`](ComponentAddr::close) does it at once, after sending a
//! `ProducerFinished` to `control`.
//!
//! For actix code that wants a `Recipient<M>`, [`recipient`](ComponentAddr::recipient) puts a
//! small actor in front (see [`recipient`](crate::recipient)).

use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context as TaskContext, Poll};

use axon_core::ipc::ProducerFinished;
use axon_core::likefile::SendError;
use axon_core::{Component, ComponentRef, Exit, Handle, HandleInput, HandleOutput, IntoInstance, Scheduler};
use tokio::sync::oneshot;

use crate::error::{AddrError, TrySendError};

/// A component as an address that answers; see the [module docs](self). Cheap to clone.
pub struct ComponentAddr<I, O> {
    shared: Arc<Shared<I, O>>,
}

impl<I, O> Clone for ComponentAddr<I, O> {
    fn clone(&self) -> Self {
        ComponentAddr { shared: self.shared.clone() }
    }
}

impl<I, O> fmt::Debug for ComponentAddr<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ComponentAddr").field("component", &self.shared.component).finish_non_exhaustive()
    }
}

/// What the clones share.
struct Shared<I, O> {
    component: ComponentRef,
    state: Mutex<State<I, O>>,
}

/// Behind the lock: the input, and the places of the answers awaited, oldest first.
struct State<I, O> {
    input: HandleInput<I>,
    /// One place per message delivered and not yet answered.
    waiting: VecDeque<oneshot::Sender<O>>,
    /// How the component ended, once its outbox has closed (and the task has learnt it).
    ended: Option<Exit>,
    closed: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<I, O> Shared<I, O> {
    fn ended_error(&self, exit: Option<Exit>) -> AddrError {
        AddrError::Ended { component: self.component.name().to_owned(), exit: exit.or_else(|| self.component.exit()) }
    }
}

impl<I: Send + 'static, O: Send + 'static> ComponentAddr<I, O> {
    /// Activates `component` on `scheduler` and makes it an address.
    pub fn new<C>(component: impl IntoInstance<Component = C>, scheduler: &Scheduler) -> Self
    where
        C: Component<Inbox = I, Outbox = O>,
    {
        Self::from_handle(Handle::new(component, scheduler), scheduler)
    }

    /// The component of `handle` as an address; the task that reads its answers runs on
    /// `scheduler`'s runtime.
    pub fn from_handle(handle: Handle<I, O>, scheduler: &Scheduler) -> Self {
        let component = handle.component().clone();
        let (input, output) = handle.split();
        let shared = Arc::new(Shared {
            component,
            state: Mutex::new(State { input, waiting: VecDeque::new(), ended: None, closed: false }),
        });
        scheduler.runtime_handle().spawn(answers(Arc::downgrade(&shared), output));
        ComponentAddr { shared }
    }

    /// The component.
    pub fn component(&self) -> &ComponentRef {
        &self.shared.component
    }

    /// Sends `msg` (waiting while the component's `inbox` is full) and waits for its answer.
    pub fn send(&self, msg: I) -> impl Future<Output = Result<O, AddrError>> + Send + 'static {
        let delivered = self.deliver(msg);
        async move { delivered.await?.await }
    }

    /// Sends `msg`, waiting while the component's `inbox` is full, and resolves once it is
    /// delivered, to the [`Answer`] still to come. Dropped before then, it has sent nothing.
    pub fn deliver(&self, msg: I) -> impl Future<Output = Result<Answer<O>, AddrError>> + Send + 'static {
        let shared = self.shared.clone();
        let mut slot = Some(msg);
        poll_fn(move |cx| {
            let mut st = lock(&shared.state);
            if st.closed {
                return Poll::Ready(Err(AddrError::Closed { component: shared.component.name().to_owned() }));
            }
            if st.ended.is_some() {
                let exit = st.ended.clone();
                return Poll::Ready(Err(shared.ended_error(exit)));
            }
            match st.input.poll_deliver(&mut slot, cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Err(SendError::InputClosed { .. })) => {
                    Poll::Ready(Err(AddrError::Closed { component: shared.component.name().to_owned() }))
                }
                Poll::Ready(Err(SendError::Ended { .. })) => Poll::Ready(Err(shared.ended_error(None))),
                Poll::Ready(Ok(())) => {
                    // Under the lock the message was delivered with: its answer cannot come
                    // before its place is queued.
                    let (tx, rx) = oneshot::channel();
                    st.waiting.push_back(tx);
                    Poll::Ready(Ok(Answer { rx, shared: shared.clone() }))
                }
            }
        })
    }

    /// Sends `msg` if the component's `inbox` has room now, and returns its [`Answer`] to come;
    /// else gives the message back ([`TrySendError::Full`] with the inbox's name and capacity, or
    /// [`TrySendError::Closed`]).
    pub fn try_send(&self, msg: I) -> Result<Answer<O>, TrySendError<I>> {
        let mut st = lock(&self.shared.state);
        if st.closed {
            let reason = AddrError::Closed { component: self.shared.component.name().to_owned() };
            return Err(TrySendError::Closed { reason, message: msg });
        }
        if st.ended.is_some() || self.shared.component.has_ended() {
            let reason = self.shared.ended_error(st.ended.clone());
            return Err(TrySendError::Closed { reason, message: msg });
        }
        st.input.put(msg).map_err(TrySendError::Full)?;
        let (tx, rx) = oneshot::channel();
        st.waiting.push_back(tx);
        Ok(Answer { rx, shared: self.shared.clone() })
    }

    /// Ends the input: a `ProducerFinished` goes to the component's `control` if it has room, and
    /// its `inbox` closes once drained, so the component ends however it watches its input.
    /// Answers to messages already delivered still come; later sends fail with
    /// [`AddrError::Closed`]. Idempotent.
    pub fn close(&self) {
        let mut st = lock(&self.shared.state);
        if !st.closed {
            st.closed = true;
            let _ = st.input.put_control(ProducerFinished::new());
            st.input.close();
        }
    }
}

/// The task that reads the component's answers and hands each to the oldest place waiting. It
/// holds the shared state weakly: when every address and answer has gone, the handle's input goes
/// with them, the component sees its input close, and this ends with its outbox.
async fn answers<I: Send + 'static, O: Send + 'static>(shared: Weak<Shared<I, O>>, mut output: HandleOutput<O>) {
    // Settles the answers still awaited however this ends: with the component, or dropped with
    // its runtime (the scheduler was dropped), when no answer can come any more.
    let mut ending = Ending { shared: shared.clone(), exit: None };
    while let Some(answer) = output.recv().await {
        let Some(shared) = shared.upgrade() else { continue };
        let place = lock(&shared.state).waiting.pop_front();
        match place {
            Some(tx) => {
                // A caller that stopped waiting has dropped its receiver: the answer is dropped.
                let _ = tx.send(answer);
            }
            None => log::warn!(
                "ComponentAddr: {} sent an answer nobody asked for (it should answer each message once); dropped",
                shared.component
            ),
        }
    }
    ending.exit = Some(output.join().await);
}

/// Records the component's end and drops every place still waiting (those answers fail with
/// [`AddrError::Ended`]), when the task reading the answers ends.
struct Ending<I, O> {
    shared: Weak<Shared<I, O>>,
    exit: Option<Exit>,
}

impl<I, O> Drop for Ending<I, O> {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            let exit = self.exit.take().or_else(|| shared.component.exit()).unwrap_or(Exit::Stopped);
            let mut st = lock(&shared.state);
            st.ended = Some(exit);
            let waiting = std::mem::take(&mut st.waiting);
            drop(st);
            drop(waiting);
        }
    }
}

/// The answer to a message a [`ComponentAddr`] delivered: resolves to it, or to
/// [`AddrError::Ended`] if the component ended first.
pub struct Answer<O> {
    rx: oneshot::Receiver<O>,
    /// Keeps the address (and so the component's input) alive until the answer comes, and says
    /// how the component ended if it does not.
    shared: Arc<dyn Ends>,
}

impl<O> fmt::Debug for Answer<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Answer").finish_non_exhaustive()
    }
}

/// How an [`Answer`] learns why it will not come, without the message types.
trait Ends: Send + Sync {
    fn error(&self) -> AddrError;
}

impl<I: Send, O: Send> Ends for Shared<I, O> {
    fn error(&self) -> AddrError {
        let exit = lock(&self.state).ended.clone();
        self.ended_error(exit)
    }
}

impl<O> Future for Answer<O> {
    type Output = Result<O, AddrError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx).poll(cx).map(|r| r.map_err(|_| self.shared.error()))
    }
}
