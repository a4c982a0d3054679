//! [`Request`]: Kamaelia's request dictionary, typed.
//!
//! The parser makes one `Request` per request head it reads and sends it, as
//! [`Parsed::Head`](crate::parser::Parsed::Head), to the request handler, which gives it to the
//! `create_request_handler` factory. A router fills in
//! [`uri_prefix_trigger`](Request::uri_prefix_trigger) and [`uri_suffix`](Request::uri_suffix)
//! before handing it to the handler it chose.
//!
//! | Kamaelia key | here |
//! |---|---|
//! | `method` | [`method`](Request::method) (`http::Method`; case-sensitive, as RFC 9110 §9.1 says) |
//! | `raw-uri` | [`raw_uri`](Request::raw_uri): the request target as sent |
//! | `non-query-uri` | [`path`](Request::path) (still percent-encoded; [`Request::decoded_path`] decodes it) |
//! | `query` | [`query`](Request::query): everything after the first `?` (Kamaelia lost what followed a second `?`) |
//! | `protocol`, `version` | [`version`](Request::version) (`http::Version`) |
//! | `headers` | [`headers`](Request::headers): every field, names lowercased, repeats kept |
//! | `uri-server` | [`uri_server`](Request::uri_server): the absolute-form authority, else `Host` |
//! | `uri-prefix-trigger`, `uri-suffix` | [`uri_prefix_trigger`](Request::uri_prefix_trigger), [`uri_suffix`](Request::uri_suffix) |
//! | `peer`, `peerport`, `localip`, `localport` | [`peer`](Request::peer), [`local`](Request::local) |
//! | `bad`, `errormsg` / `error-msg` | [`bad`](Request::bad): the status to answer with and why |
//! | `body` (always `""`) | the body arrives on the handler's `inbox`; [`body`](Request::body) says how long it is |

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use http::{HeaderMap, Method, StatusCode, Version};

/// How a request's body is framed (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLength {
    /// No body: neither `Content-Length` nor `Transfer-Encoding` was sent.
    Empty,
    /// `Content-Length: n`.
    Known(u64),
    /// `Transfer-Encoding: chunked`: the length is known when the last chunk arrives.
    Chunked,
}

impl BodyLength {
    /// Whether any body bytes can follow the head.
    pub fn has_body(self) -> bool {
        !matches!(self, BodyLength::Empty | BodyLength::Known(0))
    }
}

/// Why a request cannot be served, and the status to say so with (Kamaelia's `bad` and
/// `errormsg`). The message is plain text meant for the client; error pages HTML-escape it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRequest {
    /// The status to answer with: 400, 413, 414, 417, 431, 501 or 505.
    pub status: StatusCode,
    /// What was wrong, naming the offending value (escaped: no raw bytes from the network).
    pub message: String,
}

impl BadRequest {
    /// A bad request answered with `status`, explained by `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        BadRequest { status, message: message.into() }
    }
}

impl fmt::Display for BadRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

/// One HTTP request head, as the parser read it: see the [module docs](self) for how each field
/// maps to Kamaelia's request dictionary.
///
/// `Request::new` makes one by hand (for tests of handlers, or a handler called directly):
///
/// ```
/// use kamaelia_http::Request;
/// let request = Request::new(http::Method::GET, "/hello/world?x=1");
/// assert_eq!(request.path, "/hello/world");
/// assert_eq!(request.query.as_deref(), Some("x=1"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// The method, case preserved (`get` is not `GET`).
    pub method: Method,
    /// The request target exactly as it appeared on the request line (Kamaelia's `raw-uri`,
    /// except that an absolute-form target is kept whole here; [`path`](Self::path) has its path).
    pub raw_uri: String,
    /// The path of the target, before any `?`, still percent-encoded (Kamaelia's `non-query-uri`).
    /// `*` for `OPTIONS *`.
    pub path: String,
    /// Everything after the first `?`, if there was one.
    pub query: Option<String>,
    /// The protocol version of the request line.
    pub version: Version,
    /// Every header field; names are lowercased, repeated fields are all kept, in order.
    pub headers: HeaderMap,
    /// The host the request is for: the authority of an absolute-form target if there is one,
    /// else the `Host` field (RFC 9112 §3.2.2; Kamaelia let `Host` win).
    pub uri_server: Option<String>,
    /// The route prefix that chose the handler (set by [`request_handlers`](crate::request_handlers)).
    pub uri_prefix_trigger: String,
    /// The rest of [`path`](Self::path) after that prefix (set by the router).
    pub uri_suffix: String,
    /// The client's address, when the server knows it.
    pub peer: Option<SocketAddr>,
    /// The server's address for this connection, when known.
    pub local: Option<SocketAddr>,
    /// Set when the request cannot be served: the status and reason. A router should answer it
    /// with an error page, as the cookbook's `requestHandlers` does.
    pub bad: Option<BadRequest>,
    /// How the body is framed; the body itself arrives on the handler's `inbox`.
    pub body: BodyLength,
    /// Whether the connection stays open after this request's response (HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`).
    pub keep_alive: bool,
    /// The client sent `Expect: 100-continue` and waits for a `100 Continue` before the body.
    pub expect_continue: bool,
    /// The pattern of the [`Routes`](crate::Routes) route that chose the handler
    /// (`/items/{key}`), for logs; `None` when no such route did.
    pub route: Option<Arc<str>>,
    /// The parameters that route's pattern matched, percent-decoded, in the order of the pattern:
    /// read them with [`param`](Self::param).
    pub params: Vec<(String, String)>,
}

impl Request {
    /// A `version` 1.1 request for `target` with no headers and no body, from no known address.
    pub fn new(method: Method, target: &str) -> Self {
        let (path, query) = split_target(target);
        Request {
            method,
            raw_uri: target.to_owned(),
            path: path.to_owned(),
            query: query.map(str::to_owned),
            version: Version::HTTP_11,
            headers: HeaderMap::new(),
            uri_server: None,
            uri_prefix_trigger: String::new(),
            uri_suffix: String::new(),
            peer: None,
            local: None,
            bad: None,
            body: BodyLength::Empty,
            keep_alive: true,
            expect_continue: false,
            route: None,
            params: Vec::new(),
        }
    }

    /// The value of the route parameter `name` (`request.param("key")` for a route
    /// `/items/{key}`), percent-decoded; `None` if the route that chose the handler has none of
    /// that name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The value of header `name` as text, if present and visible ASCII (the first one, if
    /// repeated).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// [`path`](Self::path) with its percent-escapes decoded, or `None` if the result is not
    /// UTF-8. Note that `%2F` decodes to `/`: split the raw path on `/` first if that matters.
    pub fn decoded_path(&self) -> Option<String> {
        percent_encoding::percent_decode_str(&self.path).decode_utf8().ok().map(|s| s.into_owned())
    }

    /// Whether the method is one RFC 9110 defines (GET, HEAD, POST, PUT, DELETE, CONNECT,
    /// OPTIONS, TRACE) or PATCH (RFC 5789). Unknown methods get a 501 when no handler claims them.
    pub fn has_known_method(&self) -> bool {
        matches!(
            self.method,
            Method::GET
                | Method::HEAD
                | Method::POST
                | Method::PUT
                | Method::DELETE
                | Method::CONNECT
                | Method::OPTIONS
                | Method::TRACE
                | Method::PATCH
        )
    }
}

/// Splits a request target at its first `?`.
pub(crate) fn split_target(target: &str) -> (&str, Option<&str>) {
    // A byte search: `?` is ASCII, so it never falls inside a character (and `split_once` on a
    // `char` costs a searcher a request).
    match target.bytes().position(|b| b == b'?') {
        Some(at) => (&target[..at], Some(&target[at + 1..])),
        None => (target, None),
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A deterministic rendering in the style of Kamaelia's request dictionary, as the cookbook's
/// `/echo` page shows it: `{'method': 'GET', 'raw-uri': '/echo?x=1', ..., 'query': 'x=1', ...}`.
/// Header values that are not visible ASCII are shown escaped.
impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{'method': '{}', 'raw-uri': '{}', 'non-query-uri': '{}'", self.method, self.raw_uri, self.path)?;
        write!(f, ", 'query': '{}'", self.query.as_deref().unwrap_or(""))?;
        write!(f, ", 'protocol': 'HTTP', 'version': '{}'", version_number(self.version))?;
        f.write_str(", 'headers': {")?;
        for (i, (name, value)) in self.headers.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}'{}': '{}'", name, value.as_bytes().escape_ascii())?;
        }
        f.write_str("}")?;
        write!(f, ", 'uri-server': '{}'", self.uri_server.as_deref().unwrap_or(""))?;
        write!(f, ", 'uri-prefix-trigger': '{}', 'uri-suffix': '{}'", self.uri_prefix_trigger, self.uri_suffix)?;
        if let Some(peer) = self.peer {
            write!(f, ", 'peer': '{}', 'peerport': {}", peer.ip(), peer.port())?;
        }
        if let Some(local) = self.local {
            write!(f, ", 'localip': '{}', 'localport': {}", local.ip(), local.port())?;
        }
        if let Some(route) = &self.route {
            write!(f, ", 'route': '{route}', 'params': {{")?;
            for (i, (name, value)) in self.params.iter().enumerate() {
                let sep = if i == 0 { "" } else { ", " };
                write!(f, "{sep}'{name}': '{}'", value.escape_default())?;
            }
            f.write_str("}")?;
        }
        match &self.bad {
            Some(bad) => write!(f, ", 'bad': {}, 'errormsg': '{}'}}", bad.status.as_u16(), bad.message),
            None => f.write_str(", 'bad': False}"),
        }
    }
}

/// `"1.1"` for HTTP/1.1, and so on.
pub(crate) fn version_number(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_11 => "1.1",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => "?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_split_at_its_first_question_mark_only() {
        let r = Request::new(Method::GET, "/a?b=1?c=2");
        assert_eq!(r.path, "/a");
        assert_eq!(r.query.as_deref(), Some("b=1?c=2"));
    }

    #[test]
    fn the_rendering_shows_the_query_as_kamaelia_did() {
        let mut r = Request::new(Method::GET, "/echo?x=1");
        r.headers.insert("host", "a".parse().unwrap());
        let text = r.to_string();
        assert!(text.contains("'query': 'x=1'"), "{text}");
        assert!(text.contains("'headers': {'host': 'a'}"), "{text}");
    }

    #[test]
    fn decoded_path_decodes_escapes_and_refuses_invalid_utf8() {
        assert_eq!(Request::new(Method::GET, "/%61%20b").decoded_path().as_deref(), Some("/a b"));
        assert_eq!(Request::new(Method::GET, "/%ff").decoded_path(), None);
    }
}
