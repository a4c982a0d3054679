//! The cookbook's handlers: [`HelloHandler`], [`Cat`], [`ExampleWrapper`], [`EchoHandler`], and
//! [`BodyEcho`], the cookbook way to write a handler that reads its `inbox`.
//!
//! Each is a component answering with the resource protocol ([`Resource`]): a head, data, then
//! `ProducerFinished` on `signal`. The cookbook's warning that a handler "MUST yield after every
//! message" does not apply: boxes are bounded queues, and `send(..).await` waits for room.

use std::fmt::Display;

use axon_core::ipc::ProducerFinished;
use axon_core::{BoxKind, Component, ComponentResult, Context, Declarations, Event};
use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::StatusCode;
use kamaelia_chassis::Pipeline;

use crate::error_pages::escape_text;
use crate::request::{BodyLength, Request};
use crate::resource::{Resource, ResponseHead};

/// The page [`HelloHandler`] sends.
pub const HELLO_PAGE: &str = "<html><body><h1>Hello World</h1><P>Woo!!</body></html>";

/// Says hello (the cookbook's `HelloHandler`): a `text/html` 200 head, [`HELLO_PAGE`], then
/// `ProducerFinished`.
///
/// # Example
///
/// The cookbook's route for it, and what it sends (driven by hand, as a test would):
///
/// ```
/// use axon_core::{Handle, Scheduler};
/// use kamaelia_http::handlers::HELLO_PAGE;
/// use kamaelia_http::{factory, request_handlers, HelloHandler, Method, Request, Resource, StatusCode};
///
/// let routes = request_handlers([("/hello", factory(HelloHandler::new))]);
/// # let _ = routes;
/// let scheduler = Scheduler::new();
/// let mut hello = Handle::new(HelloHandler::new(Request::new(Method::GET, "/hello")), &scheduler);
/// let Some(Resource::Head(head)) = hello.recv_blocking() else { panic!("a head") };
/// assert_eq!((head.status, head.length), (StatusCode::OK, None));
/// assert_eq!(hello.recv_blocking(), Some(Resource::Data(HELLO_PAGE.into())));
/// assert_eq!(hello.recv_blocking(), None);
/// ```
///
/// # How it works
///
/// It sends its head (no length: the server frames the page as chunked, or closes after it on
/// HTTP/1.0), the page, and `ProducerFinished`, then ends, without looking at its inboxes. It
/// needs only the standard four boxes, so a server runs it in the connection's handler host
/// (see [`Handler`](crate::Handler)) rather than making a component of it for each request.
///
/// # Inboxes
///
/// | box       | carries    | what arrives                                         |
/// |-----------|------------|------------------------------------------------------|
/// | `inbox`   | `Bytes`    | The request body: ignored                            |
/// | `control` | `Ipc`      | `ProducerFinished` when the request body is complete |
///
/// # Outboxes
///
/// | box      | carries    | what leaves                                       |
/// |----------|------------|---------------------------------------------------|
/// | `outbox` | `Resource` | The head, then the page                           |
/// | `signal` | `Ipc`      | `ProducerFinished` when the response is complete  |
#[derive(Debug, Clone)]
pub struct HelloHandler {
    /// The request it answers (kept, as in the cookbook, though the page does not use it).
    pub request: Request,
}

impl HelloHandler {
    /// The handler for `request` (the cookbook's `HelloHandler(request)`).
    pub fn new(request: Request) -> Self {
        HelloHandler { request }
    }
}

impl Component for HelloHandler {
    type Inbox = Bytes;
    type Outbox = Resource;

    fn declare(&self, boxes: &mut Declarations) {
        describe(boxes, "The request body: ignored", "The head, then the page");
    }

    async fn main(self, mut ctx: Context<Bytes, Resource>) -> ComponentResult {
        let resource = ResponseHead::new(StatusCode::OK).content_type("text/html");
        ctx.outbox.send(resource.into()).await;
        ctx.outbox.send(HELLO_PAGE.into()).await;
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

/// Sends the value it was made with, then `ProducerFinished` (the cookbook's `Cat`): the way to
/// start a Pipeline with a value, such as the request.
///
/// # Example
///
/// ```
/// use axon_core::{Handle, Scheduler};
/// use kamaelia_http::Cat;
///
/// let scheduler = Scheduler::new();
/// let mut cat = Handle::new(Cat::new("the value"), &scheduler);
/// assert_eq!(cat.recv_blocking(), Some("the value"));
/// assert_eq!(cat.recv_blocking(), None);
/// ```
///
/// # How it works
///
/// It sends its value out of `outbox`, then `ProducerFinished` out of `signal`, and ends. Its
/// `inbox` carries `Bytes` so that, first in a [`Pipeline`], it takes a handler's request body
/// (and ignores it), as in [`EchoHandler`].
///
/// # Inboxes
///
/// | box       | carries | what arrives |
/// |-----------|---------|--------------|
/// | `inbox`   | `Bytes` | Ignored      |
/// | `control` | `Ipc`   | Ignored      |
///
/// # Outboxes
///
/// | box      | carries | what leaves                 |
/// |----------|---------|-----------------------------|
/// | `outbox` | `T`     | The value, once             |
/// | `signal` | `Ipc`   | `ProducerFinished` after it |
#[derive(Debug, Clone)]
pub struct Cat<T> {
    /// What it sends.
    pub value: T,
}

impl<T> Cat<T> {
    /// A `Cat` of `value` (the cookbook's `Cat(request)`).
    pub fn new(value: T) -> Self {
        Cat { value }
    }
}

impl<T: Send + 'static> Component for Cat<T> {
    type Inbox = Bytes;
    type Outbox = T;

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .describe(BoxKind::Inbox, "inbox", "Ignored")
            .describe(BoxKind::Inbox, "control", "Ignored")
            .describe(BoxKind::Outbox, "outbox", "The value, once")
            .describe(BoxKind::Outbox, "signal", "ProducerFinished after it");
    }

    async fn main(self, mut ctx: Context<Bytes, T>) -> ComponentResult {
        ctx.outbox.send(self.value).await;
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

/// Wraps what it receives in an HTML page (the cookbook's `ExampleWrapper`): a `text/html` 200
/// head, `<html><body>`, each message shown as text (HTML-escaped), `</body></html>`.
///
/// # Example
///
/// ```
/// use axon_core::ipc::ProducerFinished;
/// use axon_core::{Handle, Scheduler};
/// use kamaelia_http::{Bytes, ExampleWrapper, Resource};
///
/// let scheduler = Scheduler::new();
/// let mut page = Handle::new(ExampleWrapper::<String>::new(), &scheduler);
/// page.send_blocking("<b>shown</b>".to_owned());
/// page.send_control_blocking(ProducerFinished::new());
/// let mut html = Vec::new();
/// while let Some(piece) = page.recv_blocking() {
///     if let Resource::Data(bytes) = piece {
///         html.extend_from_slice(&bytes);
///     }
/// }
/// assert_eq!(html, b"<html><body>&lt;b&gt;shown&lt;/b&gt;</body></html>");
/// ```
///
/// # How it works
///
/// It sends the head and `<html><body>` at once, then each message that reaches `inbox`,
/// rendered with `Display` and escaped, as one piece of the page. When its producer finishes
/// (`ProducerFinished` on `control`, which comes after everything the producer sent), it closes
/// the page, sends `ProducerFinished` and ends.
///
/// # Inboxes
///
/// | box       | carries | what arrives                                             |
/// |-----------|---------|----------------------------------------------------------|
/// | `inbox`   | `T`     | What to show (rendered with `Display`)                   |
/// | `control` | `Ipc`   | `ProducerFinished`: show what is queued, close the page |
///
/// # Outboxes
///
/// | box      | carries    | what leaves                        |
/// |----------|------------|------------------------------------|
/// | `outbox` | `Resource` | The head, then the page in pieces  |
/// | `signal` | `Ipc`      | `ProducerFinished` after the page  |
///
/// Differences from the cookbook, on purpose: what it shows is escaped (the cookbook's put the
/// request, with whatever the client sent, into the page raw); it shows every message until its
/// producer finishes (the cookbook's showed only those that had arrived when it first looked).
#[derive(Debug, Clone, Copy, Default)]
pub struct ExampleWrapper<T> {
    _shows: std::marker::PhantomData<fn(T)>,
}

impl<T> ExampleWrapper<T> {
    /// A wrapper (the cookbook's `ExampleWrapper()`).
    pub fn new() -> Self {
        ExampleWrapper { _shows: std::marker::PhantomData }
    }
}

impl<T: Display + Send + 'static> Component for ExampleWrapper<T> {
    type Inbox = T;
    type Outbox = Resource;

    fn declare(&self, boxes: &mut Declarations) {
        boxes
            .describe(BoxKind::Inbox, "inbox", "What to show (rendered with Display)")
            .describe(BoxKind::Inbox, "control", "ProducerFinished: show what is queued, close the page")
            .describe(BoxKind::Outbox, "outbox", "The head, then the page in pieces")
            .describe(BoxKind::Outbox, "signal", "ProducerFinished after the page");
    }

    async fn main(self, mut ctx: Context<T, Resource>) -> ComponentResult {
        // Tell the browser the type of data we're sending!
        let resource = ResponseHead::new(StatusCode::OK).content_type("text/html; charset=utf-8");
        ctx.outbox.send(resource.into()).await;
        ctx.outbox.send("<html><body>".into()).await;
        // Send the data we receive as the page body, until our producer has finished.
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(shown) => ctx.outbox.send(escape_text(&shown.to_string()).into()).await,
                // The producer has finished: what it sent came before this.
                Event::Control(_) => break,
            }
        }
        ctx.outbox.send("</body></html>".into()).await;
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

/// Shows the request in a page (the cookbook's `EchoHandler`): `Pipeline(Cat(request),
/// ExampleWrapper())`.
///
/// # Example
///
/// ```
/// use axon_core::{Handle, Scheduler};
/// use kamaelia_http::{EchoHandler, Method, Request, Resource};
///
/// let scheduler = Scheduler::new();
/// let mut echo = Handle::new(EchoHandler::new(Request::new(Method::GET, "/echo?x=1")), &scheduler);
/// let mut html = Vec::new();
/// while let Some(piece) = echo.recv_blocking() {
///     if let Resource::Data(bytes) = piece {
///         html.extend_from_slice(&bytes);
///     }
/// }
/// let html = String::from_utf8(html).unwrap();
/// assert!(html.starts_with("<html><body>") && html.contains("/echo?x=1"), "{html}");
/// ```
///
/// # How it works
///
/// `EchoHandler::new` is a prefab: it returns the [`Pipeline`] of a [`Cat`] of the request and an
/// [`ExampleWrapper`], whose boxes the Pipeline exposes. The `Cat` sends the request and
/// finishes; the wrapper shows it (as Kamaelia's request dictionary, escaped) and finishes in turn, and the
/// Pipeline ends when both have. Its two children stay behind in whatever runs it, so a
/// connection's handler host that runs it ends after it, and the next request gets a new one
/// (see [`Handler`](crate::Handler)).
///
/// # Inboxes
///
/// | box       | carries | what arrives |
/// |-----------|---------|--------------|
/// | `inbox`   | `Bytes` | Passed through to the first child's `inbox` |
/// | `control` | `Ipc`   | Passed through to the first child's `control` |
///
/// # Outboxes
///
/// | box      | carries    | what leaves |
/// |----------|------------|-------------|
/// | `outbox` | `Resource` | What the last child sends from its `outbox` (unused if circular) |
/// | `signal` | `Ipc`      | What the last child sends from its `signal` (unused if circular) |
#[derive(Debug, Clone, Copy)]
pub struct EchoHandler;

impl EchoHandler {
    /// The handler for `request`: `Pipeline::new(Cat::new(request)).then(ExampleWrapper::new())`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(request: Request) -> Pipeline<Bytes, Resource> {
        Pipeline::new(Cat::new(request)).then(ExampleWrapper::new())
    }
}

/// Sends the request body back, with the request's `Content-Type`, whatever the method: the
/// cookbook way to write a handler that reads its `inbox`.
///
/// # Example
///
/// ```
/// use axon_core::ipc::ProducerFinished;
/// use axon_core::{Handle, Scheduler};
/// use kamaelia_http::{BodyEcho, BodyLength, Bytes, Method, Request, Resource};
///
/// let mut request = Request::new(Method::POST, "/echo");
/// request.body = BodyLength::Known(5);
/// let scheduler = Scheduler::new();
/// let mut echo = Handle::new(BodyEcho::new(request), &scheduler);
/// echo.send_blocking(Bytes::from_static(b"hel"));
/// echo.send_blocking(Bytes::from_static(b"lo"));
/// echo.send_control_blocking(ProducerFinished::new());
/// let Some(Resource::Head(head)) = echo.recv_blocking() else { panic!("a head") };
/// assert_eq!(head.length, Some(5));
/// assert_eq!(echo.recv_blocking(), Some(Resource::Data(Bytes::from_static(b"hel"))));
/// assert_eq!(echo.recv_blocking(), Some(Resource::Data(Bytes::from_static(b"lo"))));
/// assert_eq!(echo.recv_blocking(), None);
/// ```
///
/// # How it works
///
/// The head goes out at once (with the request's length when it had one, so the echo is
/// `Content-Length`-framed; chunked otherwise), then each piece of the body as it arrives, so a
/// large body streams through in bounded memory. The `ProducerFinished` that ends the body comes
/// after its last piece: it is passed on, and the handler ends.
///
/// # Inboxes
///
/// | box       | carries    | what arrives                                         |
/// |-----------|------------|------------------------------------------------------|
/// | `inbox`   | `Bytes`    | The request body, piece by piece                     |
/// | `control` | `Ipc`      | `ProducerFinished` when the request body is complete |
///
/// # Outboxes
///
/// | box      | carries    | what leaves                                      |
/// |----------|------------|--------------------------------------------------|
/// | `outbox` | `Resource` | The head, then the body                          |
/// | `signal` | `Ipc`      | `ProducerFinished` when the response is complete |
#[derive(Debug, Clone)]
pub struct BodyEcho {
    /// The request whose body it echoes.
    pub request: Request,
}

impl BodyEcho {
    /// The handler for `request`.
    pub fn new(request: Request) -> Self {
        BodyEcho { request }
    }
}

impl Component for BodyEcho {
    type Inbox = Bytes;
    type Outbox = Resource;

    fn declare(&self, boxes: &mut Declarations) {
        describe(boxes, "The request body, piece by piece", "The head, then the body");
    }

    async fn main(self, mut ctx: Context<Bytes, Resource>) -> ComponentResult {
        let content_type = self
            .request
            .headers
            .get(CONTENT_TYPE)
            .cloned()
            .unwrap_or_else(|| HeaderValue::from_static("application/octet-stream"));
        let mut head = ResponseHead::new(StatusCode::OK).header(CONTENT_TYPE, content_type);
        match self.request.body {
            BodyLength::Known(n) => head = head.length(n),
            BodyLength::Empty => head = head.length(0),
            BodyLength::Chunked => {}
        }
        ctx.outbox.send(head.into()).await;
        while let Some(event) = ctx.next_event().await {
            match event {
                Event::Data(piece) => ctx.outbox.send(Resource::Data(piece)).await,
                // The body is complete (every piece came before this).
                Event::Control(_) => break,
            }
        }
        ctx.signal.send(ProducerFinished::from(ctx.id()).into()).await;
        Ok(())
    }
}

fn describe(boxes: &mut Declarations, inbox: &'static str, outbox: &'static str) {
    boxes
        .describe(BoxKind::Inbox, "inbox", inbox)
        .describe(BoxKind::Inbox, "control", "ProducerFinished when the request body is complete")
        .describe(BoxKind::Outbox, "outbox", outbox)
        .describe(BoxKind::Outbox, "signal", "ProducerFinished when the response is complete");
}
