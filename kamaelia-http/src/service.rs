//! [`KamaeliaService`]: the other way round, Kamaelia's handlers inside the Rust web ecosystem. A
//! request handler factory (a component factory, a cookbook
//! [`request_handlers`](crate::request_handlers) list, a whole [`Routes`]) as a
//! `tower_service::Service<http::Request<B>>`, so that axum can mount it
//! (`Router::nest_service("/kamaelia", service)`) and hyper can serve it.
//!
//! # Example
//!
//! The cookbook's `HelloHandler`, a component, answering an `http::Request` (in a program, axum
//! or hyper makes the requests and sends the responses; see `examples/components_in_axum.rs`):
//!
//! ```
//! use http_body_util::BodyExt;
//! use kamaelia_http::routes::{get, Routes};
//! use kamaelia_http::HelloHandler;
//! use tower_service::Service;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kamaelia_http::BoxError> {
//! let mut service = Routes::new().route("/hello", get(HelloHandler::new))?.into_service();
//! let request = http::Request::get("/hello").body(http_body_util::Empty::<bytes::Bytes>::new())?;
//! let response = service.call(request).await?;
//! assert_eq!(response.status(), 200);
//! assert_eq!(response.headers()["content-type"], "text/html");
//! let body = response.into_body().collect().await?.to_bytes();
//! assert_eq!(body, kamaelia_http::handlers::HELLO_PAGE);
//! # Ok(()) }
//! ```
//!
//! # How it works
//!
//! For each `http::Request` it makes Kamaelia's [`Request`] (method, target, version, header
//! fields, `uri_server` from the authority or `Host`; no peer address, which the ecosystem keeps
//! in types of its own) and calls the factory with it, as the request handler of an
//! [`HTTPServer`](crate::HTTPServer) does.
//!
//! * A **component** handler is made and activated on the service's [`Scheduler`], driven through
//!   a [`Handle`] split in two: the request body's frames go to its `inbox` as
//!   they arrive (waiting for room there: back-pressure to the client), then `ProducerFinished` to
//!   its `control`; its first message, the [`ResponseHead`], becomes the
//!   `http::Response`'s status and header fields (and `Content-Length`, if it gave a length), and
//!   what it sends after is the response body, read from its `outbox` only as the server asks for
//!   the next frame (back-pressure to the component: its `outbox` waits once the handle's box is
//!   full). File regions ([`Resource::File`]) are read a piece at a time on tokio's blocking
//!   threads. The body ends at its `ProducerFinished`, or when it ends.
//! * A **function** or **service** handler is called in the service's own future, its body
//!   polled as the server asks.
//!
//! | case | the client gets |
//! |---|---|
//! | the handler panics, fails or ends before its head | a 500 page |
//! | it breaks off after its head | the body ends with an error (the server closes the connection) |
//! | a request body over [`max_body`](KamaeliaService::max_body) | 413 if nothing was answered yet (at once for a `Content-Length` over it); otherwise the handler is told the body broke off |
//!
//! The service never fails (`Error = Infallible`): every failure is an HTTP answer.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axon_core::handle::{HandleInput, HandleOutput};
use axon_core::ipc::{Ipc, ProducerFinished, ShutdownMicroprocess};
use axon_core::{Exit, Handle, Scheduler};
use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_LENGTH, HOST};
use http::StatusCode;
use http_body::{Body, Frame, SizeHint};
use kamaelia_chassis::socket::FileRegion;

use crate::body::{BodyError, BodySender};
use crate::error_pages::get_error_page;
use crate::function::{box_body, Answer, BoxBody, BoxError, Call, Response, ResponseBody};
use crate::handler::{Handler, Kind};
use crate::request::{BodyLength, Request};
use crate::request_handler::CreateRequestHandler;
use crate::resource::{Resource, ResponseHead};
use crate::routes::Routes;
use crate::settings::DEFAULT_MAX_BODY;

/// How many bytes of a file region are read at a time: 64 KiB.
const FILE_PIECE: u64 = 64 * 1024;

/// A request handler factory as a tower service: see the [module docs](self).
#[derive(Clone)]
pub struct KamaeliaService {
    create: CreateRequestHandler,
    scheduler: Scheduler,
    max_body: u64,
}

impl fmt::Debug for KamaeliaService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KamaeliaService").field("max_body", &self.max_body).finish_non_exhaustive()
    }
}

impl KamaeliaService {
    /// The service of `create_request_handler` (a [`request_handlers`](crate::request_handlers)
    /// list, `Routes::into_factory()`, any `Fn(Request) -> impl Into<Handler>`), making its
    /// components on a scheduler of its own ([`Scheduler::new`]: the tokio runtime current when
    /// the first is activated), with the default body limit.
    pub fn new<H: Into<Handler>>(create_request_handler: impl Fn(Request) -> H + Send + Sync + 'static) -> Self {
        KamaeliaService {
            create: Arc::new(move |request| create_request_handler(request).into()),
            scheduler: Scheduler::new(),
            max_body: DEFAULT_MAX_BODY,
        }
    }

    /// Makes the handlers' components on `scheduler` (to watch them with its introspection, or
    /// run them on threads of their own).
    pub fn on(mut self, scheduler: Scheduler) -> Self {
        self.scheduler = scheduler;
        self
    }

    /// The largest request body passed to a handler, in bytes (default
    /// [`DEFAULT_MAX_BODY`], 8 MiB); past it, 413. hyper and axum set no limit of their own.
    pub fn max_body(mut self, max_body: u64) -> Self {
        self.max_body = max_body;
        self
    }

    /// The scheduler the handlers' components run on.
    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }
}

impl Routes {
    /// The table as a tower service ([`KamaeliaService`]), for axum to mount or hyper to serve.
    pub fn into_service(self) -> KamaeliaService {
        KamaeliaService::new(self.into_factory())
    }
}

/// The future of a [`KamaeliaService`] call.
pub type ServiceFuture = Pin<Box<dyn Future<Output = Result<http::Response<ServiceBody>, Infallible>> + Send>>;

impl<B> tower_service::Service<http::Request<B>> for KamaeliaService
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = http::Response<ServiceBody>;
    type Error = Infallible;
    type Future = ServiceFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> ServiceFuture {
        let (parts, body) = request.into_parts();
        let request = to_request(parts, &body);
        let head_only = request.method == http::Method::HEAD;
        if let BodyLength::Known(n) = request.body {
            if n > self.max_body {
                let why = BodyError::TooLarge { limit: self.max_body };
                return Box::pin(std::future::ready(Ok(error_response(why.status(), &why.to_string()))));
            }
        }
        let handler = match catch_unwind(AssertUnwindSafe(|| (self.create)(request))) {
            Ok(handler) => handler,
            Err(_) => {
                log::error!("KamaeliaService: the request handler factory panicked");
                let page = error_response(StatusCode::INTERNAL_SERVER_ERROR, "The server could not make a handler.");
                return Box::pin(std::future::ready(Ok(page)));
            }
        };
        let name = handler.name();
        let body = box_body(body);
        let max_body = self.max_body;
        match handler.into_kind() {
            Kind::Call(call) => Box::pin(call_answer(call, body, max_body, head_only)),
            Kind::Component(job) => match Handle::<Bytes, Resource>::for_any(job.into_instance(), &self.scheduler) {
                Ok(handle) => Box::pin(component_answer(handle, body, max_body, name, head_only)),
                Err(e) => {
                    log::error!("KamaeliaService: cannot drive handler {name}: {e}");
                    let page = error_response(StatusCode::INTERNAL_SERVER_ERROR, "The handler could not be started.");
                    Box::pin(std::future::ready(Ok(page)))
                }
            },
        }
    }
}

/// Kamaelia's request for an `http::Request`'s head (see the [module docs](self)).
fn to_request<B: Body>(parts: http::request::Parts, body: &B) -> Request {
    let target = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let mut request = Request::new(parts.method, target);
    request.version = parts.version;
    request.uri_server = parts
        .uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| parts.headers.get(HOST).and_then(|h| h.to_str().ok()).map(str::to_owned));
    let announced =
        parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    request.body = match (body.size_hint().exact(), announced) {
        (Some(0), None) if body.is_end_stream() => BodyLength::Empty,
        (Some(n), _) => BodyLength::Known(n),
        (None, Some(n)) => BodyLength::Known(n),
        (None, None) => BodyLength::Chunked,
    };
    request.headers = parts.headers;
    request
}

/// An `http::Response` with a status page.
fn error_response(status: StatusCode, message: &str) -> http::Response<ServiceBody> {
    let (head, body) = get_error_page(status, message);
    to_response(head, ServiceBody { kind: BodyKind::Call { body: ResponseBody::from(body), pump: None } }, false)
}

/// The `http::Response` for `head`, with `body`.
fn to_response(head: ResponseHead, body: ServiceBody, head_only: bool) -> http::Response<ServiceBody> {
    let mut response = http::Response::new(body);
    *response.status_mut() = head.status;
    *response.headers_mut() = head.headers;
    if let Some(n) = head.length {
        if head_only || body_allowed(head.status) {
            response.headers_mut().insert(CONTENT_LENGTH, HeaderValue::from(n));
        }
    }
    response
}

fn body_allowed(status: StatusCode) -> bool {
    !(status.is_informational() || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED)
}

// ----- the request body, pumped to the handler -----

/// Where the request body goes.
enum Sink {
    /// A function's or service's [`RequestBody`](crate::RequestBody).
    Call(BodySender),
    /// A component's `inbox` (then `ProducerFinished` to its `control`).
    Component(HandleInput<Bytes>),
}

/// Moves the request body from the server to the handler, a frame at a time, as there is room.
struct Pump {
    body: BoxBody,
    sink: Sink,
    held: Option<Bytes>,
    received: u64,
    max_body: u64,
    /// Set when the body grew past `max_body`.
    too_large: bool,
    done: bool,
}

impl Pump {
    fn new(body: BoxBody, sink: Sink, max_body: u64) -> Self {
        Pump { body, sink, held: None, received: 0, max_body, too_large: false, done: false }
    }

    /// Moves what can be moved; ready once the body has been passed on whole (or broke off).
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if self.done {
                return Poll::Ready(());
            }
            if self.held.is_some() {
                match &mut self.sink {
                    Sink::Call(sender) => {
                        let piece = self.held.take().expect("checked");
                        if let Err(piece) = sender.try_send(piece) {
                            self.held = Some(piece);
                            std::task::ready!(sender.poll_room(cx));
                            continue;
                        }
                    }
                    Sink::Component(input) => std::task::ready!(input.poll_send(&mut self.held, cx)),
                }
            }
            match std::task::ready!(self.body.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => {
                    let Ok(data) = frame.into_data() else { continue };
                    if data.is_empty() {
                        continue;
                    }
                    self.received += data.len() as u64;
                    if self.received > self.max_body {
                        self.too_large = true;
                        self.end(Err(BodyError::TooLarge { limit: self.max_body }));
                        continue;
                    }
                    self.held = Some(data);
                }
                Some(Err(e)) => self.end(Err(BodyError::BrokeOff(e.to_string()))),
                None => self.end(Ok(())),
            }
        }
    }

    fn end(&mut self, how: Result<(), BodyError>) {
        self.done = true;
        self.held = None;
        match (&mut self.sink, how) {
            (Sink::Call(sender), Ok(())) => sender.finish(),
            (Sink::Call(sender), Err(why)) => sender.fail(why),
            (Sink::Component(input), how) => {
                let msg: Ipc = match how {
                    Ok(()) => ProducerFinished::new().into(),
                    Err(_) => ShutdownMicroprocess::new().into(),
                };
                let _ = input.put_control(msg);
                input.close();
            }
        }
    }
}

// ----- answers -----

/// A function's or service's answer.
async fn call_answer(
    call: Call,
    body: BoxBody,
    max_body: u64,
    head_only: bool,
) -> Result<http::Response<ServiceBody>, Infallible> {
    let Call { name, body: sender, mut answer } = call;
    let mut pump = sender.map(|sender| Pump::new(body, Sink::Call(sender), max_body));
    let answered = std::future::poll_fn(|cx| {
        if let Some(pump) = pump.as_mut() {
            let _ = pump.poll(cx);
        }
        poll_answer(&mut answer, cx)
    })
    .await;
    match answered {
        Ok(response) => {
            if pump.as_ref().is_some_and(|p| p.too_large) {
                let why = BodyError::TooLarge { limit: max_body };
                return Ok(error_response(why.status(), &why.to_string()));
            }
            let Response { head, body } = response;
            Ok(to_response(head, ServiceBody { kind: BodyKind::Call { body, pump } }, head_only))
        }
        Err(exit) => {
            log::warn!("KamaeliaService: handler {name} {exit}");
            Ok(error_response(StatusCode::INTERNAL_SERVER_ERROR, &format!("The request handler {exit}.")))
        }
    }
}

fn poll_answer(answer: &mut Answer, cx: &mut Context<'_>) -> Poll<Result<Response, Exit>> {
    match catch_unwind(AssertUnwindSafe(|| answer.as_mut().poll(cx))) {
        Ok(Poll::Pending) => Poll::Pending,
        Ok(Poll::Ready(Ok(response))) => Poll::Ready(Ok(response)),
        Ok(Poll::Ready(Err(e))) => Poll::Ready(Err(Exit::Failed(e.to_string()))),
        Err(panic) => Poll::Ready(Err(Exit::Panicked(crate::request_handler::panic_text(&*panic)))),
    }
}

/// A component's answer: its head, and the rest as the body.
async fn component_answer(
    handle: Handle<Bytes, Resource>,
    body: BoxBody,
    max_body: u64,
    name: String,
    head_only: bool,
) -> Result<http::Response<ServiceBody>, Infallible> {
    let (mut input, mut output) = handle.split();
    let component = output.component().clone();
    let mut pump = if body.is_end_stream() {
        let _ = input.put_control(ProducerFinished::new());
        input.close();
        None
    } else {
        Some(Pump::new(body, Sink::Component(input), max_body))
    };
    let first = std::future::poll_fn(|cx| {
        if let Some(pump) = pump.as_mut() {
            let _ = pump.poll(cx);
        }
        if let Poll::Ready(msg) = output.poll_recv(cx) {
            return Poll::Ready(Some(msg));
        }
        // A signal with nothing sent before it: finished without a head.
        if let Poll::Ready(Some(_)) = output.poll_recv_signal(cx) {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await;
    if pump.as_ref().is_some_and(|p| p.too_large) {
        component.stop();
        let why = BodyError::TooLarge { limit: max_body };
        return Ok(error_response(why.status(), &why.to_string()));
    }
    match first {
        Some(Some(Resource::Head(head))) => {
            let body = ComponentBody { output, file: None, signalled: false, ended: false };
            Ok(to_response(head, ServiceBody { kind: BodyKind::Component { body, pump } }, head_only))
        }
        other => {
            let why = match (&other, component.exit()) {
                (Some(Some(_)), _) => "sent data before a head".to_owned(),
                (_, Some(exit)) if exit != Exit::Finished => exit.to_string(),
                _ => "ended without answering".to_owned(),
            };
            component.stop();
            log::warn!("KamaeliaService: handler {name} {why}");
            Ok(error_response(StatusCode::INTERNAL_SERVER_ERROR, &format!("The request handler {why}.")))
        }
    }
}

/// What is left of a component's answer.
struct ComponentBody {
    output: HandleOutput<Resource>,
    /// A file region being read, and the read under way.
    file: Option<FileRead>,
    /// It has signalled: what it sent before is taken, then the body ends.
    signalled: bool,
    ended: bool,
}

struct FileRead {
    /// What is left of the region after the piece being read.
    rest: Option<FileRegion>,
    reading: tokio::task::JoinHandle<std::io::Result<Bytes>>,
}

impl ComponentBody {
    fn poll_piece(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, BoxError>>> {
        loop {
            if let Some(read) = self.file.as_mut() {
                let piece = match std::task::ready!(Pin::new(&mut read.reading).poll(cx)) {
                    Ok(Ok(piece)) => piece,
                    Ok(Err(e)) => return self.fail(format!("cannot read a file it sent: {e}")),
                    Err(e) => return self.fail(format!("cannot read a file it sent: {e}")),
                };
                self.file = read.rest.take().map(FileRead::start);
                return Poll::Ready(Some(Ok(piece)));
            }
            if self.ended {
                return Poll::Ready(None);
            }
            let next = if self.signalled {
                match self.output.get() {
                    Ok(resource) => Some(resource),
                    Err(_) => {
                        self.ended = true;
                        continue;
                    }
                }
            } else {
                match self.output.poll_recv(cx) {
                    Poll::Ready(Some(resource)) => Some(resource),
                    Poll::Ready(None) => {
                        // It ended: finished, or failed mid-body.
                        self.ended = true;
                        return match self.output.component().exit() {
                            Some(exit) if exit.is_failure() => self.fail(exit.to_string()),
                            _ => Poll::Ready(None),
                        };
                    }
                    Poll::Pending => None,
                }
            };
            match next {
                Some(Resource::Data(data)) if data.is_empty() => {}
                Some(Resource::Data(data)) => return Poll::Ready(Some(Ok(data))),
                Some(Resource::File(region)) => {
                    if !region.is_empty() {
                        self.file = Some(FileRead::start(region));
                    }
                }
                Some(Resource::Head(_)) => {
                    log::warn!("KamaeliaService: {}: a second head; ignored", self.output.component());
                }
                None => match std::task::ready!(self.output.poll_recv_signal(cx)) {
                    // Complete: what it sent before its signal is queued already.
                    Some(Ipc::ProducerFinished(_)) | Some(Ipc::ShutdownMicroprocess(_)) | None => self.signalled = true,
                    Some(_) => {}
                },
            }
        }
    }

    fn fail(&mut self, why: String) -> Poll<Option<Result<Bytes, BoxError>>> {
        self.ended = true;
        self.file = None;
        Poll::Ready(Some(Err(why.into())))
    }
}

impl FileRead {
    fn start(region: FileRegion) -> Self {
        let mut piece = region.clone();
        piece.truncate(FILE_PIECE.min(region.len()));
        let mut rest = region;
        rest.advance(piece.len());
        let rest = if rest.is_empty() { None } else { Some(rest) };
        FileRead { rest, reading: tokio::task::spawn_blocking(move || piece.read_to_bytes()) }
    }
}

impl Drop for ComponentBody {
    /// The response was abandoned (or complete): a component still running is stopped.
    fn drop(&mut self) {
        let component = self.output.component();
        if !component.has_ended() {
            component.stop();
        }
    }
}

/// The body of a [`KamaeliaService`] response: what the handler sends after its head, as it
/// sends it.
pub struct ServiceBody {
    kind: BodyKind,
}

enum BodyKind {
    Call { body: ResponseBody, pump: Option<Pump> },
    Component { body: ComponentBody, pump: Option<Pump> },
}

impl fmt::Debug for ServiceBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceBody").finish_non_exhaustive()
    }
}

impl Body for ServiceBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let piece = match &mut self.kind {
            BodyKind::Call { body, pump } => {
                if let Some(p) = pump.as_mut() {
                    let _ = p.poll(cx);
                }
                match catch_unwind(AssertUnwindSafe(|| body.poll_piece(cx))) {
                    Ok(piece) => piece,
                    Err(_) => Poll::Ready(Some(Err("the handler's body panicked".into()))),
                }
            }
            BodyKind::Component { body, pump } => {
                if let Some(p) = pump.as_mut() {
                    let _ = p.poll(cx);
                }
                body.poll_piece(cx)
            }
        };
        piece.map(|piece| piece.map(|piece| piece.map(Frame::data)))
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            BodyKind::Call { body, .. } => body.size_hint(),
            BodyKind::Component { .. } => SizeHint::default(),
        }
    }
}
