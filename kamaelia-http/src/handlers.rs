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
/// | box       | carries    | what                                 |
/// |-----------|------------|--------------------------------------|
/// | `inbox`   | `Bytes`    | The request body: ignored            |
/// | `control` | `Ipc`      | Ignored                              |
/// | `outbox`  | `Resource` | The head, then the page              |
/// | `signal`  | `Ipc`      | `ProducerFinished` after the page    |
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
/// | box       | carries | what                              |
/// |-----------|---------|-----------------------------------|
/// | `inbox`   | `Bytes` | Ignored (a handler's request body) |
/// | `control` | `Ipc`   | Ignored                           |
/// | `outbox`  | `T`     | The value, once                   |
/// | `signal`  | `Ipc`   | `ProducerFinished` after it       |
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
/// | box       | carries    | what                                                   |
/// |-----------|------------|--------------------------------------------------------|
/// | `inbox`   | `T`        | What to show (rendered with `Display`)                 |
/// | `control` | `Ipc`      | `ProducerFinished`: show what is queued, close the page |
/// | `outbox`  | `Resource` | The head, then the page in pieces                      |
/// | `signal`  | `Ipc`      | `ProducerFinished` after the page                      |
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
/// The head goes out at once (with the request's length when it had one, so the echo is
/// `Content-Length`-framed; chunked otherwise), then each piece of the body as it arrives, so a
/// large body streams through in bounded memory.
///
/// | box       | carries    | what                                                  |
/// |-----------|------------|-------------------------------------------------------|
/// | `inbox`   | `Bytes`    | The request body, piece by piece                      |
/// | `control` | `Ipc`      | `ProducerFinished` when the body is complete           |
/// | `outbox`  | `Resource` | The head, then the body                               |
/// | `signal`  | `Ipc`      | `ProducerFinished` after the whole body                |
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
