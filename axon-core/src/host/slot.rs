//! The hand-over between a [`ChildHost`](super::ChildHost) and its kept host: a slot both
//! share, through which the parent hands a behaviour over, the host takes it, and the host says
//! how it ended. Either side can be on another thread; each wakes the other.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context as TaskContext, Poll, Waker};

use super::body::Hosted;
use super::job::Behaviour;
use crate::lifecycle::Exit;

/// A behaviour handed over, with how many stale messages to drop from the host's `inbox` and
/// `control` before it runs.
pub(crate) struct Handover<I, O> {
    pub(crate) behaviour: Behaviour<I, O>,
    pub(crate) stale: (usize, usize),
}

/// What the parent and its kept host share.
pub(crate) struct HostSlot<I, O> {
    state: Mutex<SlotState<I, O>>,
}

impl<I, O> Default for HostSlot<I, O> {
    fn default() -> Self {
        HostSlot {
            state: Mutex::new(SlotState {
                handover: None,
                busy: false,
                cancel: false,
                retire: false,
                ended: None,
                host: None,
                owner: None,
            }),
        }
    }
}

struct SlotState<I, O> {
    /// Handed over, not yet taken by the host.
    handover: Option<Handover<I, O>>,
    /// A behaviour was handed over and the host has not reported its end.
    busy: bool,
    /// The parent no longer wants the current behaviour to run: drop it.
    cancel: bool,
    /// The host is to end (or has ended): take no more behaviours.
    retire: bool,
    /// How the last behaviour ended, for the parent.
    ended: Option<Exit>,
    /// Wakes the host.
    host: Option<Waker>,
    /// Wakes the parent.
    owner: Option<Waker>,
}

fn store(slot: &mut Option<Waker>, waker: &Waker) {
    if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
        *slot = Some(waker.clone());
    }
}

fn wake(waker: Option<Waker>) {
    if let Some(w) = waker {
        w.wake();
    }
}

impl<I, O> HostSlot<I, O> {
    fn lock(&self) -> MutexGuard<'_, SlotState<I, O>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ----- the parent's side -----

    /// Hands `behaviour` over; gives it back if the host is busy or retiring (the caller then
    /// retires this host). `stale` counts the messages waiting in the host's `inbox` and
    /// `control` that were meant for the previous behaviour.
    pub(crate) fn hand_over(&self, behaviour: Behaviour<I, O>, stale: (usize, usize)) -> Result<(), Behaviour<I, O>> {
        let host = {
            let mut s = self.lock();
            if s.busy || s.retire {
                return Err(behaviour);
            }
            s.handover = Some(Handover { behaviour, stale });
            s.busy = true;
            s.cancel = false;
            s.ended = None;
            s.host.take()
        };
        wake(host);
        Ok(())
    }

    /// Ready with how the current behaviour ended.
    pub(crate) fn poll_ended(&self, cx: &mut TaskContext<'_>) -> Poll<Exit> {
        let mut s = self.lock();
        match s.ended.take() {
            Some(exit) => Poll::Ready(exit),
            None => {
                store(&mut s.owner, cx.waker());
                Poll::Pending
            }
        }
    }

    /// Drops the current behaviour, if it is still running.
    pub(crate) fn cancel(&self) {
        let host = {
            let mut s = self.lock();
            if !s.busy {
                return;
            }
            s.cancel = true;
            s.host.take()
        };
        wake(host);
    }

    /// Ends the host (dropping a behaviour still running).
    pub(crate) fn retire(&self) {
        let host = {
            let mut s = self.lock();
            s.retire = true;
            s.host.take()
        };
        wake(host);
    }

    // ----- the host's side -----

    /// The next behaviour, or `None` when the host is to end.
    pub(crate) async fn next(&self) -> Option<Handover<I, O>> {
        poll_fn(|cx| {
            let mut s = self.lock();
            if s.retire {
                return Poll::Ready(None);
            }
            if let Some(handover) = s.handover.take() {
                return Poll::Ready(Some(handover));
            }
            store(&mut s.host, cx.waker());
            Poll::Pending
        })
        .await
    }

    /// Runs `run` until it ends, or until it is cancelled or the host retired (`None`; `run` is
    /// then dropped).
    pub(crate) async fn run_until_cancelled(
        &self,
        run: Pin<Box<dyn Future<Output = Hosted> + Send + '_>>,
    ) -> Option<Hosted> {
        let mut run = Some(run);
        poll_fn(|cx| {
            {
                let mut s = self.lock();
                if s.cancel || s.retire {
                    drop(s);
                    // Dropped outside the lock: dropping a body may do anything.
                    run = None;
                    return Poll::Ready(None);
                }
                store(&mut s.host, cx.waker());
            }
            match run.as_mut().map(|r| r.as_mut().poll(cx)) {
                Some(Poll::Ready(hosted)) => Poll::Ready(Some(hosted)),
                Some(Poll::Pending) => Poll::Pending,
                None => Poll::Ready(None),
            }
        })
        .await
    }

    /// The behaviour has ended (`exit`); `last` if the host ends after it.
    pub(crate) fn report(&self, exit: Exit, last: bool) {
        let owner = {
            let mut s = self.lock();
            s.busy = false;
            s.cancel = false;
            s.retire |= last;
            s.ended = Some(exit);
            s.owner.take()
        };
        wake(owner);
    }
}
