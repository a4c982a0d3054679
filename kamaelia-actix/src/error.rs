//! Typed errors. Each names the thing that failed and the value that made it fail; callers may
//! match on the variants, not on the wording of the messages.

use std::fmt;
use std::time::Duration;

use axon_core::{Exit, NoSpaceInBox};

/// Starting or reaching an actor failed, or an actor did not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ActixError {
    /// The actix System's thread could not be started.
    #[error("cannot start a thread for an actix System: {0}")]
    SystemThread(#[source] std::io::Error),
    /// The arbiter asked to run an actor has stopped (its System was stopped).
    #[error("cannot start actor `{actor}`: its arbiter has stopped")]
    ArbiterGone {
        /// The actor's type.
        actor: &'static str,
    },
    /// An actor did not answer a message within the component's
    /// [`reply_timeout`](crate::ActorComponent::reply_timeout).
    #[error("actor `{actor}` did not answer within {timeout:?} (the component's reply_timeout)")]
    NoReply {
        /// The actor's type.
        actor: String,
        /// The timeout that passed.
        timeout: Duration,
    },
}

/// A message sent through a [`ComponentAddr`](crate::ComponentAddr) got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddrError {
    /// The component ended before it answered (or before it took the message).
    #[error("`{component}` ended{} before it answered", how(.exit))]
    Ended {
        /// The component's name.
        component: String,
        /// How it ended, if that was known yet.
        exit: Option<Exit>,
    },
    /// The address was closed ([`ComponentAddr::close`](crate::ComponentAddr::close)) before this
    /// message was sent.
    #[error("the input to `{component}` was closed: nothing more can be sent to it")]
    Closed {
        /// The component's name.
        component: String,
    },
}

/// ` (panicked: ...)`, or nothing when the end is not known.
fn how(exit: &Option<Exit>) -> String {
    exit.as_ref().map(|e| format!(" ({e})")).unwrap_or_default()
}

/// A message [`ComponentAddr::try_send`](crate::ComponentAddr::try_send) could not send now; the
/// message comes back inside, so nothing is lost.
pub enum TrySendError<I> {
    /// The component's `inbox` is full (the bound holds: try again later, or `send` to wait).
    Full(NoSpaceInBox<I>),
    /// The component has ended, or the address was closed.
    Closed {
        /// Why.
        reason: AddrError,
        /// The message that was not sent.
        message: I,
    },
}

impl<I> TrySendError<I> {
    /// The message that was not sent.
    pub fn into_inner(self) -> I {
        match self {
            TrySendError::Full(full) => full.into_inner(),
            TrySendError::Closed { message, .. } => message,
        }
    }
}

impl<I> fmt::Debug for TrySendError<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(full) => f.debug_tuple("Full").field(full).finish(),
            TrySendError::Closed { reason, .. } => f.debug_struct("Closed").field("reason", reason).finish(),
        }
    }
}

impl<I> fmt::Display for TrySendError<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(full) => fmt::Display::fmt(full, f),
            TrySendError::Closed { reason, .. } => fmt::Display::fmt(reason, f),
        }
    }
}

impl<I> std::error::Error for TrySendError<I> {}
