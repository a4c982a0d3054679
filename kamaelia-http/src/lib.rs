//! Kamaelia's HTTP server, on components: [`HTTPServer`] is the protocol for one connection, a
//! Graphline of a parser, a request handler and the shutdown logic; request handlers are
//! components made per request, answering with the resource protocol ([`Resource`]).
//!
//! (Crate docs are completed with the server.)

pub(crate) mod decode;
pub(crate) mod encode;
pub mod error_pages;
pub mod handlers;
pub mod minimal;
pub mod parser;
pub mod request;
pub mod request_handler;
pub mod resource;
pub mod routing;
pub mod server;
pub mod settings;
pub mod shutdown;

pub use bytes::Bytes;
pub use error_pages::ErrorPages;
pub use handlers::{BodyEcho, Cat, EchoHandler, ExampleWrapper, HelloHandler};
pub use http::{HeaderMap, HeaderValue, Method, StatusCode, Version};
pub use minimal::{Minimal, MinimalFactory};
pub use parser::{HTTPParser, Parsed};
pub use request::{BadRequest, BodyLength, Request};
pub use request_handler::HTTPRequestHandler;
pub use resource::{Handler, Resource, ResponseHead};
pub use routing::{factory, request_handlers, Factory};
pub use server::HTTPServer;
pub use settings::HttpSettings;
pub use shutdown::HTTPShutdownLogicHandling;
