//! [`BackplaneError`]: why a backplane, publisher or subscriber could not do its job.

use axon_core::{LinkError, TrackerError};

/// Why a backplane, publisher or subscriber could not do its job. Callers may match on the
/// variants; the wording of the messages may change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackplaneError {
    /// A backplane of that name is already registered (with this scheduler's tracker).
    #[error("a backplane named `{name}` already exists (the service `{service}` is registered)")]
    NameTaken {
        /// The backplane's name.
        name: String,
        /// The service found registered.
        service: String,
    },
    /// No backplane of that name is registered.
    #[error("no backplane named `{name}` (no service `{service}`): activate the backplane first, or register it with Backplane::register")]
    NotFound {
        /// The backplane's name.
        name: String,
        /// The service looked up.
        service: String,
    },
    /// The backplane has begun to end (it was told to, or its publishers have finished), so it
    /// takes no new publisher: what the publisher would publish could not be delivered.
    #[error("backplane `{name}` has ended or is ending, and takes no new publisher")]
    Ended {
        /// The backplane's name.
        name: String,
    },
    /// Linking to the backplane was refused, typically because it carries another message type.
    #[error("cannot attach to backplane `{name}`: {source}")]
    Link {
        /// The backplane's name.
        name: String,
        /// Why the linkage was refused (it names both boxes and both types).
        source: LinkError,
    },
    /// The tracker refused to register the backplane for another reason.
    #[error("cannot register backplane `{name}`: {source}")]
    Tracker {
        /// The backplane's name.
        name: String,
        /// The tracker's error.
        source: TrackerError,
    },
}
