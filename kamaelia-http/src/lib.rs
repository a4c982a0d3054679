//! Kamaelia's HTTP server, on components: [`HTTPServer`] is the protocol for one connection, a
//! Graphline of a parser, a request handler and the shutdown logic; request handlers are
//! components made per request, answering with the resource protocol ([`Resource`]).
//!
//! The Kamaelia HTTPServer cookbook's third program, whole (`examples/cookbook_echo.rs` is the
//! same with the handlers written out; `src/main.rs` adds a command line):
//!
//! ```no_run
//! use kamaelia_chassis::{SimpleServer, SocketOptions};
//! use kamaelia_http::{factory, request_handlers, EchoHandler, HTTPServer, HelloHandler, Minimal, Request};
//!
//! // This factory allows us to configure the minimal request handler.
//! fn serve_page(request: Request) -> Minimal {
//!     Minimal::new(request, "/srv/www/htdocs", "index.html")
//! }
//!
//! // A factory to create configured HTTPServer components - ie HTTP Protocol handling components
//! fn http_protocol() -> axon_core::Instance<kamaelia_chassis::Graphline<kamaelia_http::Bytes, kamaelia_http::Payload>> {
//!     HTTPServer::new(request_handlers([
//!         ("/echo", factory(EchoHandler::new)),
//!         ("/hello", factory(HelloHandler::new)),
//!         ("/", factory(serve_page)),
//!     ]))
//! }
//!
//! // Finally we create the actual server and run it.
//! let server = SimpleServer {
//!     protocol: http_protocol,
//!     port: 8082,
//!     socket_options: SocketOptions { reuse_address: true, ..SocketOptions::default() },
//!     settings: Default::default(),
//! };
//! axon_core::Instance::new(server).run().unwrap();
//! ```
//!
//! A handler is any component with a [`Bytes`] `inbox` (the request body) and a [`Resource`]
//! `outbox`: it sends a [`ResponseHead`], then data, then `ProducerFinished` on `signal`. It can
//! also be an `async fn(Request) -> Response` or a tower service (an axum `Router`): see
//! [`function`] and [`routes`]. The
//! server picks the framing, keeps connections alive, answers pipelined requests in order, and
//! turns a handler that panics or does not answer into a 500.
//!
//! # Layout
//!
//! * [`http_server`]: [`HTTPServer`], the per-connection Graphline, and its wiring diagram.
//! * [`parser`]: [`HTTPParser`], bytes to [`Parsed`] requests; strict syntax, limits, timeouts.
//!   The connection's state machine is in `parser/mod.rs`, reading a head in `parser/head.rs`.
//! * [`request_handler`]: [`HTTPRequestHandler`], one handler per request, responses on the wire:
//!   one request and its response (`exchange.rs`), writing the response (`writing.rs`), how each
//!   handler runs (`hosting.rs`, the only user of the core's
//!   [`ChildHost`](axon_core::host::ChildHost)), the access log (`log_line.rs`).
//! * `decode` and `encode` (crate-private): a request body's framing in, a response's out.
//! * [`shutdown`]: [`HTTPShutdownLogicHandling`], who tells whom that the connection ends.
//! * [`request`]: [`Request`], Kamaelia's request dictionary, typed.
//! * [`resource`]: the resource protocol ([`Resource`], [`ResponseHead`]) and [`Handler`].
//! * [`function`]: handlers that are called, not made: an `async fn` ([`Response`],
//!   [`ResponseBody`]) or a tower service, run inside the request handler
//!   (`request_handler/calling.rs`); [`body`]: the [`RequestBody`] they read as it arrives.
//! * [`service`]: the other way round, [`KamaeliaService`]: a factory, a prefix list or a whole
//!   [`Routes`] as a tower service, for axum or hyper.
//! * [`routes`]: [`Routes`], routing by method and path pattern, to any of the three kinds of
//!   handler.
//! * [`routing`]: [`request_handlers`], first-prefix-wins routing, and [`factory`].
//! * [`handlers`]: the cookbook's [`HelloHandler`], [`Cat`], [`ExampleWrapper`], [`EchoHandler`],
//!   and [`BodyEcho`].
//! * [`minimal`]: [`Minimal`], static files, from a directory or compiled into the program
//!   ([`EmbeddedFiles`]): which file a request names and finding it (`path.rs`), validators and
//!   conditional requests (`conditional.rs`), byte ranges (`range.rs`), content types
//!   (`content_type.rs`), the head or page it answers (`answer.rs`), embedded files
//!   (`embedded.rs`).
//! * [`error_pages`]: [`ErrorPages`], status pages.
//! * [`settings`]: [`HttpSettings`], every limit and timeout with its default.
//!
//! `docs/porting.md` in the repository sets the cookbook page beside these examples and lists
//! every behaviour that differs from Kamaelia's server, with why.

pub(crate) mod answered;
pub mod body;
pub(crate) mod decode;
pub(crate) mod encode;
pub mod error_pages;
pub mod function;
pub mod handler;
pub mod handlers;
pub mod http_server;
pub mod minimal;
pub mod parser;
pub mod request;
pub mod request_handler;
pub mod resource;
pub mod routes;
pub mod routing;
pub mod service;
pub mod settings;
pub mod shutdown;

pub use body::{BodyError, RequestBody, REQUEST_BODY_PIECES};
pub use bytes::Bytes;
pub use error_pages::ErrorPages;
pub use function::{BodyWriter, BoxError, ClientGone, Response, ResponseBody};
pub use handler::Handler;
pub use handlers::{BodyEcho, Cat, EchoHandler, ExampleWrapper, HelloHandler};
pub use http::{HeaderMap, HeaderValue, Method, StatusCode, Version};
pub use http_server::HTTPServer;
pub use kamaelia_chassis::socket::{FileRegion, Payload};
pub use minimal::{EmbeddedFiles, EmbeddedFilesError, FileIo, Minimal, MinimalFactory};
pub use parser::{HTTPParser, Parsed};
pub use request::{BadRequest, BodyLength, Request};
pub use request_handler::HTTPRequestHandler;
pub use resource::{Resource, ResponseHead};
pub use routes::{RouteError, Routes};
pub use routing::{factory, request_handlers, Factory};
pub use service::KamaeliaService;
pub use settings::HttpSettings;
pub use shutdown::HTTPShutdownLogicHandling;
