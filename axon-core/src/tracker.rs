//! The services registry: Axon's Coordinating Assistant Tracker (CAT), reached through an
//! explicit handle.
//!
//! A component offers a *service* by registering one of its inboxes under a name; others look the
//! name up and link an outbox to it, sending requests that carry their own reply address. The
//! tracker also keeps named *values* (Axon's `trackValue`), e.g. statistics other components read.
//!
//! Each [`Scheduler`](crate::Scheduler) has a tracker ([`Scheduler::tracker`](crate::Scheduler::tracker),
//! [`Context::tracker`](crate::Context::tracker)); make one with a parent to let lookups fall
//! through to a wider registry.
//!
//! ```
//! use axon_core::{Instance, Tracker};
//! # use axon_core::{Component, ComponentResult, Context};
//! # struct Selector;
//! # impl Component for Selector { type Inbox = String; type Outbox = ();
//! #   async fn main(self, _c: Context<String, ()>) -> ComponentResult { Ok(()) } }
//! let tracker = Tracker::new();
//! let selector = Instance::new(Selector);
//! tracker.register_service("selector", selector.component(), "inbox").unwrap();
//! let service = tracker.retrieve_service("selector").unwrap();
//! assert_eq!(service.inbox(), "inbox");
//! assert!(tracker.register_service("selector", selector.component(), "inbox").is_err());
//! ```
//!
//! # Porting from Axon
//!
//! Unlike Axon's CAT: it is thread-safe; a service disappears when the component providing it
//! ends; lookups fall back to the parent tracker; errors name the service or value.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use crate::boxes::BoxKind;
use crate::component_ref::ComponentRef;
use crate::id::ComponentId;
use crate::ipc::Payload;
use crate::linkage::Endpoint;
use crate::sync::lock;

/// Why a tracker operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackerError {
    /// A service of that name is already registered.
    #[error("a service named `{0}` is already registered")]
    ServiceAlreadyExists(String),
    /// The component has no inbox of that name.
    #[error("`{component}` has no inbox named `{inbox}` to offer as a service")]
    BadInbox {
        /// The component's name.
        component: String,
        /// The inbox asked for.
        inbox: String,
    },
    /// The component has ended, so it cannot provide a service.
    #[error("`{0}` has ended and cannot provide a service")]
    BadComponent(String),
    /// No service of that name (here or in a parent tracker).
    #[error("no service named `{0}`")]
    UnknownService(String),
    /// Deregistering a service that is not registered.
    #[error("cannot deregister `{0}`: no such service (deleted twice?)")]
    MultipleServiceDeletion(String),
    /// Tracking a value under a name already in use.
    #[error("a value named `{0}` is already tracked")]
    NamespaceClash(String),
    /// Reading or updating a value that was never tracked.
    #[error("no value named `{0}` is tracked")]
    AccessToUndeclaredTrackedVariable(String),
}

/// A registered service: a component and one of its inboxes.
#[derive(Debug, Clone)]
pub struct Service {
    component: ComponentRef,
    inbox: String,
}

impl Service {
    /// The component providing it.
    pub fn component(&self) -> &ComponentRef {
        &self.component
    }

    /// The inbox that receives requests.
    pub fn inbox(&self) -> &str {
        &self.inbox
    }

    /// Where to link an outbox to use the service: `ctx.link((ctx.me(), "outbox"), svc.endpoint())`.
    pub fn endpoint(&self) -> Endpoint<'_> {
        Endpoint { component: &self.component, name: &self.inbox }
    }
}

#[derive(Default)]
struct Maps {
    services: BTreeMap<String, Service>,
    values: BTreeMap<String, Payload>,
}

struct Inner {
    parent: Option<Tracker>,
    maps: Mutex<Maps>,
}

/// A services and values registry; see the [module docs](self). Cheap to clone (shared).
#[derive(Clone)]
pub struct Tracker(Arc<Inner>);

impl fmt::Debug for Tracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracker")
            .field("services", &self.services_registered())
            .field("values", &self.information_items_logged())
            .field("has_parent", &self.0.parent.is_some())
            .finish()
    }
}

impl Default for Tracker {
    fn default() -> Self {
        Self::new()
    }
}

impl Tracker {
    /// An empty tracker with no parent.
    pub fn new() -> Self {
        Tracker(Arc::new(Inner { parent: None, maps: Mutex::default() }))
    }

    /// An empty tracker whose lookups fall back to `parent`.
    pub fn with_parent(parent: &Tracker) -> Self {
        Tracker(Arc::new(Inner { parent: Some(parent.clone()), maps: Mutex::default() }))
    }

    /// The parent tracker, if any.
    pub fn parent(&self) -> Option<&Tracker> {
        self.0.parent.as_ref()
    }

    /// Offers `component`'s `inbox` as the service `name` (Axon's `registerService`).
    pub fn register_service(&self, name: &str, component: &ComponentRef, inbox: &str) -> Result<(), TrackerError> {
        // Marked first: its end, if it comes now, then withdraws what it registers.
        component.0.mark_provides_services();
        if component.has_ended() {
            return Err(TrackerError::BadComponent(component.name().to_owned()));
        }
        if !component.has_box(BoxKind::Inbox, inbox) {
            return Err(TrackerError::BadInbox { component: component.name().to_owned(), inbox: inbox.to_owned() });
        }
        let mut maps = lock(&self.0.maps);
        if maps.services.contains_key(name) {
            return Err(TrackerError::ServiceAlreadyExists(name.to_owned()));
        }
        maps.services.insert(name.to_owned(), Service { component: component.clone(), inbox: inbox.to_owned() });
        Ok(())
    }

    /// Looks a service up, here then in the parent (Axon's `retrieveService`).
    pub fn retrieve_service(&self, name: &str) -> Result<Service, TrackerError> {
        let found = {
            let mut maps = lock(&self.0.maps);
            match maps.services.get(name) {
                Some(s) if s.component.has_ended() => {
                    maps.services.remove(name);
                    None
                }
                s => s.cloned(),
            }
        };
        match (found, &self.0.parent) {
            (Some(s), _) => Ok(s),
            (None, Some(p)) => p.retrieve_service(name),
            (None, None) => Err(TrackerError::UnknownService(name.to_owned())),
        }
    }

    /// Withdraws a service (Axon's `deRegisterService`).
    pub fn deregister_service(&self, name: &str) -> Result<(), TrackerError> {
        match lock(&self.0.maps).services.remove(name) {
            Some(_) => Ok(()),
            None => Err(TrackerError::MultipleServiceDeletion(name.to_owned())),
        }
    }

    /// The names of the services registered here (Axon's `servicesRegistered`).
    pub fn services_registered(&self) -> Vec<String> {
        lock(&self.0.maps).services.keys().cloned().collect()
    }

    /// Starts tracking a value (Axon's `trackValue`).
    pub fn track_value<V: std::any::Any + Send + Sync>(&self, name: &str, value: V) -> Result<(), TrackerError> {
        let mut maps = lock(&self.0.maps);
        if maps.values.contains_key(name) {
            return Err(TrackerError::NamespaceClash(name.to_owned()));
        }
        maps.values.insert(name.to_owned(), Arc::new(value));
        Ok(())
    }

    /// Replaces a tracked value (Axon's `updateValue`).
    pub fn update_value<V: std::any::Any + Send + Sync>(&self, name: &str, value: V) -> Result<(), TrackerError> {
        match lock(&self.0.maps).values.get_mut(name) {
            Some(v) => {
                *v = Arc::new(value);
                Ok(())
            }
            None => Err(TrackerError::AccessToUndeclaredTrackedVariable(name.to_owned())),
        }
    }

    /// Reads a tracked value, here then in the parent (Axon's `retrieveValue`).
    pub fn retrieve_value(&self, name: &str) -> Result<Payload, TrackerError> {
        let found = lock(&self.0.maps).values.get(name).cloned();
        match (found, &self.0.parent) {
            (Some(v), _) => Ok(v),
            (None, Some(p)) => p.retrieve_value(name),
            (None, None) => Err(TrackerError::AccessToUndeclaredTrackedVariable(name.to_owned())),
        }
    }

    /// Reads a tracked value as a `V` (`None` if it is another type).
    pub fn retrieve_value_as<V: std::any::Any + Send + Sync + Clone>(
        &self,
        name: &str,
    ) -> Result<Option<V>, TrackerError> {
        Ok(self.retrieve_value(name)?.downcast_ref::<V>().cloned())
    }

    /// The names of the tracked values (Axon's `informationItemsLogged`).
    pub fn information_items_logged(&self) -> Vec<String> {
        lock(&self.0.maps).values.keys().cloned().collect()
    }

    /// Forgets every service and value (Axon's `zap`).
    pub fn zap(&self) {
        *lock(&self.0.maps) = Maps::default();
    }

    pub(crate) fn forget_component(&self, id: ComponentId) {
        lock(&self.0.maps).services.retain(|_, s| s.component.id() != id);
    }
}
