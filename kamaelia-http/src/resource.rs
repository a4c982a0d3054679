//! The resource protocol: how a component request handler answers ([`Resource`]), and what a
//! handler is ([`Handler`]: a component, a function or a tower service).
//!
//! A handler is a component made for one request. Its boxes:
//!
//! | box       | carries            | what                                                      |
//! |-----------|--------------------|-----------------------------------------------------------|
//! | `inbox`   | [`Bytes`]          | The request body, piece by piece                          |
//! | `control` | `Ipc`              | `ProducerFinished` once the whole body has arrived (at once if there is none); `ShutdownMicroprocess` if the client has gone |
//! | `outbox`  | [`Resource`]       | First one [`Resource::Head`], then any number of [`Resource::Data`] and [`Resource::File`] |
//! | `signal`  | `Ipc`              | `ProducerFinished` when the response is complete          |
//!
//! Kamaelia's handlers sent dictionaries: the first with `statuscode`, `type`, optional `length`
//! and `headers`, then `{"data": ...}`. Here the head is a typed [`ResponseHead`], and the server
//! chooses the framing: `Content-Length` when the head gives a [`length`](ResponseHead::length),
//! otherwise chunked (HTTP/1.1) or close-delimited (HTTP/1.0). A handler that ends, fails or
//! signals before sending a head gets its client a 500.

use std::fmt;

use axon_core::host::Job;
use axon_core::{AnyInstance, Component, IntoInstance};
pub use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::{HeaderMap, StatusCode};
use kamaelia_chassis::socket::FileRegion;

use crate::function::Call;

/// The status and headers of a response: the first message a handler sends.
///
/// ```
/// use kamaelia_http::ResponseHead;
/// let head = ResponseHead::new(http::StatusCode::OK).content_type("text/html").length(5);
/// assert_eq!(head.length, Some(5));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code (Kamaelia's `statuscode`).
    pub status: StatusCode,
    /// The body's length in bytes, if known (Kamaelia's `length`): the response is then framed by
    /// `Content-Length`, and the server checks that exactly this many bytes are sent.
    pub length: Option<u64>,
    /// Extra header fields (Kamaelia's `headers`), `Content-Type` among them (Kamaelia's `type`).
    /// The server sets `Date`, `Server`, `Content-Length`, `Transfer-Encoding` and `Connection`
    /// itself and drops those fields from here.
    pub headers: HeaderMap,
}

impl ResponseHead {
    /// A head with `status`, no headers and no length.
    pub fn new(status: StatusCode) -> Self {
        ResponseHead { status, length: None, headers: HeaderMap::new() }
    }

    /// Sets `Content-Type` (Kamaelia's `type`).
    ///
    /// # Panics
    /// If `content_type` is not a valid header value (it contains a control character).
    pub fn content_type(mut self, content_type: &str) -> Self {
        let value = common_type(content_type).unwrap_or_else(|| {
            HeaderValue::from_str(content_type)
                .unwrap_or_else(|_| panic!("invalid Content-Type {content_type:?}: control characters are not allowed"))
        });
        self.headers.insert(CONTENT_TYPE, value);
        self
    }

    /// Sets the body's length, so the response carries `Content-Length`.
    pub fn length(mut self, length: u64) -> Self {
        self.length = Some(length);
        self
    }

    /// Adds a header field (repeats are kept, as for `Set-Cookie`).
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }
}

/// The value for a common `Content-Type`, shared rather than copied (a copy is an allocation
/// for every response).
fn common_type(content_type: &str) -> Option<HeaderValue> {
    const COMMON: [&str; 12] = [
        "text/html",
        "text/html; charset=utf-8",
        "text/plain",
        "text/plain; charset=utf-8",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/octet-stream",
        "image/png",
        "image/jpeg",
        "image/svg+xml",
    ];
    COMMON.iter().find(|common| **common == content_type).map(|common| HeaderValue::from_static(common))
}

/// A message from a handler to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// The status and headers; must come first, once.
    Head(ResponseHead),
    /// A piece of the body (Kamaelia's `{"data": ...}`). Empty pieces are skipped.
    Data(Bytes),
    /// A piece of the body that is a region of a file: the connection's socket adapter has the
    /// kernel copy it from the file to the socket (`sendfile`), so it is never read into memory.
    /// It counts towards the head's `length` as its bytes would, and is framed the same way
    /// (`Content-Length`, or one chunk of the chunked encoding). [`Minimal`](crate::Minimal)
    /// sends files larger than a piece this way. If the file turns out shorter than the region when
    /// it is sent, the connection is dropped (see [`kamaelia_chassis::payload`]).
    File(FileRegion),
}

impl Resource {
    /// The bytes of a piece of the body, reading a [`File`](Resource::File) region into memory
    /// (blocking): for a consumer of a handler's output that wants bytes, such as a test. `None`
    /// for a head.
    ///
    /// # Errors
    /// A region's file cannot be read, or ends before the region does.
    pub fn body_bytes(&self) -> Option<std::io::Result<Bytes>> {
        match self {
            Resource::Head(_) => None,
            Resource::Data(data) => Some(Ok(data.clone())),
            Resource::File(region) => Some(region.read_to_bytes()),
        }
    }
}

impl From<FileRegion> for Resource {
    fn from(region: FileRegion) -> Self {
        Resource::File(region)
    }
}

impl From<ResponseHead> for Resource {
    fn from(head: ResponseHead) -> Self {
        Resource::Head(head)
    }
}

impl From<Bytes> for Resource {
    fn from(data: Bytes) -> Self {
        Resource::Data(data)
    }
}

impl From<&'static str> for Resource {
    fn from(data: &'static str) -> Self {
        Resource::Data(Bytes::from_static(data.as_bytes()))
    }
}

impl From<String> for Resource {
    fn from(data: String) -> Self {
        Resource::Data(Bytes::from(data))
    }
}

impl From<Vec<u8>> for Resource {
    fn from(data: Vec<u8>) -> Self {
        Resource::Data(Bytes::from(data))
    }
}

/// A request handler, made and not yet started. One of three kinds: any component whose `inbox`
/// takes [`Bytes`] and whose `outbox` sends [`Resource`] (a struct implementing [`Component`], a
/// `Pipeline`, a `Graphline` instance...: `Handler::from`), a function
/// ([`Handler::function`]) or a tower service ([`Handler::service`]); the last two are run by
/// the request handler itself, without a component (see [`function`](crate::function)).
/// Factories return `impl Into<Handler>`.
///
/// How it runs is the request handler's business. A handler given as a component's value (not
/// yet an instance) that needs only the standard four boxes ([`is_hostable`](Self::is_hostable))
/// runs in the connection's *handler host* (a component linked to the request handler once, kept
/// while requests follow each other: see
/// [`HttpSettings::handler_host_idle`](crate::HttpSettings::handler_host_idle) and
/// [`axon_core::host`]): to the handler nothing differs but its id and name, which are the
/// host's. Any other is made into a component of its own, linked, and removed after its
/// response.
///
/// # Example
///
/// Two requests on one connection: one host, a child of the request handler kept between them,
/// runs both handlers (with no host, `handler_host_idle: None`, each handler would have been a
/// child of its own, removed after its response):
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// use axon_core::{Handle, Instance, Scheduler};
/// use kamaelia_http::http_server::shared_factory;
/// use kamaelia_http::{Handler, HelloHandler, HTTPRequestHandler, HttpSettings, Method, Parsed, Payload, Request};
///
/// // A component value with the standard four boxes can be hosted; a component already made
/// // (an `Instance`) cannot.
/// let request = || Request::new(Method::GET, "/");
/// assert!(Handler::from(HelloHandler::new(request())).is_hostable());
/// assert!(!Handler::from(Instance::new(HelloHandler::new(request()))).is_hostable());
///
/// let settings = HttpSettings { handler_host_idle: Some(Duration::from_secs(60)), ..HttpSettings::default() };
/// let handler = HTTPRequestHandler::new(shared_factory(HelloHandler::new), Arc::new(settings));
/// let scheduler = Scheduler::new();
/// let mut connection = Handle::new(handler, &scheduler);
/// for _ in 0..2 {
///     connection.send_blocking(Parsed::Head(Box::new(Request::new(Method::GET, "/hello"))));
///     connection.send_blocking(Parsed::End);
///     let mut response = Vec::new();
///     while !response.ends_with(b"0\r\n\r\n") {
///         match connection.recv_blocking() {
///             Some(Payload::Bytes(bytes)) => response.extend_from_slice(&bytes),
///             // After each response: signed, as a socket adapter does once it is written.
///             Some(Payload::Receipt(receipt)) => receipt.sign(),
///             other => panic!("{other:?}"),
///         }
///     }
/// }
/// let children = connection.component().children();
/// assert_eq!(children.len(), 1);
/// assert!(children[0].name().starts_with("HandlerHost"), "{}", children[0].name());
/// ```
pub struct Handler {
    kind: Kind,
}

/// The kinds of handler.
pub(crate) enum Kind {
    /// A component made per request, run by the core's [`ChildHost`](axon_core::host::ChildHost):
    /// in the connection's handler host if it can be hosted, otherwise as a component of its own.
    Component(Job<Bytes, Resource>),
    /// A function or a tower service, called: its future is run by the request handler itself
    /// (see [`function`](crate::function)).
    Call(Call),
}

impl<P> From<P> for Handler
where
    P: IntoInstance,
    P::Component: Component<Inbox = Bytes, Outbox = Resource>,
{
    fn from(handler: P) -> Self {
        Handler { kind: Kind::Component(Job::from(handler)) }
    }
}

impl Handler {
    /// A handler of the call kind.
    pub(crate) fn call(call: Call) -> Self {
        Handler { kind: Kind::Call(call) }
    }

    /// True for a component handler; false for a function or a service
    /// ([`Handler::function`], [`Handler::service`]).
    pub fn is_component(&self) -> bool {
        matches!(self.kind, Kind::Component(_))
    }

    /// True if it can run in a connection's handler host (see the type's docs): a component given
    /// as its value, with the standard four boxes. False for a function or a service, which need
    /// no host.
    pub fn is_hostable(&self) -> bool {
        match &self.kind {
            Kind::Component(job) => job.is_hostable(),
            Kind::Call(_) => false,
        }
    }

    /// Its component's name if it has been made into a component (`Pipeline_12`), otherwise its
    /// class name (`HelloHandler`); for a function or a service, its type's name.
    pub fn name(&self) -> String {
        match &self.kind {
            Kind::Component(job) => job.name(),
            Kind::Call(call) => call.name.to_owned(),
        }
    }

    /// The handler as a component of its own (made now if it was not), to link and activate;
    /// `None` for a function or a service, which is run without one.
    pub fn into_instance(self) -> Option<Box<dyn AnyInstance>> {
        match self.kind {
            Kind::Component(job) => Some(job.into_instance()),
            Kind::Call(_) => None,
        }
    }

    /// What kind of handler it is, to run it.
    pub(crate) fn into_kind(self) -> Kind {
        self.kind
    }
}

impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Handler").field(&self.name()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_is_the_same_whether_common_or_not() {
        for text in ["text/html", "image/svg+xml", "text/x-custom; charset=latin1", "TEXT/HTML"] {
            let head = ResponseHead::new(StatusCode::OK).content_type(text);
            assert_eq!(head.headers.get(CONTENT_TYPE).unwrap(), text);
            assert_eq!(head.headers.len(), 1);
        }
    }

    #[test]
    #[should_panic(expected = "invalid Content-Type")]
    fn content_type_with_a_control_character_panics() {
        let _ = ResponseHead::new(StatusCode::OK).content_type("text/html\r\nx: y");
    }
}
