//! [`RequestBody`]: the request body as a function or service handler reads it, piece by piece
//! as it arrives, with back-pressure.
//!
//! A component handler reads the body from its `inbox`. A handler that is called rather than
//! made (a function, a tower service: see [`function`](crate::function)) has no boxes: it is
//! given a `RequestBody`, which the request handler fills from the parser as the client sends.
//!
//! # Example
//!
//! A function handler that counts the bytes of the body as they arrive, without keeping them:
//!
//! ```
//! use kamaelia_http::{Request, RequestBody, Response};
//!
//! async fn count(_request: Request, mut body: RequestBody) -> Response {
//!     let mut bytes = 0;
//!     while let Some(piece) = body.piece().await {
//!         match piece {
//!             Ok(piece) => bytes += piece.len(),
//!             Err(e) => return e.into(), // the body broke off: its status page
//!         }
//!     }
//!     Response::text(format!("{bytes} bytes\n"))
//! }
//!
//! // Called directly, as a test would, with a body given whole.
//! let response = block_on(count(Request::new(http::Method::POST, "/"), RequestBody::from("hello")));
//! assert_eq!(response.head.status, http::StatusCode::OK);
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```
//!
//! # How it works
//!
//! Between the request handler (which writes) and the handler (which reads) is a queue of at
//! most [`REQUEST_BODY_PIECES`] pieces, as a component handler's `inbox` holds at most its
//! capacity: once it is full, the request handler holds the next piece, and the parser, whose
//! pieces then wait in the request handler's `inbox`, stops reading from the socket. The client
//! is slowed to the handler's pace; nothing is buffered whole unless the handler asks for it
//! ([`to_bytes`](RequestBody::to_bytes)).
//!
//! The server's body limit ([`HttpSettings::max_body`](crate::HttpSettings::max_body)) is
//! enforced by the parser before any of the body reaches the handler (a `Content-Length` over
//! it) or as it grows past it (chunked): the request is answered with 413 and the handler is
//! dropped. [`to_bytes_limited`](RequestBody::to_bytes_limited) sets a lower limit of the
//! handler's own.
//!
//! A handler that drops its body (or never takes one) has the rest of it read and discarded by
//! the server, as for a component that ends without reading its `inbox`.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use bytes::{Bytes, BytesMut};
use http::StatusCode;
use http_body::{Frame, SizeHint};

use crate::request::{BodyLength, Request};

/// How many pieces of a request body may wait for a function or service handler to read them:
/// 4, as many as [`HANDLER_INBOX_CAPACITY`](crate::request_handler::HANDLER_INBOX_CAPACITY)
/// messages wait for a component. With the parser's pieces (at most one socket read each) that
/// bounds what waits here; past it the server stops reading the body until the handler reads.
pub const REQUEST_BODY_PIECES: usize = 4;

/// Why a request body could not be read whole. [`status`](Self::status) is the status to answer
/// with, and a [`Response`](crate::Response) can be made from it (`error.into()`), an error page
/// naming the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The body is longer than the limit the handler set
    /// ([`to_bytes_limited`](RequestBody::to_bytes_limited)): 413.
    #[error("the request body is larger than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The body broke off before its end (the client went away, sent a malformed chunk, or was
    /// too slow; the server answers it with the reason): 400.
    #[error("the request body broke off: {0}")]
    BrokeOff(String),
}

impl BodyError {
    /// The status to answer with: 413 for [`TooLarge`](Self::TooLarge), 400 otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            BodyError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::BrokeOff(_) => StatusCode::BAD_REQUEST,
        }
    }
}

/// The request body of a function or service handler: see the [module docs](self). It is an
/// [`http_body::Body`] too, so the ecosystem's tools read it (`http_body_util::BodyExt`), and
/// it is the body of the `http::Request` a tower service handler is called with.
pub struct RequestBody {
    source: Source,
    /// How the body was framed on the wire, for [`size_hint`](http_body::Body::size_hint).
    length: BodyLength,
    /// Bytes handed out so far.
    read: u64,
}

enum Source {
    /// Nothing more.
    Done,
    /// One piece, given whole (a body made by hand).
    Whole(Bytes),
    /// Pieces as the request handler passes them on.
    Queue(Arc<Queue>),
}

/// The queue between the request handler and the handler reading the body.
struct Queue {
    state: Mutex<State>,
}

struct State {
    pieces: VecDeque<Bytes>,
    end: End,
    /// The reader, waiting for a piece.
    reader: Option<Waker>,
    /// The request handler, waiting for room.
    writer: Option<Waker>,
    /// The reader has dropped its body: pieces are discarded.
    reader_gone: bool,
}

#[derive(Clone)]
enum End {
    Open,
    Complete,
    Broken(BodyError),
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock is held cannot leave the state half-changed (every change is
        // one assignment or push), so a poisoned lock is used as it is.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl RequestBody {
    /// A body with nothing in it.
    pub fn empty() -> Self {
        RequestBody { source: Source::Done, length: BodyLength::Empty, read: 0 }
    }

    /// The body of `request` as it will arrive, and the request handler's end of it: `None`
    /// (and an empty body) when the request has none.
    pub(crate) fn for_request(request: &Request) -> (Self, Option<BodySender>) {
        if !request.body.has_body() {
            return (RequestBody::empty(), None);
        }
        let queue = Arc::new(Queue {
            state: Mutex::new(State {
                pieces: VecDeque::new(),
                end: End::Open,
                reader: None,
                writer: None,
                reader_gone: false,
            }),
        });
        let body = RequestBody { source: Source::Queue(queue.clone()), length: request.body, read: 0 };
        (body, Some(BodySender { queue, finished: false }))
    }

    /// How the body is framed: its length if the client said it (`Content-Length`).
    pub fn length(&self) -> BodyLength {
        self.length
    }

    /// The next piece of the body as it arrives; `None` after the last. An error if the body broke
    /// off.
    pub async fn piece(&mut self) -> Option<Result<Bytes, BodyError>> {
        poll_fn(|cx| self.poll_piece(cx)).await
    }

    /// The whole body, read as it arrives, in one piece. The server's limit applies
    /// ([`HttpSettings::max_body`](crate::HttpSettings::max_body), 8 MiB unless set): a body
    /// over it is answered with 413 by the server before the handler sees it.
    pub async fn to_bytes(self) -> Result<Bytes, BodyError> {
        self.to_bytes_limited(u64::MAX).await
    }

    /// The whole body in one piece, if it is at most `limit` bytes; otherwise
    /// [`BodyError::TooLarge`] (413), as soon as that is known (at once if the client announced
    /// a longer `Content-Length`), and nothing more is kept.
    pub async fn to_bytes_limited(mut self, limit: u64) -> Result<Bytes, BodyError> {
        if let BodyLength::Known(n) = self.length {
            if n > limit {
                return Err(BodyError::TooLarge { limit });
            }
        }
        let first = match self.piece().await {
            None => return Ok(Bytes::new()),
            Some(piece) => piece?,
        };
        if first.len() as u64 > limit {
            return Err(BodyError::TooLarge { limit });
        }
        let Some(second) = self.piece().await else { return Ok(first) };
        let second = second?;
        let mut whole = BytesMut::with_capacity(match self.length {
            BodyLength::Known(n) => n as usize,
            _ => first.len() + second.len(),
        });
        whole.extend_from_slice(&first);
        let mut next = Some(Ok(second));
        while let Some(piece) = next {
            let piece = piece?;
            if (whole.len() + piece.len()) as u64 > limit {
                return Err(BodyError::TooLarge { limit });
            }
            whole.extend_from_slice(&piece);
            next = self.piece().await;
        }
        Ok(whole.freeze())
    }

    fn poll_piece(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, BodyError>>> {
        let piece = match &mut self.source {
            Source::Done => return Poll::Ready(None),
            Source::Whole(_) => match std::mem::replace(&mut self.source, Source::Done) {
                Source::Whole(bytes) => bytes,
                _ => unreachable!("matched above"),
            },
            Source::Queue(queue) => {
                let mut state = queue.lock();
                match state.pieces.pop_front() {
                    Some(piece) => {
                        if let Some(writer) = state.writer.take() {
                            writer.wake();
                        }
                        piece
                    }
                    None => match state.end.clone() {
                        End::Open => {
                            if !state.reader.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                                state.reader = Some(cx.waker().clone());
                            }
                            return Poll::Pending;
                        }
                        End::Complete => {
                            drop(state);
                            self.source = Source::Done;
                            return Poll::Ready(None);
                        }
                        End::Broken(why) => {
                            drop(state);
                            self.source = Source::Done;
                            return Poll::Ready(Some(Err(why)));
                        }
                    },
                }
            }
        };
        self.read += piece.len() as u64;
        Poll::Ready(Some(Ok(piece)))
    }
}

impl Drop for RequestBody {
    fn drop(&mut self) {
        if let Source::Queue(queue) = &self.source {
            let mut state = queue.lock();
            state.reader_gone = true;
            state.pieces.clear();
            if let Some(writer) = state.writer.take() {
                writer.wake();
            }
        }
    }
}

impl std::fmt::Debug for RequestBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestBody").field("length", &self.length).field("read", &self.read).finish_non_exhaustive()
    }
}

impl Default for RequestBody {
    fn default() -> Self {
        RequestBody::empty()
    }
}

impl From<Bytes> for RequestBody {
    /// A body given whole (for a handler called by hand, as in a test).
    fn from(bytes: Bytes) -> Self {
        let length = BodyLength::Known(bytes.len() as u64);
        RequestBody { source: Source::Whole(bytes), length, read: 0 }
    }
}

impl From<&'static str> for RequestBody {
    fn from(text: &'static str) -> Self {
        Bytes::from_static(text.as_bytes()).into()
    }
}

impl From<String> for RequestBody {
    fn from(text: String) -> Self {
        Bytes::from(text).into()
    }
}

impl From<Vec<u8>> for RequestBody {
    fn from(bytes: Vec<u8>) -> Self {
        Bytes::from(bytes).into()
    }
}

impl http_body::Body for RequestBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        self.poll_piece(cx).map(|piece| piece.map(|piece| piece.map(Frame::data)))
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.source, Source::Done)
    }

    fn size_hint(&self) -> SizeHint {
        match (&self.source, self.length) {
            (Source::Done, _) => SizeHint::with_exact(0),
            (_, BodyLength::Known(n)) => SizeHint::with_exact(n.saturating_sub(self.read)),
            _ => SizeHint::default(),
        }
    }
}

/// The request handler's end of a [`RequestBody`].
pub(crate) struct BodySender {
    queue: Arc<Queue>,
    finished: bool,
}

impl BodySender {
    /// Passes `piece` on if there is room (or drops it if the reader has gone); gives it back if
    /// not.
    pub(crate) fn try_send(&mut self, piece: Bytes) -> Result<(), Bytes> {
        let mut state = self.queue.lock();
        if state.reader_gone {
            return Ok(());
        }
        if state.pieces.len() >= REQUEST_BODY_PIECES {
            return Err(piece);
        }
        state.pieces.push_back(piece);
        if let Some(reader) = state.reader.take() {
            reader.wake();
        }
        Ok(())
    }

    /// Ready once there is room for a piece (or the reader has gone).
    pub(crate) fn poll_room(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.queue.lock();
        if state.reader_gone || state.pieces.len() < REQUEST_BODY_PIECES {
            return Poll::Ready(());
        }
        if !state.writer.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            state.writer = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    /// The body is complete.
    pub(crate) fn finish(&mut self) {
        self.end(End::Complete);
    }

    /// The body broke off, for `why`.
    pub(crate) fn fail(&mut self, why: BodyError) {
        self.end(End::Broken(why));
    }

    fn end(&mut self, end: End) {
        if self.finished {
            return;
        }
        self.finished = true;
        let mut state = self.queue.lock();
        state.end = end;
        if let Some(reader) = state.reader.take() {
            reader.wake();
        }
    }
}

impl Drop for BodySender {
    /// Dropped before the end (the request broke off, or the server stopped): the reader is told.
    fn drop(&mut self) {
        self.fail(BodyError::BrokeOff("the server stopped reading it".to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_with_body(length: BodyLength) -> Request {
        let mut request = Request::new(http::Method::POST, "/");
        request.body = length;
        request
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    }

    #[test]
    fn pieces_arrive_in_order_and_the_queue_holds_at_most_its_bound() {
        let (mut body, sender) = RequestBody::for_request(&request_with_body(BodyLength::Chunked));
        let mut sender = sender.expect("a body");
        for i in 0..REQUEST_BODY_PIECES {
            assert!(sender.try_send(Bytes::from(vec![b'a' + i as u8])).is_ok());
        }
        assert_eq!(sender.try_send(Bytes::from_static(b"x")), Err(Bytes::from_static(b"x")));
        let first = block_on(body.piece()).unwrap().unwrap();
        assert_eq!(&first[..], b"a");
        assert!(sender.try_send(Bytes::from_static(b"x")).is_ok());
        sender.finish();
        let rest = block_on(body.to_bytes()).unwrap();
        assert_eq!(&rest[..], b"bcdx");
    }

    #[test]
    fn a_limit_is_kept_on_either_side_and_an_announced_length_over_it_fails_at_once() {
        assert_eq!(block_on(RequestBody::from("12345").to_bytes_limited(5)).unwrap(), "12345");
        assert_eq!(block_on(RequestBody::from("123456").to_bytes_limited(5)), Err(BodyError::TooLarge { limit: 5 }));
        let (body, _sender) = RequestBody::for_request(&request_with_body(BodyLength::Known(100)));
        assert_eq!(block_on(body.to_bytes_limited(99)), Err(BodyError::TooLarge { limit: 99 }));
        // Chunked, growing past the limit in its third piece.
        let (body, sender) = RequestBody::for_request(&request_with_body(BodyLength::Chunked));
        let mut sender = sender.unwrap();
        for piece in ["ab", "cd", "ef"] {
            sender.try_send(Bytes::from_static(piece.as_bytes())).unwrap();
        }
        sender.finish();
        assert_eq!(block_on(body.to_bytes_limited(5)), Err(BodyError::TooLarge { limit: 5 }));
        assert_eq!(BodyError::TooLarge { limit: 5 }.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn a_body_whose_sender_goes_early_breaks_off_and_a_dropped_reader_discards() {
        let (mut body, sender) = RequestBody::for_request(&request_with_body(BodyLength::Chunked));
        drop(sender);
        assert!(matches!(block_on(body.piece()), Some(Err(BodyError::BrokeOff(_)))));
        assert!(block_on(body.piece()).is_none());
        let (body, sender) = RequestBody::for_request(&request_with_body(BodyLength::Chunked));
        let mut sender = sender.unwrap();
        drop(body);
        for _ in 0..10 {
            assert!(sender.try_send(Bytes::from_static(b"x")).is_ok());
        }
    }
}
