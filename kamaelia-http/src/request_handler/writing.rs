//! Writing one response: what the handler sends (or the server in its place), framed, into a
//! buffer that goes to the socket in as few messages as it can.

use axon_core::Context;
use bytes::{BufMut, BytesMut};
use http::StatusCode;
use kamaelia_chassis::socket::Payload;

use super::behind::{client_gone, Behind};
use super::log_line::RequestLine;
use crate::encode::{chunk_head, write_head, Framing, LAST_CHUNK};
use crate::error_pages::get_error_page;
use crate::parser::Parsed;
use crate::resource::{Resource, ResponseHead};

/// Bytes gathered before they are passed to the socket in one message: small messages from a
/// handler (a head, a short page, a chunk terminator) go out in one write.
pub(super) const COALESCE_LIMIT: usize = 16 * 1024;

/// Body pieces at least this large are passed on as they are, not copied into the write buffer.
const COPY_LIMIT: usize = 4 * 1024;

/// The room made in the write buffer for each response: a head and a small body.
const OUT_ROOM: usize = 2 * 1024;

/// What may be written next (hyper's `Writing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Writing {
    /// The head: nothing has been written for this response yet.
    Head,
    /// Body bytes, framed so: the head has been written.
    Body(Framing),
    /// Nothing that would complete the response properly: its body was cut at its length, came
    /// up short, or broke off after the head. The connection closes after it.
    Broken(Framing),
}

/// Whose messages make the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Answering {
    /// The handler's.
    Handler,
    /// The server's, in the handler's place (an error page, or a response it gave up): what the
    /// handler sends is dropped.
    Server,
}

/// What the connection does after the response (hyper's `KA`, for one response).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum After {
    /// Take the next request.
    KeepAlive,
    /// Close the connection.
    Close,
}

/// One response, as it is written.
pub(super) struct Response<'a> {
    /// The request it answers, for the framing and the log.
    pub(super) line: RequestLine,
    pub(super) writing: Writing,
    pub(super) answering: Answering,
    pub(super) after: After,
    /// The status sent (500 until a head is written).
    pub(super) status: StatusCode,
    /// Body bytes sent (before framing).
    pub(super) sent: u64,
    /// The `Server` field's value.
    server_name: &'a str,
    /// What is written and not yet passed to the socket.
    out: BytesMut,
    /// Large body pieces and file regions to send as they are, each with its position in `out`.
    large: Vec<(usize, Payload)>,
}

impl<'a> Response<'a> {
    /// A response to `line`, written into `out` (the connection's buffer, kept from one response
    /// to the next); `after` says whether the connection may stay open.
    #[inline]
    pub(super) fn new(line: RequestLine, after: After, server_name: &'a str, mut out: BytesMut) -> Self {
        // Room for a small response's head and body (reclaiming the buffer's memory if the
        // socket adapter has let go of the last response).
        out.reserve(OUT_ROOM);
        Response {
            line,
            writing: Writing::Head,
            answering: Answering::Handler,
            after,
            status: StatusCode::INTERNAL_SERVER_ERROR,
            sent: 0,
            server_name,
            out,
            large: Vec::new(),
        }
    }

    /// The write buffer, given back to the connection for the next response.
    pub(super) fn take_buffer(&mut self) -> BytesMut {
        std::mem::take(&mut self.out)
    }

    /// Whether a head has been written.
    pub(super) fn has_head(&self) -> bool {
        self.writing != Writing::Head
    }

    /// Whether the head written says that no body follows (HEAD, 1xx, 204, 304).
    pub(super) fn takes_no_body(&self) -> bool {
        matches!(self.writing, Writing::Body(Framing::None(_)))
    }

    /// Whether little enough is waiting that the handler may be given a turn to add to it
    /// before it goes (see `Exchange::gather`).
    pub(super) fn has_room_to_gather(&self) -> bool {
        self.has_head() && self.large.is_empty() && self.out.len() < COALESCE_LIMIT
    }

    /// Whether more of the handler's messages may be gathered into this write.
    pub(super) fn below_coalesce_limit(&self) -> bool {
        self.out.len() < COALESCE_LIMIT
    }

    /// Writes what a handler sent.
    #[inline]
    pub(super) fn on_resource(&mut self, res: Resource) {
        if self.answering == Answering::Server {
            return;
        }
        match res {
            Resource::Head(head) => {
                if self.has_head() {
                    // The first head is written: too late for an error page. What was sent
                    // stands, the rest is dropped, and the connection closes after it.
                    let line = &self.line;
                    log::warn!(
                        "{} {}: the handler sent a second head; breaking the response off",
                        line.method,
                        line.target
                    );
                    self.fail(StatusCode::INTERNAL_SERVER_ERROR, "The request handler sent a second head.");
                    return;
                }
                self.start(&head);
            }
            Resource::Data(data) => self.on_body(Payload::Bytes(data)),
            Resource::File(region) => self.on_body(Payload::File(region)),
        }
    }

    fn on_body(&mut self, piece: Payload) {
        match self.writing {
            Writing::Head => {
                log::warn!("{} {}: the handler sent data before a head", self.line.method, self.line.target);
                self.fail(StatusCode::INTERNAL_SERVER_ERROR, "The request handler sent data before a head.");
            }
            Writing::Body(framing) | Writing::Broken(framing) => self.write_data(framing, piece),
        }
    }

    /// Writes the head, with the framing it and the request call for.
    fn start(&mut self, head: &ResponseHead) {
        let framing = Framing::choose(&self.line.method, self.line.version, head);
        if framing.needs_close() {
            self.after = After::Close;
        }
        self.status = head.status;
        self.writing = Writing::Body(framing);
        let keep_alive = self.after == After::KeepAlive;
        write_head(&mut self.out, head, framing, self.line.version, keep_alive, self.server_name);
    }

    /// Answers with an error page if nothing was written yet; otherwise breaks the response. From
    /// then on the server answers: the handler's messages are dropped.
    pub(super) fn fail(&mut self, status: StatusCode, message: &str) {
        if self.answering == Answering::Server {
            return;
        }
        self.answering = Answering::Server;
        match self.writing {
            Writing::Head => {
                self.after = After::Close;
                let (head, body) = get_error_page(status, message);
                self.start(&head);
                if let Writing::Body(framing) = self.writing {
                    self.write_data(framing, Payload::Bytes(body));
                }
            }
            Writing::Body(framing) | Writing::Broken(framing) => self.writing = Writing::Broken(framing),
        }
    }

    /// The request broke off (`why`): its error page if nothing was written yet, else the
    /// response is broken; the connection closes after it.
    pub(super) fn abort(&mut self, status: StatusCode, message: &str) {
        self.after = After::Close;
        match self.writing {
            Writing::Head => self.fail(status, message),
            Writing::Body(framing) | Writing::Broken(framing) => self.writing = Writing::Broken(framing),
        }
    }

    fn write_data(&mut self, framing: Framing, mut data: Payload) {
        if data.is_empty() {
            return;
        }
        match framing {
            Framing::None(_) => {}
            Framing::Length(n) => {
                let room = n.saturating_sub(self.sent);
                if data.len() > room {
                    let line = &self.line;
                    log::warn!(
                        "{} {}: the handler sent more than the {n} bytes it announced; cut",
                        line.method,
                        line.target
                    );
                    self.writing = Writing::Broken(framing);
                    data.truncate(room);
                }
                self.sent += data.len();
                self.put(data);
            }
            Framing::Chunked => {
                self.sent += data.len();
                chunk_head(&mut self.out, data.len());
                self.put(data);
                self.out.put_slice(b"\r\n");
            }
            Framing::Close => {
                self.sent += data.len();
                self.put(data);
            }
        }
    }

    /// Appends `data` to the write buffer if it is small bytes, or queues it whole (a large piece,
    /// a file region).
    fn put(&mut self, data: Payload) {
        match data {
            Payload::Bytes(bytes) if bytes.len() < COPY_LIMIT => self.out.put_slice(&bytes),
            // (An empty piece, as a cut one may be, is skipped by the adapter.)
            other => self.large.push((self.out.len(), other)),
        }
    }

    /// Ends the body as its framing requires.
    pub(super) fn finish_body(&mut self) {
        match self.writing {
            Writing::Body(Framing::Chunked) => self.out.put_slice(LAST_CHUNK),
            Writing::Body(Framing::Length(n)) | Writing::Broken(Framing::Length(n)) if self.sent < n => {
                let line = &self.line;
                log::warn!(
                    "{} {}: the handler sent {} of the {n} bytes it announced; closing",
                    line.method,
                    line.target,
                    self.sent
                );
                self.writing = Writing::Broken(Framing::Length(n));
            }
            Writing::Body(Framing::Close) | Writing::Broken(Framing::Close) => self.after = After::Close,
            _ => {}
        }
    }

    /// Whether the connection can take another request after this response.
    pub(super) fn keeps_alive(&self) -> bool {
        self.after == After::KeepAlive && !matches!(self.writing, Writing::Broken(_))
    }

    /// Passes what is buffered to the socket, noting it in `behind` (and waiting there, if its
    /// rules say so, until it is written); false if the client has gone.
    pub(super) async fn flush(&mut self, ctx: &mut Context<Parsed, Payload>, behind: &mut Behind) -> bool {
        let mut consumed = 0;
        for (at, data) in std::mem::take(&mut self.large) {
            if at > consumed {
                let piece = Payload::Bytes(self.out.split_to(at - consumed).freeze());
                consumed = at;
                behind.note(&piece);
                ctx.outbox.send(piece).await;
            }
            behind.note(&data);
            ctx.outbox.send(data).await;
        }
        if !self.out.is_empty() {
            let rest = Payload::Bytes(self.out.split().freeze());
            behind.note(&rest);
            ctx.outbox.send(rest).await;
        }
        !client_gone(ctx) && behind.settle(ctx).await
    }

    /// Writes the access line.
    pub(super) fn access_log(&self) {
        self.line.access_log(self.status, self.sent);
    }
}
