//! Handlers that are called, not made: a **function** (`async fn(Request) -> Response`, or one
//! that also reads the body as it arrives) and a **tower service** (any
//! `tower_service::Service<http::Request<RequestBody>>` answering an `http::Response` whose body
//! is an [`http_body::Body`]: an axum `Router`, tower-http's `ServeDir`, a `service_fn`).
//!
//! Beside a component made per request (Kamaelia's way, [`Handler`](crate::Handler)'s first kind), these are the
//! other two kinds of handler a route can have. They run inside the connection's request handler,
//! with no component of their own, and their answers reach the client exactly as a component's
//! do: the same framing, keep-alive, HEAD without a body, limits, error pages and access log.
//!
//! # Example
//!
//! A function answering at once, one that streams its body, one that reads the request body, and
//! a tower service, on one route table (see also `examples/axum_inside.rs`, which mounts an axum
//! `Router`):
//!
//! ```
//! use std::convert::Infallible;
//!
//! use kamaelia_http::routes::{get, post, Routes};
//! use kamaelia_http::{Bytes, Request, RequestBody, Response, ResponseBody, ResponseHead, StatusCode};
//!
//! async fn hello(_request: Request) -> Response {
//!     Response::html("<h1>Hello</h1>")
//! }
//!
//! async fn count_to(request: Request) -> Response {
//!     let n: u32 = request.param("n").and_then(|n| n.parse().ok()).unwrap_or(3);
//!     let head = ResponseHead::new(StatusCode::OK).content_type("text/plain");
//!     // Each line goes out as it is written, when the client can take it.
//!     Response::new(head, ResponseBody::from_writer(move |mut out| async move {
//!         for i in 1..=n {
//!             out.send(format!("{i}\n")).await?;
//!         }
//!         Ok(())
//!     }))
//! }
//!
//! async fn upper(_request: Request, body: RequestBody) -> Response {
//!     match body.to_bytes_limited(1024).await {
//!         Ok(bytes) => Response::text(String::from_utf8_lossy(&bytes).to_uppercase()),
//!         Err(too_large) => too_large.into(), // 413, with a page saying why
//!     }
//! }
//!
//! // Any tower service answering an http::Response with an http_body::Body.
//! #[derive(Clone)]
//! struct Version;
//! impl tower_service::Service<http::Request<RequestBody>> for Version {
//!     type Response = http::Response<String>;
//!     type Error = Infallible;
//!     type Future = std::future::Ready<Result<Self::Response, Infallible>>;
//!     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
//!         std::task::Poll::Ready(Ok(()))
//!     }
//!     fn call(&mut self, _request: http::Request<RequestBody>) -> Self::Future {
//!         std::future::ready(Ok(http::Response::new("1.0\n".to_owned())))
//!     }
//! }
//!
//! let routes = Routes::new()
//!     .route("/hello", get(hello))?
//!     .route("/count/{n}", get(count_to))?
//!     .route("/upper", post(upper))?
//!     .route("/version", get(Version))?;
//! # let _ = routes.into_factory();
//! # Ok::<(), kamaelia_http::RouteError>(())
//! ```
//!
//! # How it works
//!
//! A route's function or service makes, for each request, a [`Handler`](crate::Handler) of the *call* kind: the
//! function's future (or the service's `poll_ready` then `call`), and the request handler's end
//! of the request's [`RequestBody`]. The request handler polls that future in its own task,
//! between the messages it takes from the parser: each piece of the request body goes into the
//! body's queue (bounded: see [`REQUEST_BODY_PIECES`](crate::REQUEST_BODY_PIECES)), the
//! answer's head is written as a component's [`ResponseHead`] would be, and its body is polled a
//! piece at a time, only when the piece before has been handed to the socket: a body that
//! produces faster than the client reads waits. A body is never collected whole.
//!
//! | what the handler does | what the client gets (as for a component) |
//! |---|---|
//! | answers | its head, framed by the server (`Content-Length` when the length is known, else chunked); no body for HEAD, 204, 304 |
//! | panics, or (a service) returns an error, before its head | a 500 page, logged, and the access log says 500 |
//! | panics or fails while its body streams | the connection is closed mid-body |
//! | is not ready (a service's `poll_ready`) | the request waits, the connection's other work goes on |
//!
//! A panic ends that request only: it is caught where the future or the body is polled, so the
//! connection's request handler goes on (it answers the 500, then closes the connection as it
//! does after any handler failure).
//!
//! A tower service is called with an `http::Request<RequestBody>`: the method, the path (below the
//! mount's prefix, for a service mounted with [`Routes::mount`](crate::Routes::mount)) and
//! query, the version and the header fields; the rest of Kamaelia's request dictionary (the
//! peer's address, the route's parameters) is in its extensions as the [`Request`] itself
//! (`request.extensions().get::<kamaelia_http::Request>()`), with its header fields moved out.
//! Its response's length is the body's exact size hint, or its `Content-Length` field; a
//! response with `Transfer-Encoding: chunked` is sent chunked.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use bytes::{Buf, Bytes};
use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use http::StatusCode;
use http_body::{Body, Frame, SizeHint};

use crate::body::{BodyError, BodySender, RequestBody};
use crate::error_pages::get_error_page;
use crate::request::Request;
use crate::resource::ResponseHead;

/// The error type of the ecosystem's bodies and services, boxed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a function handler answers: a head ([`ResponseHead`], as a component sends) and a body.
///
/// ```
/// use kamaelia_http::{Response, StatusCode};
///
/// let page = Response::html("<p>hi</p>");
/// assert_eq!(page.head.status, StatusCode::OK);
/// assert_eq!(page.head.length, Some(9)); // a body given whole has a known length
/// assert_eq!(page.head.headers["content-type"], "text/html; charset=utf-8");
/// let missing = Response::error(StatusCode::NOT_FOUND, "No such item.");
/// assert_eq!(missing.head.status, StatusCode::NOT_FOUND);
/// ```
#[derive(Debug)]
pub struct Response {
    /// The status, header fields and (if known) the body's length: the server frames the body by
    /// it as it does a component's.
    pub head: ResponseHead,
    /// The body.
    pub body: ResponseBody,
}

impl Response {
    /// A response with `head` and `body`, as given: with no [`length`](ResponseHead::length) in
    /// the head the body is sent chunked (or, to an HTTP/1.0 client, until the connection
    /// closes), as a component's would be.
    pub fn new(head: ResponseHead, body: impl Into<ResponseBody>) -> Self {
        Response { head, body: body.into() }
    }

    /// A `200 OK` with `body`, its length, and `Content-Type: content_type`.
    pub fn with_type(content_type: &str, body: impl Into<Bytes>) -> Self {
        let body = body.into();
        let head = ResponseHead::new(StatusCode::OK).content_type(content_type).length(body.len() as u64);
        Response { head, body: ResponseBody::from(body) }
    }

    /// A `200 OK` with `text` as `text/plain; charset=utf-8`.
    pub fn text(text: impl Into<Bytes>) -> Self {
        Self::with_type("text/plain; charset=utf-8", text)
    }

    /// A `200 OK` with `html` as `text/html; charset=utf-8`.
    pub fn html(html: impl Into<Bytes>) -> Self {
        Self::with_type("text/html; charset=utf-8", html)
    }

    /// A status page ([`get_error_page`]: the status, and `message` HTML-escaped), as
    /// [`ErrorPages`](crate::ErrorPages) answers.
    pub fn error(status: StatusCode, message: &str) -> Self {
        let (head, body) = get_error_page(status, message);
        Response { head, body: ResponseBody::from(body) }
    }

    /// A head with `status` and no body (`204 No Content`, `201 Created` with nothing to say).
    pub fn status(status: StatusCode) -> Self {
        let head = ResponseHead::new(status).length(0);
        Response { head, body: ResponseBody::empty() }
    }
}

impl From<&'static str> for Response {
    /// `text/plain; charset=utf-8`.
    fn from(text: &'static str) -> Self {
        Response::text(text)
    }
}

impl From<String> for Response {
    /// `text/plain; charset=utf-8`.
    fn from(text: String) -> Self {
        Response::text(text)
    }
}

impl From<StatusCode> for Response {
    /// Its status page.
    fn from(status: StatusCode) -> Self {
        Response::error(status, "")
    }
}

impl From<BodyError> for Response {
    /// The status the error calls for (413, 400), with a page naming the reason.
    fn from(error: BodyError) -> Self {
        Response::error(error.status(), &error.to_string())
    }
}

impl<B> From<http::Response<B>> for Response
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    /// The ecosystem's response: its status and header fields; its length from the body's exact
    /// size (or its `Content-Length` field, for an answer to HEAD whose body was dropped),
    /// unless it says `Transfer-Encoding: chunked`.
    fn from(response: http::Response<B>) -> Self {
        let (parts, body) = response.into_parts();
        let chunked = parts.headers.get(TRANSFER_ENCODING).is_some_and(|te| te.as_bytes().ends_with(b"chunked"));
        let announced =
            parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
        let length = match (chunked, body.size_hint().exact()) {
            (true, _) => None,
            (false, Some(0)) if announced.is_some() => announced,
            (false, Some(n)) => Some(n),
            (false, None) => announced,
        };
        let head = ResponseHead { status: parts.status, length, headers: parts.headers };
        Response { head, body: ResponseBody::from_body(body) }
    }
}

/// The body of a [`Response`]: nothing, bytes given whole, or a stream of pieces (any
/// [`http_body::Body`], or one written as it goes by [`from_writer`](Self::from_writer)). It is an
/// `http_body::Body` itself.
pub struct ResponseBody {
    kind: BodyKind,
}

enum BodyKind {
    Empty,
    Whole(Bytes),
    Stream(BoxBody),
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            BodyKind::Empty => f.write_str("ResponseBody::Empty"),
            BodyKind::Whole(bytes) => write!(f, "ResponseBody::Whole({} bytes)", bytes.len()),
            BodyKind::Stream(_) => f.write_str("ResponseBody::Stream"),
        }
    }
}

impl ResponseBody {
    /// No body.
    pub fn empty() -> Self {
        ResponseBody { kind: BodyKind::Empty }
    }

    /// Any [`http_body::Body`]: its data frames are sent as they come (trailers are dropped: the
    /// server sends none), an error ends the response by closing the connection.
    pub fn from_body<B>(body: B) -> Self
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        if body.is_end_stream() {
            return ResponseBody::empty();
        }
        ResponseBody { kind: BodyKind::Stream(box_body(body)) }
    }

    /// A body written as it goes by `write`, which is given a [`BodyWriter`]: each
    /// [`send`](BodyWriter::send) waits until the piece before it has been taken for the client,
    /// so the writer goes at the client's pace. The body ends when `write`'s future does; an
    /// error ends the response by closing the connection.
    ///
    /// ```
    /// use kamaelia_http::{ResponseBody, BodyWriter};
    ///
    /// let body = ResponseBody::from_writer(|mut out: BodyWriter| async move {
    ///     out.send("one\n").await?;
    ///     out.send("two\n").await?;
    ///     Ok(())
    /// });
    /// # drop(body);
    /// ```
    pub fn from_writer<F, Fut>(write: F) -> Self
    where
        F: FnOnce(BodyWriter) -> Fut,
        Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        let slot = Arc::new(WriterSlot { state: Mutex::new(SlotState::default()) });
        let writer = BodyWriter { slot: slot.clone() };
        let body = Written { write: Some(Box::pin(write(writer))), slot };
        ResponseBody { kind: BodyKind::Stream(Box::pin(body)) }
    }

    /// The next piece of the body (empty pieces and trailers skipped).
    pub(crate) fn poll_piece(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, BoxError>>> {
        match &mut self.kind {
            BodyKind::Empty => Poll::Ready(None),
            BodyKind::Whole(_) => match std::mem::replace(&mut self.kind, BodyKind::Empty) {
                BodyKind::Whole(bytes) => Poll::Ready(Some(Ok(bytes))),
                _ => unreachable!("matched above"),
            },
            BodyKind::Stream(body) => loop {
                match std::task::ready!(body.as_mut().poll_frame(cx)) {
                    None => {
                        self.kind = BodyKind::Empty;
                        return Poll::Ready(None);
                    }
                    Some(Err(e)) => {
                        self.kind = BodyKind::Empty;
                        return Poll::Ready(Some(Err(e)));
                    }
                    Some(Ok(frame)) => match frame.into_data() {
                        Ok(data) if !data.is_empty() => return Poll::Ready(Some(Ok(data))),
                        // Empty data, or trailers: nothing to send.
                        Ok(_) | Err(_) => {}
                    },
                }
            },
        }
    }
}

impl Default for ResponseBody {
    fn default() -> Self {
        ResponseBody::empty()
    }
}

impl From<Bytes> for ResponseBody {
    fn from(bytes: Bytes) -> Self {
        if bytes.is_empty() {
            return ResponseBody::empty();
        }
        ResponseBody { kind: BodyKind::Whole(bytes) }
    }
}

impl From<&'static str> for ResponseBody {
    fn from(text: &'static str) -> Self {
        Bytes::from_static(text.as_bytes()).into()
    }
}

impl From<String> for ResponseBody {
    fn from(text: String) -> Self {
        Bytes::from(text).into()
    }
}

impl From<Vec<u8>> for ResponseBody {
    fn from(bytes: Vec<u8>) -> Self {
        Bytes::from(bytes).into()
    }
}

impl From<()> for ResponseBody {
    fn from(_: ()) -> Self {
        ResponseBody::empty()
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.poll_piece(cx).map(|piece| piece.map(|piece| piece.map(Frame::data)))
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.kind, BodyKind::Empty)
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            BodyKind::Empty => SizeHint::with_exact(0),
            BodyKind::Whole(bytes) => SizeHint::with_exact(bytes.len() as u64),
            BodyKind::Stream(body) => body.size_hint(),
        }
    }
}

/// A body of any type, boxed, with its data as [`Bytes`] and its error boxed.
pub(crate) type BoxBody = Pin<Box<dyn Body<Data = Bytes, Error = BoxError> + Send>>;

/// `body`, boxed as a [`BoxBody`].
pub(crate) fn box_body<B>(body: B) -> BoxBody
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    Box::pin(AsBytes { body })
}

pin_project_lite::pin_project! {
    /// Any body, with its data as [`Bytes`] (without a copy when it is `Bytes` already) and its
    /// error boxed.
    struct AsBytes<B> {
        #[pin]
        body: B,
    }
}

impl<B> Body for AsBytes<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match std::task::ready!(self.project().body.poll_frame(cx)) {
            None => Poll::Ready(None),
            Some(Err(e)) => Poll::Ready(Some(Err(e.into()))),
            Some(Ok(frame)) => Poll::Ready(Some(Ok(frame.map_data(|mut data| data.copy_to_bytes(data.remaining()))))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Writes a [`ResponseBody::from_writer`] body, a piece at a time.
pub struct BodyWriter {
    slot: Arc<WriterSlot>,
}

impl fmt::Debug for BodyWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyWriter").finish_non_exhaustive()
    }
}

/// The body's reader has gone (the client went away, or the response was abandoned): nothing
/// sent now would reach anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the response body is no longer read: the client has gone")]
pub struct ClientGone;

impl BodyWriter {
    /// Sends `piece`, once the piece before it has been taken for the client; an error if no one
    /// reads the body any more (stop writing then).
    pub async fn send(&mut self, piece: impl Into<Bytes>) -> Result<(), ClientGone> {
        let mut piece = Some(piece.into());
        std::future::poll_fn(|cx| {
            let mut state = self.slot.lock();
            if state.reader_gone {
                return Poll::Ready(Err(ClientGone));
            }
            if state.piece.is_some() {
                state.writer = Some(cx.waker().clone());
                return Poll::Pending;
            }
            state.piece = piece.take();
            if let Some(reader) = state.reader.take() {
                reader.wake();
            }
            Poll::Ready(Ok(()))
        })
        .await
    }
}

struct WriterSlot {
    state: Mutex<SlotState>,
}

#[derive(Default)]
struct SlotState {
    piece: Option<Bytes>,
    writer: Option<Waker>,
    reader: Option<Waker>,
    reader_gone: bool,
}

impl WriterSlot {
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The future of a [`ResponseBody::from_writer`] body's writer.
type Writing = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;

/// A body written by a [`BodyWriter`]: polling it polls the writing future.
struct Written {
    write: Option<Writing>,
    slot: Arc<WriterSlot>,
}

impl Body for Written {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        let mut finished = None;
        if let Some(write) = &mut this.write {
            if let Poll::Ready(result) = write.as_mut().poll(cx) {
                this.write = None;
                finished = Some(result);
            }
        }
        let mut state = this.slot.lock();
        if let Some(piece) = state.piece.take() {
            if let Some(writer) = state.writer.take() {
                writer.wake();
            }
            return Poll::Ready(Some(Ok(Frame::data(piece))));
        }
        match finished {
            Some(Err(e)) => Poll::Ready(Some(Err(e))),
            Some(Ok(())) => Poll::Ready(None),
            None if this.write.is_none() => Poll::Ready(None),
            None => {
                state.reader = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl Drop for Written {
    fn drop(&mut self) {
        let mut state = self.slot.lock();
        state.reader_gone = true;
        if let Some(writer) = state.writer.take() {
            writer.wake();
        }
    }
}

// ----- the call kind of handler -----

/// The future of a call: the function's answer, or the service's.
pub(crate) type Answer = Pin<Box<dyn Future<Output = Result<Response, BoxError>> + Send>>;

/// A handler of the call kind, made for one request: what the request handler runs inline.
pub(crate) struct Call {
    /// For the log: the function's or the service's type.
    pub(crate) name: &'static str,
    /// The request handler's end of the request body (`None`: the request has none).
    pub(crate) body: Option<BodySender>,
    /// The answer to wait for.
    pub(crate) answer: Answer,
}

/// The `http::Request` a tower service is called with (see the [module docs](self)).
pub(crate) fn to_http_request(mut request: Request, body: RequestBody) -> Result<http::Request<RequestBody>, BoxError> {
    let target = match &request.query {
        Some(query) => format!("{}?{query}", request.path),
        None => request.path.clone(),
    };
    let uri = http::Uri::try_from(target)
        .map_err(|e| format!("the request target {:?} is not a URI: {e}", request.raw_uri))?;
    let mut http_request = http::Request::new(body);
    *http_request.method_mut() = request.method.clone();
    *http_request.uri_mut() = uri;
    *http_request.version_mut() = request.version;
    *http_request.headers_mut() = std::mem::take(&mut request.headers);
    http_request.extensions_mut().insert(request);
    Ok(http_request)
}
