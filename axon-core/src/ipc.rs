//! Axon's Ipc messages: what travels on `control` and `signal`.
//!
//! In Axon these are small classes deriving from `ipc`; components send them out of `signal`, and
//! chassis link each `signal` to the next `control`, so shutdown travels *in band* down a chain
//! (see the [crate docs](crate#shutdown-travels-in-band)). Here each message is its own type, and
//! [`Ipc`] is the enum that the standard `control` and `signal` boxes carry.
//!
//! | Axon (`Axon.Ipc`)            | Rust                                 | meaning                                   |
//! |------------------------------|--------------------------------------|-------------------------------------------|
//! | `producerFinished(caller, message)` | [`ProducerFinished`]          | clean end of data ("closed stdout")      |
//! | `shutdownMicroprocess(*mps)` | [`ShutdownMicroprocess`]             | "shut down now"                           |
//! | `shutdown()`                 | [`Shutdown`]                         | legacy generic shutdown request           |
//! | `notify(caller, payload)`    | [`Notify`]                           | generic event notification                |
//! | `status(status)`             | [`Status`]                           | generic status                            |
//! | `wouldblock(caller)`         | [`WouldBlock`]                       | "about to block" hint                     |
//! | `errorInformation(caller, exception, message)` | [`ErrorInformation`] | non-fatal error report                  |
//! | `newComponent(*components)`  | [`NewComponent`](crate::NewComponent) | "please activate these" (a request to a parent; it carries instances, so it stands with them in [`instance`](crate::instance)) |
//! | `WaitComplete`, `reactivate` | none                                 | generator plumbing; `.await` replaces it  |
//!
//! # Example
//!
//! ```
//! use axon_core::ipc::{Ipc, ProducerFinished, ShutdownMicroprocess};
//!
//! let done: Ipc = ProducerFinished::new().into();
//! assert!(done.is_producer_finished() && done.is_shutdown_request());
//! let stop: Ipc = ShutdownMicroprocess::new().into();
//! assert!(stop.is_shutdown_microprocess() && !stop.is_producer_finished());
//! ```

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::id::ComponentId;

/// "I have finished producing": the clean end of a stream (Axon's `producerFinished`).
///
/// It means "nothing comes after what I sent": every message its sender sent before it is
/// already queued in the receiver's inboxes when it arrives. A component that receives it on
/// `control` takes what is left in its inboxes first, then passes a `ProducerFinished` of its own
/// (or this one) out of `signal` and ends. [`Context::next_event`](crate::Context::next_event)
/// and [`Context::select`](crate::Context::select) keep that order for you: they hand over a
/// `ProducerFinished` only once the inboxes they watch are empty. A component that ends with
/// messages still queued after taking one logs a warning naming itself, the box and the count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProducerFinished {
    /// The component that finished, if it said.
    pub caller: Option<ComponentId>,
    /// An optional note, e.g. why a socket closed.
    pub message: Option<String>,
}

impl ProducerFinished {
    /// A `ProducerFinished` with no caller and no message (Axon's `producerFinished()`).
    pub fn new() -> Self {
        Self::default()
    }

    /// A `ProducerFinished` naming the component that finished (Axon's `producerFinished(self)`).
    pub fn from(caller: ComponentId) -> Self {
        Self { caller: Some(caller), message: None }
    }

    /// Adds a message (Axon's `producerFinished(caller, message)`).
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

/// "Shut down now" (Axon's `shutdownMicroprocess`). A component receiving it on `control`
/// should stop promptly, pass it on out of `signal`, and end.
///
/// It is urgent ([`Ipc::is_urgent`]): the helpers that wait on several boxes hand it over ahead of
/// data still queued, and what is queued when the component ends is dropped, on purpose and
/// without a warning. To end without losing data, send [`ProducerFinished`] instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShutdownMicroprocess {
    microprocesses: Vec<ComponentId>,
}

impl ShutdownMicroprocess {
    /// A shutdown request for whoever receives it.
    pub fn new() -> Self {
        Self::default()
    }

    /// A shutdown request that names the components it concerns.
    pub fn of(microprocesses: impl IntoIterator<Item = ComponentId>) -> Self {
        Self { microprocesses: microprocesses.into_iter().collect() }
    }

    /// The components named when it was made (Axon's `microprocesses()`).
    pub fn microprocesses(&self) -> &[ComponentId] {
        &self.microprocesses
    }
}

/// The legacy generic shutdown request (Axon's `shutdown`). Prefer [`ShutdownMicroprocess`].
///
/// As in Axon it is *not* a superclass of the other two: [`Ipc::is_shutdown_request`] is true for
/// all three, but [`Ipc::is_shutdown_microprocess`] only for `ShutdownMicroprocess`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shutdown;

/// A shareable, type-erased payload for [`Notify`].
pub type Payload = Arc<dyn Any + Send + Sync>;

/// A generic event notification (Axon's `notify(caller, payload)`).
#[derive(Clone)]
pub struct Notify {
    /// Who is notifying.
    pub caller: Option<ComponentId>,
    /// What it is about (Axon's `.object`); downcast with [`Notify::object`].
    pub payload: Payload,
}

impl Notify {
    /// A notification carrying `payload`.
    pub fn new(caller: Option<ComponentId>, payload: impl Any + Send + Sync) -> Self {
        Self { caller, payload: Arc::new(payload) }
    }

    /// The payload, if it is a `T`.
    pub fn object<T: Any>(&self) -> Option<&T> {
        self.payload.downcast_ref()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notify").field("caller", &self.caller).finish_non_exhaustive()
    }
}

/// A generic status report (Axon's `status(status)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status(String);

impl Status {
    /// A status message.
    pub fn new(status: impl Into<String>) -> Self {
        Self(status.into())
    }

    /// The status text (Axon's `status()`).
    pub fn status(&self) -> &str {
        &self.0
    }
}

/// "About to block" hint (Axon's `wouldblock(caller)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WouldBlock {
    /// Who is about to block.
    pub caller: Option<ComponentId>,
}

/// A non-fatal error report (Axon's `errorInformation(caller, exception, message)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorInformation {
    /// Who reports the error.
    pub caller: Option<ComponentId>,
    /// The error, rendered as text (Rust errors are not generally `Clone`).
    pub exception: Option<String>,
    /// A note about it.
    pub message: Option<String>,
}

impl ErrorInformation {
    /// An error report from `caller`, with neither exception nor message.
    pub fn new(caller: Option<ComponentId>) -> Self {
        Self { caller, exception: None, message: None }
    }

    /// Adds the error.
    pub fn with_exception(mut self, exception: impl fmt::Display) -> Self {
        self.exception = Some(exception.to_string());
        self
    }

    /// Adds a note.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

/// What the standard `control` inbox and `signal` outbox carry.
///
/// Use the `is_*` predicates to follow Kamaelia's conventions, and `From` to build one:
/// `ctx.signal.send(ProducerFinished::new().into())`.
#[derive(Debug, Clone)]
pub enum Ipc {
    /// See [`ProducerFinished`].
    ProducerFinished(ProducerFinished),
    /// See [`ShutdownMicroprocess`].
    ShutdownMicroprocess(ShutdownMicroprocess),
    /// See [`Shutdown`].
    Shutdown(Shutdown),
    /// See [`Notify`].
    Notify(Notify),
    /// See [`Status`].
    Status(Status),
    /// See [`WouldBlock`].
    WouldBlock(WouldBlock),
    /// See [`ErrorInformation`].
    ErrorInformation(ErrorInformation),
    /// Anything else a component chooses to send on `control`/`signal` (Kamaelia's tests send
    /// plain strings such as `"flurble"`).
    Other(String),
}

impl Ipc {
    /// True for [`ProducerFinished`].
    pub fn is_producer_finished(&self) -> bool {
        matches!(self, Ipc::ProducerFinished(_))
    }

    /// True for [`ShutdownMicroprocess`].
    pub fn is_shutdown_microprocess(&self) -> bool {
        matches!(self, Ipc::ShutdownMicroprocess(_))
    }

    /// True for a message that asks a component to stop *now*: [`ShutdownMicroprocess`] and the
    /// legacy [`Shutdown`]. Helpers that wait on several boxes ([`Context::next_event`],
    /// [`Context::select`], [`Context::wait_any`]) hand these over ahead of data still queued
    /// (which is then dropped as the component ends, on purpose); every other control message,
    /// [`ProducerFinished`] above all, waits until the data queued before it has been taken.
    ///
    /// [`Context::next_event`]: crate::Context::next_event
    /// [`Context::select`]: crate::Context::select
    /// [`Context::wait_any`]: crate::Context::wait_any
    pub fn is_urgent(&self) -> bool {
        matches!(self, Ipc::ShutdownMicroprocess(_) | Ipc::Shutdown(_))
    }

    /// True for any message that asks a component to end: `ProducerFinished`,
    /// `ShutdownMicroprocess` or `Shutdown`. This is the test almost every component makes on
    /// `control` before passing the message on out of `signal`.
    pub fn is_shutdown_request(&self) -> bool {
        matches!(self, Ipc::ProducerFinished(_) | Ipc::ShutdownMicroprocess(_) | Ipc::Shutdown(_))
    }
}

macro_rules! ipc_from {
    ($($t:ident),*) => {$(
        impl From<$t> for Ipc {
            fn from(m: $t) -> Self { Ipc::$t(m) }
        }
    )*};
}
ipc_from!(ProducerFinished, ShutdownMicroprocess, Shutdown, Notify, Status, WouldBlock, ErrorInformation);

impl From<&str> for Ipc {
    fn from(s: &str) -> Self {
        Ipc::Other(s.to_owned())
    }
}

impl From<String> for Ipc {
    fn from(s: String) -> Self {
        Ipc::Other(s)
    }
}
