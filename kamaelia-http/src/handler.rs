//! [`Handler`]: a request handler made for one request and not yet started, of one of three
//! kinds: a component (Kamaelia's way, speaking the [resource protocol](crate::resource)), a
//! function or a tower service (run by the request handler itself, see
//! [`function`](crate::function)).

use std::fmt;
use std::future::Future;

use axon_core::host::Job;
use axon_core::{AnyInstance, Component, IntoInstance};
use bytes::Bytes;
use http_body::Body;

use crate::body::RequestBody;
use crate::function::{to_http_request, BoxError, Call, Response};
use crate::request::Request;
use crate::resource::Resource;

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

impl Handler {
    /// A function handler for `request`: `function` is called with the request and its body,
    /// and its future is run by the request handler (see the [module docs](crate::function)). What a route
    /// does with an `async fn(Request, RequestBody) -> impl Into<Response>`; for a factory that
    /// decides per request which kind of handler to give.
    ///
    /// ```
    /// use kamaelia_http::{Handler, HelloHandler, Request, Response};
    ///
    /// // Hello as a component on Sundays, as a function otherwise.
    /// fn create_request_handler(request: Request) -> Handler {
    ///     if request.query.as_deref() == Some("sunday") {
    ///         HelloHandler::new(request).into()
    ///     } else {
    ///         Handler::function(request, |_request, _body| async { Response::html("Hello") })
    ///     }
    /// }
    /// assert!(!create_request_handler(Request::new(http::Method::GET, "/")).is_component());
    /// ```
    pub fn function<F, Fut, R>(request: Request, function: F) -> Handler
    where
        F: FnOnce(Request, RequestBody) -> Fut,
        Fut: Future<Output = R> + Send + 'static,
        R: Into<Response>,
    {
        let (body, sender) = RequestBody::for_request(&request);
        let answer = function(request, body);
        Handler::call(Call {
            name: std::any::type_name::<F>(),
            body: sender,
            answer: Box::pin(async move { Ok(answer.await.into()) }),
        })
    }

    /// A tower service handler for `request`: the service is made ready (`poll_ready`), then
    /// called with the request as an `http::Request<RequestBody>`; its response is written as
    /// it is produced (see the [module docs](crate::function)). An error from either is a 500.
    pub fn service<S, B>(request: Request, mut service: S) -> Handler
    where
        S: tower_service::Service<http::Request<RequestBody>, Response = http::Response<B>> + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let (body, sender) = RequestBody::for_request(&request);
        let request = to_http_request(request, body);
        Handler::call(Call {
            name: std::any::type_name::<S>(),
            body: sender,
            answer: Box::pin(async move {
                let request = request?;
                std::future::poll_fn(|cx| service.poll_ready(cx)).await.map_err(Into::into)?;
                let response = service.call(request).await.map_err(Into::into)?;
                Ok(Response::from(response))
            }),
        })
    }
}
