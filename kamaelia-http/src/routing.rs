//! Routing: [`request_handlers`] makes a `create_request_handler` from a list of URL prefixes and
//! handler factories (the cookbook's `requestHandlers`).
//!
//! ```
//! use kamaelia_http::{factory, request_handlers, HelloHandler, Minimal};
//!
//! let create_request_handler = request_handlers([
//!     ("/hello", factory(HelloHandler::new)),
//!     ("/", factory(|request| Minimal::new(request, "site", "index.html"))),
//! ]);
//! # let _ = create_request_handler;
//! ```
//!
//! For each request:
//! 1. a request the parser marked [`bad`](crate::Request::bad) gets
//!    [`ErrorPages::website_error_page`] with its status (400, 413, 414, 431, 501, 505...) and
//!    message;
//! 2. otherwise the routes are tried in order, and the **first** whose prefix matches the
//!    request's path wins: the router sets `uri_prefix_trigger` to the prefix and `uri_suffix` to
//!    the rest of the path, and calls the route's factory;
//! 3. no match: an unknown method gets 501, anything else 404, with the cookbook's message.
//!
//! Requests whose target is not a path (`OPTIONS *`, `CONNECT host:port`) match no route and get
//! 501: this server has no server-wide options and is not a proxy.
//!
//! A prefix matches on whole path segments: `/hello` matches `/hello`, `/hello/` and
//! `/hello/world`, not `/helloworld`; a prefix ending in `/` (such as `/`) matches everything
//! under it.
//!
//! Differences from the cookbook, on purpose: the prefix is matched against the path, not the raw
//! URI with its query (so `/a.txt?x=1` reaches `/a.txt`, and `uri_suffix` holds no query), and on
//! segment boundaries (Kamaelia's `/hello` also caught `/helloworld`); the bad-request message
//! reaches the page (Kamaelia's read `errormsg` where the parser wrote `error-msg`, so it was always
//! empty), and the status is the one the parser chose (Kamaelia's was always 400).

use std::sync::Arc;

use http::StatusCode;

use crate::error_pages::ErrorPages;
use crate::handler::Handler;
use crate::request::Request;

/// A handler factory in a route list: made with [`factory`].
pub type Factory = Arc<dyn Fn(Request) -> Handler + Send + Sync>;

/// Wraps a function or constructor that makes a handler from a request (`HelloHandler::new`,
/// `echo_handler`, a closure making a `Minimal`) for a route list.
pub fn factory<F, H>(make: F) -> Factory
where
    F: Fn(Request) -> H + Send + Sync + 'static,
    H: Into<Handler>,
{
    Arc::new(move |request| make(request).into())
}

/// Makes a `create_request_handler` choosing among `routes`, first match first: see the
/// [module docs](self).
pub fn request_handlers<P: Into<String>>(
    routes: impl IntoIterator<Item = (P, Factory)>,
) -> impl Fn(Request) -> Handler + Send + Sync + Clone + 'static {
    let routes: Arc<[(String, Factory)]> = routes.into_iter().map(|(p, f)| (p.into(), f)).collect();
    move |mut request: Request| {
        if let Some(bad) = &request.bad {
            return ErrorPages::website_error_page(bad.status, bad.message.clone()).into();
        }
        if !request.path.starts_with('/') {
            // `OPTIONS *` and `CONNECT host:port` are about the server, not a resource: no route
            // serves them, and this server is not a proxy.
            return ErrorPages::website_error_page(
                StatusCode::NOT_IMPLEMENTED,
                format!("{} with the target {} is not implemented by this server.", request.method, request.raw_uri),
            )
            .into();
        }
        for (prefix, handler) in routes.iter() {
            if let Some(suffix) = match_prefix(&request.path, prefix) {
                request.uri_suffix = suffix.to_owned();
                request.uri_prefix_trigger = prefix.clone();
                return handler(request);
            }
        }
        if !request.has_known_method() {
            return ErrorPages::not_implemented(&request.method).into();
        }
        ErrorPages::website_error_page(
            StatusCode::NOT_FOUND,
            "No resource handlers could be found for the requested URL",
        )
        .into()
    }
}

/// The rest of `path` after `prefix`, if `prefix` matches it on a segment boundary.
fn match_prefix<'p>(path: &'p str, prefix: &str) -> Option<&'p str> {
    let rest = path.strip_prefix(prefix)?;
    if prefix.ends_with('/') || rest.is_empty() || rest.starts_with('/') {
        Some(rest)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_on_segment_boundaries() {
        assert_eq!(match_prefix("/hello", "/hello"), Some(""));
        assert_eq!(match_prefix("/hello/world", "/hello"), Some("/world"));
        assert_eq!(match_prefix("/helloworld", "/hello"), None);
        assert_eq!(match_prefix("/a.txt", "/"), Some("a.txt"));
        assert_eq!(match_prefix("/", "/"), Some(""));
    }
}
