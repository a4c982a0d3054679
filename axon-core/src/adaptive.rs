//! Resource tracking for components that add and remove boxes at run time (the bookkeeping half
//! of Axon's `AdaptiveCommsComponent`; the box half is
//! [`Context::add_inbox`](crate::Context::add_inbox) and friends).
//!
//! A server component, for instance, adds an outbox per connection and needs to find the
//! connection from the box and the boxes from the connection. [`ResourceTracker`] keeps both
//! directions and refuses names of boxes the component does not have.
//!
//! ```
//! # use axon_core::{Component, ComponentResult, Context};
//! use axon_core::ResourceTracker;
//! # struct Server;
//! # impl Component for Server { type Inbox = (); type Outbox = ();
//! # async fn main(self, ctx: Context<(), ()>) -> ComponentResult {
//! let mut resources: ResourceTracker<u32, &str> = ResourceTracker::new(ctx.me());
//! let to_conn = ctx.add_outbox::<Vec<u8>>("conn", "bytes for one connection");
//! resources.track_resource_information(7, &[], &[to_conn.name()], "client 7")?;
//! assert_eq!(resources.retrieve_tracked_resource_information(&7).unwrap().2, "client 7");
//! # Ok(()) } }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;

use crate::boxes::BoxKind;
use crate::component_ref::ComponentRef;
use crate::error::BoxError;

/// Two-way bookkeeping between resources and a component's boxes; see the [module docs](self).
pub struct ResourceTracker<R, Info> {
    component: ComponentRef,
    by_inbox: HashMap<String, R>,
    info: HashMap<R, (Vec<String>, Vec<String>, Info)>,
}

impl<R, Info> fmt::Debug for ResourceTracker<R, Info> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceTracker")
            .field("component", &self.component.name())
            .field("resources", &self.info.len())
            .finish()
    }
}

impl<R: Clone + Eq + Hash, Info> ResourceTracker<R, Info> {
    /// Tracks resources for `component` (usually `ctx.me()`).
    pub fn new(component: &ComponentRef) -> Self {
        Self { component: component.clone(), by_inbox: HashMap::new(), info: HashMap::new() }
    }

    fn check(&self, kind: BoxKind, name: &str) -> Result<(), BoxError> {
        if self.component.has_box(kind, name) {
            Ok(())
        } else {
            Err(BoxError::NoSuchBox {
                component: self.component.name().to_owned(),
                kind: kind.word(),
                name: name.to_owned(),
            })
        }
    }

    /// Associates `resource` with `inbox` (Axon's `trackResource`); the inbox must exist.
    pub fn track_resource(&mut self, resource: R, inbox: &str) -> Result<(), BoxError> {
        self.check(BoxKind::Inbox, inbox)?;
        self.by_inbox.insert(inbox.to_owned(), resource);
        Ok(())
    }

    /// The resource associated with `inbox` (Axon's `retrieveTrackedResource`).
    pub fn retrieve_tracked_resource(&self, inbox: &str) -> Option<&R> {
        self.by_inbox.get(inbox)
    }

    /// Records the boxes and information for `resource` (Axon's `trackResourceInformation`);
    /// every box named must exist.
    pub fn track_resource_information(
        &mut self,
        resource: R,
        inboxes: &[&str],
        outboxes: &[&str],
        info: Info,
    ) -> Result<(), BoxError> {
        for i in inboxes {
            self.check(BoxKind::Inbox, i)?;
        }
        for o in outboxes {
            self.check(BoxKind::Outbox, o)?;
        }
        let own = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
        self.info.insert(resource, (own(inboxes), own(outboxes), info));
        Ok(())
    }

    /// `(inboxes, outboxes, info)` recorded for `resource` (Axon's
    /// `retrieveTrackedResourceInformation`).
    pub fn retrieve_tracked_resource_information(&self, resource: &R) -> Option<&(Vec<String>, Vec<String>, Info)> {
        self.info.get(resource)
    }

    /// Forgets `resource` in both directions (Axon's `ceaseTrackingResource`, which forgot only
    /// one), returning its information.
    pub fn cease_tracking_resource(&mut self, resource: &R) -> Option<(Vec<String>, Vec<String>, Info)> {
        self.by_inbox.retain(|_, r| r != resource);
        self.info.remove(resource)
    }
}
