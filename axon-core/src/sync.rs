//! The one locking helper every module uses: a `std::sync::Mutex` taken over even if poisoned.
//!
//! Every critical section in this crate is short, never spans an `.await`, and never calls user
//! code while it holds the lock (messages are dropped and wakers woken after unlocking), so a
//! panic elsewhere cannot leave the guarded data half-changed: a poisoned lock is simply taken.

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, taking it over if a panicking thread poisoned it (see the module docs).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
