//! The resource protocol: how a component request handler answers ([`Resource`]). What a
//! handler is (a component, a function or a tower service) is [`Handler`](crate::Handler).
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

pub use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::{HeaderMap, StatusCode};
use kamaelia_chassis::socket::FileRegion;

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
