//! [`HTTPServer`]: the HTTP protocol for one connection, a Graphline of a parser, a request
//! handler and the shutdown logic (Kamaelia's `Kamaelia.Protocol.HTTP.HTTPServer`), and
//! [`shared_factory`], which shares one `create_request_handler` between connections.
//!
//! The file is named for the type it holds: as in Kamaelia, `HTTPServer` is not a server but the
//! protocol a server chassis makes for each connection (`kamaelia_chassis::server`).

use std::sync::Arc;

use axon_core::Instance;
use kamaelia_chassis::socket::Payload;
use kamaelia_chassis::{graphline, ConnectionInfo, Graphline};

use crate::answered::Answered;
use crate::handler::Handler;
use crate::parser::HTTPParser;
use crate::request::Request;
use crate::request_handler::{CreateRequestHandler, HTTPRequestHandler};
use crate::resource::Bytes;
use crate::settings::HttpSettings;
use crate::shutdown::HTTPShutdownLogicHandling;

/// The HTTP protocol for one connection: a Graphline of `PARSER`, `HANDLER` and `CORELOGIC`
/// (Kamaelia's `HTTPServer(createRequestHandler)`).
///
/// As in Kamaelia, `HTTPServer` is not a server but a *protocol handler*: a server chassis
/// ([`ServerCore`] or [`SimpleServer`]) makes one per connection and wires it to that connection's
/// socket adapter. [`HTTPServer::for_connection`] is the form to use from a factory that is
/// given each connection's addresses (a `ServerCore`'s, or a `SimpleServer`'s taking a
/// `&ConnectionInfo`): every request then carries them ([`Request::peer`], [`Request::local`]).
/// [`HTTPServer::new`] is Kamaelia's form, from a factory told nothing (its requests carry no
/// address).
///
/// # Example
///
/// The cookbook's routes on a free port, and one request from a raw client (the full program,
/// with static files and a command line, is the package's binary, `src/main.rs`;
/// `examples/cookbook_echo.rs` is the cookbook page's third program):
///
/// ```
/// use axon_core::{Exit, Scheduler};
/// use kamaelia_chassis::ServerCore;
/// use kamaelia_http::{factory, request_handlers, EchoHandler, HTTPServer, HelloHandler};
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // Kamaelia: ServerCore(protocol=HTTPProtocol, port=...), where HTTPProtocol(**argd) returns
/// // HTTPServer(requestHandlers([["/echo", EchoHandler], ["/hello", HelloHandler]]), **argd)
/// let routes = request_handlers([("/echo", factory(EchoHandler::new)), ("/hello", factory(HelloHandler::new))]);
/// let server = ServerCore::new(move |connection| HTTPServer::for_connection(connection, routes.clone()), 0);
/// let server = server.bind().await?; // port 0: any free port
/// let (address, handle) = (server.local_addr(), server.handle());
/// let scheduler = Scheduler::new();
/// let running = scheduler.activate(server);
///
/// let mut client = tokio::net::TcpStream::connect(address).await?;
/// client.write_all(b"GET /echo?x=1 HTTP/1.1\r\nHost: example\r\nConnection: close\r\n\r\n").await?;
/// let mut response = String::new();
/// client.read_to_string(&mut response).await?; // `Connection: close`: the server closes
/// assert!(response.starts_with("HTTP/1.1 200 OK\r\n"));
/// // EchoHandler shows the request, which carries the client's address and port.
/// let me = client.local_addr()?;
/// assert!(response.contains(&format!("'peer': '{}', 'peerport': {}", me.ip(), me.port())));
///
/// handle.shutdown(); // no new connection; open ones are asked to finish
/// assert_eq!(running.join().await, Exit::Finished);
/// # Ok(()) }
/// ```
///
/// # How it works
///
/// It is this Graphline, built as Kamaelia's `HTTPServer()` builds it:
///
/// ```text
///            ┌──────────────────────────── HTTPServer (Graphline) ─────────────────────────────┐
/// bytes in ─▶│ inbox ─▶ PARSER ─(Parsed)─▶ HANDLER ─▶ outbox                                    │─▶ Payload out
///            │            ▲ │signal          ▲ │signal        HANDLER makes a handler component  │
///            │     Psignal│ ▼Pcontrol  Hsignal│ ▼Hcontrol      per request and links it to itself │
/// control ──▶│ control ─▶ CORELOGIC ─────────────────▶ signal                                    │─▶ signal
///            └──────────────────────────────────────────────────────────────────────────────────┘
/// ```
///
/// * `PARSER`, an [`HTTPParser`], turns the bytes from the client into requests ([`Parsed`](crate::Parsed): a
///   head, body pieces, an end), strictly and within the limits of its [`HttpSettings`]; with
///   [`for_connection`](Self::for_connection) it puts the connection's addresses on each request.
/// * `HANDLER`, an [`HTTPRequestHandler`], makes each request's handler with
///   `create_request_handler`, feeds it the body, and writes its answer (the resource protocol,
///   [`Resource`](crate::Resource)) to the client, framed, in the order the requests came.
/// * `CORELOGIC`, an [`HTTPShutdownLogicHandling`], passes the end of each part on to the next:
///   when the client stops sending, the parser finishes; when the parser has finished, the
///   request handler serves what is queued; when the request handler is done, `signal` tells the
///   socket adapter to flush and close.
///
/// Its linkages, grouped as in Kamaelia's source:
///
/// | from | to | what travels |
/// |---|---|---|
/// | **data** | | |
/// | `self.inbox` | `PARSER.inbox` | bytes from the client (a passthrough: they land in the parser's `inbox`) |
/// | `PARSER.outbox` | `HANDLER.inbox` | each request: head, body pieces, end (or abort) |
/// | `HANDLER.outbox` | `self.outbox` | the responses, framed, to the client (a passthrough) |
/// | **signalling** | | |
/// | `self.control` | `CORELOGIC.control` | from the socket side: `ProducerFinished` (the client stopped sending) or `ShutdownMicroprocess` (the server is stopping) |
/// | `CORELOGIC.Psignal` | `PARSER.control` | finish what is buffered, or stop |
/// | `CORELOGIC.Hsignal` | `HANDLER.control` | no more requests, or finish this response and stop |
/// | `CORELOGIC.signal` | `self.signal` | `ProducerFinished` when the connection should close |
/// | `PARSER.signal` | `CORELOGIC.Pcontrol` | `ProducerFinished` when the parser has stopped reading requests |
/// | `HANDLER.signal` | `CORELOGIC.Hcontrol` | `ProducerFinished` when the last response is complete |
///
/// Each request's handler is linked to `HANDLER`'s internal boxes (`_handlerinbox`,
/// `_handlercontrol`, `_handleroutbox`, `_handlersignal`), never to the Graphline's: see
/// [`HTTPRequestHandler`]. What leaves `outbox` is [`Payload`]: bytes, and the regions of files
/// that handlers send as [`Resource::File`](crate::Resource::File), which the connection's socket
/// adapter sends with `sendfile`.
///
/// # Inboxes
///
/// The Graphline's four standard boxes, each passed through to the child box named:
///
/// | box       | carries | what arrives                                                                   |
/// |-----------|---------|--------------------------------------------------------------------------------|
/// | `inbox`   | `Bytes` | bytes from the client; passed through to `PARSER.inbox` ("Bytes from the client") |
/// | `control` | `Ipc`   | from the socket side: `ProducerFinished` (input ended) or `ShutdownMicroprocess`; passed through to `CORELOGIC.control` |
///
/// # Outboxes
///
/// | box      | carries   | what leaves                                                                   |
/// |----------|-----------|-------------------------------------------------------------------------------|
/// | `outbox` | `Payload` | the responses, to the client; passed through from `HANDLER.outbox` ("The responses, to the client, and receipts to sign once what came before them is written") |
/// | `signal` | `Ipc`     | `ProducerFinished` when the connection should close; passed through from `CORELOGIC.signal` |
///
/// # Shutdown
///
/// The connection closes when the request handler is done: after the response to the last request
/// the client sent before it stopped sending (or asked to close, or a limit was reached), or at
/// once when the server stops. `CORELOGIC` then sends `ProducerFinished` out of `signal`, which the
/// server links to the socket adapter's `control`; every component of the Graphline ends, and so
/// does the Graphline. See [`HTTPShutdownLogicHandling`] for who tells whom.
///
/// # Porting from Kamaelia
///
/// | Kamaelia | here |
/// |---|---|
/// | `HTTPServer(createRequestHandler)` | [`HTTPServer::new`]`(create_request_handler)` |
/// | `HTTPServer(createRequestHandler, peer=, peerport=, localip=, localport=)`, from a `ServerCore` factory | [`HTTPServer::for_connection`]`(connection, create_request_handler)` |
/// | the class attributes `HTTPParser` reads for its limits | [`HTTPServer::with_settings`]`(connection, shared_factory(f), settings)` |
///
/// Under a `SimpleServer` Kamaelia's requests said `'peer': '*** UNDEFINED ***'`; here they carry
/// no address ([`Request::peer`] is `None`). `docs/porting.md` lists every difference in the
/// server's behaviour, with why.
///
/// [`ServerCore`]: kamaelia_chassis::ServerCore
/// [`SimpleServer`]: kamaelia_chassis::SimpleServer
#[derive(Debug, Clone, Copy)]
pub struct HTTPServer;

impl HTTPServer {
    /// The protocol for one connection, making each request's handler with
    /// `create_request_handler` (Kamaelia's `HTTPServer(createRequestHandler)`), with default
    /// [`HttpSettings`].
    ///
    /// Its requests carry no peer or local address ([`Request::peer`] and [`Request::local`] are
    /// `None`), as under Kamaelia's `SimpleServer`: use [`for_connection`](Self::for_connection)
    /// for them.
    #[allow(clippy::new_ret_no_self)] // Kamaelia's HTTPServer(...) returns a Graphline too
    pub fn new<F, H>(create_request_handler: F) -> Instance<Graphline<Bytes, Payload>>
    where
        F: Fn(Request) -> H + Send + Sync + 'static,
        H: Into<Handler>,
    {
        HTTPServer::graphline(None, shared_factory(create_request_handler), Arc::new(HttpSettings::default()))
    }

    /// The protocol for `connection`, as [`new`](Self::new), with the connection's peer and local
    /// addresses on every request (Kamaelia's `HTTPServer(createRequestHandler, **argd)`, called
    /// by `ServerCore` with `peer`, `peerport`, `localip` and `localport`).
    ///
    /// ```no_run
    /// use kamaelia_chassis::ServerCore;
    /// use kamaelia_http::{factory, request_handlers, HTTPServer, HelloHandler};
    ///
    /// let server = ServerCore::new(
    ///     |connection| {
    ///         HTTPServer::for_connection(connection, request_handlers([("/hello", factory(HelloHandler::new))]))
    ///     },
    ///     8082,
    /// );
    /// axon_core::Instance::new(server).run().unwrap();
    /// ```
    pub fn for_connection<F, H>(
        connection: &ConnectionInfo,
        create_request_handler: F,
    ) -> Instance<Graphline<Bytes, Payload>>
    where
        F: Fn(Request) -> H + Send + Sync + 'static,
        H: Into<Handler>,
    {
        HTTPServer::with_settings(connection, shared_factory(create_request_handler), Arc::new(HttpSettings::default()))
    }

    /// As [`for_connection`](Self::for_connection), with a factory already shared (made once,
    /// used by every connection) and `settings`.
    pub fn with_settings(
        connection: &ConnectionInfo,
        create: CreateRequestHandler,
        settings: Arc<HttpSettings>,
    ) -> Instance<Graphline<Bytes, Payload>> {
        HTTPServer::graphline(Some(connection), create, settings)
    }

    /// The Graphline itself, with `connection`'s addresses on every request if it is known.
    fn graphline(
        connection: Option<&ConnectionInfo>,
        create: CreateRequestHandler,
        settings: Arc<HttpSettings>,
    ) -> Instance<Graphline<Bytes, Payload>> {
        // The parser times the keep-alive wait from the end of each response, which the request
        // handler knows.
        let answered = Answered::new();
        let parser =
            HTTPParser::with_shared_settings(settings.clone(), connection.map(|c| c.peer), connection.map(|c| c.local))
                .timing_by(answered.clone());
        let built = graphline! {
            PARSER = parser,
            HANDLER = HTTPRequestHandler::new(create, settings).answering_in(answered),
            CORELOGIC = HTTPShutdownLogicHandling,
            linkages = {
                // data
                ("self", "inbox"): ("PARSER", "inbox"),
                ("PARSER", "outbox"): ("HANDLER", "inbox"),
                ("HANDLER", "outbox"): ("self", "outbox"),
                // signalling
                ("self", "control"): ("CORELOGIC", "control"),
                ("CORELOGIC", "Psignal"): ("PARSER", "control"),
                ("CORELOGIC", "Hsignal"): ("HANDLER", "control"),
                ("CORELOGIC", "signal"): ("self", "signal"),
                ("PARSER", "signal"): ("CORELOGIC", "Pcontrol"),
                ("HANDLER", "signal"): ("CORELOGIC", "Hcontrol"),
            }
        };
        // The declaration is fixed and checked by this crate's tests; it cannot fail.
        built.unwrap_or_else(|e| panic!("HTTPServer's Graphline is miswired: {e}"))
    }
}

/// Shares a factory between connections: the [`CreateRequestHandler`] that
/// [`HTTPServer::with_settings`] takes.
pub fn shared_factory<F, H>(create_request_handler: F) -> CreateRequestHandler
where
    F: Fn(Request) -> H + Send + Sync + 'static,
    H: Into<Handler>,
{
    Arc::new(move |request| create_request_handler(request).into())
}

/// What a full server answers a client it refuses
/// ([`WhenFull::Refuse`](kamaelia_chassis::WhenFull::Refuse)): `503 Service Unavailable` with
/// `Retry-After` (whole seconds, at least 1), a short page saying why, and `Connection: close`.
/// Made once, when the server is set up: no `Date` (RFC 9110 §6.6.1 does not ask it of a 5xx).
///
/// ```
/// use std::time::Duration;
/// use kamaelia_chassis::{ServerSettings, WhenFull};
/// use kamaelia_http::http_server::busy_response;
///
/// let settings = ServerSettings {
///     max_connections: 256,
///     when_full: WhenFull::Refuse(busy_response(Duration::from_secs(2))),
///     ..ServerSettings::default()
/// };
/// let WhenFull::Refuse(answer) = &settings.when_full else { unreachable!() };
/// assert!(answer.starts_with(b"HTTP/1.1 503 Service Unavailable\r\n"));
/// assert!(std::str::from_utf8(answer).unwrap().contains("\r\nRetry-After: 2\r\n"));
/// ```
pub fn busy_response(retry_after: std::time::Duration) -> Bytes {
    let seconds = retry_after.as_secs().max(1);
    let (head, body) = crate::error_pages::get_error_page(
        http::StatusCode::SERVICE_UNAVAILABLE,
        &format!("The server is serving as many clients as it can; try again in {seconds} s."),
    );
    let mut answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\nServer: {}\r\nRetry-After: {seconds}\r\nConnection: close\r\nContent-Length: {}\r\n",
        crate::settings::DEFAULT_SERVER_NAME,
        body.len()
    );
    for (name, value) in &head.headers {
        if let Ok(value) = value.to_str() {
            answer.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    answer.push_str("\r\n");
    let mut bytes = answer.into_bytes();
    bytes.extend_from_slice(&body);
    Bytes::from(bytes)
}
