//! [`Routes`]: a request handler factory that chooses by method and path pattern.
//!
//! The cookbook's [`request_handlers`](crate::request_handlers) chooses by path prefix alone.
//! `Routes` answers what Kamaelia's users asked for ("the handler needs to differentiate HTTP
//! methods", "something based on Routes/selector would be great"): path patterns with named
//! parameters and a trailing wildcard, and handlers per method.
//!
//! # Example
//!
//! ```
//! use kamaelia_http::routes::{get, Routes};
//! use kamaelia_http::{ErrorPages, HelloHandler, Method, Request, StatusCode};
//!
//! let routes = Routes::new()
//!     .route("/hello", get(HelloHandler::new))?
//!     .route(
//!         "/items/{key}",
//!         get(|r: Request| ErrorPages::website_error_page(StatusCode::OK, format!("item {}", r.param("key").unwrap())))
//!             .delete(|_| ErrorPages::website_error_page(StatusCode::NO_CONTENT, "")),
//!     )?;
//! let create_request_handler = routes.into_factory();
//!
//! // Which handler each request gets (a server calls this once per request).
//! let chosen = |method: Method, target: &str| create_request_handler(Request::new(method, target)).name();
//! assert!(chosen(Method::GET, "/hello").ends_with("HelloHandler"));
//! assert!(chosen(Method::GET, "/items/a%20b").ends_with("ErrorPages"));
//! assert!(chosen(Method::POST, "/items/a").ends_with("ErrorPages")); // 405, with Allow
//! # Ok::<(), kamaelia_http::routes::RouteError>(())
//! ```
//!
//! In a server: `HTTPServer::new(routes.into_factory())`, exactly where a
//! `request_handlers(..)` list goes.
//!
//! # How it works
//!
//! Patterns are matched by [matchit](https://docs.rs/matchit), the matcher axum uses: `{name}`
//! matches one path segment, `{*name}` the rest of the path (at the end of a pattern only); a
//! static segment wins over a parameter. Patterns are checked when the routes are built: two
//! that would match the same paths ambiguously, or the same method given twice for one pattern,
//! are a [`RouteError`] naming both.
//!
//! For each request, in order:
//! 1. a request the parser marked [`bad`](crate::Request::bad) gets an
//!    [`ErrorPages`] page with its status and reason, as with
//!    `request_handlers`;
//! 2. its path (still percent-encoded, without the query) is matched. The request gets the
//!    route's pattern ([`Request::route`](crate::Request::route)) and its parameters, decoded
//!    ([`Request::param`](crate::Request::param)); a parameter that does not decode to UTF-8 is
//!    a 400. For a pattern ending in a wildcard, `uri_prefix_trigger` is the path before the
//!    wildcard and `uri_suffix` the rest (from its `/`), as a prefix route sets them; otherwise
//!    `uri_prefix_trigger` is the whole path.
//! 3. the handler for the request's method is made: the method's own; for `HEAD` without one,
//!    `GET`'s (the server sends the head without the body); for `OPTIONS` without one, a
//!    `204 No Content` with `Allow`; otherwise the route's [`any`] handler if it has one; else
//!    `405 Method Not Allowed` with `Allow`, listing exactly what the route answers.
//! 4. no route matches: the [`fallback`](Routes::fallback) if one is set, else `404 Not Found`
//!    (`501 Not Implemented` for a method the server does not know).
//!
//! [`Routes::nest`] puts a whole table under a prefix, and [`Routes::mount`] puts any
//! request handler factory (a cookbook `request_handlers` list, `Minimal` for a directory) under
//! one, with every method.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use axon_core::ipc::ProducerFinished;
use axon_core::{BoxKind, Component, ComponentResult, Context, Declarations};
use bytes::Bytes;
use http::header::{HeaderValue, ALLOW};
use http::{Method, StatusCode};

use crate::body::RequestBody;
use crate::error_pages::ErrorPages;
use crate::function::{BoxError, Response};
use crate::handler::Handler;
use crate::request::Request;
use crate::resource::{Resource, ResponseHead};
use crate::routing::Factory;

/// A table of routes, each a path pattern with handlers per method; see the [module docs](self).
#[derive(Clone, Default)]
pub struct Routes {
    table: matchit::Router<usize>,
    entries: Vec<Entry>,
    /// Index in `entries` of each pattern given.
    by_pattern: HashMap<String, usize>,
    fallback: Option<Factory>,
}

#[derive(Clone)]
struct Entry {
    pattern: Arc<str>,
    /// Where `uri_prefix_trigger` ends (see [`Split`]).
    split: Split,
    methods: MethodHandlers,
}

/// How a route sets `uri_prefix_trigger` and `uri_suffix`.
#[derive(Clone)]
enum Split {
    /// The whole path is the trigger.
    Whole,
    /// The path before the named trailing wildcard is the trigger, the rest (from its `/`) the
    /// suffix.
    Wildcard(String),
    /// A mount's prefix is the trigger (as `request_handlers` sets it: `/` for the root, whose
    /// suffix then starts without a `/`).
    Mount(Arc<str>),
}

/// Why routes cannot be built. The messages name the routes and methods involved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// Two patterns would match the same paths without one being more specific.
    #[error("the route {route:?} conflicts with the route {with:?}")]
    Conflict {
        /// The pattern being added.
        route: String,
        /// The pattern already there.
        with: String,
    },
    /// One pattern was given a handler for the same method twice.
    #[error("the route {route:?} has two handlers for {method}")]
    Duplicate {
        /// The pattern.
        route: String,
        /// The method (`*` for two `any` handlers).
        method: String,
    },
    /// The pattern is not a valid pattern.
    #[error("the route {route:?} is not a valid pattern: {why}")]
    Invalid {
        /// The pattern.
        route: String,
        /// What is wrong with it.
        why: String,
    },
}

/// The handlers of one route, per method: made with [`get`], [`post`], ... [`on`], [`any`], and
/// extended with the methods of the same names.
#[derive(Clone, Default)]
pub struct MethodHandlers {
    by_method: Vec<(Method, Factory)>,
    any: Option<Factory>,
    /// Set when a method was given twice (reported when the route is added).
    duplicate: Option<String>,
}

impl fmt::Debug for MethodHandlers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let methods: Vec<&str> = self.by_method.iter().map(|(m, _)| m.as_str()).collect();
        f.debug_struct("MethodHandlers").field("methods", &methods).field("any", &self.any.is_some()).finish()
    }
}

/// Something that makes a request's handler: a function or constructor taking the [`Request`]
/// and returning anything that is a [`Handler`] (a component speaking the resource protocol).
///
/// The `Kind` parameter only lets one generic function accept several kinds of handler; callers
/// never name it.
pub trait RouteHandler<Kind>: Send + Sync + 'static {
    /// The handler as a factory.
    fn into_factory(self) -> Factory;
}

/// The [`RouteHandler`] kind of a component factory.
#[derive(Debug)]
pub enum ComponentFactory {}

impl<F, H> RouteHandler<ComponentFactory> for F
where
    F: Fn(Request) -> H + Send + Sync + 'static,
    H: Into<Handler>,
{
    fn into_factory(self) -> Factory {
        Arc::new(move |request| self(request).into())
    }
}

/// The [`RouteHandler`] kind of a function handler that takes the request only: an
/// `async fn(Request) -> impl Into<Response>` (see [`function`](crate::function)). The request
/// body, if any, is read and dropped by the server.
#[derive(Debug)]
pub enum AsyncFunction {}

/// The [`RouteHandler`] kind of a function handler that reads the body: an
/// `async fn(Request, RequestBody) -> impl Into<Response>`.
#[derive(Debug)]
pub enum AsyncFunctionWithBody {}

/// The [`RouteHandler`] kind of a tower service handler: any
/// `tower_service::Service<http::Request<RequestBody>>` answering an `http::Response` whose body
/// is an `http_body::Body` (an axum `Router`, tower-http's `ServeDir`, a `service_fn`), cloned
/// for each request as tower services are.
#[derive(Debug)]
pub enum TowerService {}

impl<F, Fut, R> RouteHandler<(AsyncFunction, R)> for F
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: Into<Response> + 'static,
{
    fn into_factory(self) -> Factory {
        Arc::new(move |request| Handler::function(request, |request, _body| self(request)))
    }
}

impl<F, Fut, R> RouteHandler<(AsyncFunctionWithBody, R)> for F
where
    F: Fn(Request, RequestBody) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: Into<Response> + 'static,
{
    fn into_factory(self) -> Factory {
        Arc::new(move |request| Handler::function(request, &self))
    }
}

impl<S, B> RouteHandler<(TowerService, B)> for S
where
    S: tower_service::Service<http::Request<RequestBody>, Response = http::Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    fn into_factory(self) -> Factory {
        Arc::new(move |request| Handler::service(request, self.clone()))
    }
}

macro_rules! method_fns {
    ($($(#[$doc:meta])* $name:ident => $method:expr;)*) => {
        $(
            $(#[$doc])*
            pub fn $name<K>(handler: impl RouteHandler<K>) -> MethodHandlers {
                MethodHandlers::default().on($method, handler)
            }
        )*

        impl MethodHandlers {
            $(
                $(#[$doc])*
                pub fn $name<K>(self, handler: impl RouteHandler<K>) -> MethodHandlers {
                    self.on($method, handler)
                }
            )*
        }
    };
}

method_fns! {
    /// Handles `GET` (and `HEAD`, unless a `HEAD` handler is given).
    get => Method::GET;
    /// Handles `HEAD` (otherwise the `GET` handler answers it, without its body).
    head => Method::HEAD;
    /// Handles `POST`.
    post => Method::POST;
    /// Handles `PUT`.
    put => Method::PUT;
    /// Handles `DELETE`.
    delete => Method::DELETE;
    /// Handles `PATCH`.
    patch => Method::PATCH;
    /// Handles `OPTIONS` (otherwise answered `204 No Content` with `Allow`).
    options => Method::OPTIONS;
}

/// Handles `method`, any token (`Method::from_bytes(b"PURGE")`).
pub fn on<K>(method: Method, handler: impl RouteHandler<K>) -> MethodHandlers {
    MethodHandlers::default().on(method, handler)
}

/// Handles every method the route has no handler of its own for.
pub fn any<K>(handler: impl RouteHandler<K>) -> MethodHandlers {
    MethodHandlers::default().any(handler)
}

impl MethodHandlers {
    /// Handles `method` too.
    pub fn on<K>(mut self, method: Method, handler: impl RouteHandler<K>) -> MethodHandlers {
        if self.by_method.iter().any(|(m, _)| *m == method) {
            self.duplicate.get_or_insert_with(|| method.to_string());
        } else {
            self.by_method.push((method, handler.into_factory()));
        }
        self
    }

    /// Handles every method not handled otherwise.
    pub fn any<K>(mut self, handler: impl RouteHandler<K>) -> MethodHandlers {
        if self.any.is_some() {
            self.duplicate.get_or_insert_with(|| "*".to_owned());
        }
        self.any = Some(handler.into_factory());
        self
    }

    /// Adds `other`'s handlers; the first method both have, if any, is returned as an error.
    fn merge(&mut self, other: MethodHandlers) -> Result<(), String> {
        if let Some(method) = other.duplicate {
            return Err(method);
        }
        for (method, handler) in other.by_method {
            if self.by_method.iter().any(|(m, _)| *m == method) {
                return Err(method.to_string());
            }
            self.by_method.push((method, handler));
        }
        if let Some(any) = other.any {
            if self.any.is_some() {
                return Err("*".to_owned());
            }
            self.any = Some(any);
        }
        Ok(())
    }

    fn find(&self, method: &Method) -> Option<&Factory> {
        self.by_method.iter().find(|(m, _)| m == method).map(|(_, f)| f)
    }

    /// What the route answers, for `Allow`: its methods, `HEAD` if it has `GET`, and `OPTIONS`.
    fn allow(&self) -> Vec<Method> {
        let mut allow: Vec<Method> = self.by_method.iter().map(|(m, _)| m.clone()).collect();
        for implied in [Method::HEAD, Method::OPTIONS] {
            let wanted = implied != Method::HEAD || allow.contains(&Method::GET);
            if wanted && !allow.contains(&implied) {
                allow.push(implied);
            }
        }
        allow
    }

    /// The handler for `request`, by step 3 of the module docs.
    fn dispatch(&self, request: Request) -> Handler {
        let method = request.method.clone();
        if let Some(handler) = self.find(&method) {
            return handler(request);
        }
        if method == Method::HEAD {
            if let Some(handler) = self.find(&Method::GET) {
                return handler(request);
            }
        }
        if let Some(any) = &self.any {
            return any(request);
        }
        if method == Method::OPTIONS {
            return options_answer(&self.allow());
        }
        ErrorPages::method_not_allowed(&method, &self.allow()).into()
    }
}

/// `204 No Content` with `Allow`: the answer to `OPTIONS` for a route without its own.
fn options_answer(allow: &[Method]) -> Handler {
    let list = allow.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
    let mut head = ResponseHead::new(StatusCode::NO_CONTENT);
    if let Ok(value) = HeaderValue::from_str(&list) {
        head = head.header(ALLOW, value);
    }
    Answer(head).into()
}

/// Sends one head and no body: the answer to `OPTIONS` made by [`Routes`].
///
/// # Inboxes
///
/// | box | carries | what arrives |
/// |---|---|---|
/// | `inbox` | `Bytes` | The request body: ignored |
/// | `control` | `Ipc` | Ignored: the answer is sent at once |
///
/// # Outboxes
///
/// | box | carries | what leaves |
/// |---|---|---|
/// | `outbox` | `Resource` | The head |
/// | `signal` | `Ipc` | ProducerFinished after the head |
struct Answer(ResponseHead);

impl Component for Answer {
    type Inbox = Bytes;
    type Outbox = Resource;

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .describe(BoxKind::Inbox, "inbox", "The request body: ignored")
            .describe(BoxKind::Inbox, "control", "Ignored: the answer is sent at once")
            .describe(BoxKind::Outbox, "outbox", "The head")
            .describe(BoxKind::Outbox, "signal", "ProducerFinished after the head");
    }

    fn class_name(&self) -> std::borrow::Cow<'static, str> {
        "Options".into()
    }

    async fn main(self, mut ctx: Context<Bytes, Resource>) -> ComponentResult {
        ctx.outbox.send(Resource::Head(self.0)).await;
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

impl fmt::Debug for Routes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let patterns: Vec<&str> = self.entries.iter().map(|e| &*e.pattern).collect();
        f.debug_struct("Routes").field("patterns", &patterns).field("fallback", &self.fallback.is_some()).finish()
    }
}

impl Routes {
    /// An empty table: every request gets 404 (or 501 for an unknown method).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the route `pattern` (`/items/{key}`, `/static/{*path}`) with `handlers`. Adding a
    /// pattern again adds its methods to the route; a method given twice, or a pattern that
    /// conflicts with another, is an error naming both.
    pub fn route(self, pattern: &str, handlers: MethodHandlers) -> Result<Self, RouteError> {
        let split = wildcard_of(pattern).map_or(Split::Whole, Split::Wildcard);
        self.insert(pattern, handlers, split)
    }

    fn insert(mut self, pattern: &str, handlers: MethodHandlers, split: Split) -> Result<Self, RouteError> {
        if let Some(&i) = self.by_pattern.get(pattern) {
            self.entries[i]
                .methods
                .merge(handlers)
                .map_err(|method| RouteError::Duplicate { route: pattern.to_owned(), method })?;
            return Ok(self);
        }
        if let Some(method) = handlers.duplicate.clone() {
            return Err(RouteError::Duplicate { route: pattern.to_owned(), method });
        }
        if !pattern.starts_with('/') {
            return Err(RouteError::Invalid { route: pattern.to_owned(), why: "a pattern starts with /".to_owned() });
        }
        let index = self.entries.len();
        self.table.insert(pattern, index).map_err(|e| match e {
            matchit::InsertError::Conflict { with } => RouteError::Conflict { route: pattern.to_owned(), with },
            other => RouteError::Invalid { route: pattern.to_owned(), why: other.to_string() },
        })?;
        self.entries.push(Entry { pattern: pattern.into(), split, methods: handlers });
        self.by_pattern.insert(pattern.to_owned(), index);
        Ok(self)
    }

    /// Puts every route of `routes` under `prefix` (`/api` + `/items/{key}` is
    /// `/api/items/{key}`; `/api` + `/` is `/api`). Its fallback, if any, is not kept.
    pub fn nest(mut self, prefix: &str, routes: Routes) -> Result<Self, RouteError> {
        let prefix = prefix.trim_end_matches('/');
        for entry in routes.entries {
            let pattern = if &*entry.pattern == "/" { prefix.to_owned() } else { format!("{prefix}{}", entry.pattern) };
            let pattern = if pattern.is_empty() { "/".to_owned() } else { pattern };
            let split = match entry.split {
                Split::Mount(inner) if &*inner == "/" => {
                    Split::Mount(if prefix.is_empty() { inner } else { prefix.into() })
                }
                Split::Mount(inner) => Split::Mount(format!("{prefix}{inner}").into()),
                other => other,
            };
            self = self.insert(&pattern, entry.methods, split)?;
        }
        Ok(self)
    }

    /// Puts `create_request_handler` (a cookbook [`request_handlers`](crate::request_handlers)
    /// list, a `Minimal` factory, any function making a handler) under `prefix`, for every
    /// method: the prefix itself and every path below it (on a segment boundary) go to it, with
    /// `uri_prefix_trigger` set to the prefix and `uri_suffix` to the rest, as a prefix route sets
    /// them. The request's [`path`](crate::Request::path) is the path below the prefix (`/` for
    /// the prefix itself), so a mounted prefix list routes as it would alone (as axum's
    /// `nest_service` does); [`raw_uri`](crate::Request::raw_uri) is unchanged.
    pub fn mount<K>(self, prefix: &str, create_request_handler: impl RouteHandler<K>) -> Result<Self, RouteError> {
        let prefix = prefix.trim_end_matches('/');
        let handler = create_request_handler.into_factory();
        let handlers = || MethodHandlers { by_method: Vec::new(), any: Some(handler.clone()), duplicate: None };
        let split = Split::Mount(if prefix.is_empty() { "/".into() } else { prefix.into() });
        let mut routes = self;
        if !prefix.is_empty() {
            routes = routes.insert(prefix, handlers(), split.clone())?;
        }
        routes = routes.insert(&format!("{prefix}/"), handlers(), split.clone())?;
        routes.insert(&format!("{prefix}/{{*{MOUNTED}}}"), handlers(), split)
    }

    /// What unmatched paths get instead of 404.
    pub fn fallback<K>(mut self, create_request_handler: impl RouteHandler<K>) -> Self {
        self.fallback = Some(create_request_handler.into_factory());
        self
    }

    /// The table as the function a server calls for each request (Kamaelia's
    /// `createRequestHandler`): give it to `HTTPServer::new`.
    pub fn into_factory(self) -> impl Fn(Request) -> Handler + Send + Sync + Clone + 'static {
        let routes = Arc::new(self);
        move |request| routes.handler_for(request)
    }

    /// The handler for `request`: see the module docs.
    pub fn handler_for(&self, mut request: Request) -> Handler {
        if let Some(bad) = &request.bad {
            return ErrorPages::website_error_page(bad.status, bad.message.clone()).into();
        }
        let Ok(found) = self.table.at(&request.path) else { return self.unmatched(request) };
        let entry = &self.entries[*found.value];
        let mut params = Vec::with_capacity(found.params.len());
        for (name, raw) in found.params.iter() {
            match percent_encoding::percent_decode_str(raw).decode_utf8() {
                Ok(value) => params.push((name.to_owned(), value.into_owned())),
                Err(_) => {
                    return ErrorPages::website_error_page(
                        StatusCode::BAD_REQUEST,
                        format!("The path parameter {name} is not valid UTF-8 once decoded."),
                    )
                    .into()
                }
            }
        }
        // Where the trigger ends and the suffix starts, in the raw path. (The parameters were
        // matched in the path itself, so every split is on a character boundary.)
        let split = match &entry.split {
            Split::Whole => request.path.len(),
            Split::Wildcard(name) => request.path.len() - found.params.get(name).map_or(0, |rest| rest.len() + 1),
            Split::Mount(prefix) if &**prefix == "/" => 1,
            Split::Mount(prefix) => prefix.len(),
        };
        request.uri_suffix = request.path[split..].to_owned();
        request.uri_prefix_trigger = match &entry.split {
            Split::Mount(prefix) => prefix.to_string(),
            _ => request.path[..split].to_owned(),
        };
        if let Split::Mount(prefix) = &entry.split {
            // A mount's own wildcard is not a parameter of the mounted handler's, and the path
            // it sees is the one below its prefix (so that a mounted prefix list routes as it
            // would alone).
            params.retain(|(name, _)| name != MOUNTED);
            if &**prefix != "/" {
                request.path = if request.uri_suffix.is_empty() { "/".to_owned() } else { request.uri_suffix.clone() };
            }
        }
        request.params = params;
        request.route = Some(entry.pattern.clone());
        entry.methods.dispatch(request)
    }

    fn unmatched(&self, request: Request) -> Handler {
        if let Some(fallback) = &self.fallback {
            return fallback(request);
        }
        if !request.has_known_method() {
            return ErrorPages::not_implemented(&request.method).into();
        }
        if !request.path.starts_with('/') {
            // `OPTIONS *`, `CONNECT host:port`: about the server, not a resource.
            return ErrorPages::website_error_page(
                StatusCode::NOT_IMPLEMENTED,
                format!("{} with the target {} is not implemented by this server.", request.method, request.raw_uri),
            )
            .into();
        }
        ErrorPages::website_error_page(
            StatusCode::NOT_FOUND,
            "No resource handlers could be found for the requested URL",
        )
        .into()
    }
}

/// The name of the wildcard [`Routes::mount`] gives the paths below a prefix.
const MOUNTED: &str = "kamaelia_mounted_rest";

/// The name of `pattern`'s trailing wildcard (`path` for `/static/{*path}`).
fn wildcard_of(pattern: &str) -> Option<String> {
    let start = pattern.rfind("{*")?;
    let name = pattern[start + 2..].strip_suffix('}')?;
    Some(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{request_handlers, routing::factory, HelloHandler};

    /// A handler that records the request it was made for; its name says which it is.
    fn seen(
        name: &'static str,
        log: &Arc<std::sync::Mutex<Vec<(String, Request)>>>,
    ) -> impl Fn(Request) -> ErrorPages + Send + Sync + 'static {
        let log = log.clone();
        move |r| {
            log.lock().unwrap().push((name.to_owned(), r));
            ErrorPages::website_error_page(StatusCode::OK, name)
        }
    }

    type Log = Arc<std::sync::Mutex<Vec<(String, Request)>>>;

    /// Which of the recording handlers `method target` reached (`None`: none of them; the
    /// handler's class name is given instead).
    fn reached(routes: &Routes, log: &Log, method: &str, target: &str) -> Result<(String, Request), String> {
        let request = Request::new(Method::from_bytes(method.as_bytes()).unwrap(), target);
        let name = routes.handler_for(request).name();
        let short = name.rsplit("::").next().unwrap_or(&name).to_owned();
        log.lock().unwrap().pop().ok_or(short)
    }

    #[test]
    fn methods_choose_handlers_head_goes_to_get_and_options_and_others_are_answered() {
        let log = Log::default();
        let routes = Routes::new()
            .route("/items/{key}", get(seen("get", &log)).put(seen("put", &log)))
            .unwrap()
            .route("/b", get(seen("b-get", &log)).head(seen("b-head", &log)))
            .unwrap();
        assert_eq!(reached(&routes, &log, "GET", "/items/a").unwrap().0, "get");
        assert_eq!(reached(&routes, &log, "PUT", "/items/a").unwrap().0, "put");
        assert_eq!(reached(&routes, &log, "HEAD", "/items/a").unwrap().0, "get");
        assert_eq!(reached(&routes, &log, "HEAD", "/b").unwrap().0, "b-head");
        assert_eq!(reached(&routes, &log, "OPTIONS", "/items/a").unwrap_err(), "Options");
        assert_eq!(reached(&routes, &log, "POST", "/items/a").unwrap_err(), "ErrorPages");
        assert_eq!(reached(&routes, &log, "GET", "/nothing").unwrap_err(), "ErrorPages");
        let allow = routes.entries[0].methods.allow();
        assert_eq!(allow, [Method::GET, Method::PUT, Method::HEAD, Method::OPTIONS]);
    }

    #[test]
    fn the_request_carries_decoded_parameters_and_the_pattern() {
        let log = Log::default();
        let routes = Routes::new().route("/users/{id}/files/{*path}", get(seen("files", &log))).unwrap();
        let (_, r) = reached(&routes, &log, "GET", "/users/J%C3%BCrgen/files/a%20b/c.txt?x=1").unwrap();
        assert_eq!(r.param("id"), Some("Jürgen"));
        assert_eq!(r.param("path"), Some("a b/c.txt"));
        assert_eq!(r.param("nope"), None);
        assert_eq!(r.route.as_deref(), Some("/users/{id}/files/{*path}"));
        assert_eq!(
            (r.uri_prefix_trigger.as_str(), r.uri_suffix.as_str()),
            ("/users/J%C3%BCrgen/files", "/a%20b/c.txt")
        );
        // Not UTF-8 once decoded: an error page (400), not the handler.
        assert_eq!(reached(&routes, &log, "GET", "/users/%FF/files/x").unwrap_err(), "ErrorPages");
    }

    #[test]
    fn conflicting_and_duplicate_routes_are_errors_naming_both() {
        let log = Log::default();
        let page = |n| get(seen(n, &log));
        let err = Routes::new().route("/items/{key}", page("a")).unwrap().route("/items/{id}", page("b")).unwrap_err();
        assert_eq!(err, RouteError::Conflict { route: "/items/{id}".into(), with: "/items/{key}".into() });
        assert!(err.to_string().contains("/items/{id}") && err.to_string().contains("/items/{key}"));
        let err = Routes::new().route("/a", page("a")).unwrap().route("/a", page("b")).unwrap_err();
        assert_eq!(err, RouteError::Duplicate { route: "/a".into(), method: "GET".into() });
        let err = Routes::new().route("/a", page("a").get(seen("b", &log))).unwrap_err();
        assert_eq!(err, RouteError::Duplicate { route: "/a".into(), method: "GET".into() });
        assert!(matches!(Routes::new().route("/a/{*x}/b", page("a")), Err(RouteError::Invalid { .. })));
        assert!(matches!(Routes::new().route("a", page("a")), Err(RouteError::Invalid { .. })));
        // The same pattern again with other methods adds them.
        let routes = Routes::new().route("/a", page("a")).unwrap().route("/a", post(seen("p", &log))).unwrap();
        assert_eq!(reached(&routes, &log, "POST", "/a").unwrap().0, "p");
    }

    #[test]
    fn tables_nest_and_factories_mount_with_kamaelias_prefix_and_suffix() {
        let log = Log::default();
        let api = Routes::new()
            .route("/", get(seen("root", &log)))
            .unwrap()
            .route("/items/{key}", get(seen("item", &log)))
            .unwrap();
        let routes = Routes::new().nest("/api", api).unwrap().mount("/old", seen("old", &log)).unwrap();
        assert_eq!(reached(&routes, &log, "GET", "/api").unwrap().0, "root");
        assert_eq!(reached(&routes, &log, "GET", "/api/items/x").unwrap().1.param("key"), Some("x"));
        assert!(reached(&routes, &log, "GET", "/api/other").is_err());
        for (target, trigger, suffix) in [("/old", "/old", ""), ("/old/", "/old", "/"), ("/old/a/b", "/old", "/a/b")] {
            let (name, r) = reached(&routes, &log, "DELETE", target).unwrap();
            assert_eq!((name.as_str(), r.uri_prefix_trigger.as_str(), r.uri_suffix.as_str()), ("old", trigger, suffix));
            assert!(r.params.is_empty());
        }
        assert!(reached(&routes, &log, "GET", "/older").is_err());
        // A cookbook prefix list mounted at the root routes as it does alone.
        let list = request_handlers([("/hello", factory(HelloHandler::new))]);
        let routes = Routes::new().route("/api", get(seen("api", &log))).unwrap().mount("/", list).unwrap();
        assert_eq!(reached(&routes, &log, "GET", "/hello").unwrap_err(), "HelloHandler");
        assert_eq!(reached(&routes, &log, "GET", "/api").unwrap().0, "api");
        let root = Routes::new().mount("/", seen("root", &log)).unwrap();
        let (_, r) = reached(&root, &log, "GET", "/a.txt").unwrap();
        assert_eq!((r.uri_prefix_trigger.as_str(), r.uri_suffix.as_str()), ("/", "a.txt"));
    }
}
