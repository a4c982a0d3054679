//! [`Identity`]: who a component is, as its boxes know it (id, name, doorbell), and
//! [`Unpauser`], the doorbell's button that others hold.

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use crate::id::ComponentId;
use crate::ipc::Ipc;
use crate::notifier::Notifier;

/// A component's id, name and pause doorbell, shared by its boxes (a delivery into any of its
/// inboxes rings the doorbell).
pub(crate) struct Identity {
    pub(crate) id: ComponentId,
    /// (A `Box<str>`, not a `String`: it never changes, and every component has one.)
    pub(crate) name: Box<str>,
    pub(crate) notifier: Notifier,
    /// Which shutdown messages the component has taken from its inboxes ([`HEARD_FINISHED`],
    /// [`HEARD_STOP`]): what its end-of-life report makes of messages still queued then.
    heard: AtomicU8,
}

/// [`Identity::heard`]: a `ProducerFinished` was taken (nothing was to come after the data
/// already sent, so data still queued at the end is data lost).
const HEARD_FINISHED: u8 = 1;
/// [`Identity::heard`]: a `ShutdownMicroprocess` or `Shutdown` was taken (stop now: what is
/// queued is dropped on purpose).
const HEARD_STOP: u8 = 2;

impl Identity {
    pub(crate) fn new(id: ComponentId, name: String) -> Arc<Self> {
        Arc::new(Identity { id, name: name.into_boxed_str(), notifier: Notifier::default(), heard: AtomicU8::new(0) })
    }

    /// Notes that the component took `msg` from one of its inboxes.
    pub(crate) fn heard(&self, msg: &Ipc) {
        let bit = match msg {
            Ipc::ProducerFinished(_) => HEARD_FINISHED,
            m if m.is_urgent() => HEARD_STOP,
            _ => return,
        };
        self.heard.fetch_or(bit, Ordering::Relaxed);
    }

    /// True if the component took a `ProducerFinished` and no stop request.
    pub(crate) fn heard_only_finished(&self) -> bool {
        self.heard.load(Ordering::Relaxed) == HEARD_FINISHED
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity").field("id", &self.id).field("name", &self.name).finish()
    }
}

/// Wakes a component from [`Context::pause`](crate::Context::pause); held by others (Axon:
/// `component.unpause()`).
#[derive(Clone)]
pub struct Unpauser(Arc<Identity>);

impl fmt::Debug for Unpauser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Unpauser")
    }
}

impl Unpauser {
    /// The button for `ident`'s doorbell.
    pub(crate) fn new(ident: Arc<Identity>) -> Self {
        Unpauser(ident)
    }

    /// Wakes the component (or, if it is busy, makes its next `pause` return at once).
    pub fn unpause(&self) {
        self.0.notifier.notify();
    }
}
