//! [`Subscription`]: what a [`SubscribeTo`](super::SubscribeTo) asks of its backplane, on the
//! backplane's `configuration` inbox.

use std::fmt;
use std::marker::PhantomData;

use axon_core::{ComponentId, ComponentRef};

/// A request on a backplane's `configuration` inbox (Kamaelia's PlugSplitter `addsink` /
/// `removesink`). Made by [`SubscribeTo`](super::SubscribeTo); typed by the backplane's message type, so a subscriber
/// of another type cannot even link to it.
pub struct Subscription<T> {
    pub(super) op: Op,
    _type: PhantomData<fn(T)>,
}

/// What a subscriber asks for.
pub(super) enum Op {
    Add(ComponentRef),
    Remove(ComponentId),
}

impl<T> fmt::Debug for Subscription<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.op {
            Op::Add(c) => f.debug_tuple("Subscription::Add").field(&c.name()).finish(),
            Op::Remove(id) => f.debug_tuple("Subscription::Remove").field(id).finish(),
        }
    }
}

impl<T> Subscription<T> {
    /// Asks to add `subscriber`.
    pub(super) fn add(subscriber: ComponentRef) -> Self {
        Subscription { op: Op::Add(subscriber), _type: PhantomData }
    }

    /// Asks to forget `subscriber`.
    pub(super) fn remove(subscriber: ComponentId) -> Self {
        Subscription { op: Op::Remove(subscriber), _type: PhantomData }
    }
}
