//! How publishers and subscribers find a backplane by name: its two services in the scheduler's
//! tracker (`Backplane_I_<name>`, `Backplane_O_<name>`), and the [`Hub`] it shares with its
//! publishers, reached through the tracker value `Backplane_H_<name>` (see the
//! [module docs](crate::backplane), "How it works").

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use axon_core::{ComponentId, ComponentRef, Tracker, TrackerError, Unpauser};

use super::error::BackplaneError;

/// The name of the service under which backplane `name` offers its `inbox` (Kamaelia's
/// `"Backplane_I_" + name`).
pub fn inbox_service(name: &str) -> String {
    format!("Backplane_I_{name}")
}

/// The name of the service under which backplane `name` offers its `configuration` inbox
/// (Kamaelia's `"Backplane_O_" + name`).
pub fn configuration_service(name: &str) -> String {
    format!("Backplane_O_{name}")
}

/// The name of the tracker value through which a publisher of backplane `name` reaches the
/// backplane's hub (what it shares with its publishers), next to its two services.
pub(super) fn hub_value(name: &str) -> String {
    format!("Backplane_H_{name}")
}

/// Locks `m`, whether or not a thread panicked while holding it (what it guards stays
/// consistent: counts and a pointer, each set in one step).
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What a backplane shares with its publishers: how many are publishing and how many have
/// finished, and whether it still takes new ones, under one lock, so that a publisher is either
/// counted before the backplane decides to end or refused after.
pub(super) struct Hub {
    /// The backplane's id: a publisher checks that the hub it finds is that of the backplane
    /// whose service it found.
    pub(super) id: ComponentId,
    /// Wakes the backplane when a publisher finishes.
    wake: Unpauser,
    publishers: Mutex<Publishers>,
}

#[derive(Debug, Default)]
struct Publishers {
    /// Counted in, not yet finished.
    active: usize,
    /// Finished (ended, however).
    finished: usize,
    /// Set when the backplane begins to end: no new publisher from then on.
    closed: bool,
}

/// Where the publishers of the backplanes called `name` find the hub of the one registered under
/// that name: the tracker value [`hub_value`]`(name)`, tracked in the tracker the backplane
/// registers its services with. Each backplane registered there under that name puts its hub in
/// it, replacing the last one's, while it holds the slot's lock and registers its services, so a
/// publisher that found the services and then takes the lock finds the hub of the backplane they
/// name (see [`register`]).
///
/// It holds the hub weakly: the backplane (its body, or its unactivated instance) and its
/// publishers own the hub, and a backplane that has ended leaves nothing alive here. Tracker
/// values cannot be removed, so the slot itself stays for as long as the tracker, holding a dead
/// `Weak` once its last backplane has ended: one small slot per backplane name, reused by the next
/// backplane of that name.
#[derive(Clone, Default)]
struct HubSlot(Arc<Mutex<Weak<Hub>>>);

impl HubSlot {
    /// The slot for `name` tracked in `tracker` itself (not a parent tracker), tracked now if it
    /// was not.
    fn tracked_in(tracker: &Tracker, name: &str) -> Result<HubSlot, TrackerError> {
        let value = hub_value(name);
        let slot = HubSlot::default();
        match tracker.track_value(&value, slot.clone()) {
            Ok(()) => Ok(slot),
            // Tracked here already (by an earlier backplane of that name): it is the one
            // `retrieve_value` reads first. Another type of value under that name is refused.
            Err(TrackerError::NamespaceClash(_)) => {
                tracker.retrieve_value_as::<HubSlot>(&value)?.ok_or(TrackerError::NamespaceClash(value))
            }
            Err(e) => Err(e),
        }
    }
}

impl Hub {
    /// The hub of `backplane`; [`register`] makes it findable.
    pub(super) fn new(backplane: &ComponentRef) -> Arc<Hub> {
        Arc::new(Hub { id: backplane.id(), wake: backplane.unpauser(), publishers: Mutex::default() })
    }

    /// The hub of `backplane`, registered as `name` with `tracker` or a tracker it falls back to,
    /// if it still has one.
    pub(super) fn of(tracker: &Tracker, name: &str, backplane: &ComponentRef) -> Option<Arc<Hub>> {
        let value = hub_value(name);
        // Each level of trackers, as the service may have been found in any of them.
        std::iter::successors(Some(tracker), |t| t.parent()).find_map(|t| {
            let slot = t.retrieve_value_as::<HubSlot>(&value).ok().flatten()?;
            let hub = lock(&slot.0).upgrade()?;
            (hub.id == backplane.id()).then_some(hub)
        })
    }

    /// Counts in a publisher, until the returned value is dropped; `None` if the backplane has
    /// begun to end.
    pub(super) fn attach(self: &Arc<Self>) -> Option<Publishing> {
        let mut p = lock(&self.publishers);
        if p.closed {
            return None;
        }
        p.active += 1;
        Some(Publishing(self.clone()))
    }

    /// Closes the door if `after` publishers have finished and none is publishing; true if so.
    pub(super) fn close_if_done(&self, after: usize) -> bool {
        let mut p = lock(&self.publishers);
        if p.finished >= after && p.active == 0 {
            p.closed = true;
        }
        p.closed
    }

    /// Closes the door: no new publisher.
    pub(super) fn close(&self) {
        lock(&self.publishers).closed = true;
    }
}

/// A publisher counted in by a backplane's [`Hub`]; dropped (with the publisher's body, however
/// it ends) it counts as finished, and wakes the backplane to see whether that ends it.
pub(super) struct Publishing(Arc<Hub>);

impl Drop for Publishing {
    fn drop(&mut self) {
        {
            let mut p = lock(&self.0.publishers);
            p.active -= 1;
            p.finished += 1;
        }
        self.0.wake.unpause();
    }
}

/// Registers both services of backplane `name`, provided by `me`, and puts its `hub` in the
/// name's [`HubSlot`]; all or nothing.
///
/// The slot's lock is held throughout, and a publisher takes it after finding the services: so a
/// publisher that found these services finds this hub, and a backplane refused for a taken name
/// never touches the hub of the one that has it.
pub(super) fn register(tracker: &Tracker, me: &ComponentRef, name: &str, hub: &Arc<Hub>) -> Result<(), BackplaneError> {
    let refused = |service: String, e: TrackerError| match e {
        TrackerError::ServiceAlreadyExists(_) => BackplaneError::NameTaken { name: name.to_owned(), service },
        source => BackplaneError::Tracker { name: name.to_owned(), source },
    };
    let slot = HubSlot::tracked_in(tracker, name).map_err(|e| refused(hub_value(name), e))?;
    let mut current = lock(&slot.0);
    let (data, config) = (inbox_service(name), configuration_service(name));
    tracker.register_service(&data, me, "inbox").map_err(|e| refused(data.clone(), e))?;
    if let Err(e) = tracker.register_service(&config, me, "configuration") {
        let _ = tracker.deregister_service(&data);
        return Err(refused(config, e));
    }
    *current = Arc::downgrade(hub);
    Ok(())
}

/// True if `service` is registered to `me` (here, not in a parent tracker).
pub(super) fn registered_to(tracker: &Tracker, service: &str, me: &ComponentRef) -> bool {
    tracker.retrieve_service(service).is_ok_and(|s| s.component().id() == me.id())
}
